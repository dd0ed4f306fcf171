"""order=2: the backward's own derivative, as torch's gradgradcheck checks it.

With the upstream gradients u as inputs too, h(x, u) = sum_i <vjp(x, u)_i, w_i> for a fixed seeded
N(0, 1) w (rounded to each gradient's dtype) is a scalar whose gradient the framework computes by
differentiating its backward (adapter.double_vjp: create_graph, jax.grad of the pullback, nested
tapes). check_gradients verifies it against numerical derivatives of h, each evaluation of h being
one call of the first-order backward (in float64 on upcast copies where the rule runs in float64).
Results are reported as "NAME (order 2)"; the upstream of output k as "upstream of outputK".
A backward that detaches what it must not (an intermediate saved from the no-grad forward, a
.detach(), torch's once_differentiable) differentiates to 0 where h moves: FAIL. A backward the
framework raises on when differentiated gives INCONCLUSIVE with the framework's words.
Complex step is not used: a complex input to a backward is not a complex step of h (torch takes
conjugates), so h refuses complex input and the check falls back to Richardson.
"""

from __future__ import annotations

import numpy as np

from ..by_precision import no_split
from ..check import check_gradients
from ..report import GradientReport
from .base import run_user
from .common import low_precision_rtol

UPSTREAM = "upstream of output{}"


def weights(adapter, values: dict, seed: int) -> dict:
    """w: seeded N(0, 1) of each input's shape, rounded to its dtype (float64 arrays)."""
    rng = np.random.default_rng([seed, 2])
    return {n: adapter.quantize_gradient(rng.standard_normal(v.shape), n) for n, v in values.items()}


def check_second_order(adapter, values: dict, douts: list, gradient_dtypes: dict, seed: int,
                       options: dict, wide: bool = False, narrow: bool = False) -> GradientReport:  # fmt: skip
    """check_gradients on h(x, u) = <vjp(x, u), w> against the framework's double backward. wide:
    values are float64 copies of lower-precision inputs, and the upstream gradients are taken in
    float64 too (float64_rule.py's first step). narrow: fn refuses float64, so the float64 points
    check_gradients evaluates h at are rounded to float32 first (common._first_order's narrow)."""
    w = weights(adapter, values, seed)
    driven = [k for k, d in enumerate(douts) if d is not None]
    keys = {UPSTREAM.format(k): k for k in driven}
    point = dict(values)
    for key, k in keys.items():
        in_float64 = wide or adapter.output_dtype_is_float64(k)
        point[key] = np.asarray(douts[k], dtype=np.float64 if in_float64 else np.float32)

    def split(theta):
        x = {n: theta[n] for n in values}
        if narrow:
            x = {n: v.astype(np.float32) if v.dtype == np.float64 and np.dtype(gradient_dtypes[n]) != np.float64
                 else v for n, v in x.items()}  # fmt: skip
        u = [theta[key] if (key := UPSTREAM.format(k)) in keys else None for k in range(len(douts))]
        return x, u

    def h(theta):
        if any(np.iscomplexobj(a) for a in theta.values()):
            raise TypeError("h is a backward: complex step is not a derivative of it")
        x, u = split(theta)
        backward = run_user("grad_f", adapter.vjp, x, u)
        total = sum(np.sum(np.asarray(g, dtype=np.float64) * w[n]) for n, g in backward.grads.items() if g is not None)
        low = any(g is not None and g.dtype == np.float32 for g in backward.grads.values())
        return np.float32(total) if low else np.float64(total)

    def grad_h(theta):
        x, u = split(theta)
        grads_x, grads_u = run_user("grad_f", adapter.double_vjp, x, u, w)
        out = {n: _dense(grads_x.get(n), theta[n]) for n in values}
        out.update({key: _dense(grads_u.get(k), theta[key]) for key, k in keys.items()})
        return out

    try:
        grad_h(point)
    except Exception as refused:  # noqa: BLE001 - the framework refuses to differentiate the backward
        cause = refused.__cause__ or refused
        return GradientReport({}, options.get("method", "auto"), seed, 0, [],
                              [f"the backward cannot be differentiated ({type(cause).__name__}: {cause})"])
    upstream_dtype = np.float64 if wide else np.float32
    judged = low_precision_rtol({**gradient_dtypes, **dict.fromkeys(keys, upstream_dtype)}, options)
    with no_split():
        report = check_gradients(h, grad_h, point, seed=seed, grad_f_sees_loss=False, **judged)
    for name, result in report.results.items():
        if name in gradient_dtypes and np.dtype(gradient_dtypes[name]).itemsize == 2:
            result.dtype = np.dtype(gradient_dtypes[name]).name
    report.notes.insert(0, "h(x, u) = <vjp(x, u), w> for a seeded N(0, 1) w; its gradient by the framework's "
                           "double backward against numerical derivatives of h (one backward per evaluation)")
    return report


def _dense(grad, like: np.ndarray) -> np.ndarray:
    """None (no dependence) is zero; the array in the dtype of its input."""
    if grad is None:
        return np.zeros(like.shape, dtype=like.dtype)
    return np.asarray(grad, dtype=like.dtype).reshape(like.shape)


def compare_double_backward(adapter, values: dict, wide: dict, douts: list, gradient_dtypes: dict,
                            verified_share: float | None, seed: int) -> GradientReport:  # fmt: skip
    """The double backward at the inputs' own dtypes against the float64 one (verified first), per
    tensor and per upstream (judged at the coarsest input dtype: the outputs' own)."""
    from .float64_rule import compare_gradients

    w = weights(adapter, values, seed)
    driven = [k for k, d in enumerate(douts) if d is not None]
    low_x, low_u = run_user("grad_f", adapter.double_vjp, values, douts, w)
    high_x, high_u = run_user("grad_f", adapter.double_vjp, wide, douts, w)
    coarsest = max((np.dtype(d) for d in gradient_dtypes.values()), key=lambda d: np.finfo(d).eps)
    shapes = {n: v.shape for n, v in values.items()} | {UPSTREAM.format(k): np.shape(douts[k]) for k in driven}
    precisions = dict(gradient_dtypes) | {UPSTREAM.format(k): coarsest for k in driven}
    low = dict(low_x) | {UPSTREAM.format(k): low_u.get(k) for k in driven}
    high = dict(high_x) | {UPSTREAM.format(k): high_u.get(k) for k in driven}
    if not high_x and not high_u:  # the float64 backward was not differentiable: step 1 said so
        return GradientReport({}, "vs float64 rule", seed, 0, [], ["the backward cannot be differentiated"])
    return compare_gradients(low, high, shapes, precisions, verified_share, seed, "double backward")
