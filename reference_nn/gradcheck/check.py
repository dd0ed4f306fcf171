"""check_gradients / assert_gradients / numerical_gradient: compare a hand-written gradient with
numerical derivatives of the loss, element by element or along one direction per tensor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import tolerances as tol
from .evaluation import LossEvaluator
from .kinks import explained_by_kink
from .numerical import (
    ELEMENTWISE,
    Estimate,
    complex_step_support,
    directional_derivative,
    random_direction,
    richardson,
)
from .report import FAIL, INCONCLUSIVE, PASS, GradientReport, ParameterResult
from .validation import validate_gradients, validate_params

METHODS = ("auto", "central", "richardson", "complex", "directional")
SECOND_OPINION_LEVELS = 4  # steps 1e-3 s .. 1.2e-4 s (then 1.5e-5 s .. 1.9e-6 s): ~1e-10 accurate after extrapolation


def check_gradients(
    f: Callable,
    grad_f: Callable,
    params,
    *,
    method: str = "auto",
    rtol: float | None = None,
    atol: float = 0.0,
    seed: int = 0,
    eval_dtype=None,
    f_scale: float | None = None,
    extra_keys: str = "error",
) -> GradientReport:
    """Check ``grad_f`` against numerical derivatives of ``f``; never raises on a mismatch.

    f(params) -> float: scalar loss of a dict of arrays. grad_f(params) -> dict keyed like params
    (``W1`` or ``dW1``), same shapes. method: "auto" (complex step where f supports it, else
    Richardson), "central", "richardson", "complex", "directional". rtol / atol override the
    defaults of tolerances.py. eval_dtype: dtype f is evaluated in for the numerical side (default
    float64 if f accepts it, so float32 params are differentiated in float64). f_scale: size of
    the terms summed in f, for the rounding model (default |f(params)|). Raises TypeError /
    ValueError / KeyError on unusable input. Both functions get copies: the caller's arrays are
    never modified.
    """
    params = validate_params(params)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    grads, grad_keys, notes = validate_gradients(grad_f(_copies(params)), params, extra_keys=extra_keys)
    ev, eval_note = make_evaluator(f, params, eval_dtype, f_scale)
    notes += [eval_note] if eval_note else []
    if method == "directional":
        notes.append("directional: a passing tensor is judged by one projection g.v (no element named)")
    largest_rms = max(float(np.sqrt(np.mean(np.square(g, dtype=np.float64)))) for g in grads.values())
    results = {}
    for position, key in enumerate(params):
        rng = np.random.default_rng([seed, position])  # per tensor: independent of the others
        dtype = _coarser(params[key].dtype, grads[key].dtype)
        floor: Any = atol + tol.cross_tensor_floor(dtype, largest_rms)
        floor = floor + tol.loss_resolution_floor(dtype, ev.f_scale, ev.point[key], ev.eval_dtype).reshape(-1)
        results[key] = check_tensor(ev, key, grads[key], grad_keys[key], dtype, method, rtol, floor, rng)
    return GradientReport(results, method, seed, ev.count, notes)


def assert_gradients(f: Callable, grad_f: Callable, params, **kwargs) -> GradientReport:
    """check_gradients, raising AssertionError(str(report)) on a mismatch; returns the report."""
    report = check_gradients(f, grad_f, params, **kwargs)
    if not report.passed:
        raise AssertionError(str(report))
    return report


def numerical_gradient(f: Callable, params, method: str = "auto", *, eval_dtype=None, seed: int = 0) -> dict:
    """Numerical gradient of f at params: a dict of float64 arrays of params' shapes.

    method: "auto", "central", "richardson" or "complex" ("directional" gives only a projection).
    """
    params = validate_params(params)
    if method not in ("auto", "central", "richardson", "complex"):
        raise ValueError(f"numerical_gradient method must be auto, central, richardson or complex; got {method!r}")
    ev, _ = make_evaluator(f, params, eval_dtype, None)
    out = {}
    for position, key in enumerate(params):
        used = method
        if method in ("auto", "complex"):
            direction = random_direction(ev.point[key], np.random.default_rng([seed, position]))
            reason, impossible = complex_step_support(ev, key, direction)
            if impossible and method == "complex":
                raise ValueError(f"complex step is not usable for {key!r}: {reason}")
            # An explicit "complex" is honoured wherever complex step works at all: near a kink
            # the support probe's real-step comparison may disagree, but complex step stays exact.
            used = "complex" if method == "complex" else ("richardson" if reason else "complex")
        out[key] = ELEMENTWISE[used](ev, key).values.reshape(params[key].shape)
    return out


# ---------------------------------------------------------------------------------------------


def make_evaluator(f, params, eval_dtype, f_scale) -> tuple[LossEvaluator, str]:
    """An evaluator in eval_dtype, or float64 if f accepts it (float32 params: noted), else float32."""
    if eval_dtype is not None:
        return LossEvaluator(f, params, eval_dtype, f_scale), ""
    if all(p.dtype == np.float64 for p in params.values()):
        return LossEvaluator(f, params, np.float64, f_scale), ""
    try:
        probe = np.asarray(f(_copies(params, np.float64)))
        usable = probe.size == 1 and probe.dtype.kind == "f" and probe.dtype != np.float32 and np.isfinite(probe).all()
    except Exception:  # noqa: BLE001 - f refuses float64: evaluate in the params' own dtype
        usable = False
    if usable:
        ev = LossEvaluator(f, params, np.float64, f_scale)
        ev.count += 1
        return ev, "float32 parameters: numerical derivatives evaluated in float64"
    return LossEvaluator(f, params, np.float32, f_scale), "f does not evaluate in float64: numerical side in float32"


def check_tensor(ev, key, analytic, grad_key, dtype, method, rtol, atol, rng) -> ParameterResult:
    """Check one tensor: resolve the method, estimate, judge, look at kinks; a ParameterResult."""
    start = ev.count
    direction = random_direction(ev.point[key], rng)
    used, note = method, ""
    if method in ("auto", "complex", "directional"):
        reason, impossible = complex_step_support(ev, key, direction)
        if impossible and method == "complex":
            raise ValueError(f"method='complex' but f does not support complex input for {key!r}: {reason}")
        inner = "richardson" if reason else "complex"
        used = inner if method in ("auto", "complex") else method
        note = f"complex step not used: {reason}" if reason else ""
    if method == "directional":
        result = _directional(ev, key, analytic, grad_key, dtype, inner, direction, rtol, atol)
        if result is not None:
            result.note = _join(note, result.note)
            result.n_evaluations = ev.count - start
            return result
        note = _join(note, "directional projection failed; localized by a full check of this tensor")
        used = f"directional->{inner}"
    estimate = ELEMENTWISE[used.split("->")[-1]](ev, key)
    result = judge_elements(ev, key, analytic, grad_key, dtype, estimate, rtol, atol)
    result.method = used if method == used or "->" in used else f"{method}->{used}"
    result.note = _join(note, result.note)
    result.n_evaluations = ev.count - start
    return result


def _directional(ev, key, analytic, grad_key, dtype, inner, direction, rtol, atol) -> ParameterResult | None:
    """Compare g.v with the numerical d/dt f(x + t v); a passing result, or None on a mismatch."""
    g = analytic.astype(np.float64)
    estimate = directional_derivative(ev, key, direction, inner)
    a, n = float(np.sum(g * direction)), float(estimate.values)
    rms = float(np.sqrt(np.mean(g * g)))
    scale = max(abs(a), abs(n), float(np.sum(np.maximum(np.abs(g), rms) * np.abs(direction))))
    rtol = tol.default_rtol(dtype, inner, ev.eval_dtype) if rtol is None else rtol
    bound = (
        float(np.sum(atol * np.abs(direction).reshape(-1)))
        + rtol * scale
        + tol.ESTIMATE_SAFETY * float(estimate.errors)
    )
    error = abs(a - n)
    if not error <= bound:
        return None
    return ParameterResult(
        key,
        grad_key,
        g.shape,
        str(dtype),
        str(ev.eval_dtype),
        f"directional({inner})",
        float(estimate.steps),
        PASS,
        error,
        error / scale if scale else 0.0,
        None,
        a,
        n,
        float(estimate.errors),
        bound,
        g.size,
    )


def judge_elements(ev, key, analytic, grad_key, dtype, estimate: Estimate, rtol, atol) -> ParameterResult:
    """Element verdicts: pass, fail, or inconclusive (kink, or f not finite near x)."""
    a = analytic.astype(np.float64).reshape(-1)
    n, steps, rtol_given = estimate.values.copy(), estimate.steps.copy(), rtol
    rtol = tol.default_rtol(dtype, estimate.method, ev.eval_dtype) if rtol is None else rtol
    numeric_error = np.nan_to_num(estimate.errors, nan=0.0, posinf=0.0)
    bounds = tol.element_tolerance(a, n, numeric_error, rtol, atol)
    errors = np.abs(a - n)
    undefined = ~np.isfinite(n)
    failed = ~undefined & ~(errors <= bounds)
    reestimated = 0
    if estimate.method in ("richardson", "central") and failed.any():
        before = failed.sum()
        n, numeric_error, bounds, steps, failed = _second_opinion(
            ev, key, a, n, numeric_error, bounds, estimate, failed, dtype, rtol_given, atol
        )
        errors = np.abs(a - n)
        reestimated = int(before - failed.sum())
    at_kink = np.zeros_like(failed)
    kinks_without_excuse = coincident_kinks = 0
    for count, i in enumerate(np.flatnonzero(failed)):
        explained, kink, _, coincident = explained_by_kink(ev, key, int(i), float(a[i]), float(bounds[i]),
                                                           probe_pieces=count < tol.NEARBY_MAX_ELEMENTS)
        at_kink[i], failed[i] = explained, not explained
        kinks_without_excuse += kink and not explained
        coincident_kinks += coincident
    # Passed only thanks to a numerical error bound as large as the value itself: nothing was verified.
    scale = tol.element_scale(a, n)
    allowance = bounds - tol.ESTIMATE_SAFETY * numeric_error
    unresolved = ~failed & ~undefined & (errors > allowance) & (tol.ESTIMATE_SAFETY * numeric_error >= scale)
    inconclusive = undefined | at_kink | unresolved
    judged = ~inconclusive if (~inconclusive).any() else np.ones_like(inconclusive)
    ratio = np.divide(errors, bounds, out=np.where(errors > 0, np.inf, 0.0), where=bounds > 0)
    pool = failed if failed.any() else judged
    worst = int(np.flatnonzero(pool)[np.argmax(np.nan_to_num(ratio[pool], nan=np.inf))])
    rel = np.divide(errors, scale, out=np.zeros_like(errors), where=scale > 0)
    shape = analytic.shape
    status = FAIL if failed.any() else INCONCLUSIVE if inconclusive.any() else PASS
    notes = []
    if at_kink.sum() > coincident_kinks:
        notes.append(f"{int(at_kink.sum()) - coincident_kinks} element(s) at a kink: analytic value within the "
                     "one-sided slopes")
    if coincident_kinks:
        notes.append(f"{coincident_kinks} element(s) where several kinks meet: analytic value outside the "
                     "coordinate's one-sided slopes but within the slopes just off the point (a convention "
                     "such as ReLU'(0) = 0 for every unit at 0)")
    if reestimated:
        notes.append(f"{reestimated} element(s) failed at the method's steps and passed at smaller ones, which "
                     "disagree with the first estimate beyond both error bounds (f curves on a finer scale there)")
    if undefined.any():
        notes.append(f"{int(undefined.sum())} element(s) where f is not finite near the point")
    if unresolved.any():
        notes.append(
            f"{int(unresolved.sum())} element(s) smaller than the numerical derivative's own error bound "
            f"(up to {float(np.max(numeric_error[unresolved])):.1e}): not verified"
        )
    if kinks_without_excuse:
        notes.append(
            f"{kinks_without_excuse} failing element(s) sit at a kink but the analytic value is outside the "
            "one-sided slopes and outside every slope seen just off the point"
        )
    return ParameterResult(
        key,
        grad_key,
        tuple(shape),
        str(dtype),
        str(ev.eval_dtype),
        estimate.method,
        float(steps[worst]),
        status,
        float(np.nanmax(np.where(judged, errors, 0.0))),
        float(np.nanmax(np.where(judged, rel, 0.0))),
        _unravel(worst, shape),
        float(a[worst]),
        float(n[worst]),
        float(numeric_error[worst]),
        float(bounds[worst]),
        a.size,
        int(failed.sum()),
        int(inconclusive.sum()),
        [_unravel(int(i), shape) for i in np.flatnonzero(inconclusive)[:5]],
        note="; ".join(notes),
    )


def _second_opinion(ev, key, a, n, numeric_error, bounds, estimate, failed, dtype, rtol, atol):
    """A failing element is re-estimated before it is declared wrong: Richardson with steps 64x
    smaller than its usual first step (SECOND_OPINION_LEVELS levels), then 4096x smaller for what
    still fails (tolerances.PROBE_SMALLER_STEPS). Richardson's larger steps (from 6e-2 s) can
    straddle a kink yet look self-consistent, and where f curves on a scale below the step (a
    saturated network: the derivative changes by 1% over 1e-5 relative) both Richardson and a
    central difference are off by more than their error model says. Where a re-estimate disagrees
    with the first estimate beyond both error bounds and agrees with the analytic value within its
    own, it is believed. A wrong gradient agrees with the first estimate at every scale and stays
    failed. Returns updated (values, numeric errors, bounds, steps, failed)."""
    n, numeric_error, bounds, failed = n.copy(), numeric_error.copy(), bounds.copy(), failed.copy()
    steps = estimate.steps.copy()
    rtol = tol.default_rtol(dtype, "richardson", ev.eval_dtype) if rtol is None else rtol
    for factor in tol.PROBE_SMALLER_STEPS:
        idx = np.flatnonzero(failed)
        if idx.size == 0:
            break
        second = richardson(ev, key, SECOND_OPINION_LEVELS, idx, tol.RICHARDSON_FIRST_STEP / factor)
        scale = tol.element_scale(a, n)[idx]
        second_bounds = np.broadcast_to(atol, a.shape)[idx] + rtol * scale + tol.ESTIMATE_SAFETY * second.errors
        agrees = np.abs(a[idx] - second.values) <= second_bounds
        agrees &= np.abs(second.values - n[idx]) > tol.ESTIMATE_SAFETY * (second.errors + numeric_error[idx])
        take = idx[agrees]
        n[take], numeric_error[take], bounds[take] = second.values[agrees], second.errors[agrees], second_bounds[agrees]
        steps[take], failed[take] = second.steps[agrees], False
    return n, numeric_error, bounds, steps, failed


def _unravel(flat_index: int, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()


def _coarser(*dtypes) -> np.dtype:
    """The dtype with the larger epsilon: the gradient can be no more accurate than that."""
    return max((np.dtype(d) if np.dtype(d).kind == "f" else np.dtype(np.float64) for d in dtypes), key=tol.eps)


def _copies(params, dtype=None) -> dict:
    return {k: np.array(v, dtype=dtype, copy=True) for k, v in params.items()}


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
