"""Numerical derivatives of a scalar loss: central differences, Richardson (Ridders) extrapolation,
complex step, and directional derivatives along a random direction.

Every estimator works on one parameter tensor of a ``LossEvaluator`` and returns an ``Estimate``
over the tensor's flattened elements (n = tensor.size): the values, a per-element error bound and
the step used. Costs in evaluations of f per element: central 2, richardson 2 * RICHARDSON_LEVELS
(12), complex 1; a directional derivative costs 1 (complex) or 12 (richardson) per tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import tolerances as tol
from .evaluation import LossEvaluator


@dataclass(frozen=True)
class Estimate:
    """A numerical derivative with its error bound. Arrays are (n,) or () for a directional one."""

    values: np.ndarray
    errors: np.ndarray
    steps: np.ndarray
    method: str
    # Per element, the relative truncation allowance of the method that produced it where that is
    # not ``method``'s (a Richardson element that fell back to a central difference); None: method's.
    rtols: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# Element-wise estimators: one tensor, every element
# ---------------------------------------------------------------------------------------------


def central_difference(ev: LossEvaluator, key: str, indices=None) -> Estimate:
    """(f(x + h) - f(x - h)) / (2h) per element, h = eps^(1/3) max(1, |x|) (see tolerances).

    indices: flat indices to evaluate (default all). Error bound: the rounding error; truncation
    is covered by the central method's rtol.
    """
    x = ev.point[key].reshape(-1).astype(np.float64)
    idx = np.arange(x.size) if indices is None else np.asarray(indices)
    precision = ev.precision_of(key)
    h = tol.central_step(x[idx], precision)
    x_plus, x_minus = on_grid(x[idx] + h, precision, ev.eval_dtype), on_grid(x[idx] - h, precision, ev.eval_dtype)
    f_plus = np.array([ev.with_element(key, i, v) for i, v in zip(idx, x_plus, strict=True)])
    f_minus = np.array([ev.with_element(key, i, v) for i, v in zip(idx, x_minus, strict=True)])
    span = x_plus.astype(np.float64) - x_minus.astype(np.float64)  # the step actually taken
    with np.errstate(divide="ignore", invalid="ignore"):  # a step below f's grid: nan (not finite nearby)
        values = (f_plus - f_minus) / span
    f_scale = np.maximum(ev.scale_of(key), np.maximum(np.abs(f_plus), np.abs(f_minus)))
    errors = tol.rounding_error(f_scale, span / 2, precision)
    return Estimate(values, errors, h, "central")


def on_grid(values, precision, eval_dtype) -> np.ndarray:
    """``values`` rounded to the grid of the precision f computes in, then stored in the evaluation
    dtype: a loss that casts to float32 sees exactly these points, so the step taken is known exactly
    (a float64 step between two float32 rounding cells would be off by up to an ulp of float32)."""
    return np.asarray(values, dtype=np.float64).astype(precision).astype(eval_dtype)


def richardson(
    ev: LossEvaluator,
    key: str,
    levels: int = tol.RICHARDSON_LEVELS,
    indices=None,
    first_step: float | None = None,
) -> Estimate:
    """Ridders' extrapolation of central differences at steps h0 / 2^j, j < levels, per element.

    h0 = first_step * max(1, |x|) (rounded to a power of two; default tolerances.richardson_first_step
    of the tensor's measured precision); indices: flat indices (default all).
    Where the extrapolation is less certain than a plain central difference (a kink or the edge of
    f's domain within the larger steps), the central difference is used for that element instead.
    """
    x_all = ev.point[key].reshape(-1).astype(np.float64)
    idx = np.arange(x_all.size) if indices is None else np.asarray(indices)
    x = x_all[idx]
    precision, f_size = ev.precision_of(key), ev.scale_of(key)
    first_step = tol.richardson_first_step(precision) if first_step is None else first_step
    h0 = np.exp2(np.floor(np.log2(first_step * np.maximum(1.0, np.abs(x)))))
    steps = h0[None, :] / np.exp2(np.arange(levels))[:, None]  # (levels, n)
    diffs = np.empty_like(steps)
    scale = np.full(x.size, f_size)
    for j in range(levels):
        up, down = on_grid(x + steps[j], precision, ev.eval_dtype), on_grid(x - steps[j], precision, ev.eval_dtype)
        plus = np.array([ev.with_element(key, i, v) for i, v in zip(idx, up, strict=True)])
        minus = np.array([ev.with_element(key, i, v) for i, v in zip(idx, down, strict=True)])
        with np.errstate(divide="ignore", invalid="ignore"):  # a step below f's grid: nan, never used
            diffs[j] = (plus - minus) / (up.astype(np.float64) - down.astype(np.float64))
        scale = np.fmax(scale, np.fmax(np.abs(plus), np.abs(minus)))
    values, errors, best_steps = ridders_tableau(diffs, steps, tol.rounding_error(scale, steps, precision))
    # A central difference would be good to about this much; evaluate it only where it is better.
    central_bound = tol.rounding_error(f_size, tol.central_step(x, precision), precision)
    central_bound = central_bound + tol.method_rtol("central", precision) * np.abs(values)
    worse = np.flatnonzero(~(errors <= central_bound))  # also where Richardson found no finite value
    rtols = np.full(x.size, tol.method_rtol("richardson", precision))
    if worse.size:
        fallback = central_difference(ev, key, indices=idx[worse])
        values[worse] = fallback.values
        errors[worse] = fallback.errors  # its truncation is covered by the central rtol below
        rtols[worse] = tol.method_rtol("central", precision)
        best_steps[worse] = fallback.steps
    return Estimate(values, errors, best_steps, "richardson", rtols)


def ridders_tableau(diffs: np.ndarray, steps: np.ndarray, rounding: np.ndarray):
    """Extrapolate central differences ``diffs`` (levels, n) taken at ``steps`` halving per level.

    T[j, k] = (4^k T[j, k-1] - T[j-1, k-1]) / (4^k - 1) cancels the h^(2k) error term. The error of
    an entry is the larger change from its two parents (Ridders), floored by twice the rounding
    error of its level (extrapolation weights amplify rounding by at most ~2). Returns, per element,
    the entry with the smallest error: (values (n,), errors (n,), step of that level (n,)).
    """
    levels, n = diffs.shape
    best_value = np.full(n, np.nan)
    best_error = np.full(n, np.inf)
    best_step = steps[0].copy()
    previous = diffs[0][None, :]
    for j in range(1, levels):
        row = [diffs[j]]
        for k in range(1, j + 1):
            factor = 4.0**k
            entry = (factor * row[k - 1] - previous[k - 1]) / (factor - 1.0)
            error = np.maximum(np.abs(entry - row[k - 1]), np.abs(entry - previous[k - 1]))
            error = np.maximum(error, 2.0 * rounding[j] / tol.ESTIMATE_SAFETY)
            error = np.where(np.isfinite(error), error, np.inf)
            better = error < best_error
            best_value = np.where(better, entry, best_value)
            best_error = np.where(better, error, best_error)
            best_step = np.where(better, steps[j], best_step)
            row.append(entry)
        previous = np.array(row)
    return best_value, best_error, best_step


def complex_step(ev: LossEvaluator, key: str) -> Estimate:
    """Im f(x + i h) / h per element, h = complex_step_size * max(1, |x|): one evaluation each.

    Exact to rounding (no difference is taken) for any f that is complex-analytic in its inputs.
    """
    x = ev.point[key].reshape(-1).astype(np.float64)
    h = tol.complex_step_size(ev.eval_dtype) * np.maximum(1.0, np.abs(x))
    values = np.array([ev.complex_with_element(key, i, hi).imag for i, hi in enumerate(h)]) / h
    errors = tol.method_rtol("complex", ev.eval_dtype) * np.abs(values)
    if key in ev.complex_probe:
        # An imaginary part of exactly 0 is f not depending on the element, or f erasing it (|z|, .real,
        # abs on some path): only the support probe's real differences tell them apart, and they checked
        # sum_i g_i v_i to within its window. An erased element can hide a derivative of up to window / |v_i|
        # (a saturated exp(-|z|) sigmoid: complex 0 where the derivative was -6.6e-14, real differences
        # unable to resolve it, and the right value FAILed against an error bound of 0). Not where the probe's
        # real differences were exactly 0 (f bit-identical under every real move of the tensor: flat in it,
        # a dead ReLU unit, where exact zeros are the derivative and a window would leave G = 0 unverifiable).
        window, weights = ev.complex_probe[key]
        zero = values == 0
        errors[zero] = window / tol.ESTIMATE_SAFETY / weights[zero]  # judged with ESTIMATE_SAFETY x errors
    return Estimate(values, errors, h, "complex")


ELEMENTWISE: dict[str, Callable[..., Any]] = {
    "central": central_difference,
    "richardson": richardson,
    "complex": complex_step,
}


# ---------------------------------------------------------------------------------------------
# Directional derivatives: one tensor, one direction
# ---------------------------------------------------------------------------------------------


def random_direction(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A direction of x's shape: random signs times U(0.5, 1.5), scaled by x's RMS (1 if x = 0).

    Every |v_i| >= 0.5 RMS, so an error in any single element moves the projection g.v by at least
    half its size (a Gaussian direction could put v_i ~ 0 on the wrong element); the random
    magnitudes keep structured errors (a transpose: +e and -e in two elements) from cancelling.
    """
    x = np.asarray(x, dtype=np.float64)
    rms = tol.finite_rms(x)
    signs = rng.choice([-1.0, 1.0], size=x.shape)
    return signs * rng.uniform(0.5, 1.5, size=x.shape) * (rms if rms > 0 else 1.0)


def aligned_direction(x: np.ndarray, gradient: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """random_direction with the signs of the hand-written gradient (random where it is 0).

    Then g.v = sum |g_i| |v_i| has no cancellation: an error that scales the whole tensor (a missing
    1/m, a 2.5% slip) moves the projection by its full relative size, where a random-sign projection
    can land near 0 and hide it. An error confined to some elements still moves g.v by at least half
    its size times the tensor's RMS, as with random signs."""
    direction = random_direction(x, rng)
    signs = np.sign(np.asarray(gradient, dtype=np.float64))
    return np.where(signs != 0, np.abs(direction) * signs, direction)


# Rounding of one evaluation of f in a directional Richardson estimate: 2 ulps of f_scale (|f|, or the
# measured noise of f / eps where f is computed with cancellation), not tolerances.ROUNDING_FACTOR's 10:
# the bound is what a projection's resolution is made of, and 10 made it 200-1100x the error it
# bounds. Measured (tests/gradcheck/test_gradcheck_projection_bound.py: expit / tanh / in-place /
# batch-norm / 1e3-offset float() losses, float64 and float32, truth from torch autograd): with 2
# the stated bound (ESTIMATE_SAFETY x the estimate) is never below the true error, the smallest
# margin 19x, the median bound 40-100x the RMS error. An undershoot would overstate the resolution,
# never fail an element: every FAIL is confirmed element-wise.
DIRECTIONAL_ROUNDING_ULPS = 2.0


def directional_derivative(ev: LossEvaluator, key: str, direction: np.ndarray, method: str,
                           first_step: float = tol.RICHARDSON_FIRST_STEP,
                           rounding_ulps: float = DIRECTIONAL_ROUNDING_ULPS) -> Estimate:
    """d/dt f(params[key] + t v) at t = 0 by ``method`` ('complex' or 'richardson'); 0-d arrays.

    ``first_step``: Richardson's largest step in t (halved RICHARDSON_LEVELS - 1 times);
    ``rounding_ulps``: the rounding model's ulps of f_scale per evaluation (see above)."""
    if method == "complex":
        h = tol.complex_step_size(ev.eval_dtype)
        value = ev.complex_along(key, direction, h).imag / h
        error = tol.method_rtol("complex", ev.eval_dtype) * abs(value)
        return Estimate(np.float64(value), np.float64(error), np.float64(h), "complex")
    steps = (first_step / np.exp2(np.arange(tol.RICHARDSON_LEVELS)))[:, None]
    plus = np.array([[ev.along(key, direction, t)] for t in steps[:, 0]])
    minus = np.array([[ev.along(key, direction, -t)] for t in steps[:, 0]])
    # at the precision f computes in (measured), with its f_scale (LossEvaluator.scale_of)
    scale = np.fmax(ev.scale_of(key), np.fmax(np.abs(plus), np.abs(minus)))
    rounding = rounding_ulps * tol.eps(ev.precision_of(key)) * scale / steps
    value, error, step = ridders_tableau((plus - minus) / (2 * steps), steps, rounding)
    return Estimate(value[0], error[0], step[0], "richardson")


# ---------------------------------------------------------------------------------------------
# Does f support complex step?
# ---------------------------------------------------------------------------------------------


def complex_step_support(ev: LossEvaluator, key: str, direction: np.ndarray) -> tuple[str | None, bool]:
    """(None, False) if complex step is trustworthy for ``key``, else (reason, impossible).

    impossible: f cannot take complex input at all (it raised, warned, or returned a real value);
    otherwise the probe disagreed, which also happens at a kink of f along the probe direction.

    Probe: f at params[key] + i h v must not raise, must return a complex finite scalar whose real
    part is f(x), and Im f / h must agree with a real Richardson derivative along v. This catches f
    that casts to float (real result or ComplexWarning), uses abs / np.maximum / .real on complex
    values (imaginary part lost or sign wrong), or conj. Cost: 1 + 2 * RICHARDSON_LEVELS evaluations.

    The real side can be the wrong one: where f curves on a scale far below Richardson's first step
    (a saturated network, whose derivative changes by 1% over a relative step of 1e-5) the tableau
    extrapolates from steps that never saw the derivative and can underestimate its error. So a
    disagreement is re-examined from first steps PROBE_SMALLER_STEPS times smaller (12 evaluations
    each); complex step is trusted if one of them agrees with it (and, where the first resolved a
    nonzero derivative, resolves one too: see overrules). A non-analytic f (abs, max, .real)
    disagrees at every step size, and is still rejected.
    """
    try:
        z = ev.complex_along(key, direction, tol.complex_step_size(ev.eval_dtype))
    except Exception as exc:  # noqa: BLE001 - any failure means: not supported
        return f"f failed on complex input ({type(exc).__name__}: {exc})", True
    if not (np.isfinite(z.real) and np.isfinite(z.imag)):
        return f"f returned {z} for complex input", True
    if abs(z.real - ev.value0) > 1e3 * tol.eps(ev.eval_dtype) * max(ev.f_scale, abs(ev.value0)):
        return f"the real part of f changed under an imaginary perturbation ({z.real!r} vs {ev.value0!r})", False
    h = tol.complex_step_size(ev.eval_dtype)
    by_complex = z.imag / h
    def agrees(real: Estimate) -> bool:
        allowed = 10.0 * float(real.errors) + 1e-6 * max(abs(by_complex), abs(float(real.values)))
        return abs(by_complex - float(real.values)) <= allowed

    def nonzero(real: Estimate) -> bool:  # the estimate tells f's derivative from 0
        return abs(float(real.values)) > 10.0 * float(real.errors)

    # the probe keeps the element-wise rounding model (10 ulps): its allowance was tuned on it, and a
    # tighter one rejected complex step near kinks where real differences then FAILED a right element
    real = directional_derivative(ev, key, direction, "richardson", rounding_ulps=tol.ROUNDING_FACTOR)

    def overrules(smaller: Estimate) -> bool:
        # A complex step of exactly 0 against a nonzero derivative that the first real estimate resolved
        # is what an erased imaginary part gives (|z|, .real, abs): a smaller-step estimate overrules that
        # only if it resolves a nonzero derivative too, since one whose bound also admits 0 agrees with
        # any value (fuzz finding 18: a saturated exp(-|z|) sigmoid, real differences 3.669e-11 +- 5e-14,
        # 3.676e-11 +- 1.6e-12 at 64x smaller steps, then 2.7e-11 +- 1e-10 at 4096x "agreed" with 0,
        # complex step was trusted and the right gradient FAILed). A nonzero complex value keeps the
        # benefit of the doubt: ReLU units within 1e-16 of their kink (weights of 1e-8), which every real
        # step crosses and only complex step's 1e-20 does not, disagree with real differences that way.
        return agrees(smaller) and (nonzero(smaller) or not nonzero(real) or by_complex != 0.0)

    accepted = real if agrees(real) else next(
        (smaller for smaller in (directional_derivative(ev, key, direction, "richardson",
                                                        tol.RICHARDSON_FIRST_STEP / factor, tol.ROUNDING_FACTOR)
                                 for factor in tol.PROBE_SMALLER_STEPS) if overrules(smaller)), None)  # fmt: skip
    if accepted is None:
        return (
            f"complex step gave {by_complex:.6g} along a probe direction where real differences give "
            f"{float(real.values):.6g} (f uses abs, max, .real or conj on its input, or has a kink here)"
        ), False
    if float(accepted.values) != 0.0:  # 0.0 exactly: f did not change under any real move (a dead ReLU unit)
        window = 10.0 * float(accepted.errors) + 1e-6 * max(abs(by_complex), abs(float(accepted.values)))
        ev.complex_probe[key] = (window, np.abs(np.asarray(direction, dtype=np.float64)).reshape(-1))
    return None, False
