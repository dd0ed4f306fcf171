"""Exact kinks: relu / leaky_relu pre-activations that are exactly 0 (kink_models()).

* the reference's derivative there is the documented one-sided one: relu'(0) = 0, leaky'(0) = alpha;
* torch and TensorFlow (functional and layer paths) compute the same gradients there: their
  convention is the reference's (a different convention shows up as a gradient mismatch on the
  rows listed in the report's kink points); JAX too at relu zeros, while jax.nn.leaky_relu's
  derivative at an exact 0 is 1, not alpha (the conventions table pins it), so JAX's property
  keeps to examples whose zeros are all in relu layers;
* reference_nn.gradcheck reports those elements as inconclusive, never as failures.

Kink examples are dyadic (exact in float32 and float64 in every summation order), so a zero is a
zero in every framework. The framework comparison runs in float64: the branch taken at an exact zero
does not depend on the dtype, and in float32 the tolerance table does not cover the cancellation in
p - y that these small dyadic networks often produce (torch float32: 9.4e-4 normalized on a 3-3-6-1
relu,leaky_relu,tanh mse model, rtol 2e-4; reported to the table's owner). It also leaves out the
categorical losses: with small dyadic weights two columns of W_L are often equal, and then
W_L^T (p - y) is exactly 0 in exact arithmetic (p and y both sum to 1) but 1e-17 of rounding in one
implementation and 0 in another, which the table's normalized error (tensor RMS floor, atol 0)
calls a disagreement of 100%. Softmax outputs are left out for the same reason (softmax is
invariant to adding a constant, so W_L with equal entries gives an exact-zero gradient made of
noise). The kinks sit in hidden layers, so the loss and the output do not matter to them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, event, given
from oracle_comparison import assume_expressible, check_oracle_agreement, oracle_named
from property_checks import check_kink_gradcheck_inconclusive, check_kink_reference_convention

from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.oracles.finite_difference import cost_function
from equivalence_tests.oracles.reference_oracle import reference_cost_and_gradients
from equivalence_tests.profiles import property_settings
from equivalence_tests.strategies import ExampleRecipe, kink_models
from reference_nn.gradcheck import check_gradients

FRAMEWORK_PATHS = [
    pytest.param("torch_functional", marks=pytest.mark.torch),
    pytest.param("torch_layers", marks=pytest.mark.torch),
    pytest.param("tensorflow_functional", marks=pytest.mark.tensorflow),
    pytest.param("tensorflow_keras", marks=pytest.mark.tensorflow),
]


@property_settings("kinks/reference_convention")
@given(kink_models())
def test_reference_derivative_at_kink_is_the_documented_one_sided_slope(example):
    check_kink_reference_convention(example)


@pytest.mark.parametrize("oracle_id", FRAMEWORK_PATHS)
@property_settings("kinks/framework_convention")
@given(example=kink_models(dtype="float64"))
def test_frameworks_use_the_reference_convention_at_kinks(oracle_id, example):
    oracle = oracle_named(oracle_id)
    if not oracle.available:
        pytest.skip(oracle.unavailable_reason)
    assume_expressible(example, oracle_id)
    check_oracle_agreement(example, oracle_id, prop="kinks/framework_convention")


@pytest.mark.jax
@property_settings("kinks/jax_convention")
@given(example=kink_models(dtype="float64"))
def test_jax_uses_the_reference_convention_at_relu_kinks(example):
    oracle = oracle_named("jax_functional")
    if not oracle.available:
        pytest.skip(oracle.unavailable_reason)
    assume_expressible(example, "jax_functional")
    # jax.nn.leaky_relu is where(x >= 0, x, alpha x): its derivative at an exact zero is 1, a stated
    # convention difference (conventions table, leaky_relu'(0)), not something to check here.
    leaky_zero = any(example.config.activations[layer - 1] == "leaky_relu" for layer, _, _ in example.kink_points)
    event("leaky_relu zero: left out" if leaky_zero else "relu zeros only")
    assume(not leaky_zero)
    check_oracle_agreement(example, "jax_functional", prop="kinks/jax_convention")


@property_settings("kinks/gradcheck_inconclusive")
@given(kink_models(kink_layers=1))
def test_gradcheck_calls_kink_elements_inconclusive_not_failed(example):
    # Several kinks in one layer (one per unit) are in the space: gradcheck then compares the
    # analytic value with the slopes inside the pieces around x (kinks.nearby_slopes). Chained kinks
    # (zeros in two layers on one path, or two in one unit) are not: with up to 2^7 pieces around x
    # its 32 seeded probes can miss the piece the convention picks, and gradcheck then says FAIL with
    # the note "outside every slope seen just off the point" (its documented limit; a thorough run
    # without this filter fails on a 5-5-5-3 model with 7 zeros in layers 1 and 2).
    assume(example.separable_kinks)
    check_kink_gradcheck_inconclusive(example)
    event(f"{len(example.kink_points)} kink point(s)")


def test_gradcheck_marks_the_kink_of_a_single_relu_inconclusive():
    """A fixed kink that matters: ``Z1 = 1 * 1 - 1 = 0`` feeds the output through W2 = 2, so the
    central difference sees the average slope (W2 / 2 times the loss gradient) while the reference
    takes relu'(0) = 0. gradcheck must say INCONCLUSIVE with W1 and b1 at the kink, the rest verified."""
    config = ModelConfig(layer_dims=(1, 1, 1), activations=("relu", "identity"), loss="mse")
    params = {"W1": np.array([[1.0]]), "b1": np.array([[-1.0]]), "W2": np.array([[2.0]]), "b2": np.array([[0.5]])}
    X, Y = np.array([[1.0]]), np.array([[3.0]])

    def gradients(p):
        return reference_cost_and_gradients(config, p, X, Y)[2]

    report = check_gradients(cost_function(config, X, Y), gradients, params, method="central")
    assert report.inconclusive, str(report)
    assert report["W1"].n_inconclusive == 1 and report["b1"].n_inconclusive == 1, str(report)
    assert report["W2"].status == report["b2"].status == "PASS", str(report)


