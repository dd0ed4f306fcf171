"""Taylor remainder test: a verdict that does not hinge on any step size.

For a right gradient g, r(h) = |f(x + h v) - f(x) - h g.v| = O(h^2); a wrong one leaves a linear
term, r(h) ~ h |(g_true - g).v|. The slope of log r against log h, fitted at the smallest steps
above the noise, is ~2 for a right gradient and ~1 for a wrong one. The symmetric remainder
|f(x + h v) + f(x - h v) - 2 f(x)| has slope 2 for smooth f and 1 at a kink, whatever g is: a slope
of ~1 in both is reported as inconclusive (a kink of f along v), not as a failure.
Cost per tensor: 2 * len(TAYLOR_STEPS) + 1 = 41 evaluations, independent of the tensor's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from . import tolerances as tol
from .check import _coarser, _copies, make_evaluator
from .numerical import random_direction
from .report import FAIL, INCONCLUSIVE, PASS, _json_number
from .validation import validate_gradients, validate_params


@dataclass
class ParameterTaylor:
    """Taylor test of one tensor: slope of the remainder (nan if too few points above noise)."""

    name: str
    status: str
    slope: float
    symmetric_slope: float
    n_points: int
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
    def passed(self) -> bool:
        return all(r.status != FAIL for r in self.results.values())

    @property
    def inconclusive(self) -> bool:
        return any(r.status == INCONCLUSIVE for r in self.results.values())

    @property
    def failed_parameters(self) -> list[str]:
        return [k for k, r in self.results.items() if r.status == FAIL]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "inconclusive": self.inconclusive, "n_evaluations": self.n_evaluations,
                "notes": list(self.notes), "parameters": {k: r.to_dict() for k, r in self.results.items()}}

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else f"FAILED ({', '.join(self.failed_parameters)})"
        lines = [f"Taylor test {verdict}: remainder slope ~2 right, ~1 wrong ({self.n_evaluations} evaluations)"]
        for r in self.results.values():
            lines.append(f"  {r.name:<8} {r.status:<12} slope {r.slope:5.2f}  (symmetric {r.symmetric_slope:5.2f}, "
                         f"{r.n_points} points){'  ' + r.note if r.note else ''}")
        return "\n".join(lines)


def taylor_test(f: Callable, grad_f: Callable, params, *, seed: int = 0, eval_dtype=None,
                extra_keys: str = "error") -> TaylorReport:
    """Per parameter tensor: fit the slope of the Taylor remainder along a random direction."""
    params = validate_params(params)
    grads, _, notes = validate_gradients(grad_f(_copies(params)), params, extra_keys=extra_keys)
    ev, note = make_evaluator(f, params, eval_dtype, None)
    notes += [note] if note else []
    results = {}
    for position, key in enumerate(params):
        v = random_direction(ev.point[key], np.random.default_rng([seed, position]))
        g = grads[key].astype(np.float64)
        results[key] = _taylor_tensor(ev, key, g, v, _coarser(params[key].dtype, grads[key].dtype))
    return TaylorReport(results, ev.count, notes)


def _taylor_tensor(ev, key, g, v, dtype) -> ParameterTaylor:
    steps = tol.TAYLOR_STEPS
    f0, slope_gv = ev.value0, float(np.sum(g * v))
    plus = np.array([ev.along(key, v, h) for h in steps])
    minus = np.array([ev.along(key, v, -h) for h in steps])
    remainder = np.abs(plus - f0 - steps * slope_gv)
    symmetric = np.abs(plus + minus - 2 * f0)
    f_scale = np.fmax(ev.f_scale, np.fmax(np.abs(plus), np.abs(minus)))
    rounding = 2 * tol.ROUNDING_FACTOR * tol.eps(ev.eval_dtype) * f_scale
    rms = float(np.sqrt(np.mean(g * g)))
    analytic_noise = steps * tol.analytic_rtol(dtype) * float(np.sum(np.maximum(np.abs(g), rms) * np.abs(v)))
    slope, used = _fit_slope(steps, remainder, tol.TAYLOR_NOISE_MARGIN * (rounding + analytic_noise))
    sym_slope, _ = _fit_slope(steps, symmetric, tol.TAYLOR_NOISE_MARGIN * 2 * rounding)
    if used < 3:
        below = bool(np.all(remainder <= tol.TAYLOR_NOISE_MARGIN * (rounding + analytic_noise)))
        status, note = (PASS, "remainder at the noise floor at every step") if below else (
            INCONCLUSIVE, "too few steps above the noise floor to fit a slope")
    elif slope >= tol.TAYLOR_SLOPE_THRESHOLD:
        status, note = PASS, ""
    elif np.isfinite(sym_slope) and sym_slope < tol.TAYLOR_SLOPE_THRESHOLD:
        status, note = INCONCLUSIVE, "f has a kink along the direction (symmetric remainder is linear)"
    else:
        status, note = FAIL, "remainder shrinks linearly: the gradient is wrong along this direction"
    return ParameterTaylor(key, status, slope, sym_slope, used, list(steps), list(remainder), note)


def _fit_slope(steps, remainders, floor) -> tuple[float, int]:
    """Least-squares slope of log r vs log h over the smallest-h points with r above floor."""
    valid = np.flatnonzero(np.isfinite(remainders) & (remainders > floor))
    if valid.size < 3:
        return float("nan"), int(valid.size)
    chosen = valid[-tol.TAYLOR_FIT_POINTS:]
    slope = np.polyfit(np.log(steps[chosen]), np.log(remainders[chosen]), 1)[0]
    return float(slope), int(chosen.size)
