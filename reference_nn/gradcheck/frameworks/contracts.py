"""The contract of a backward beyond its values, each a named check with its own verdict.

* shapes and dtypes: every gradient has its input's shape and dtype (FAIL otherwise; nothing is
  then compared element by element).
* deterministic: the backward run twice at the same point and upstream gives the same gradients
  within ROUNDING_FACTOR ulps (INCONCLUSIVE otherwise: one gradient cannot be verified).
* linear in the upstream gradient: vjp(a u + b w) = a vjp(u) + b vjp(w) for fresh random u, w of
  both signs and a = 0.5, b = -2 (powers of two: a u and b w are exact in any binary dtype, so only
  the sum is rounded; a + b != 1, so a constant added by the backward shows too). A backward that
  uses |g| or branches on the sign of g is not a vector-Jacobian product, and torch gradcheck's unit
  upstream vectors cannot see it (FAIL, naming the element).
* zero upstream gives zero: vjp(0) = 0 (a backward that adds a term of its own, weight decay or a
  regularizer, is not the derivative of the forward) (FAIL).
* inputs not mutated: forward and backward leave their inputs' values as they were (FAIL).

Tolerances: linearity and zero are judged per element at tolerances.analytic_rtol (sqrt(eps) of the
dtype the gradient is computed in: 1.5e-8 float64, 3.5e-4 float32, 8.8e-2 bfloat16) of max(|a g_u| +
|b g_w|, the RMS of that sum): the same share of the gradient the value check allows the analytic side;
linearity with a floor of ROUNDING_FACTOR ulps of the largest such RMS over the tensors (a gradient
that is 0 in exact arithmetic is rounding of the large terms' sums, not of its own size).
A backward that is linear differs only by the rounding of the sums, a few ulps of the terms; one that
uses |g| differs by O(1) of them, so the gap between the two is the whole of sqrt(eps) either way.
"""

from __future__ import annotations

import numpy as np

from .. import tolerances as tol
from ..report import FAIL, INCONCLUSIVE, PASS
from .base import RuleShapeError, run_user
from .report import ContractCheck

A, B = 0.5, -2.0  # the linearity test's coefficients (see the module docstring)
SHAPES, DETERMINISTIC, LINEAR, ZERO, NOT_MUTATED = (
    "shapes and dtypes", "deterministic", "linear in the upstream gradient", "zero upstream gives zero",
    "inputs not mutated")  # fmt: skip


def run_contracts(adapter, values: dict, douts: list, prepared, rng: np.random.Generator):
    """[ContractCheck] in the order above, and the first Backward (at ``douts``)."""
    try:
        first = run_user("grad_f", adapter.vjp, values, douts)
    except RuleShapeError as refused:
        return [ContractCheck(SHAPES, FAIL, str(refused))], None
    checks = [_shapes(first, values, prepared)]
    if checks[0].status == FAIL:
        return checks, first
    grads = {n: _dense(first.grads[n], values[n]) for n in values}
    again = _grads(adapter, values, douts)
    checks.append(_deterministic(grads, again, prepared.precisions))
    driven = [k for k, d in enumerate(douts) if d is not None]
    u = _random_upstream(adapter, douts, driven, rng)
    w = _random_upstream(adapter, douts, driven, rng)
    combo = [None if d is None else adapter.quantize(A * ud + B * wd, k)
             for k, (d, ud, wd) in enumerate(zip(douts, u, w, strict=True))]  # fmt: skip
    if checks[1].status == PASS:
        checks.append(_linear(*(_grads(adapter, values, x) for x in (u, w, combo)), prepared.precisions))
    else:
        checks.append(ContractCheck(LINEAR, INCONCLUSIVE, "not tested: the backward is not deterministic"))
    zeros = [None if d is None else np.zeros(np.shape(d)) for d in douts]
    checks.append(_zero(_grads(adapter, values, zeros), grads, prepared.precisions))
    checks.append(_not_mutated(first))
    return checks, first


def _grads(adapter, values, douts) -> dict:
    return {n: _dense(g, values[n]) for n, g in run_user("grad_f", adapter.vjp, values, douts).grads.items()}


def _dense(grad, like) -> np.ndarray:
    return np.zeros(like.shape) if grad is None else np.asarray(grad, dtype=np.float64)


def _random_upstream(adapter, douts, driven, rng) -> list:
    """N(0, 1) upstream gradients of every driven output's shape (scalars too), rounded to its dtype."""
    return [adapter.quantize(rng.standard_normal(np.shape(d)), k) if k in driven else None
            for k, d in enumerate(douts)]  # fmt: skip


