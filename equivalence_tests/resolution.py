"""Whether a comparison verifies anything: each compared quantity must resolve a 10% change of it.

A tolerance is a claim about the quantity it judges. ``equivalence_tests.tolerances.compare`` says
whether an oracle's tensor lies within its tolerance of the reference's; this module says whether
that tolerance is small enough for the answer to mean something, and turns each comparison into one
of the outcomes ``refnn crosscheck`` reports:

* ``identical``: the quantity is the reference's own value by construction (the finite-difference
  oracle's forward output and cost): equal, but nothing was compared; not counted as compared;
* ``FAIL``: some element lies outside its tolerance (however loose that tolerance is: a difference
  beyond even a loose bound is a disagreement), or a judged element outside the measured spread below;
* ``ok``: no element fails, and at least one element is *judged*: a change of ``RESOLVE`` (10%) of it,
  up or down, would fail. "Resolves 10%" is tested literally: the reference's own tensor, with that
  element changed by +-10%, is compared under the same tolerance and floors;
* ``not comparable`` (at this precision): no element is judged; the reason says why.

For an adaptive optimizer in float32 the running-error bound of the displacements compounds over the
steps into "any step" (equivalence_tests.rounding_spread), so the bound alone judges almost nothing
there. Those displacements are also judged against the measured rounding spread: element ``i`` is
judged where ``SAFETY * spread_i`` is below 10% of its displacement (reference and float64 run alike),
and fails where ``|c_i - r_i|`` exceeds ``SAFETY * spread_i`` (plus the storage rounding of the steps).
An entry whose step is decided by rounding (a gradient at rounding level flips its sign between runs)
has a spread the size of its step: it is not judged. A planted x2, x-1 or x1.5 in any judged element
therefore always FAILs (tests/cli/test_crosscheck_precision.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from equivalence_tests.rounding_spread import DisplacementSpread
from equivalence_tests.tolerances import EPS, Comparison, normalized_errors

RESOLVE = 0.1  # the relative change of a quantity that its comparison must detect
# Measured: the largest |c_i - r_i| / spread_i of a correct oracle (rows outside a framework's saturation
# convention) over random float32 adam / adamw / rmsprop / adagrad runs (1-10 steps, lr 0.001-1, widths 1-8),
# python -m equivalence_tests.measure_spread (2026-12-05): --models 80 --seed 4 --oracles fd,torch: finite
# differences 0.84, torch 1.28; --models 40 --seed 3 --oracles tensorflow,jax: TF 0.90, JAX 0.98; an earlier
# draw of 40 models reached 5.2 (Keras) and 5.3 (JAX) on a 4-8-8-3 sigmoid,tanh,tanh mse adagrad lr 1 x7 model.
# SAFETY 100 is a 19x margin over the worst; an element is judged only where SAFETY * spread_i < RESOLVE |d_i|,
# which held for 90-95% of the elements on average.
SAFETY = 100.0
# finite-difference forward output and cost: the reference's own values (the oracle evaluates the
# reference to take its derivatives), equal by construction
IDENTICAL_BY_CONSTRUCTION = {("finite_difference", "forward"), ("finite_difference", "cost")}


@dataclass(frozen=True)
class Judgement:
    """The outcome of one compared tensor: ``status`` ok / FAIL / not comparable / identical;
    ``judged`` of ``elements`` elements resolve a 10% change (by ``bound_judged`` through the
    running-error tolerance, the rest through the measured spread); ``reason`` for not comparable and
    identical (``detail``: the tensor's numbers); ``spread_worst`` the worst spread-judged element (index,
    reference, oracle, |diff|, tolerance)."""

    comparison: Comparison
    status: str
    elements: int
    judged: int
    bound_judged: int
    reason: str | None = None
    spread_worst: dict[str, Any] | None = None
    detail: str | None = None  # not comparable: this tensor's numbers


def bound_resolved(comparison: Comparison, reference: Any, *, initial: Any = None, steps: int = 1,
                   error_scale: Any = None) -> np.ndarray:
    """Per element of ``reference``: would a change of +-RESOLVE of it (of its displacement from ``initial``)
    fail ``comparison``'s tolerance, with the same floors? (bool array, the reference's shape)."""
    r = np.asarray(reference, np.float64)
    base = np.zeros_like(r) if initial is None else np.asarray(initial, np.float64)
    tolerance = comparison.tolerance
    resolved = np.ones(r.shape, bool)
    for factor in (1 + RESOLVE, 1 - RESOLVE):
        changed = base + factor * (r - base)
        with np.errstate(all="ignore"):
            errors, difference = normalized_errors(r, changed, initial=initial, steps=steps, dtype=comparison.dtype,
                                                   error_scale=error_scale)
            resolved &= (errors > tolerance.rtol) & ~(difference <= tolerance.atol)
    return resolved


def judge(comparison: Comparison, reference: Any, candidate: Any, *, initial: Any = None, steps: int = 1,
          error_scale: Any = None, spread: DisplacementSpread | None = None, family: str = "") -> Judgement:
    """The outcome of ``comparison`` (made by ``tolerances.compare`` from the same arrays and floors).
    ``spread`` (updated_params of a float32 adaptive run): the measured rounding spread, which judges
    the elements the bound cannot. ``family``: the oracle's framework (finite_difference, torch, ...)."""
    r = np.asarray(reference, np.float64)
    size = max(r.size, 1)
    if (family, comparison.quantity) in IDENTICAL_BY_CONSTRUCTION:
        status = "identical" if comparison.passed else "FAIL"
        return Judgement(comparison, status, size, 0, 0, "the reference's own value (the finite-difference oracle "
                         "evaluates the reference): equal by construction, not a comparison")
    by_bound = bound_resolved(comparison, r, initial=initial, steps=steps, error_scale=error_scale)
    judged, worst, failed = by_bound.copy(), None, not comparison.passed
    if spread is not None and comparison.quantity == "updated_params" and initial is not None:
        by_spread, worst = _judge_by_spread(comparison, r, np.asarray(candidate, np.float64),
                                            np.asarray(initial, np.float64), steps, spread, ~by_bound)
        judged |= by_spread
        failed |= worst is not None and worst["failed"]
    if failed:
        status = "FAIL"
    elif judged.any() or not r.any():  # an all-zero tensor is verified exactly (any change of 0 fails)
        status = "ok"
    else:
        status = "not comparable"
    reason, detail = _precision_reason(comparison, r, initial, spread) if status == "not comparable" else (None, None)
    return Judgement(comparison, status, size, int(judged.sum()), int(by_bound.sum()), reason, worst, detail)


