"""A FAIL that is the hand-written gradient's own float64 rounding: its math in long double agrees.

``sigmoid(z) - y`` at a saturated output (z = 33.66, y = 1) is 11 ulps of 1 in float64, 1.5% off the
derivative -exp(-z) / (1 + exp(-z)) that the numerical derivative of a stable loss shows (fuzz finding
23; torch's BCE-with-logits backward returns the same rounded value). The value is off; the code is
right. Where long double is wider than float64 (x86 Linux: a 64-bit mantissa, 11 bits more), grad_f is
called once more, on long-double copies of the parameters: code that follows its inputs' dtype does
the same math there, and its cancellation loses 2^11 times less.

A failing float64 tensor checked element by element becomes INCONCLUSIVE (reason ROUNDED_HAND_VALUE)
where

1. grad_f returned it in long double (the code did follow the dtype);
2. the float64 value differs from that twin by at most ROUNDING_SHARE of max(|float64|, |twin|) in
   every element; and
3. the disagreement shrinks with the working precision: checked again with the twin (rounded to
   float64) against the same numerical derivatives (the same seeded steps, check.check_tensor), the
   largest |twin - numeric| is at most 1/SHRINK of the largest |float64 value - numeric|, which the
   estimate's own error bound (x ESTIMATE_SAFETY) leaves resolvable by SHRINK / 4.

Never PASS: the value returned is off by more than the cap. Never FAIL: the math is right. A wrong
formula, factor, sign or index is as wrong in long double (its disagreement does not shrink: 3.),
and a gross error is beyond ROUNDING_SHARE (2.). Where long double is float64 (Windows, ARM macOS),
or grad_f casts or refuses, nothing changes: the FAIL stands, naming the derivative.
"""

from __future__ import annotations

import numpy as np

from . import tolerances as tol
from .report import FAIL, INCONCLUSIVE, ParameterResult
from .validation import UserCodeError, call_user

# The largest relative difference between the float64 hand value and its long-double twin that is
# taken as rounding: a cancellation at saturation loses a few % (11 ulps of 1 against a result of
# 2.4e-15 is 1.5%); x2, sign or a transposed element move an element by 100% or more.
ROUNDING_SHARE = 0.1
# Rounding shrinks by up to 2^11 = 2048 from float64 to x86 long double (measured 735 on finding 23:
# the long-double cancellation rounds its own terms); a wrong formula does not shrink at all (x1.015
# there: 2x, its rounding part only). 64 leaves 11x below the measured shrink. An error smaller than
# 1/64 of the rounding it hides in (1e-4 under finding 23's 1.5%) is then INCONCLUSIVE, not FAIL: it
# is below the cap, which is all a PASS would claim.
SHRINK = 64.0
ROUNDED_HAND_VALUE = ("the hand-written float64 value is off by its own rounding: the same code in long double "
                      "agrees with the numerical derivative")  # fmt: skip


def wider_than_float64() -> bool:
    return bool(np.finfo(np.longdouble).eps < np.finfo(np.float64).eps)


def long_double_gradients(f, grad_f, params: dict, grad_keys: dict) -> dict:
    """grad_f on long-double copies of params, by param key: only the tensors it returned in long
    double (the others followed no dtype); {} where f or grad_f raises or returns something unusable.
    f is called there first (a grad_f may read a cache f fills, as determinism.call_twice allows)."""
    if not wider_than_float64():
        return {}
    copies = {key: np.array(value, dtype=np.longdouble) for key, value in params.items()}
    try:
        call_user(f, "f", {k: v.copy() for k, v in copies.items()}, "at long-double copies of the params")
        raw = call_user(grad_f, "grad_f", copies, "at long-double copies of the params")
    except (UserCodeError, TypeError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, grad_key in grad_keys.items():
        value = raw.get(grad_key, raw.get(key))
        if isinstance(value, np.ndarray | np.generic) and value.dtype == np.longdouble and \
                value.size == params[key].size:  # fmt: skip
            out[key] = np.asarray(value).reshape(params[key].shape)
    return out


def rounded_hand_value(result: ParameterResult, analytic: np.ndarray, wide: np.ndarray, recheck) -> ParameterResult:
    """result (a FAIL) as INCONCLUSIVE where the long-double gradient ``wide`` explains it (module
    docstring); recheck(g) checks a float64 gradient of this tensor, a ParameterResult."""
    if result.status != FAIL:
        return result
    a = np.asarray(analytic, dtype=np.float64)
    g = np.asarray(wide, dtype=np.float64)
    if not np.isfinite(g).all() or np.array_equal(a, g):
        return result
    size = np.maximum(np.abs(a), np.abs(g))
    if np.any(np.abs(a - g) > ROUNDING_SHARE * size):
        return result
    if result.method.startswith("projection") or not np.isfinite(result.numeric_error):
        return result
    if not result.max_rel_error <= ROUNDING_SHARE:  # x2, sign, a missing 1/m: no rounding, no extra evaluations
        return result
    if tol.ESTIMATE_SAFETY * result.numeric_error * SHRINK / 4 > result.max_abs_error:
        return result  # the estimate cannot show the disagreement shrink
    second = recheck(g)
    if second is None or second.max_abs_error * SHRINK > result.max_abs_error:
        return result
    result.status = INCONCLUSIVE
    result.n_inconclusive += result.n_failed
    result.inconclusive_reasons = {**result.inconclusive_reasons, ROUNDED_HAND_VALUE: result.n_failed}
    result.n_failed = 0
    result.hint = ""  # a pattern of the FAIL (x 1.014: a constant factor?) that this explains
    worst = result.worst_index if result.worst_index is not None else ()
    twin = float(g[worst]) if g.ndim == len(worst) else float("nan")
    result.note = "; ".join(n for n in [result.note, (f"element {worst}: " if worst else "") +
                                        f"hand-written {result.analytic:.6g} in float64, {twin:.6g} by the same code "
                                        f"in long double, numerical {result.numeric:.6g}: the float64 value loses "
                                        "that to cancellation (e.g. sigmoid(z) - y at a saturated output, "
                                        "where -sigmoid(-z) is exact)"] if n)  # fmt: skip
    return result