def _shapes(first, values, prepared) -> ContractCheck:
    wrong = []
    for name in values:
        if first.grads.get(name) is None:
            continue
        shape, dtype = first.shapes.get(name), first.dtypes.get(name)
        if tuple(shape) != tuple(values[name].shape):
            wrong.append(f"the gradient of {name} has shape {tuple(shape)}, the input {tuple(values[name].shape)}")
        elif dtype != prepared.dtype_names[name]:
            wrong.append(f"the gradient of {name} is {dtype}, the input {prepared.dtype_names[name]}")
    if wrong:
        return ContractCheck(SHAPES, FAIL, "; ".join(wrong))
    return ContractCheck(SHAPES, PASS, "every gradient has its input's shape and dtype")


def _deterministic(first: dict, again: dict, precisions: dict) -> ContractCheck:
    for name, g in first.items():
        allowed = tol.ROUNDING_FACTOR * tol.eps(precisions[name]) * _scale(np.abs(g))
        moved = np.abs(g - again[name]) > allowed
        if moved.any() or not np.array_equal(np.isfinite(g), np.isfinite(again[name])):
            i = _index(np.where(moved, np.abs(g - again[name]), 0.0))
            return ContractCheck(DETERMINISTIC, INCONCLUSIVE,
                                 f"the backward gave {name}{list(i)} = {g[i]:.8g}, then {again[name][i]:.8g} at the "
                                 "same point and upstream gradient (a random mask drawn in backward, or state kept "
                                 "between calls?)")  # fmt: skip
    return ContractCheck(DETERMINISTIC, PASS, "the backward run twice gave the same gradients")


def _linear(g_u: dict, g_w: dict, g_combo: dict, precisions: dict) -> ContractCheck:
    sizes = {name: np.abs(A * g_u[name]) + np.abs(B * g_w[name]) for name in g_u}
    largest = max((_rms(size) for size in sizes.values()), default=0.0)
    for name in g_u:
        expected = A * g_u[name] + B * g_w[name]
        # the floor: a gradient that is 0 in exact arithmetic (a bias before a normalization) comes
        # out of a low-precision backward as the rounding of sums of the large terms, a few ulps of
        # the largest gradients, not of its own size (bfloat16: 0.02 against its own 0.002)
        floor = tol.ROUNDING_FACTOR * tol.eps(precisions[name]) * largest
        allowed = np.maximum(tol.analytic_rtol(precisions[name]) * _scale(sizes[name]), floor)
        excess = np.abs(g_combo[name] - expected) - allowed
        bad = ~(excess <= 0)  # NaN counts as a violation
        if bad.any():
            i = _index(np.where(np.isfinite(excess), excess, np.inf))
            return ContractCheck(LINEAR, FAIL,
                                 f"{name}{list(i)}: vjp({A:g} u {B:+g} w) = {g_combo[name][i]:.8g} but "
                                 f"{A:g} vjp(u) {B:+g} vjp(w) = {expected[i]:.8g} (tolerance {allowed[i]:.2g}): the "
                                 "backward is not linear in the upstream gradient (it uses |g|, the sign of g, or adds "
                                 "a term of its own)")  # fmt: skip
    return ContractCheck(LINEAR, PASS, f"vjp({A:g} u {B:+g} w) = {A:g} vjp(u) {B:+g} vjp(w) for random u, w")


def _zero(g_zero: dict, grads: dict, precisions: dict) -> ContractCheck:
    for name, g in g_zero.items():
        allowed = tol.analytic_rtol(precisions[name]) * _rms(grads[name])
        bad = ~(np.abs(g) <= allowed)
        if bad.any():
            i = _index(np.where(np.isfinite(g), np.abs(g), np.inf))
            return ContractCheck(ZERO, FAIL, f"a zero upstream gradient gave {name}{list(i)} = {g[i]:.8g} (allowed "
                                             f"{allowed:.2g}): the backward adds a term that does not come from the "
                                             "upstream gradient")  # fmt: skip
    return ContractCheck(ZERO, PASS, "a zero upstream gradient gave zero gradients")


def _not_mutated(first) -> ContractCheck:
    parts = []
    if first.mutated_by_forward:
        parts.append(f"forward changed {', '.join(first.mutated_by_forward)}")
    if first.mutated_by_backward:
        parts.append(f"backward changed {', '.join(first.mutated_by_backward)}")
    if parts:
        return ContractCheck(NOT_MUTATED, FAIL, "; ".join(parts) + " in place")
    return ContractCheck(NOT_MUTATED, PASS, "forward and backward left their inputs unchanged")


def _scale(magnitude: np.ndarray) -> np.ndarray:
    """max(|value|, RMS of the tensor), per element (the verdict's relative-error denominator)."""
    return np.maximum(magnitude, _rms(magnitude))


def _rms(x: np.ndarray) -> float:
    finite = np.where(np.isfinite(x), x, 0.0)
    return float(np.sqrt(np.mean(np.square(finite)))) if x.size else 0.0


def _index(score: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(score)), score.shape)) if score.ndim else ()
