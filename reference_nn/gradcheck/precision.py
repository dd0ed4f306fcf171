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

The threshold, sqrt(eps32 eps64) = sqrt(1.19e-7 * 2.22e-16) = 5.1e-12 relative (to |f|, or to
max(|g_i|, RMS of the tensor)), is the geometric mean of float64 rounding (2.2e-16) and float32
rounding (1.2e-7): 4.4 decades from either. Dtypes are compared by kind and size, whatever their byte
order (a big-endian float64 array is float64).
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
    dtypes = {key: p.dtype.newbyteorder("=") for key, p in params.items()}  # '>f8' is float64 too
    if all(d == F32 for d in dtypes.values()):
        return dict.fromkeys(params, F32), [], 0  # judged at float32 anyway
    if first.value_dtype == F32:
        return dict.fromkeys(params, F32), ["f returns float32: every gradient judged at float32 precision"], 0
    if all(d == F64 for d in dtypes.values()):
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
        scale = np.maximum(np.abs(given), tol.finite_rms(given))
        rounded = bool(np.any(np.abs(given - exact) > THRESHOLD * scale))
        out[key] = F32 if rounded else F64
        if rounded and dtypes[key] == F64:
            moved.append(key)
    notes = [f"measured: the gradients of {', '.join(moved)} carry float32 rounding (they move beyond float64 "
             "rounding when every parameter is float64): judged at float32 precision"] if moved else []  # fmt: skip
    return out, notes, 1


# ---------------------------------------------------------------------------------------------
# The precision f computes in, measured (it sets the numerical side's steps and rounding model)
# ---------------------------------------------------------------------------------------------

F16 = np.dtype(np.float16)
COARSER = (F32, F16)  # the precisions a float64 evaluation can hide, finest first
# Measured rounding noise of f (LossEvaluator.noise, relative to |f|) at or above eps / 8 of a
# coarser dtype: f's result is rounded at that dtype's precision (a float32 result, or float() of
# one), so f is a function of that precision whatever its parameters are. eps64 * 1e8 = eps32 / 5:
# float64 rounding, even with heavy cancellation (1e4 ulps), stays far below it.
NOISE_SHARE_OF_EPS = 1.0 / 8.0
# A tensor's perturbation inside its float32 (float16) rounding cell must move a float64 f by more
# than this many float64 ulps of f (predicted from the hand-written gradient, g . d) before an
# unchanged f is read as "f casts this tensor": a tensor with no visible influence proves nothing.
VISIBLE_ULPS = 1e3
# ... and a move by this many ulps of that dtype must change f (it changes what f computes with).
CELLS_ACROSS = 4.0
# ... moved by at most this many ulps of that dtype (2^12 ulps of float32: 4.9e-4 relative): still a
# small move, and only whether f changes at all is read from it (a loss that ignores the tensor does
# not change under any move); a tensor whose gradient moves f by less than 4 ulps of its float32
# result even then keeps the finer precision, as before.
MAX_CELLS_ACROSS = 2.0**12
CELL_SEED = 20261205


def measure_input_precision(ev, gradients: dict | None = None, output_dtype=None) -> list[str]:
    """Set ``ev.precision[key]`` to the precision f computes each tensor in; notes saying so.

    * f's result: a float32 (float16) return value, or rounding noise of f at float32's (float16's)
      level (NOISE_SHARE_OF_EPS), puts every tensor at that precision;
    * a tensor f casts to float32 (float16) inside: moving every element within its rounding cell of
      that dtype (half way to the rounded value, or 1/8 ulp for an exact one) leaves f bit-identical,
      where the gradient predicts a change of f far above float64 rounding (VISIBLE_ULPS); one
      evaluation per tensor and dtype, only while f is evaluated in a finer dtype.
    """
    if ev.eval_dtype == F16:
        return []
    size = max(ev.given_scale, abs(ev.value0))
    output = np.dtype(output_dtype) if output_dtype is not None and np.dtype(output_dtype).kind == "f" else None
    by_output = None
    for dtype in COARSER:
        if tol.eps(dtype) <= tol.eps(ev.eval_dtype):
            continue
        # f's noise at that precision's level and f unmoved by the first (1.5e-10 relative) step of
        # the noise probe: a result rounded to that precision (a float64 f whose |f| cancels to ~0
        # has noise far above eps64 |f| too, but moves at the first step)
        if (output is not None and tol.eps(output) >= tol.eps(dtype)) or (
                ev.still_at_first_step and size > 0 and ev.noise >= NOISE_SHARE_OF_EPS * tol.eps(dtype) * size):
            by_output = dtype
    by_cell: dict = {}
    for key, x in ev.point.items():
        if by_output is not None:
            ev.precision[key] = by_output
        for dtype in COARSER:
            if tol.eps(dtype) <= tol.eps(ev.precision[key]):
                continue
            moved = _inside_cell(x.astype(np.float64), dtype)
            if moved is None or not _visible(moved - x.astype(np.float64), (gradients or {}).get(key), ev, size):
                break
            if ev.at({**ev.point, key: moved.astype(ev.eval_dtype)}) != ev.value0:
                break
            # unchanged within the cell: a cast only if a move across a few cells does change f (a loss
            # that ignores the tensor, or reads a stale copy of it, is unchanged by both)
            across = _across_cells(x.astype(np.float64), dtype, (gradients or {}).get(key), size)
            if ev.at({**ev.point, key: across.astype(ev.eval_dtype)}) == ev.value0:
                # unchanged across a few cells too: f ignores the tensor, reads a stale copy of it, or casts
                # it to a coarser dtype still (float16: a few float32 cells lie inside one of its cells), which
                # the next dtype's moves tell (a float16 cast judged at float64 was a false FAIL: 6e-5 off)
                continue
            ev.precision[key] = by_cell[key] = dtype
    notes = []
    if by_output is not None:
        why = f"f returns {output}" if output is not None and tol.eps(output) >= tol.eps(by_output) else \
            f"f's measured rounding noise is {ev.noise / size:.1e} of |f|"  # fmt: skip
        notes.append(f"measured: f computes in {by_output} ({why}): steps, rounding model and tolerances of "
                     f"{by_output}")  # fmt: skip
    for dtype in COARSER:
        keys = [k for k, d in by_cell.items() if d == dtype]
        if keys:
            them = "them" if len(keys) > 1 else "it"
            notes.append(f"measured: f casts {', '.join(keys)} to {dtype} (moves within {dtype}'s rounding leave f "
                         f"unchanged): steps, rounding model and tolerances of {dtype} for {them}")
    return notes


