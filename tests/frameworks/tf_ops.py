"""Hand-written TensorFlow rules (tf.custom_gradient) for the check_tf tests, right and with bugs:
softplus, layer norm with affine weight and bias, softmax, a linear op, a fused bias + tanh-GELU.
``make(bug)`` builds the set with the named bug planted (the names of jax_ops.make, less the JVP one)."""

from __future__ import annotations

import math

import tensorflow as tf

_C = math.sqrt(2.0 / math.pi)


def make(bug: str | None = None) -> dict:
    @tf.custom_gradient
    def softplus(x):
        def grad(g):
            d = tf.sigmoid(x)
            if bug == "softplus element":
                d = tf.tensor_scatter_nd_update(d, [[1, 2]], [d[1, 2] * 1.5])
            return g * d

        return tf.math.softplus(x), grad

    @tf.custom_gradient
    def layer_norm(x, weight, bias):
        centred = x - tf.reduce_mean(x, -1, keepdims=True)
        inv = tf.math.rsqrt(tf.reduce_mean(centred * centred, -1, keepdims=True) + 1e-5)
        xhat = centred * inv

        def grad(g):
            gx = g * weight
            dx = gx - tf.reduce_mean(gx, -1, keepdims=True)
            if bug != "layer norm missing term":
                dx = dx - xhat * tf.reduce_mean(gx * xhat, -1, keepdims=True)
            return inv * dx, tf.reduce_sum(g * xhat, 0), tf.reduce_sum(g, 0)

        return xhat * weight + bias, grad

    @tf.custom_gradient
    def softmax(x):
        y = tf.nn.softmax(x, -1)

        def grad(g):
            return y * g if bug == "softmax missing term" else y * (g - tf.reduce_sum(g * y, -1, keepdims=True))

        return y, grad

    @tf.custom_gradient
    def linear(x, weight, bias):
        def grad(g):
            dw = tf.matmul(g, x, transpose_a=True)
            return tf.matmul(g, weight), -dw if bug == "linear weight sign" else dw, tf.reduce_sum(g, 0)

        return tf.matmul(x, weight, transpose_b=True) + bias, grad

    @tf.custom_gradient
    def bias_gelu(x, b):
        z = x + b
        t = tf.tanh(_C * (z + 0.044715 * z**3))

        def grad(g):
            d = g * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _C * (1 + 3 * 0.044715 * z * z))
            db = tf.reduce_sum(d, 0)
            return d, tf.zeros_like(db) if bug == "gelu bias missing" else db

        return 0.5 * z * (1 + t), grad

    return {"softplus": softplus, "layer norm": layer_norm, "softmax": softmax, "linear": linear,
            "bias gelu": bias_gelu}  # fmt: skip
