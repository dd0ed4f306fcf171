"""Taylor remainder test: a verdict that does not hinge on any step size.

For a right gradient g, r(h) = |f(x + h v) - f(x) - h g.v| = O(h^2); a wrong one leaves a linear
term, r(h) ~ h |(g_true - g).v|. The slope of log r against log h, fitted at the smallest steps
above the noise, is ~2 for a right gradient and ~1 for a wrong one. A linear remainder with
g.v between the one-sided slopes (f(x + h v) - f(x)) / h and (f(x) - f(x - h v)) / h is a kink of f
along v, reported as inconclusive, not as a failure (the symmetric remainder's slope, ~1 at a kink,
is reported too).
Cost per tensor: 2 * len(TAYLOR_STEPS) = 40 evaluations (+1 for f(x) overall), independent of the tensor's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from . import tolerances as tol
from .check import _coarser, make_evaluator
from .determinism import call_twice
from .numerical import random_direction
from .report import FAIL, INCONCLUSIVE, PASS, Verdict, _json_number
from .validation import validate_params


@dataclass
class ParameterTaylor:
    """Taylor test of one tensor: slope of the remainder (nan if too few points above noise)."""

    name: str
    status: str
    slope: float
    symmetric_slope: float
    n_points: int
    linear_term: float
    allowance: float
    steps: list
    remainders: list
    note: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["steps"] = [float(s) for s in self.steps]
        d["remainders"] = [float(r) for r in self.remainders]
        return {k: _json_number(v) for k, v in d.items()}


@dataclass
class TaylorReport:
    results: dict[str, ParameterTaylor]
    n_evaluations: int = 0
    notes: list = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        """FAIL if a tensor fails, else INCONCLUSIVE if one is, else PASS (report.py's contract)."""
        statuses = [r.status for r in self.results.values()]
        return FAIL if FAIL in statuses else INCONCLUSIVE if INCONCLUSIVE in statuses else PASS

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL

    @property
    def inconclusive(self) -> bool:
        return self.verdict == INCONCLUSIVE

    @property
    def failed_parameters(self) -> list[str]:
        return [k for k, r in self.results.items() if r.status == FAIL]

    def to_dict(self) -> dict:
        return {
            "verdict": str(self.verdict),
            "passed": self.passed,
            "inconclusive": self.inconclusive,
            "n_evaluations": self.n_evaluations,
            "notes": list(self.notes),
            "parameters": {k: r.to_dict() for k, r in self.results.items()},
        }

    def __str__(self) -> str:
        verdict = f"FAIL ({', '.join(self.failed_parameters)})" if self.failed else str(self.verdict)
        lines = [f"Taylor test {verdict}: remainder slope ~2 right, ~1 wrong ({self.n_evaluations} evaluations)"]
        for r in self.results.values():
            lines.append(
                f"  {r.name:<8} {str(r.status):<12} slope {r.slope:5.2f}  (symmetric {r.symmetric_slope:5.2f}, "
                f"{r.n_points} points){'  ' + r.note if r.note else ''}"
            )
        return "\n".join(lines)


def taylor_test(
    f: Callable, grad_f: Callable, params, *, seed: int = 0, eval_dtype=None, extra_keys: str = "error"
) -> TaylorReport:
    """Per parameter tensor: fit the slope of the Taylor remainder along a random direction."""
    params = validate_params(params)
    first = call_twice(f, grad_f, params, extra_keys=extra_keys)  # determinism.py: before anything else
    grads, notes = first.grads, list(first.notes)
    if first.problems:
        return TaylorReport({key: ParameterTaylor(key, INCONCLUSIVE, float("nan"), float("nan"), 0, float("nan"),
                                                  float("nan"), [], [], first.problems[0]) for key in params},
                            first.f_calls, notes + first.problems)  # fmt: skip
    ev, note = make_evaluator(f, params, eval_dtype, None)
    notes += [note] if note else []
    largest_rms = max(tol.finite_rms(g) for g in grads.values())
    results = {}
    for position, key in enumerate(params):
        v = random_direction(ev.point[key], np.random.default_rng([seed, position]))
        g = grads[key].astype(np.float64)
        dtype = _coarser(params[key].dtype, grads[key].dtype)
        results[key] = _taylor_tensor(ev, key, g, v, dtype, tol.cross_tensor_floor(dtype, largest_rms))
    return TaylorReport(results, first.f_calls + ev.count, notes)


def _taylor_tensor(ev, key, g, v, dtype, floor) -> ParameterTaylor:
    steps = tol.TAYLOR_STEPS
    f0, slope_gv = ev.value0, float(np.sum(g * v))
    plus = np.array([ev.along(key, v, h) for h in steps])
    minus = np.array([ev.along(key, v, -h) for h in steps])
    remainder = np.abs(plus - f0 - steps * slope_gv)
    symmetric = np.abs(plus + minus - 2 * f0)
    f_size = np.fmax(abs(f0), np.fmax(np.abs(plus), np.abs(minus)))
    # rounding of f: a few ulps of |f|, or what was measured (ev.noise at the point, the symmetric
    # remainder at the smallest steps), whichever is larger
    noise = np.maximum(4 * tol.eps(ev.eval_dtype) * f_size, ev.noise)
    tiny = steps <= tol.TAYLOR_NOISE_STEP
    noise = np.maximum(noise, np.max(symmetric[tiny]))
    # a quantized f (sums of O(1) terms that cancel) rounds f(x + h v) up and f(x - h v) down alike,
    # hiding from the symmetric remainder; the remainder itself at the smallest steps shows it. For
    # a wrong gradient that is ~3e-9 |error|, which keeps the linear regime (h > 3e-8) above 10x it.
    noise = np.maximum(noise, np.max(remainder[-tol.TAYLOR_NOISE_SAMPLES :]))
    above = tol.TAYLOR_NOISE_MARGIN * noise
    slope, used, last = _fit_slope(steps, remainder, above)
    sym_slope, _, _ = _fit_slope(steps, symmetric, above)
    # The linear term |(g_true - g).v| is at most r(h) / h at the smallest usable step; the gradient's
    # own dtype is allowed sqrt(eps) of sum max(|g|, RMS) |v| there (as in check_gradients).
    rms = tol.finite_rms(g)
    allowance = tol.analytic_rtol(dtype) * float(np.sum(np.maximum(np.abs(g), rms) * np.abs(v)))
    floor = floor + tol.loss_resolution_floor(dtype, ev.f_scale, ev.point[key], ev.eval_dtype)
    allowance += float(np.sum(floor * np.abs(v)))
    linear = float(remainder[last] / steps[last]) if last is not None else 0.0
    if used < 3:
        # At the noise floor at every step, up to the largest h: the linear term is at most the floor
        # over that step, which verifies the gradient only if that bound is within the allowance.
        quiet = bool(np.all(remainder <= above)) and float(above[0] / steps[0]) <= allowance
        status, note = (
            (PASS, "remainder at the noise floor at every step")
            if quiet
            else (INCONCLUSIVE, "too few steps above the noise floor to fit a slope")
        )
    elif slope >= tol.TAYLOR_SLOPE_THRESHOLD:
        status, note = PASS, ""
    elif linear <= allowance:
        status, note = PASS, f"linear term {linear:.1e} within the dtype's allowance {allowance:.1e}"
    elif (hidden := _change_f_never_showed(plus, f0, remainder, last)) is not None and (
        hidden <= tol.analytic_rtol(ev.eval_dtype) * max(1.0, abs(f0))
    ):
        status, note = INCONCLUSIVE, (
            f"f did not change along the direction at any fitted step (flat to the last bit, as when it "
            f"is computed with cancellation); the gradient claims at most {hidden:.1e}, which rounding "
            "of f can hide"
        )
    elif _at_a_kink(slope_gv, plus, minus, f0, steps, noise, last, linear, allowance):
        status, note = INCONCLUSIVE, "f has a kink along the direction: g.v lies between the one-sided slopes"
    else:
        status, note = FAIL, f"remainder shrinks linearly: |(g_true - g).v| ~ {linear:.2e} > allowance {allowance:.1e}"
    return ParameterTaylor(key, status, slope, sym_slope, used, linear, allowance, list(steps), list(remainder), note)


def _change_f_never_showed(plus, f0, remainder, last) -> float | None:
    """Where f(x + h v) == f(x) exactly at every step down from the largest such step to the fit's
    smallest, the remainder is h |g.v| by construction and says nothing about f; the largest
    h |g.v| over those steps (the change the gradient claims and f never showed) is returned, else
    None. A gradient for a parameter f ignores claims a change at h = 0.3 too, and still fails; a
    tiny right gradient of an f computed with cancellation (softplus(z) - z at z = 34 is exactly 0)
    claims ~1e-14, below rounding of f's terms."""
    if last is None:
        return None
    flat = plus == f0
    if not flat[: last + 1].all():
        return None
    return float(np.max(remainder[: last + 1]))


def _at_a_kink(slope_gv, plus, minus, f0, steps, noise, last, linear, allowance) -> bool:
    """At a kink along v, g.v is one of the one-sided slopes (or between them): a linear remainder
    is then explained. For smooth f the one-sided slopes differ by only h |v.Hv|, less than a
    linear-regime error. Judged at the smallest step whose rounding (2 noise / h) stays under a tenth
    of the linear term, so that noise cannot widen the range over a real error."""
    usable = [k for k in range(last + 1) if 2 * noise[k] / steps[k] <= 0.1 * linear]
    if not usable:
        return False
    k = usable[-1]
    forward, backward = (plus[k] - f0) / steps[k], (f0 - minus[k]) / steps[k]
    widen = allowance + 2 * noise[k] / steps[k]
    return min(forward, backward) - widen <= slope_gv <= max(forward, backward) + widen


def _fit_slope(steps, remainders, floor) -> tuple[float, int, int | None]:
    """Slope of log r vs log h over the smallest-h points with r above floor: (slope, points, last)."""
    valid = np.flatnonzero(np.isfinite(remainders) & (remainders > floor))
    last = int(valid[-1]) if valid.size else None
    if valid.size < 3:
        return float("nan"), int(valid.size), last
    chosen = valid[-tol.TAYLOR_FIT_POINTS :]
    slope = np.polyfit(np.log(steps[chosen]), np.log(remainders[chosen]), 1)[0]
    return float(slope), int(chosen.size), last
