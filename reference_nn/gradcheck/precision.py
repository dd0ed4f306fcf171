"""The precision a gradient really had, measured, for checks that mix float32 and float64.

A float32 input (or a float32 first layer) feeding float64 weights carries float32 rounding into
every gradient downstream: a float64 parameter's gradient is then accurate to ~1e-7, not 1e-16, and
a float64 tolerance calls it wrong (LayerNorm and BatchNorm layers that create their own float64
weights did). Reading the precision off each parameter's dtype misses that; it is measured instead:

* f returns float32 (when given the params as they are): float32 for every tensor;
* f at the params in their own dtypes differs from f evaluated in float64 by more than float64
  rounding explains: float32 for every tensor;
* grad_f at float64 copies of every parameter, compared with grad_f at the given dtypes: a tensor
  whose gradient moves beyond float64 rounding is judged at float32 (one more call of grad_f, made
  only when the dtypes are mixed); a grad_f that cannot run in float64 leaves every tensor at float32.

The threshold, sqrt(eps32 eps64) = 1.6e-11 relative (to |f|, or to max(|g_i|, RMS of the tensor)),
sits between float64 rounding (2e-16) and float32 rounding (1.2e-7) with four decades either side.
"""

from __future__ import annotations

import numpy as np

from . import tolerances as tol
from .validation import call_user, validate_gradients

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
THRESHOLD = float(np.sqrt(tol.eps(np.float32) * tol.eps(np.float64)))


def computation_precision(first, ev, params: dict, grad_f, extra_keys: str = "error") -> tuple[dict, list, int]:
    """({param key: dtype its gradient is judged at (before its own dtypes are folded in)}, notes,
    extra grad_f calls made). ``first``: determinism.FirstCalls; ``ev``: the LossEvaluator."""
    if all(p.dtype == F32 for p in params.values()):
        return dict.fromkeys(params, F32), [], 0  # judged at float32 anyway
    if first.value_dtype == F32:
        return dict.fromkeys(params, F32), ["f returns float32: every gradient judged at float32 precision"], 0
    if all(p.dtype == F64 for p in params.values()):
        return dict.fromkeys(params, F64), [], 0
    if ev.eval_dtype == F64:
        size, change = max(ev.f_scale, abs(ev.value0)), abs(first.value - ev.value0)
        if size > 0 and change > THRESHOLD * size:
            return dict.fromkeys(params, F32), [
                f"measured: f at the given (mixed) dtypes differs from f in float64 by {change / size:.1e} relative, "
                "float32 rounding in the computation: every gradient judged at float32 precision"], 0  # fmt: skip
    try:
        raw = call_user(grad_f, "grad_f", {k: np.array(v, dtype=F64) for k, v in params.items()}, "in float64")
        in_float64, _, _ = validate_gradients(raw, params, extra_keys=extra_keys)
    except Exception as error:  # noqa: BLE001 - grad_f refuses float64 input: stay on the safe side
        return dict.fromkeys(params, F32), [f"grad_f does not run on float64 copies ({type(error).__name__}): every "
                                            "gradient of this mixed-precision check judged at float32 precision"], 1
    out, moved = {}, []
    for key in params:
        given, exact = first.grads[key].astype(np.float64), in_float64[key].astype(np.float64)
        scale = np.maximum(np.abs(given), float(np.sqrt(np.mean(given * given))))
        rounded = bool(np.any(np.abs(given - exact) > THRESHOLD * scale))
        out[key] = F32 if rounded else F64
        if rounded and params[key].dtype == F64:
            moved.append(key)
    notes = [f"measured: the gradients of {', '.join(moved)} carry float32 rounding (they move beyond float64 "
             "rounding when every parameter is float64): judged at float32 precision"] if moved else []  # fmt: skip
    return out, notes, 1
