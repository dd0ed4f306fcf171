"""Meta-tests: the properties catch broken gradients.

A fixture swaps one plausible bug into reference_nn's backward rules (or optimizer); the test then
runs a property's core check on a fixed example and asserts that it FAILS with a report a person
can act on (property, model, worst element, reproducer). Each case also runs the same check
without the bug first, so a failure can only come from the bug.

Not a bug, hence not here: "ReLU mask taken from A instead of Z" - for relu and leaky_relu (alpha >
0), A > 0 exactly when Z > 0, so both masks are the same function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from oracle_comparison import check_oracle_agreement
from property_checks import (
    check_backward_linearity,
    check_batch_mean_gradient,
    check_kink_reference_convention,
    check_reference_gradcheck,
    check_sgd_step,
)

import reference_nn as rn
import reference_nn.layers
import reference_nn.losses
import reference_nn.model
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.strategies import ExampleRecipe


# ------------------------------------------------------------------------------- the bugs
def sigmoid_missing_one_minus_a(monkeypatch):
    monkeypatch.setattr(rn.Sigmoid, "backpropagate", lambda self, dA, Z, A: dA * A)


def relu_derivative_one_at_zero(monkeypatch):
    monkeypatch.setattr(rn.ReLU, "backpropagate", lambda self, dA, Z, A: np.where(Z.real >= 0, dA, 0 * dA))


def relu_mask_from_upstream_gradient(monkeypatch):
    monkeypatch.setattr(rn.ReLU, "backpropagate", lambda self, dA, Z, A: np.where(dA > 0, dA, 0 * dA))


def _patch_linear_backward(monkeypatch, broken):
    for module in (reference_nn.model, reference_nn.layers):
        monkeypatch.setattr(module, "linear_backward", broken)


def bias_gradient_summed_over_wrong_axis(monkeypatch):
    def broken(dZ, A_prev, W):  # db over the units instead of the samples: shape (m, 1)
        return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=0, keepdims=True).T

    _patch_linear_backward(monkeypatch, broken)


def weight_gradient_missing_transpose(monkeypatch):
    def broken(dZ, A_prev, W):  # A_prev dZ^T: (n_in, n_out), the right shape only for square W
        return W.T @ dZ, A_prev @ dZ.T, dZ.sum(axis=1, keepdims=True)

    _patch_linear_backward(monkeypatch, broken)


def mse_gradient_missing_one_over_m(monkeypatch):
    monkeypatch.setattr(reference_nn.losses.MSE, "gradient", lambda self, AL, Y: (2 / AL.shape[0]) * (AL - Y))


def sgd_update_with_wrong_sign(monkeypatch):
    original = rn.SGD._update

    def broken(self, name, theta, gradient, state):
        return 2 * theta - original(self, name, theta, gradient, state)  # theta + lr * g

    monkeypatch.setattr(rn.SGD, "_update", broken)


def adam_bias_correction_stuck_at_step_one(monkeypatch):
    """t = 1 in the bias corrections at every step: right at the first step, wrong from the second
    on (m_hat too large by (1 - beta1^t) / (1 - beta1)); only a multi-step comparison sees it."""
    original = rn.Adam._update

    def broken(self, name, theta, gradient, state):
        taken, self.steps_taken = self.steps_taken, 1
        try:
            return original(self, name, theta, gradient, state)
        finally:
            self.steps_taken = taken

    monkeypatch.setattr(rn.Adam, "_update", broken)


# ----------------------------------------------------------------------------- examples
def recipe(dims, activations, loss, m, seed=3, dtype="float64", **config) -> ExampleRecipe:
    model = ModelConfig(layer_dims=dims, activations=activations, loss=loss, dtype=dtype, **config)
    return ExampleRecipe(config=model, batch_size=m, seed=seed, weight_scale="he")


SIGMOID_NET = recipe((3, 4, 2), ("sigmoid", "identity"), "mse", m=5)
RELU_NET = recipe((3, 5, 1), ("relu", "sigmoid"), "bce", m=4)
# m == every n_out and square weights, so the broken shapes pass unnoticed: only values are wrong.
SQUARE_NET = recipe((3, 3, 3), ("tanh", "identity"), "mse", m=3)
MSE_NET = recipe((2, 3, 2), ("tanh", "identity"), "mse", m=6)
SGD_NET = recipe((3, 4, 1), ("tanh", "sigmoid"), "bce", m=5, optimizer=OptimizerConfig("sgd", learning_rate=0.1))
# Three Adam steps, in float32 too: the iterates' own uncertainty (error_scale) must not hide a slip
# that shows only from step 2 on.
ADAM_NET = recipe((3, 4, 2), ("tanh", "identity"), "mse", m=5, steps=3,
                  optimizer=OptimizerConfig("adam", learning_rate=0.01))
ADAM_NET_FLOAT32 = recipe((3, 4, 2), ("tanh", "identity"), "mse", m=5, steps=3, dtype="float32",
                          optimizer=OptimizerConfig("adam", learning_rate=0.01))
KINK_NET = ExampleRecipe(config=ModelConfig((2, 3, 1), ("relu", "identity"), "mse"), batch_size=3, seed=5,
                         kinks=True)


def linearity_case() -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    u, v = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    return rn.ReLU(), x, u, v, 1.5, -0.75, "relu n=4 m=5"


def agreement(oracle_id: str, example_recipe: ExampleRecipe, prop: str = "agreement") -> Callable[[], None]:
    def run():
        if oracle_id.startswith("torch"):
            pytest.importorskip("torch")
        check_oracle_agreement(example_recipe.build(), oracle_id, prop=prop)

    return run


# (bug, property, the check on a fixed example, text the report must contain)
CASES = [
    (sigmoid_missing_one_minus_a, "agreement/finite_difference", agreement("finite_difference", SIGMOID_NET), "W1"),
    (sigmoid_missing_one_minus_a, "agreement/torch_functional", agreement("torch_functional", SIGMOID_NET), "W1"),
    (sigmoid_missing_one_minus_a, "gradcheck/complex", lambda: check_reference_gradcheck(SIGMOID_NET.build(),
                                                                                       "complex"), "W1"),
    (relu_derivative_one_at_zero, "kinks/reference_convention",
     lambda: check_kink_reference_convention(KINK_NET.build()), "derivative"),
    (relu_derivative_one_at_zero, "kinks/framework_convention",
     agreement("torch_functional", KINK_NET, "kinks/framework_convention"), "gradient"),
    (relu_mask_from_upstream_gradient, "metamorphic/backward_linearity",
     lambda: check_backward_linearity(*linearity_case()), "backward input"),
    (relu_mask_from_upstream_gradient, "agreement/finite_difference", agreement("finite_difference", RELU_NET), "W1"),
    (bias_gradient_summed_over_wrong_axis, "agreement/finite_difference", agreement("finite_difference", SQUARE_NET),
     "gradient b"),
    (weight_gradient_missing_transpose, "agreement/finite_difference", agreement("finite_difference", SQUARE_NET),
     "gradient W"),
    (mse_gradient_missing_one_over_m, "metamorphic/batch_mean_gradient",
     lambda: check_batch_mean_gradient(MSE_NET.build()), "gradient"),
    (mse_gradient_missing_one_over_m, "agreement/torch_layers", agreement("torch_layers", MSE_NET), "gradient"),
    (sgd_update_with_wrong_sign, "metamorphic/sgd_step", lambda: check_sgd_step(SGD_NET.build()), "SGD.step"),
    (sgd_update_with_wrong_sign, "agreement/torch_functional", agreement("torch_functional", SGD_NET),
     "updated_params"),
    (adam_bias_correction_stuck_at_step_one, "agreement/torch_functional", agreement("torch_functional", ADAM_NET),
     "updated_params"),
    (adam_bias_correction_stuck_at_step_one, "agreement/torch_functional",
     agreement("torch_functional", ADAM_NET_FLOAT32), "updated_params"),
]


@pytest.mark.parametrize(("bug", "prop", "check", "must_mention"), CASES,
                         ids=[f"{bug.__name__}-{prop}" for bug, prop, _, _ in CASES])
def test_property_catches_broken_gradient(monkeypatch, bug, prop, check, must_mention):
    check()  # without the bug the property holds on this example
    bug(monkeypatch)
    with pytest.raises(AssertionError) as failure:
        check()
    report = str(failure.value)
    assert f"property '{prop}" in report, report
    assert must_mention in report, report
    if "layer:" not in report:  # model-level properties carry the model and a reproducer
        for part in ("model:", "dtype:", "shapes:", "reproduce:", "ExampleRecipe("):
            assert part in report, f"report lacks {part!r}:\n{report}"
    if prop.startswith(("agreement", "kinks/framework")):
        assert "torch 2" in report or "reference_nn.gradcheck" in report, report  # oracle and its version