def _kink_recipe(layer_dims, activations, loss, alpha, batch_size, seed, kink_layers):
    config = ModelConfig(layer_dims=layer_dims, activations=activations, loss=loss,
                         optimizer=OptimizerConfig(name="sgd", learning_rate=0.001), dtype="float64",
                         leaky_relu_alpha=alpha)
    return ExampleRecipe(config=config, batch_size=batch_size, seed=seed, weight_scale="he", input_kind="normal",
                         bias_kind="small", kinks=True, kink_layers=kink_layers)


def test_former_thorough_failure_noise_level_gradient_at_a_kink():
    """p - y cancels to rounding noise: the one-sided limit of W2[1, 0] is -1.3e-23 (noise of the
    nudged points) against exactly 0 at the kink; the floor now includes the nudged points' error
    scale (thorough run, 2026-11-23)."""
    example = _kink_recipe((4, 1, 2, 2), ("leaky_relu", "identity", "softmax"), "cross_entropy", 0.25, 1,
                           3496067, kink_layers=3).build()
    assert example.kink_points == ((1, 0, 0),)
    check_kink_reference_convention(example)


def test_former_thorough_failure_two_units_at_zero_share_a_weight():
    """2-1-5-1: two relu units of layer 2 sit at 0 in one sample, moved in opposite directions by
    W1 with equal effect; the convention lies outside W1's one-sided slopes (which agree) and is the
    slope of the piece where both are off (thorough run, 2026-11-22)."""
    example = _kink_recipe((2, 1, 5, 1), ("leaky_relu", "relu", "identity"), "bce_with_logits", 0.25, 4,
                           1759, kink_layers=1).build()
    assert example.separable_kinks and len(example.kink_points) == 2
    check_kink_gradcheck_inconclusive(example)


def test_kink_examples_keep_selu_pre_activations_off_its_kink():
    """CI run 2026-11-29: a kink example put selu's pre-activation exactly at 0 (dyadic weights make
    exact zeros likely); selu's slope jumps there (scale alpha / scale), which the example does not
    list as a kink, so the reference-convention property compared across an unlisted kink and failed."""
    from property_checks import check_kink_reference_convention

    from equivalence_tests.config import ModelConfig, OptimizerConfig
    from equivalence_tests.strategies import KINK_MARGIN_ABSOLUTE, ExampleRecipe, build_kink_example

    config = ModelConfig(layer_dims=(1, 2, 3), activations=("leaky_relu", "selu"), loss="huber",
                         optimizer=OptimizerConfig(name="sgd", learning_rate=0.001), leaky_relu_alpha=0.25)  # fmt: skip
    recipe = ExampleRecipe(config=config, batch_size=1, seed=1, weight_scale="he", input_kind="normal",
                           bias_kind="small", kinks=True, kink_layers=3)  # fmt: skip
    example = build_kink_example(recipe)
    Z1 = example.params["W1"] @ example.X + example.params["b1"]
    Z2 = example.params["W2"] @ np.where(Z1 > 0, Z1, 0.25 * Z1) + example.params["b2"]
    assert np.abs(Z2).min() >= KINK_MARGIN_ABSOLUTE / 2, f"selu pre-activation too close to its kink: {Z2.ravel()}"
    check_kink_reference_convention(example)
