"""Running-error magnitudes (see :mod:`equivalence_tests.error_scale`) for the modern op set of
issue 17: gelu, gelu_tanh, elu, selu, softplus, silu; huber, l1, kl_div. Same conventions: every
``R`` is in units of eps, all in float64, first order.

An activation's value carries its own rounding (``|A|``) plus, where the frameworks' formula
cancels, the size of the terms that cancelled: ``0.5 Z (1 + erf(Z / sqrt 2))`` and
``0.5 Z (1 + tanh(...))`` lose ``|Z|`` for ``Z << 0``; ``exp(Z) - 1`` (TF's elu) loses 1 for
``Z < 0``. Its derivative carries the size of its terms plus ``|g''| R_Z`` (the propagated input
error), with ``g''`` taken by a central difference of the reference's slope (a magnitude, not a
value that is compared: its own error does not matter). Slopes computed from the output (TF's elu
and selu: ``A + 1``) carry ``1 + |A| + R_A``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import reference_nn as rn

MODERN_ACTIVATIONS = ("gelu", "gelu_tanh", "elu", "selu", "softplus", "silu")
MODERN_LOSSES = ("huber", "l1", "kl_div")


def _slope(name: str, Z: np.ndarray) -> np.ndarray:
    activation = rn.get_activation(name)
    return activation.backpropagate(np.ones_like(Z), Z, activation.evaluate(Z))


def _curvature(name: str, Z: np.ndarray) -> np.ndarray:
    """``|g''(Z)|`` by a central difference of the slope (step 1e-5 (1 + |Z|)); selu/elu across 0
    see the jump of their slope, which is what an input error there may cause."""
    step = 1e-5 * (1 + np.abs(Z))
    return np.abs(_slope(name, Z + step) - _slope(name, Z - step)) / (2 * step)


def modern_activation(name: str, Z: np.ndarray, R_Z: np.ndarray):
    """``(A, R_A, g'(Z), R_g')`` for one of :data:`MODERN_ACTIVATIONS`."""
    if name not in MODERN_ACTIVATIONS:
        raise ValueError(f"no error-scale rule for activation {name!r}")
    activation = rn.get_activation(name)
    A = activation.evaluate(Z)
    slope = _slope(name, Z)
    propagated = np.abs(slope) * R_Z
    curvature = _curvature(name, Z) * R_Z
    if name in ("gelu", "gelu_tanh"):
        # x * 0.5 * (1 + erf or tanh): the bracket rounds at size 1, times |x|
        R_A = np.abs(A) + np.abs(Z) + propagated
        inner = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * Z * Z) if name == "gelu_tanh" else np.exp(-0.5 * Z * Z)
        return A, R_A, slope, 1 + np.abs(Z) * inner + curvature
    if name in ("elu", "selu"):
        scale = rn.layers.SELU_SCALE if name == "selu" else 1.0
        negative = Z <= 0
        R_A = np.abs(A) + scale * negative + propagated  # exp(Z) - 1 rounds at size 1
        # TF: slope from the output, scale * (A / scale + alpha) for Z < 0: absolute error ~ eps (1 + |A| + R_A)
        return A, R_A, slope, np.abs(slope) + negative * scale * (1 + np.abs(A) + R_A) + curvature
    if name == "softplus":
        return A, np.abs(A) + propagated, slope, slope + curvature
    # silu: Z s; slope s (1 + Z (1 - s)), where 1 - s rounds at size 1
    s = rn.Sigmoid().evaluate(Z)
    return A, np.abs(A) + propagated, slope, s + np.abs(Z) * s * (1 + s) + curvature


def modern_loss(loss: str, AL: np.ndarray, R_AL: np.ndarray, Y: np.ndarray, eps: float,
                clamped_log: Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray]]):
    """``(cost, R_cost, dAL, R_dAL)`` for one of :data:`MODERN_LOSSES`; ``clamped_log`` is
    error_scale's rule for ``log p`` clamped at -100."""
    if loss not in MODERN_LOSSES:
        raise ValueError(f"no error-scale rule for loss {loss!r}")
    n, m = AL.shape
    size = AL.size
    if loss == "kl_div":
        log_p, R_log_p = clamped_log(AL, R_AL, eps)
        aY = np.abs(Y)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_log_y = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1.0)), 0.0)
        cost = float(np.sum(y_log_y - Y * log_p) / m)
        R_cost = float(np.sum(np.abs(y_log_y) + aY * R_log_p) / m)
        denominator = np.maximum(AL, 1e-12)
        return cost, R_cost, -Y / (denominator * m), (aY / denominator + aY * R_AL / denominator**2) / m
    d = AL - Y
    R_d = np.abs(d) + R_AL
    if loss == "huber":
        inside = np.abs(d) <= 1.0
        values = np.where(inside, 0.5 * d * d, np.abs(d) - 0.5)
        clipped = np.clip(d, -1.0, 1.0)
        R_cost = float(np.mean(np.where(inside, d * d, np.abs(d) + 0.5) + np.abs(clipped) * R_d))
        return float(np.mean(values)), R_cost, clipped / size, (np.abs(clipped) + inside * R_d) / size
    # l1: the sign is exact unless rounding can flip it (|d| within a few eps R_d of 0): then any of -1, 0, 1
    may_flip = np.abs(d) <= 4 * eps * R_d
    R_dAL = np.where(may_flip, 2.0 / (eps * size), 0.0)
    return float(np.mean(np.abs(d))), float(np.mean(np.abs(d) + R_d)), np.sign(d) / size, R_dAL


