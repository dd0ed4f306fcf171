"""The strategies generate what they promise: shapes, dtypes, bounds, valid targets, the kink
margin, exact kinks, and examples that a printed reproducer rebuilds bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import reference_nn as rn
from equivalence_tests import ops, strategies
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import deliberate_output_pairing
from equivalence_tests.strategies import (
    INPUT_BOUND,
    KINK_MARGIN_ABSOLUTE,
    KINK_MARGIN_RELATIVE,
    KINKED_ACTIVATIONS,
    PROBABILITY_FLOOR,
    ExampleRecipe,
    batch_sizes,
    kink_models,
    layer_dims,
    model_configs,
    models,
    optimizer_configs,
)


def pre_activations(example) -> list[np.ndarray]:
    """Z of every layer as the reference computes it, in the example's dtype."""
    _, caches = rn.model_forward(example.X, example.params, example.config.activation_objects())
    return [cache.Z for cache in caches]


@settings(max_examples=60)
@given(models())
def test_models_have_the_configs_shapes_dtype_and_bounds(example):
    config, dtype = example.config, np.dtype(example.config.dtype)
    dims, m = config.layer_dims, example.recipe.batch_size
    assert example.X.shape == (dims[0], m) and example.Y.shape == (dims[-1], m)
    for layer in range(1, config.n_layers + 1):
        assert example.params[f"W{layer}"].shape == (dims[layer], dims[layer - 1])
        assert example.params[f"b{layer}"].shape == (dims[layer], 1)
    arrays = [example.X, example.Y, *example.params.values()]
    assert all(array.dtype == dtype for array in arrays)
    assert np.abs(example.X).max() <= INPUT_BOUND
    tiny = np.finfo(dtype).tiny
    for array in arrays:
        assert np.isfinite(array).all()
        assert not ((array != 0) & (np.abs(array) < tiny)).any(), "subnormal value generated"
    AL, _ = rn.model_forward(example.X, example.params, config.activation_objects())
    assert np.isfinite(AL).all()
    rn.get_loss(config.loss).prepare_targets(example.Y, AL)  # raises if Y is not valid for the loss
    with deliberate_output_pairing():  # the strategies generate bce after softmax on purpose
        cost = rn.compute_cost(AL, example.Y, config.loss, example.params, config.l2)
    assert np.isfinite(cost), f"cost {cost} of {config.describe()}"


@settings(max_examples=80)
@given(models())
def test_relu_pre_activations_keep_the_documented_margin_from_the_kink(example):
    A = example.X
    for layer, (activation, Z) in enumerate(zip(example.config.activation_objects(), pre_activations(example),
                                                strict=True), start=1):
        if activation.name in KINKED_ACTIVATIONS:
            W = example.params[f"W{layer}"].astype(np.float64)
            margin = KINK_MARGIN_ABSOLUTE + KINK_MARGIN_RELATIVE * (np.abs(W) @ np.abs(A.astype(np.float64)))
            assert (np.abs(Z) >= margin).all(), f"layer {layer}: min |Z| - margin = {(np.abs(Z) - margin).min()}"
        A = activation.evaluate(Z)


@settings(max_examples=60)
@given(models(model_configs(loss=st.sampled_from(["bce", "cross_entropy"]))))
def test_probability_outputs_stay_inside_the_floor(example):
    AL, _ = rn.model_forward(example.X, example.params, example.config.activation_objects())
    floor = PROBABILITY_FLOOR[example.config.dtype]
    assert AL.min() >= floor * (1 - 1e-6) and AL.max() <= 1 - floor * (1 - 1e-6)


@settings(max_examples=60)
@given(kink_models())
def test_kink_examples_hold_exact_zeros_in_every_summation_order(example):
    assert example.kink_points
    Zs = pre_activations(example)
    A_by_layer = [example.X]
    for activation, Z in zip(example.config.activation_objects(), Zs, strict=True):
        A_by_layer.append(activation.evaluate(Z))
    for layer, row, column in example.kink_points:
        assert Zs[layer - 1][row, column] == 0
        W, b = example.params[f"W{layer}"], example.params[f"b{layer}"]
        terms = W[row, :] * A_by_layer[layer - 1][:, column]
        reversed_sum = b[row, 0]
        for term in terms[::-1]:  # another order, in the example's dtype: still exactly 0
            reversed_sum = reversed_sum + term
        assert reversed_sum == 0


@settings(max_examples=30)
@given(models())
def test_the_printed_reproducer_rebuilds_the_same_arrays(example):
    namespace: dict = {}
    exec(example.recipe.reproducer(), namespace)  # the line a failure report prints
    rebuilt = namespace["example"]
    assert rebuilt.config == example.config
    for name, value in example.params.items():
        np.testing.assert_array_equal(rebuilt.params[name], value)
    np.testing.assert_array_equal(rebuilt.X, example.X)
    np.testing.assert_array_equal(rebuilt.Y, example.Y)


@settings(max_examples=100)
@given(layer_dims(min_depth=2, max_depth=4, min_width=2, max_width=10, n_out=3))
def test_layer_dims_respect_their_bounds(dims):
    assert 3 <= len(dims) <= 5 and dims[-1] == 3
    assert all(2 <= n <= 10 for n in dims)


def test_edge_cases_are_drawn():
    assert find(batch_sizes(), lambda m: m == 1) == 1
    assert find(layer_dims(), lambda dims: 1 in dims[1:-1])  # a hidden width-1 bottleneck
    assert find(models(), lambda example: example.recipe.weight_scale == "saturating")


@settings(max_examples=60)
@given(model_configs())
def test_configs_use_op_table_pairings_and_build_their_optimizer(config):
    assert config.activations[-1] in ops.valid_output_activations(config.loss)
    assert config.layer_dims[-1] >= ops.min_outputs(config.loss, config.activations[-1])
    assert isinstance(config.optimizer.build(), rn.Optimizer)


@settings(max_examples=40)
@given(optimizer_configs())
def test_optimizer_configs_are_valid_torch_style_settings(opt):
    assert not (opt.nesterov and opt.momentum == 0)
    opt.build()


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="min_depth"):
        layer_dims(min_depth=0)
    with pytest.raises(ValueError, match="subset of"):
        optimizer_configs(("lamb",))
    config = ModelConfig((2, 1), ("sigmoid",), "bce")
    with pytest.raises(ValueError, match="weight_scale must be one of"):
        ExampleRecipe(config=config, batch_size=2, seed=0, weight_scale="huge").build()
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ExampleRecipe(config=config, batch_size=0, seed=0).build()


def test_saturating_scale_saturates_hidden_sigmoids():
    """The "saturating" scale is there to push sigmoid into its flat tails: |Z| > 5 (sigmoid' < 7e-3)
    for a good share of hidden units of a wide layer."""
    config = ModelConfig((32, 32, 1), ("sigmoid", "identity"), "mse")
    example = ExampleRecipe(config=config, batch_size=16, seed=1, weight_scale="saturating").build()
    Z = pre_activations(example)[0]
    assert np.mean(np.abs(Z) > 5) > 0.3


def test_strategies_module_lists_what_it_exports():
    for name in ("layer_dims", "batch_sizes", "hidden_activations", "losses", "output_activations", "dtypes",
                 "weight_scales", "optimizer_configs", "model_configs", "input_arrays", "target_arrays", "models",
                 "kink_models"):
        assert callable(getattr(strategies, name))
