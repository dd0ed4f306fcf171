"""Pin the Keras/TF conventions the op table records, by predicting each effect by hand.

For each difference the TF oracle compensates (or records as an override), run the plain
framework behaviour and check it equals the reference computed *with the convention applied
explicitly* (a float32-rounded constant, Keras' epsilon placement, the logits path). That shows
the recorded reason is the whole story: nothing else differs, to float64 rounding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from oracle_fixtures import ORACLES, REFERENCE, require

import reference_nn as rn
from equivalence_tests import ops
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.oracles import TensorFlowOracle
from equivalence_tests.tolerances import normalized_errors

pytestmark = pytest.mark.tensorflow
KERAS_CONVENTIONS = TensorFlowOracle("functional", conventions="keras")
# Two float64 implementations of the same formula: rounding ~1e-16, a few hundred of them.
SAME_FORMULA = 1e-12


def _f32(value: float) -> float:
    return float(np.float32(value))


def _max_error(expected: dict, actual: dict, params: dict, steps: int) -> float:
    return max(float(normalized_errors(expected[k], actual[k], initial=params[k], steps=steps)[0].max())
               for k in params)


def test_plain_keras_sgd_momentum_is_torch_with_float32_hyperparameters():
    require(KERAS_CONVENTIONS)
    opt = OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9, nesterov=True)
    config = ModelConfig((4, 5, 1), ("tanh", "sigmoid"), "bce", optimizer=opt, steps=3)
    params, X, Y = ops.example_inputs(config)
    keras_result = KERAS_CONVENTIONS.run(config, params, X, Y)
    rounded = dataclasses.replace(config, optimizer=dataclasses.replace(
        opt, learning_rate=_f32(0.1), momentum=_f32(0.9)))
    predicted = REFERENCE.run(rounded, params, X, Y).updated_params
    unrounded = REFERENCE.run(config, params, X, Y).updated_params
    assert _max_error(predicted, keras_result.updated_params, params, 3) < SAME_FORMULA
    assert _max_error(unrounded, keras_result.updated_params, params, 3) > 1e-9  # the effect is real


def test_plain_keras_adam_puts_epsilon_before_the_bias_correction():
    """One step, t = 1: Keras gives theta - lr g / (|g| + eps / sqrt(1 - beta2)), torch theta - lr g / (|g| + eps).
    Dyadic hyper-parameters (exact in float32) isolate the epsilon placement from float32 rounding."""
    require(KERAS_CONVENTIONS)
    opt = OptimizerConfig("adam", learning_rate=2.0**-7, beta1=0.875, beta2=1 - 2.0**-10, eps=2.0**-20)
    config = ModelConfig((4, 5, 1), ("tanh", "sigmoid"), "bce", optimizer=opt, steps=1)
    params, X, Y = ops.example_inputs(config)
    expected = REFERENCE.run(config, params, X, Y)
    keras_result = KERAS_CONVENTIONS.run(config, params, X, Y)
    keras_epsilon = opt.eps / np.sqrt(1 - opt.beta2)
    predicted = {k: params[k] - opt.learning_rate * g / (np.abs(g) + keras_epsilon)
                 for k, g in expected.gradients.items()}
    assert _max_error(predicted, keras_result.updated_params, params, 1) < SAME_FORMULA
    size = _max_error(expected.updated_params, keras_result.updated_params, params, 1)
    assert size > 1e-4  # eps / sqrt(1 - beta2) = 32 eps: visible on small gradient entries
    # ... and the default oracle (epsilon compensated per step) agrees with the reference.
    default = require(ORACLES["tensorflow/functional"]).run(config, params, X, Y)
    assert _max_error(expected.updated_params, default.updated_params, params, 1) < SAME_FORMULA


def test_tf_leaky_relu_uses_a_float32_slope_in_float64():
    oracle = require(ORACLES["tensorflow/functional"])
    config = ModelConfig((4, 5, 1), ("leaky_relu", "sigmoid"), "bce", leaky_relu_alpha=0.01)
    params, X, Y = ops.example_inputs(config)
    result = oracle.run(config, params, X, Y)
    predicted = REFERENCE.run(dataclasses.replace(config, leaky_relu_alpha=_f32(0.01)), params, X, Y)
    exact = REFERENCE.run(config, params, X, Y)
    assert float(normalized_errors(predicted.forward, result.forward)[0].max()) < SAME_FORMULA
    assert max(float(normalized_errors(predicted.gradients[k], result.gradients[k])[0].max()) for k in params) \
        < SAME_FORMULA
    assert float(normalized_errors(exact.forward, result.forward)[0].max()) > 1e-11


def test_keras_l2_regularizer_rounds_its_factor_to_float32():
    oracle = require(ORACLES["tensorflow/keras"])
    config = ModelConfig((4, 5, 1), ("tanh", "sigmoid"), "bce", l2=0.05)
    params, X, Y = ops.example_inputs(config)
    result = oracle.run(config, params, X, Y)
    # Keras adds L2(c) = c * sum(W**2) with c = float32(0.5 * l2); the reference adds 0.5 * l2' * sum(W**2).
    predicted = REFERENCE.run(dataclasses.replace(config, l2=2 * _f32(0.025)), params, X, Y)
    assert abs(predicted.cost - result.cost) <= SAME_FORMULA * abs(predicted.cost)
    assert max(float(normalized_errors(predicted.gradients[k], result.gradients[k])[0].max()) for k in params) \
        < SAME_FORMULA


def test_keras_binary_crossentropy_on_a_softmax_output_uses_sigmoid_of_the_logits():
    """Why the op table marks (bce, softmax output) unsupported on the Keras path."""
    oracle = require(ORACLES["tensorflow/keras"])
    keras, tf = oracle.modules.keras, oracle.modules.tf
    Z = np.array([[1.0, -0.5, 2.0], [0.25, 0.5, -1.0]])  # (m=2, classes=3), Keras layout
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    keras_cost = float(keras.losses.BinaryCrossentropy(dtype="float64")(
        tf.constant(Y), keras.activations.softmax(tf.constant(Z))))
    sigmoid_of_logits = float(rn.get_loss("bce_with_logits").value(Z, Y))
    softmax_probabilities = float(rn.get_loss("bce").value(rn.layers.stable_softmax(Z.T).T, Y))
    assert keras_cost == pytest.approx(sigmoid_of_logits, rel=SAME_FORMULA)
    assert abs(keras_cost - softmax_probabilities) > 1e-2  # 3% here: a different function, not rounding
