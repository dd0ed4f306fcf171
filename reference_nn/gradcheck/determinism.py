"""Before anything else, f and grad_f are each evaluated twice at the given point.

A loss that draws a fresh dropout mask or minibatch per call changes by far more than rounding
between two calls at the same point; every numerical derivative of it is noise, and a noise probe
would read that randomness as "rounding" and widen every tolerance until any gradient passes. So a
change beyond rounding makes the check INCONCLUSIVE at once and nothing is judged. The same holds
for grad_f (torch.autograd.gradcheck checks that backward is reentrant in the same way): a
gradient that differs between two calls is not one gradient to verify.

Order: f, f, grad_f, grad_f, so that a function pair whose grad_f reads a cache filled by f sees
the cache of the same point. Cost: one evaluation of f and one of grad_f more than a check that
trusts them (measured per report: ``report.cost["determinism"]``).

Calls made before check_gradients (check_layer's discovery pass, the shape preflight of check_vjp
/ check_layer / check_value_and_grad) are compared too: those entry points hand f and grad_f over
as ``Recorded`` functions carrying what the earlier calls at the same point returned, so a backward
that is wrong only on its first call (a first-call branch, state set up lazily) is seen, not
skipped by starting the comparison at the third call.

"Beyond rounding": tolerances.ROUNDING_FACTOR ulps of the value's own dtype, the same allowance the
rounding model of every numerical method makes for one evaluation of f. Deterministic NumPy code
returns identical bits; a reduction whose order changes between calls (threaded BLAS) moves a few
ulps; a fresh random mask moves the loss by percents. For grad_f the ulps are of max(|g_i|, RMS of
the tensor), as in the element verdict (a cancelling sum is rounded at the size of its terms).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import tolerances as tol
from .validation import call_user, loss_value, validate_gradients

F_ADVICE = "a fresh random mask or sample per call? fix the seed or pass the mask"


@dataclass
class FirstCalls:
    """What the two calls of each function gave: the loss (first call, params in their own dtypes),
    the dtype it came in, the validated gradients of the first call, their keys, notes, and any
    problem (a non-deterministic f or grad_f) that makes the check inconclusive."""

    value: float
    value_dtype: np.dtype
    grads: dict
    grad_keys: dict
    notes: list
    problems: list = field(default_factory=list)
    f_calls: int = 2
    grad_calls: int = 2
    extra_seconds: float = 0.0  # time of the second call of each: what the determinism check costs


class Recorded:
    """A user function (f or grad_f) with what it returned at the given point on calls made before
    check_gradients: ``earlier`` holds (label, value) pairs, e.g. ("the discovery pass", grads), or
    (label, grads, allowance) where that call's gradient has a known error of its own.
    Called like the function itself; call_twice compares the earlier values with its own calls."""

    def __init__(self, function, earlier=()):
        self.function = function
        self.earlier = list(earlier)
        self.__name__ = getattr(function, "__name__", "f")
        self.__qualname__ = getattr(function, "__qualname__", self.__name__)
        self.__wrapped__ = function

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def call_twice(f, grad_f, params: dict, extra_keys: str = "error") -> FirstCalls:
    """f(params) twice, then grad_f(params) twice, on fresh copies each time; see the module docstring.

    Raises UserCodeError when either function raises, BadReturnValue for an unusable return value
    (a non-finite loss at the given point, a gradient of the wrong shape)."""
    raw_values: list = []
    raw_grads: list = []
    extra_seconds = 0.0
    for function, name, out in ((f, "f", raw_values), (f, "f", raw_values),
                                (grad_f, "grad_f", raw_grads), (grad_f, "grad_f", raw_grads)):  # fmt: skip
        start = time.perf_counter()
        out.append(call_user(function, name, _copies(params), "at the given params"))
        extra_seconds += (time.perf_counter() - start) if len(out) == 2 else 0.0  # the second calls: the cost
    values = [loss_value(v, at="the given params") for v in raw_values]
    grads, grad_keys, notes = validate_gradients(raw_grads[0], params, extra_keys=extra_keys, grads_owner=grad_f)
    second, _, _ = validate_gradients(raw_grads[1], params, extra_keys=extra_keys)
    value_dtype = np.asarray(raw_values[0]).dtype
    value_dtype = value_dtype if value_dtype.kind == "f" else np.dtype(np.float64)
    problems = []
    f_change = abs(values[0] - values[1])
    if f_change > tol.ROUNDING_FACTOR * tol.eps(value_dtype) * max(abs(values[0]), abs(values[1])):
        problems.append(
            f"f is not deterministic: f(params) gave {values[0]:.10g}, then {values[1]:.10g} at the same point; "
            f"{F_ADVICE}"
        )
    for label, earlier in getattr(f, "earlier", ()):
        value = loss_value(earlier, at="the given params")
        if abs(value - values[0]) > tol.ROUNDING_FACTOR * tol.eps(value_dtype) * max(abs(value), abs(values[0])):
            problems.append(f"f is not deterministic: f(params) gave {value:.10g} on {label}, then {values[0]:.10g} "
                            f"at the same point; {EARLIER_ADVICE}")
            break
    comparisons = [("", grads, second)]
    for label, earlier, *allowance in getattr(grad_f, "earlier", ()):
        comparisons.append((label, validate_gradients(earlier, params, extra_keys=extra_keys)[0], grads, *allowance))
    for label, before_grads, after_grads, *allowance in comparisons:
        problem = _grad_problem(params, grad_keys, before_grads, after_grads, label, *allowance)
        if problem:
            problems.append(problem)
            break
    return FirstCalls(values[0], value_dtype, grads, grad_keys, notes, problems, extra_seconds=extra_seconds)


EARLIER_ADVICE = ("a value set up on the first call only (a lazy cache, a counter, a first-call branch) or "
                  "state kept between calls?")


def _grad_problem(params, grad_keys, before_grads, after_grads, label: str, allowance=None) -> str | None:
    """A problem line for the first gradient element that moved beyond rounding between two calls
    (allowance: {param key: array}, a bound on the earlier value's own error beyond rounding, e.g.
    a gradient recovered from an SGD step)."""
    for key in params:
        moved = _gradient_change(before_grads[key], after_grads[key], (allowance or {}).get(key))
        if moved is None:
            continue
        index, before, after = moved
        if label:
            return (f"grad_f is not deterministic: {grad_keys[key]}{list(index)} was {before:.10g} on {label}, then "
                    f"{after:.10g} on later calls at the same point; {EARLIER_ADVICE}")
        return (f"grad_f is not deterministic: {grad_keys[key]}{list(index)} was {before:.10g}, then {after:.10g} at "
                "the same point; a fresh random mask or sample per call, or state kept between calls? fix the seed "
                "or pass the mask")
    return None


def changed_since_first_call(ev, evaluations: int) -> str | None:
    """f at the given point once more, after the numerical pass, through the evaluator that made every
    other evaluation (so wrappers that put the point into a model see it the same way): a problem line
    if it moved beyond rounding from the evaluator's first value there.

    The two calls at the start miss a loss whose randomness changes slowly (a mask redrawn every 40
    calls, a generator reseeded per epoch); its numerical derivatives are then noise that can read as a
    kink or a failure. One more evaluation at the end catches any change over the whole check."""
    ev.budget = None  # the budget is closed: this evaluation is part of the verdict, not of the search
    value, first = ev.at(dict(ev.point)), ev.value0
    if abs(value - first) <= tol.ROUNDING_FACTOR * tol.eps(ev.eval_dtype) * max(abs(value), abs(first)):
        return None
    return (f"f is not deterministic: f(params) gave {first:.10g} at the start and {value:.10g} at the same "
            f"point after {evaluations} evaluations elsewhere; every numerical derivative of it is noise; {F_ADVICE}")


def _gradient_change(first: np.ndarray, second: np.ndarray, extra=None):
    """(index, first value, second value) of the element that moved most beyond rounding (and beyond
    ``extra``, an array of further allowed change), or None."""
    a, b = first.astype(np.float64), second.astype(np.float64)
    dtype = np.result_type(first.dtype, second.dtype, np.float32)
    rms = _rms(a)
    allowed = tol.ROUNDING_FACTOR * tol.eps(dtype) * np.maximum(np.abs(a), rms)
    if extra is not None:
        allowed = allowed + np.asarray(extra, dtype=np.float64).reshape(a.shape)
    with np.errstate(invalid="ignore", over="ignore"):  # inf / nan elements: a FAIL of their own (check.py)
        excess = np.abs(a - b) - allowed
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    excess = np.where(same, 0.0, np.where(np.isnan(excess), np.inf, excess))
    if not (excess > 0).any():
        return None
    index = np.unravel_index(int(np.argmax(excess)), a.shape)
    return tuple(int(i) for i in index), float(a[index]), float(b[index])


def _rms(a: np.ndarray) -> float:
    """RMS without overflow: a gradient element of 1e200 must not make every allowance infinite."""
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    if not np.isfinite(peak) or peak == 0:
        return peak
    return peak * float(np.sqrt(np.mean(np.square(a / peak))))


def _copies(params) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}
