"""check_layer: gradient check of an object with forward(x) and backward(dy).

A layer maps x to y (any shape). Its backward receives an upstream gradient dy of y's shape and
returns dx; parameter gradients are read from its gradient dict. With a fixed random dy the scalar
L(x, theta) = sum(forward(x) * dy) has gradient exactly (dx, dtheta) (a vector-Jacobian product),
so every output component is covered by one ordinary scalar check.
"""

from __future__ import annotations

import numpy as np

from .check import check_gradients
from .report import GradientReport

INPUT = "input"


def check_layer(
    layer, x, *, params=None, grads=None, method: str = "auto", rtol=None, atol: float = 0.0, seed: int = 0
) -> GradientReport:
    """Check dx and every parameter gradient of ``layer`` at input ``x``.

    layer: has forward(x) -> y and backward(dy) -> dx. params: name of the attribute holding the
    parameter dict (default: ``params`` if the layer has it, else no parameters); the layer must
    read its parameters from that dict in forward. grads: attribute holding the gradient dict
    filled by backward (default ``grads``; keys ``W`` or ``dW``). The input gradient is reported
    under the name "input". The layer's parameter arrays are restored (same objects) on return.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    param_dict = _attribute_dict(layer, params, "params")
    if INPUT in param_dict:
        raise ValueError(f"layer parameter named {INPUT!r} clashes with the input's name")
    originals = dict(param_dict)

    y = np.asarray(layer.forward(x))
    rng = np.random.default_rng([seed, 2**31 - 1])
    # dy in y's dtype, stored as float64: the analytic and numerical sides see the same numbers
    dy = rng.standard_normal(y.shape).astype(y.dtype if y.dtype.kind == "f" else np.float64).astype(np.float64)
    dx = layer.backward(dy.astype(y.dtype) if y.dtype.kind == "f" else dy)
    analytic = {INPUT: np.asarray(dx)}
    if param_dict:
        grad_dict = _attribute_dict(layer, grads, "grads")
        analytic.update({k: np.array(v, copy=True) for k, v in grad_dict.items()})
    f_scale = float(np.sum(np.abs(y * dy)))  # f sums terms of either sign: their size sets the rounding

    def loss(theta):
        for name in originals:
            param_dict[name] = theta[name]
            if param_dict[name] is not theta[name]:
                raise TypeError("the layer's parameter dict does not keep assigned arrays; pass params=")
        return np.sum(layer.forward(theta[INPUT]) * dy)

    try:
        return check_gradients(
            loss,
            lambda _: analytic,
            {INPUT: x, **originals},
            method=method,
            rtol=rtol,
            atol=atol,
            seed=seed,
            f_scale=f_scale,
        )
    finally:
        param_dict.update(originals)


def _attribute_dict(layer, name, default):
    if name is None:
        if getattr(layer, default, None) is None:
            return {}
        name = default
    value = getattr(layer, name)
    if value is not getattr(layer, name):
        raise TypeError(f"layer.{name} returns a new dict on each access; the check needs the dict the layer reads")
    if not hasattr(value, "items"):
        raise TypeError(f"layer.{name} must be a dict of arrays; got {type(value).__name__}")
    return value