# ------------------------------------------------------------------------------ optimizers
MODERN_ADAPTIVE = ("rmsprop", "adagrad")
ADAPTIVE_ROUNDINGS = 12  # roundings of one step of one element (square, average, sqrt, + eps, divide, * lr, ...)


def modern_step_scale(opt, state: dict, g: np.ndarray, M_g: np.ndarray, t: int, eps_dtype: float) -> np.ndarray:
    """Magnitude of one RMSprop or Adagrad step ``lr g / (sqrt(s) + eps)`` of one tensor.

    As for Adam (error_scale._step_scale): ``sqrt`` of a weighted sum of squares ``s = sum w_j g_j^2``
    is 1-Lipschitz in the weighted 2-norm, so ``M_root = sqrt(sum w_j M_gj^2)``; the step's magnitude
    is ``lr (12 |g| / d + M_g / d + |g| M_root / d^2)`` with ``d = sqrt(s) + eps``. Centered RMSprop
    divides by ``sqrt(v - a^2)``: the difference's error ``M_var = v + a^2 + M_v + 2 |a| M_a`` reaches the
    root as ``min(sqrt(M_var / eps), M_var / (2 sqrt(var)))`` (a square root's error for an input error
    ``delta`` is at most ``sqrt(delta)`` and at most ``delta / (2 sqrt(x))``). An entry whose gradient is at
    rounding level may step by the largest ratio ``|g| / sqrt(s)`` allowed (``1 / sqrt(1 - alpha)``,
    Adagrad 1), in either sign: the step's magnitude is capped at twice that over eps."""
    if opt.name not in MODERN_ADAPTIVE:
        raise ValueError(f"no error-scale rule for optimizer {opt.name!r}")
    if t == 1:
        initial = opt.initial_accumulator_value if opt.name == "adagrad" else 0.0
        state.update(s=np.full_like(g, initial), M_s2=np.zeros_like(g), a=np.zeros_like(g), M_a=np.zeros_like(g),
                     buffer=np.zeros_like(g))
    if opt.name == "adagrad":
        weight_old, weight_new = 1.0, 1.0
        rate = opt.learning_rate / (1 + (t - 1) * opt.lr_decay)
        ratio_bound = 1.0
    else:
        weight_old, weight_new = opt.alpha, 1 - opt.alpha
        rate = opt.learning_rate
        ratio_bound = 1 / np.sqrt(1 - opt.alpha)
    state["s"] = weight_old * state["s"] + weight_new * g * g
    state["M_s2"] = weight_old * state["M_s2"] + weight_new * M_g * M_g
    M_root = np.sqrt(state["M_s2"])
    if opt.name == "rmsprop" and opt.centered:
        state["a"] = opt.alpha * state["a"] + (1 - opt.alpha) * g
        state["M_a"] = opt.alpha * state["M_a"] + (1 - opt.alpha) * M_g
        variance = np.maximum(state["s"] - state["a"] ** 2, 0.0)
        M_var = state["s"] + state["a"] ** 2 + 2 * np.abs(state["a"]) * state["M_a"] + 2 * np.sqrt(state["s"]) * M_root
        positive = variance > 0
        linear = np.where(positive, M_var / (2 * np.sqrt(np.where(positive, variance, 1.0))), np.inf)
        M_root = np.minimum(np.sqrt(M_var / eps_dtype), linear)
        root = np.sqrt(variance) + opt.eps
        ratio_bound = np.inf  # sqrt(v - a^2) can be ~0 for a constant gradient: no cap from the averages
    else:
        root = np.sqrt(state["s"]) + opt.eps
    direction = ADAPTIVE_ROUNDINGS * np.abs(g) / root + M_g / root + np.abs(g) * M_root / root**2
    direction = np.minimum(direction, 2 * ratio_bound / eps_dtype)
    if opt.name == "rmsprop" and opt.momentum:
        state["buffer"] = opt.momentum * state["buffer"] + direction
        direction = state["buffer"]
    return rate * direction
