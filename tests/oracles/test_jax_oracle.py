"""The JAX oracle: float64 and float32 runs that leave the caller's JAX settings as they were,
refusal of ops without a JAX twin, and optax steps that mean torch.optim's (checked against the
update formulas written out by hand, not against the reference)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from oracle_fixtures import ORACLES, REFERENCE, require

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.oracles import UnsupportedConfiguration

pytestmark = pytest.mark.jax
JAX = ORACLES["jax/functional"]
# Two float64 implementations of the same few operations: rounding ~1e-16 each.
SAME_FORMULA = 1e-13


def _problem(dtype: str = "float64", **changes):
    config = dataclasses.replace(ModelConfig((3, 4, 1), ("tanh", "sigmoid"), "bce", dtype=dtype), **changes)
    params, X, Y = ops.example_inputs(config, m=5)
    return config, params, X, Y


@pytest.mark.parametrize("callers_x64", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_run_leaves_the_callers_x64_flag_and_device_unchanged(callers_x64: bool, dtype: str):
    require(JAX)
    jax = JAX.modules.jax
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", callers_x64)
    try:
        before = (jax.config.jax_enable_x64, jax.config.jax_default_device)
        result = JAX.run(*_problem(dtype))
        after = (jax.config.jax_enable_x64, jax.config.jax_default_device)
    finally:
        jax.config.update("jax_enable_x64", previous)
    assert after == before, f"a {dtype} run changed JAX's global settings: {before} -> {after}"
    assert result.forward.dtype == np.dtype(dtype), f"a {dtype} run returned {result.forward.dtype}"
    assert all(g.dtype == np.dtype(dtype) for g in result.gradients.values()), "gradient dtype"


def test_an_op_without_a_jax_twin_is_refused_not_computed_otherwise(monkeypatch):
    require(JAX)
    config, params, X, Y = _problem()
    monkeypatch.setitem(ops.OPS_BY_NAME, "tanh", dataclasses.replace(ops.op("tanh"), jax_functional=None))
    assert "no jax_functional twin in the op table for tanh" in JAX.unsupported_reason(config)
    with pytest.raises(UnsupportedConfiguration, match="jax/functional cannot check .*tanh"):
        JAX.run(config, params, X, Y)


def _hand_sgd(theta, gradient_at, steps, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD written out: buf = g (first step) then mu buf + g; theta -= lr (g + mu buf | buf)."""
    buffer = None
    for _ in range(steps):
        g = gradient_at(theta) + weight_decay * theta
        if momentum:
            buffer = g if buffer is None else momentum * buffer + g
            g = g + momentum * buffer if nesterov else buffer
        theta = theta - lr * g
    return theta


def _hand_adam(theta, gradient_at, steps, lr, beta1, beta2, eps, weight_decay=0.0):
    """torch.optim.Adam written out: eps after the bias-corrected root, coupled decay."""
    m = v = 0.0
    for t in range(1, steps + 1):
        g = gradient_at(theta) + weight_decay * theta
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        theta = theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return theta


def _hand_adamw(theta, gradient_at, steps, lr, beta1, beta2, eps, weight_decay):
    """torch.optim.AdamW written out: theta *= 1 - lr wd, then Adam's step."""
    m = v = 0.0
    for t in range(1, steps + 1):
        g = gradient_at(theta)
        theta = theta * (1 - lr * weight_decay)
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        theta = theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return theta


def _hand_rmsprop(theta, gradient_at, steps, lr, alpha, eps, momentum, centered, weight_decay):
    """torch.optim.RMSprop written out: eps outside the root, momentum on g / denominator."""
    v = a = buffer = 0.0
    for _ in range(steps):
        g = gradient_at(theta) + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g if centered else 0.0
        denominator = np.sqrt(v - a * a) + eps
        buffer = momentum * buffer + g / denominator
        theta = theta - lr * buffer
    return theta


def _hand_adagrad(theta, gradient_at, steps, lr, lr_decay, initial, eps, weight_decay):
    """torch.optim.Adagrad written out: clr = lr / (1 + (t - 1) lr_decay), s += g^2, eps outside the root."""
    s = initial
    for t in range(1, steps + 1):
        g = gradient_at(theta) + weight_decay * theta
        s = s + g * g
        theta = theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return theta


OPTIMIZERS = {
    "sgd": (OptimizerConfig("sgd", learning_rate=0.1), lambda *a: _hand_sgd(*a, 0.1)),
    "momentum": (OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9), lambda *a: _hand_sgd(*a, 0.1, 0.9)),
    "nesterov": (OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9, nesterov=True),
                 lambda *a: _hand_sgd(*a, 0.1, 0.9, True)),
    "sgd weight decay": (OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9, weight_decay=0.05),
                         lambda *a: _hand_sgd(*a, 0.1, 0.9, weight_decay=0.05)),
    "adam weight decay": (OptimizerConfig("adam", learning_rate=0.01, beta1=0.8, beta2=0.99, eps=1e-7,
                                          weight_decay=0.05),
                          lambda *a: _hand_adam(*a, 0.01, 0.8, 0.99, 1e-7, weight_decay=0.05)),
    "adamw": (OptimizerConfig("adamw", learning_rate=0.01, beta1=0.8, beta2=0.99, eps=1e-7, weight_decay=0.5),
              lambda *a: _hand_adamw(*a, 0.01, 0.8, 0.99, 1e-7, 0.5)),
    "rmsprop centered momentum": (
        OptimizerConfig("rmsprop", learning_rate=0.01, alpha=0.9, eps=1e-3, momentum=0.5, centered=True,
                        weight_decay=0.05),
        lambda *a: _hand_rmsprop(*a, 0.01, 0.9, 1e-3, 0.5, True, 0.05)),
    "adagrad": (OptimizerConfig("adagrad", learning_rate=0.1, lr_decay=0.5, initial_accumulator_value=0.1, eps=1e-3,
                                weight_decay=0.05),
                lambda *a: _hand_adagrad(*a, 0.1, 0.5, 0.1, 1e-3, 0.05)),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optax_steps_follow_torch_optim_formulas(name: str):
    """Three steps on a one-layer model: each step's gradient is the reference's at the then-current
    parameters (checked against JAX's own elsewhere), the update rule is torch's, written out above."""
    require(JAX)
    optimizer, hand = OPTIMIZERS[name]
    config, params, X, Y = _problem(optimizer=optimizer, steps=3, layer_dims=(3, 1), activations=("sigmoid",))
    shapes = {name: value.shape for name, value in params.items()}
    sizes = np.cumsum([value.size for value in params.values()])[:-1]

    def unflatten(flat):
        return {name: part.reshape(shapes[name]) for name, part in zip(shapes, np.split(flat, sizes), strict=True)}

    def gradient_at(flat):
        gradients = REFERENCE.run(dataclasses.replace(config, steps=0), unflatten(flat), X, Y).gradients
        return np.concatenate([gradients[name].ravel() for name in shapes])

    start = np.concatenate([value.ravel() for value in params.values()])
    expected = hand(start, gradient_at, config.steps)
    result = JAX.run(config, params, X, Y)
    actual = np.concatenate([result.updated_params[name].ravel() for name in shapes])
    np.testing.assert_allclose(actual, expected, rtol=0, atol=SAME_FORMULA, err_msg=f"optax {name} != torch formula")
    assert np.max(np.abs(actual - start)) > 1e-3, "the steps must move the parameters for the check to mean anything"
