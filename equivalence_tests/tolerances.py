"""How closely an oracle must agree with the reference: one table, one comparison helper.

``TOLERANCES[(quantity, dtype, oracle)]`` with ``quantity`` in forward / cost / gradient /
updated_params, ``dtype`` float32 / float64 and ``oracle`` a framework (``torch``,
``tensorflow``, ``finite_difference``). Op rows may loosen an entry for models that contain
them (``equivalence_tests.ops.ToleranceOverride``, each with its reason).

The numbers come from measurement, not habit: ``python -m equivalence_tests.measure_agreement``
runs every oracle path on a few hundred random models (depth 1-4, widths 1-8, batch 1-16, all
activations, losses with their valid output activations, all optimizers, 1-3 steps, both
dtypes) and prints the largest normalized error per (oracle, dtype, quantity); ``MEASURED``
below holds that output and each tolerance states its margin over it.

The normalized error (:func:`normalized_errors`), for a reference tensor ``r`` and an oracle's
``c``::

    scale  = max(rms(r), rms(c))                       one number per tensor
    err_i  = |r_i - c_i| / max(|r_i|, |c_i|, scale)    per element

Per element, because a tolerance means "agree to so many digits". But an entry that is ~0
because O(1) terms cancelled (a gradient entry summing positive and negative contributions over
the batch) carries the rounding error of those terms, not of its tiny value: dividing by its own
size would flag pure rounding as a failure. Rounding error of a sum of products is bounded by eps
times the sum of |terms|, and the tensor's RMS is the natural size of those terms, so the
denominator never drops below it. The RMS (rather than the max) keeps an error in a small but
genuine entry of a tensor with one huge entry visible. A tensor that is exactly zero in both
is equal (err 0).

``updated_params`` are compared as *displacements* from the initial parameters when those are
given (``initial=``): what an optimizer step computes is ``theta_k - theta_0``; comparing
``theta_k`` itself would dilute a wrong step by ``|theta| / |step|``. Storing a parameter
rounds it to ``eps |theta|`` at each of the ``k`` steps, in each of two implementations; that
much of ``|r_i - c_i|`` (``k eps max(|r_i|, |c_i|)``) is subtracted first, since it is not
an error of the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import QUANTITIES, OracleResult

DTYPES = ("float32", "float64")
ORACLE_FAMILIES = ("torch", "tensorflow", "finite_difference", "reference_nn")
EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}


@dataclass(frozen=True)
class Tolerance:
    """Pass if ``err_i <= rtol`` (normalized, see module doc) or ``|r_i - c_i| <= atol``."""

    rtol: float
    atol: float
    reason: str


# Largest normalized error over 300 random models per dtype, every oracle path, from
#     python -m equivalence_tests.measure_agreement --models 300 --seed 0
# (torch 2.13.0+cpu, tensorflow-cpu 2.21.0 with keras 3.15.1, numpy 2.4.6), models without an
# op-row override. MEASURED[(quantity, dtype, oracle family)]: the max over that family's paths.
MEASURED: dict[tuple[str, str, str], float] = {
    ("forward", "float64", "torch"): 2.2e-15, ("forward", "float64", "tensorflow"): 2.2e-15,
    ("cost", "float64", "torch"): 5.1e-16, ("cost", "float64", "tensorflow"): 4.5e-16,
    ("gradient", "float64", "torch"): 1.1e-13, ("gradient", "float64", "tensorflow"): 3.6e-15,
    ("updated_params", "float64", "torch"): 8.7e-14, ("updated_params", "float64", "tensorflow"): 1.6e-13,
    ("forward", "float32", "torch"): 5.5e-7, ("forward", "float32", "tensorflow"): 5.5e-7,
    ("cost", "float32", "torch"): 2.1e-7, ("cost", "float32", "tensorflow"): 2.2e-7,
    ("gradient", "float32", "torch"): 1.2e-5, ("gradient", "float32", "tensorflow"): 1.7e-5,
    ("updated_params", "float32", "torch"): 7.6e-6, ("updated_params", "float32", "tensorflow"): 1.7e-5,
    ("gradient", "float64", "finite_difference"): 8.2e-14,  # complex step
    ("updated_params", "float64", "finite_difference"): 5.7e-14,
    ("gradient", "float32", "finite_difference"): 1.6e-5,
    ("updated_params", "float32", "finite_difference"): 6.7e-6,
}

_F64 = ("same math, different summation order and transcendental implementations: float64 rounding "
        "(eps 2.2e-16) grown by depth, width, batch sums and cancellation")
_F32 = ("float32 eps 1.19e-7 times a growth factor: dot products of length n and batch sums of m "
        "(sqrt(n m) <= 12 typical, n m <= 128 worst) through up to 4 layers forward and back, and "
        "cancellation in batch sums (a 1-1 model's single gradient entry has no RMS to lean on)")

TOLERANCES: dict[tuple[str, str, str], Tolerance] = {}


def _set(quantity: str, dtype: str, oracle: str, rtol: float, reason: str, atol: float = 0.0) -> None:
    TOLERANCES[(quantity, dtype, oracle)] = Tolerance(rtol, atol, reason)


for _framework in ("torch", "tensorflow"):
    _set("forward", "float64", _framework, 1e-13, f"{_F64}; measured max 2.2e-15, margin 45x")
    _set("cost", "float64", _framework, 2e-14, f"{_F64}; a scalar after one reduction: measured max 5.1e-16, "
         "margin 40x")
    _set("gradient", "float64", _framework, 2e-12, f"{_F64}; measured max 1.1e-13 (torch, a softmax + "
         "cross_entropy model; TF 3.6e-15), margin 18x over the worst model, 4000x over the median 5e-16")
    _set("updated_params", "float64", _framework, 2e-12, f"{_F64}; steps compared as displacements, Adam divides "
         "by sqrt(v); measured max 1.6e-13, margin 12x")
    _set("forward", "float32", _framework, 1e-5, f"{_F32}; measured max 5.5e-7, margin 18x")
    _set("cost", "float32", _framework, 5e-6, f"{_F32}; measured max 2.2e-7, margin 23x")
    _set("gradient", "float32", _framework, 2e-4, f"{_F32}; measured max 1.7e-5, margin 12x")
    _set("updated_params", "float32", _framework, 2e-4, f"{_F32}; measured max 1.7e-5, margin 12x")

# Finite differences: the reference evaluates forward and cost itself, so those are identical.
for _dtype in DTYPES:
    _set("forward", _dtype, "finite_difference", 0.0, "forward output is the reference's own: identical")
    _set("cost", _dtype, "finite_difference", 0.0, "cost is the reference's own: identical")
_set("gradient", "float64", "finite_difference", 2e-12,
     "complex step (h = 1e-20) takes no difference, so it is exact to float64 rounding of the forward pass, "
     "like a framework: same budget as torch/TF in float64; measured max 8.2e-14, margin 24x")
_set("updated_params", "float64", "finite_difference", 2e-12, "the complex-step gradient through the reference "
     "optimizer: same budget as torch/TF in float64; measured max 5.7e-14, margin 35x")
_set("gradient", "float32", "finite_difference", 2e-4,
     "numerical side in float64 (error ~1e-16); the reference's float32 gradient carries float32 rounding: "
     "the framework budget in float32; measured max 1.6e-5")
_set("updated_params", "float32", "finite_difference", 2e-4, "as the framework oracles in float32; measured max "
     "6.7e-6, margin 30x")


def tolerance_for(quantity: str, dtype: str, oracle: str, config: ModelConfig | None = None) -> Tolerance:
    """The tolerance for ``oracle`` (a framework or ``framework/path``), loosened by op-row overrides
    of ``config``'s ops that match (the loosest applies; its reason is appended)."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    family = oracle.split("/")[0]
    key = (quantity, dtype, family)
    if key not in TOLERANCES:
        raise KeyError(f"no tolerance for {key}; the table has oracles {sorted({k[2] for k in TOLERANCES})}")
    tolerance = TOLERANCES[key]
    if config is None:
        return tolerance
    from equivalence_tests import ops

    for row in ops.ops_in(config):
        for override in row.tolerance_overrides:
            if (override.quantity in (None, quantity) and override.dtype in (None, dtype)
                    and ops.oracle_matches(override.oracle, oracle) and override.rtol > tolerance.rtol):
                tolerance = Tolerance(override.rtol, tolerance.atol,
                                      f"override from op row {row.name!r}: {override.reason}")
    return tolerance