def _inside_cell(x: np.ndarray, dtype) -> np.ndarray | None:
    """x moved within its rounding cell of ``dtype`` (every element rounds to the same ``dtype``
    value as before; an element that cannot is left as it is); None if no element moved. Each element
    goes to its rounded value plus a seeded random signed 5%-20% of the ulp (within a quarter ulp of
    the rounded value: inside the cell on both sides, a power of two included), so the moves of a
    float64 f never cancel by construction (moves all toward +ulp / 8 summed to exactly 0 against a
    gradient (1, -1, 0.5), and a float64 loss was read as a float16 one)."""
    rng = np.random.default_rng(CELL_SEED)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = x.astype(dtype)
        y = rounded.astype(np.float64)
        ulp = np.spacing(np.abs(rounded)).astype(np.float64)
        shift = rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.05, 0.2, size=x.shape) * ulp
        moved = y + shift
        same = np.isfinite(y) & (moved.astype(dtype) == rounded) & (moved != x)
    if not same.any():
        return None
    return np.where(same, moved, x)


def _across_cells(x: np.ndarray, dtype, gradient=None, size: float = 0.0) -> np.ndarray:
    """x moved by CELLS_ACROSS ulps of ``dtype`` (alternating signs): f of a tensor it casts to
    ``dtype`` sees the move. With the hand-written gradient, each element moves along its sign (the
    predicted change of f, g . move, then has no cancellation) and by enough cells that the change is
    CELLS_ACROSS ulps of |f| in ``dtype`` (at most MAX_CELLS_ACROSS): a float32 result changes only by
    whole ulps of |f|, and 4 ulps of each element moved a float32 loss of 6.6e14 (ulp 6.7e7) by a
    predicted 2.4e6, nothing, which read as "f ignores this tensor" (fuzz finding 22)."""
    with np.errstate(over="ignore", invalid="ignore"):
        ulp = np.spacing(np.abs(x.astype(dtype))).astype(np.float64)
        signs = np.where(np.arange(x.size).reshape(x.shape) % 2 == 0, 1.0, -1.0)
        cells = CELLS_ACROSS
        if gradient is not None:
            g = np.asarray(gradient, dtype=np.float64).reshape(x.shape)
            g = np.where(np.isfinite(g), g, 0.0)
            signs = np.where(g != 0, np.sign(g), signs)
            predicted = float(np.sum(np.abs(g) * np.where(np.isfinite(ulp), ulp, 0.0)))
            wanted = CELLS_ACROSS * tol.eps(dtype) * size
            if predicted > 0 and np.isfinite(predicted) and wanted > CELLS_ACROSS * predicted:
                cells = min(MAX_CELLS_ACROSS, float(np.exp2(np.ceil(np.log2(wanted / predicted)))))
        moved = x + cells * signs * ulp
    return np.where(np.isfinite(moved), moved, x)


def _visible(move: np.ndarray, gradient, ev, size: float) -> bool:
    """Whether the move changes a float64 f by more than VISIBLE_ULPS of its rounding, as the
    hand-written gradient predicts it (no gradient: assumed visible)."""
    if gradient is None:
        return True
    g = np.asarray(gradient, dtype=np.float64).reshape(move.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        change = abs(float(np.sum(np.where(np.isfinite(g), g, 0.0) * move)))
    # far above f's rounding: VISIBLE_ULPS ulps of |f| in the evaluation dtype, or 100x the measured noise
    return change > max(VISIBLE_ULPS * tol.eps(ev.eval_dtype) * size, 100.0 * ev.noise)