def spread_tolerance(spread: DisplacementSpread, name: str, theta0: np.ndarray, displacement: np.ndarray, steps: int,
                     dtype: str) -> np.ndarray:
    """``SAFETY`` x the measured spread of tensor ``name``'s displacements, per element, with two floors: the
    tensor's median spread (an element whose runs happened to agree), and the last bits of the stored values
    at each step (an Adagrad first step is +-lr exactly in every run: spread 0, yet another library's
    ``sqrt(g^2) + eps`` may round it differently)."""
    measured = np.maximum(np.maximum(spread.spread[name], float(np.median(spread.spread[name]))),
                          steps * EPS[dtype] * (np.abs(theta0) + np.abs(displacement)))
    return SAFETY * measured


def _judge_by_spread(comparison, r, c, theta0, steps, spread, candidates):
    """``(judged mask, worst)``: the elements among ``candidates`` that ``SAFETY * spread`` resolves, and
    the worst of them (``failed``: it lies beyond that tolerance), None if none is judged."""
    name = comparison.name
    d_ref, truth = r - theta0, spread.truth[name]
    tolerance = spread_tolerance(spread, name, theta0, d_ref, steps, comparison.dtype)
    judged = candidates & (tolerance < RESOLVE * np.minimum(np.abs(d_ref), np.abs(truth)))
    if not judged.any():
        return judged, None
    stored = steps * EPS[comparison.dtype] * np.maximum(np.abs(r), np.abs(c))  # storage rounding of the steps
    with np.errstate(all="ignore"):
        difference = np.maximum(np.abs(r - c) - stored, 0.0)
        ratio = np.where(judged, np.where(np.isnan(difference), np.inf, difference / tolerance), -1.0)
    index = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    worst = {"index": [int(i) for i in index], "reference": float(r[index]), "oracle": float(c[index]),
             "abs_diff": float(difference[index]), "tolerance": float(tolerance[index]),
             "failed": bool(ratio[index] > 1.0)}
    return judged, worst


def _precision_reason(comparison: Comparison, r, initial, spread: DisplacementSpread | None) -> tuple[str, str]:
    """``(reason, detail)``: why no element of this tensor resolves a 10% change; the reason is the same for
    every tensor it applies to (the report groups by it), the detail gives this tensor's numbers."""
    values = r if initial is None else r - np.asarray(initial, np.float64)
    what = "displacement" if initial is not None else comparison.quantity
    reason = (f"its {comparison.dtype} tolerance (rtol {comparison.tolerance.rtol:.2g} on the running-error floor) "
              f"cannot resolve a {RESOLVE:.0%} change of any element")
    detail = f"largest |{what}| {np.abs(values).max():.2g}"
    if spread is not None and comparison.quantity == "updated_params":
        reason += (f", nor can {SAFETY:g}x the rounding spread measured by {spread.runs} reference runs that differ in "
                   "summation order and last bits (vs float64): rounding decides these steps")
        relative = spread.spread[comparison.name] / np.maximum(np.abs(spread.truth[comparison.name]), 1e-300)
        detail += f"; the measured spread is at least {relative.min():.2g} of each element's displacement"
    return reason, detail
