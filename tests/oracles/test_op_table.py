"""The op table's structure and helpers: required rows, twins per kind, domains, targets."""

from __future__ import annotations

import numpy as np
import pytest

import reference_nn as rn
from equivalence_tests import ops
from equivalence_tests.config import ModelConfig, OptimizerConfig

REQUIRED = {
    "activation": {"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"},
    "loss": {"mse", "bce", "bce_with_logits", "cross_entropy", "softmax_cross_entropy"},
    "layer": {"linear"},
    "optimizer": {"sgd", "sgd_momentum", "nesterov", "sgd_weight_decay", "adam"},
}


def test_required_rows_exist_with_their_kind():
    for kind, names in REQUIRED.items():
        assert names <= {row.name for row in ops.ops_of_kind(kind)}, kind


def test_every_activation_and_loss_of_the_reference_has_a_row():
    assert {name for name in rn.ACTIVATIONS if name != "linear"} == {r.name for r in ops.ops_of_kind("activation")}
    assert set(rn.LOSSES) == {r.name for r in ops.ops_of_kind("loss")}


@pytest.mark.parametrize("row", ops.OPS, ids=lambda row: row.name)
def test_row_is_complete(row: ops.OpInfo):
    assert row.domain.strip()
    assert row.torch_functional is not None and row.tf_functional is not None
    if row.kind in ("activation", "loss", "layer", "optimizer"):
        assert row.torch_layer is not None and row.keras_layer is not None
    for override in row.tolerance_overrides:
        assert override.reason.strip() and override.rtol > 0
    assert ops.example_configs(row, "float64"), "every row needs an example model"


@pytest.mark.parametrize("row", ops.ops_of_kind("loss"), ids=lambda row: row.name)
def test_loss_rows_pair_with_existing_activations(row: ops.OpInfo):
    assert row.output_activations and row.target_kind in ("real", "unit_interval", "distribution")
    assert set(row.output_activations) <= {r.name for r in ops.ops_of_kind("activation")}
    assert ops.valid_output_activations(row.name) == row.output_activations


def test_pairings_the_issue_names():
    assert set(ops.valid_output_activations("bce")) == {"sigmoid", "softmax"}
    assert ops.valid_output_activations("softmax_cross_entropy") == ("identity",)
    assert ops.valid_output_activations("cross_entropy") == ("softmax",)
    with pytest.raises(ValueError, match="not a loss"):
        ops.valid_output_activations("relu")
    with pytest.raises(KeyError, match="known"):
        ops.op("mish")  # not in the table (gelu, an earlier example here, now is)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", [row.name for row in ops.ops_of_kind("loss")])
def test_valid_targets_lie_in_the_loss_domain(loss: str, dtype: str):
    Y = ops.valid_targets(loss, (4, 7), np.random.default_rng(3), dtype)
    assert Y.shape == (4, 7) and Y.dtype == np.dtype(dtype)
    kind = ops.op(loss).target_kind
    if kind in ("unit_interval", "distribution"):
        assert Y.min() >= 0 and Y.max() <= 1
    if kind == "distribution":
        # exact in both dtypes, so a float32 model evaluated in float64 sees the same targets
        assert np.all(Y.astype(np.float64).sum(axis=0) == 1.0)
    AL = np.full(Y.shape, 0.25, dtype=dtype)
    assert np.isfinite(rn.compute_cost(AL, Y, loss))  # the reference accepts them


def test_ops_in_and_optimizer_rows_follow_the_config():
    config = ModelConfig((3, 4, 2), ("relu", "softmax"), "cross_entropy", l2=0.1,
                             optimizer=OptimizerConfig("sgd", momentum=0.9, nesterov=True, weight_decay=0.1))
    names = [row.name for row in ops.ops_in(config)]
    assert names == ["relu", "softmax", "cross_entropy", "linear", "l2", "nesterov", "sgd_weight_decay"]
    assert ops.optimizer_ops(OptimizerConfig("adam"))[0].name == "adam"


def test_oracle_matching_covers_framework_and_path():
    assert ops.oracle_matches("tensorflow", "tensorflow/keras")
    assert ops.oracle_matches("tensorflow/keras", "tensorflow/keras+keras-conventions")
    assert not ops.oracle_matches("tensorflow/keras", "tensorflow/functional")
    assert not ops.oracle_matches("torch", "tensorflow/functional")
