"""Hand-written JAX rules for the check_jax tests (custom_vjp and custom_jvp), right and with bugs:
an activation (softplus), layer norm with affine weight and bias, softmax (a custom_jvp), a linear
op and a fused bias + tanh-GELU. ``make(bug)`` builds the set with the named bug planted."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

_C = math.sqrt(2.0 / math.pi)


def make(bug: str | None = None) -> dict:
    """{op name: rule}; bug in (None, "softplus element", "layer norm missing term", "softmax jvp",
    "linear weight sign", "gelu bias missing")."""

    @jax.custom_vjp
    def softplus(x):
        return jnp.logaddexp(x, 0.0)

    def softplus_bwd(x, g):
        d = jax.nn.sigmoid(x)
        if bug == "softplus element":
            d = d.at[1, 2].multiply(1.5)
        return (g * d,)

    softplus.defvjp(lambda x: (softplus(x), x), softplus_bwd)

    @jax.custom_vjp
    def layer_norm(x, weight, bias):
        return _xhat(x)[0] * weight + bias

    def ln_bwd(saved, g):
        (xhat, inv), weight = saved
        gx = g * weight
        dx = gx - gx.mean(-1, keepdims=True)
        if bug != "layer norm missing term":
            dx = dx - xhat * (gx * xhat).mean(-1, keepdims=True)
        return inv * dx, (g * xhat).sum(0), g.sum(0)

    layer_norm.defvjp(lambda x, w, b: (layer_norm(x, w, b), (_xhat(x), w)), ln_bwd)

    @jax.custom_jvp
    def softmax(x):
        return jax.nn.softmax(x, axis=-1)

    @softmax.defjvp
    def softmax_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        y = softmax(x)
        if bug == "softmax jvp":
            return y, y * dx
        return y, y * (dx - (y * dx).sum(-1, keepdims=True))

    @jax.custom_vjp
    def linear(x, weight, bias):
        return x @ weight.T + bias

    def linear_bwd(saved, g):
        x, weight = saved
        dw = g.T @ x
        return g @ weight, -dw if bug == "linear weight sign" else dw, g.sum(0)

    linear.defvjp(lambda x, w, b: (linear(x, w, b), (x, w)), linear_bwd)

    @jax.custom_vjp
    def bias_gelu(x, b):
        z = x + b
        return 0.5 * z * (1 + jnp.tanh(_C * (z + 0.044715 * z**3)))

    def gelu_bwd(z, g):
        t = jnp.tanh(_C * (z + 0.044715 * z**3))
        d = g * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _C * (1 + 3 * 0.044715 * z * z))
        return d, jnp.zeros_like(d.sum(0)) if bug == "gelu bias missing" else d.sum(0)

    bias_gelu.defvjp(lambda x, b: (bias_gelu(x, b), x + b), gelu_bwd)
    return {"softplus": softplus, "layer norm": layer_norm, "softmax": softmax, "linear": linear,
            "bias gelu": bias_gelu}  # fmt: skip


def _xhat(x, eps=1e-5):
    centred = x - x.mean(-1, keepdims=True)
    inv = jax.lax.rsqrt((centred * centred).mean(-1, keepdims=True) + eps)
    return centred * inv, inv