# ----------------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Comparison:
    """The verdict on one tensor (or the cost). ``worst_index`` is where ``err`` is largest."""

    quantity: str
    name: str  # "W1", "b2", "forward", "cost"
    dtype: str
    oracle: str
    passed: bool
    max_abs_error: float
    max_rel_error: float  # the normalized error of the module doc, at worst_index
    worst_index: tuple[int, ...]
    reference_value: float
    oracle_value: float
    tolerance: Tolerance

    def describe(self) -> str:
        verdict = "ok" if self.passed else "MISMATCH"
        return (f"{verdict} {self.quantity} {self.name} [{self.dtype}, {self.oracle}]: max normalized error "
                f"{self.max_rel_error:.3g} (rtol {self.tolerance.rtol:.3g}) at {self.worst_index}: reference "
                f"{self.reference_value!r} vs oracle {self.oracle_value!r}, max |diff| {self.max_abs_error:.3g}")


def normalized_errors(reference: Any, candidate: Any, *, initial: Any = None, steps: int = 1,
                      dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """``(err, abs_diff)`` element-wise, as defined in the module doc (both as float64 arrays)."""
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    if r.shape != c.shape:
        raise ValueError(f"reference has shape {r.shape} but candidate has shape {c.shape}")
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN: judged by compare()
        return _normalized_errors(r, c, initial, steps, dtype)


def _normalized_errors(r: np.ndarray, c: np.ndarray, initial: Any, steps: int, dtype: str):
    difference = np.abs(r - c)
    if initial is not None:
        theta0 = np.asarray(initial, dtype=np.float64)
        if theta0.shape != r.shape:
            raise ValueError(f"initial has shape {theta0.shape}, expected {r.shape}")
        stored_rounding = steps * EPS[dtype] * np.maximum(np.abs(r), np.abs(c))
        difference = np.maximum(difference - stored_rounding, 0.0)
        r, c = r - theta0, c - theta0
    if r.size == 0:
        return np.zeros(r.shape), difference
    scale = max(float(np.sqrt(np.mean(r * r))), float(np.sqrt(np.mean(c * c))))
    denominator = np.maximum(np.maximum(np.abs(r), np.abs(c)), scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = np.where(difference == 0, 0.0, difference / denominator)
    return errors, difference


def compare(quantity: str, dtype: str, oracle: str, reference: Any, candidate: Any, *,
            config: ModelConfig | None = None, initial: Any = None, steps: int | None = None,
            name: str = "") -> Comparison:
    """Compare one tensor (or scalar) of an oracle with the reference's, under the table's tolerance.

    ``initial`` (updated_params only): the parameters before the steps, so displacements are
    compared; ``steps`` defaults to ``config.steps`` (else 1). NaN/inf anywhere fails unless both
    sides have the same non-finite value there.
    """
    tolerance = tolerance_for(quantity, dtype, oracle, config)
    if steps is None:
        steps = config.steps if config is not None else 1
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    errors, difference = normalized_errors(r, c, initial=initial, steps=max(steps, 1), dtype=dtype)
    same_nonfinite = ~np.isfinite(r) & (r == c)
    errors = np.where(same_nonfinite, 0.0, np.where(np.isnan(errors), np.inf, errors))
    difference = np.where(same_nonfinite, 0.0, difference)
    failing = (errors > tolerance.rtol) & ~(difference <= tolerance.atol)
    worst = np.unravel_index(int(np.argmax(errors)), errors.shape) if errors.size else ()
    return Comparison(
        quantity=quantity, name=name or quantity, dtype=dtype, oracle=oracle, passed=not bool(failing.any()),
        max_abs_error=float(np.max(difference)) if difference.size else 0.0,
        max_rel_error=float(errors[worst]) if errors.size else 0.0,
        worst_index=tuple(int(i) for i in worst),
        reference_value=float(r[worst]) if r.size else 0.0, oracle_value=float(c[worst]) if c.size else 0.0,
        tolerance=tolerance,
    )


def compare_results(reference: OracleResult, candidate: OracleResult, config: ModelConfig,
                    initial_params: dict[str, np.ndarray]) -> list[Comparison]:
    """Every quantity of ``candidate`` against ``reference``: forward, cost, one Comparison per
    gradient tensor and per updated parameter (as displacements from ``initial_params``)."""
    oracle, dtype = candidate.oracle, config.dtype
    comparisons = [
        compare("forward", dtype, oracle, reference.forward, candidate.forward, config=config, name="forward"),
        compare("cost", dtype, oracle, reference.cost, candidate.cost, config=config, name="cost"),
    ]
    for name in initial_params:
        comparisons.append(compare("gradient", dtype, oracle, reference.gradients[name], candidate.gradients[name],
                                   config=config, name=name))
    for name, theta0 in initial_params.items():
        comparisons.append(compare("updated_params", dtype, oracle, reference.updated_params[name],
                                   candidate.updated_params[name], config=config, initial=theta0, name=name))
    return comparisons


def assert_agree(reference: OracleResult, candidate: OracleResult, config: ModelConfig,
                 initial_params: dict[str, np.ndarray]) -> list[Comparison]:
    """:func:`compare_results`, raising AssertionError listing every mismatch (with the model and
    framework version) if any; returns the comparisons otherwise."""
    comparisons = compare_results(reference, candidate, config, initial_params)
    failures = [c for c in comparisons if not c.passed]
    if failures:
        lines = [f"{candidate.oracle} ({candidate.framework} {candidate.framework_version}) disagrees with "
                 f"the reference on {config.describe()}:"]
        lines += ["  " + c.describe() + f"\n    tolerance reason: {c.tolerance.reason}" for c in failures]
        raise AssertionError("\n".join(lines))
    return comparisons
