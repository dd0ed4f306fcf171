"""Normalized models (ModelConfig.normalization): the running statistics after k training steps agree
between the reference and every framework path that keeps torch's meaning (torch, TF functional, JAX), in
both dtypes; the
Keras path, whose moving variance is updated with the biased variance, reports none. (Forward,
cost, gradients and updated parameters in train and eval mode: tests/oracles/test_op_table_agreement.py
walks the batch_norm and layer_norm rows.)"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from oracle_fixtures import ORACLES, cached_run, require

from equivalence_tests import ops
from equivalence_tests.config import OptimizerConfig

EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}
# A running statistic after k = 3 steps is a weighted sum of 3 batch means / variances (sums of m = 6 products
# of forward values) at 3 iterates: the forward pass's rounding (~sqrt(n) ulp per pre-activation), ~4 roundings
# per update, and the iterates' own rounding. Measured worst 4.9 eps (float64, torch), 4.3 eps (float32, TF
# functional); 64 eps = 13x margin. jax/functional (its BatchNorm twin in jnp, torch's update) passes the same
# bound. The model is the batch_norm row's example with silu for gelu and SGD with
# momentum for Adam: tf.nn.gelu's float32 constants (op table) would move the TF iterates by 5e-9 relative,
# which the running statistics of later steps inherit; that is the gelu row's business, not the statistics'.
STATS_EPS = 64
TRACKING_PATHS = ("torch/functional", "torch/layers", "tensorflow/functional", "jax/functional")


def _train_config(dtype: str):
    row_example = next(c for c in ops.example_configs(ops.op("batch_norm"), dtype) if c.normalization_mode == "train")
    return dataclasses.replace(row_example, activations=("tanh", "silu", "softmax"),
                               optimizer=OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9))


def _normalized_error(reference: np.ndarray, other: np.ndarray) -> float:
    scale = max(float(np.sqrt(np.mean(reference.astype(np.float64) ** 2))), 1e-300)
    floor = np.maximum(np.maximum(np.abs(reference), np.abs(other)), scale)
    return float(np.max(np.abs(reference.astype(np.float64) - other) / floor))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("oracle_name", TRACKING_PATHS)
def test_running_statistics_after_k_steps_agree(oracle_name, dtype):
    oracle = require(ORACLES[oracle_name])
    config = _train_config(dtype)
    _, expected, result = cached_run(oracle, config)
    assert expected.norm_state is not None and set(expected.norm_state) == {
        f"running_{kind}{layer}" for layer in range(1, config.n_layers) for kind in ("mean", "var")}, \
        f"the reference tracks every hidden layer's statistics: {expected.norm_state}"
    assert result.norm_state is not None and set(result.norm_state) == set(expected.norm_state), \
        f"{oracle_name} must report the same running statistics, got {result.norm_state}"
    tolerance = STATS_EPS * EPS[dtype]
    for name, value in expected.norm_state.items():
        assert not np.array_equal(value, np.zeros_like(value) if "mean" in name else np.ones_like(value)), \
            f"{name} never moved from its initial value: the steps did not update it"
        error = _normalized_error(value, result.norm_state[name])
        assert error <= tolerance, f"{oracle_name} {dtype} {name}: {error:.3g} > {tolerance:.3g}"


def test_keras_path_reports_no_running_statistics_and_skips_eval_mode():
    oracle = require(ORACLES["tensorflow/keras"])
    config = _train_config("float64")
    _, _, result = cached_run(oracle, config)
    assert result.norm_state is None, "Keras' moving variance has another meaning: not reported"
    eval_config = next(c for c in ops.example_configs(ops.op("batch_norm"), "float64")
                       if c.normalization_mode == "eval")
    reason = oracle.unsupported_reason(eval_config)
    assert reason is not None and "biased" in reason, f"eval mode on the Keras path must be refused: {reason}"
