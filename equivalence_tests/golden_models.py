"""The fixed models whose results are stored as golden data (tests/golden) and replayed
through every framework for the drift report (``python -m equivalence_tests.drift``).

Parameters and inputs come from closed-form formulas (sines of the index), not from a
random generator, so the inputs themselves can never drift with a NumPy release: only the
arithmetic can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import reference_nn as rn
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.oracles.base import deliberate_output_pairing

GOLDEN_STEPS = 3  # optimizer steps taken for the "updated parameters" quantity


@dataclass(frozen=True)
class GoldenModel:
    name: str
    config: ModelConfig
    batch_size: int


def _sine_array(shape: tuple[int, int], phase: float, scale: float) -> np.ndarray:
    """``scale * sin(phase + 0.7 * k)`` for k = 0, 1, ... in row-major order: smooth, signed, no zeros."""
    k = np.arange(shape[0] * shape[1], dtype=np.float64).reshape(shape)
    return scale * np.sin(phase + 0.7 * k)


def golden_inputs(model: GoldenModel) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``(params, X, Y)`` for ``model`` in its dtype. Targets are valid for its loss."""
    config, m = model.config, model.batch_size
    dims = config.layer_dims
    params = {}
    for layer in range(1, len(dims)):
        n_in, n_out = dims[layer - 1], dims[layer]
        params[f"W{layer}"] = _sine_array((n_out, n_in), phase=1.3 * layer, scale=np.sqrt(2.0 / n_in))
        if config.is_normalized(layer):  # gamma near 1, beta small; no bias before the normalization
            params[f"gamma{layer}"] = 1.0 + _sine_array((n_out, 1), phase=0.9 * layer, scale=0.1)
            params[f"beta{layer}"] = _sine_array((n_out, 1), phase=0.4 * layer, scale=0.1)
        else:
            params[f"b{layer}"] = _sine_array((n_out, 1), phase=0.4 * layer, scale=0.1)
    X = _sine_array((dims[0], m), phase=0.25, scale=1.5)
    n_out = dims[-1]
    if config.loss in ("bce", "bce_with_logits"):
        Y = (np.sin(np.arange(n_out * m).reshape(n_out, m) * 1.7) > 0).astype(np.float64)
    elif config.loss in ("cross_entropy", "softmax_cross_entropy", "kl_div"):
        Y = np.eye(n_out)[:, np.arange(m) % n_out]
    else:
        Y = _sine_array((n_out, m), phase=2.0, scale=0.8)
    dtype = config.numpy_dtype
    return {k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype), Y.astype(dtype)


def _model(name, dims, activations, loss, optimizer, l2=0.0, dtype="float64", batch=6, alpha=0.01,
           normalization=None):
    config = ModelConfig(
        layer_dims=tuple(dims),
        activations=tuple(activations),
        loss=loss,
        l2=l2,
        optimizer=optimizer,
        steps=GOLDEN_STEPS,
        dtype=dtype,
        leaky_relu_alpha=alpha,
        normalization=normalization,
    )
    return GoldenModel(name, config, batch)


GOLDEN_MODELS: list[GoldenModel] = [
    _model("classic_relu_sigmoid_bce", (5, 4, 3, 1), ("relu", "relu", "sigmoid"), "bce", OptimizerConfig("sgd", 0.1)),
    _model(
        "tanh_softmax_ce_l2_adam",
        (4, 6, 3),
        ("tanh", "identity"),
        "softmax_cross_entropy",
        OptimizerConfig("adam", 0.01),
        l2=0.05,
    ),
    _model(
        "leaky_mse_nesterov_decay",
        (3, 5, 2),
        ("leaky_relu", "identity"),
        "mse",
        OptimizerConfig("sgd", 0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        alpha=0.1,
    ),
    _model(
        "sigmoid_softmax_cross_entropy_momentum",
        (4, 3, 3),
        ("sigmoid", "softmax"),
        "cross_entropy",
        OptimizerConfig("sgd", 0.2, momentum=0.9),
    ),
    _model(
        "deep_tanh_relu_logits",
        (3, 6, 5, 4, 1),
        ("tanh", "relu", "tanh", "identity"),
        "bce_with_logits",
        OptimizerConfig("adam", 0.005, weight_decay=0.01),
        l2=0.01,
    ),
    _model(
        "classic_float32",
        (5, 4, 3, 1),
        ("relu", "relu", "sigmoid"),
        "bce",
        OptimizerConfig("sgd", 0.1),
        dtype="float32",
    ),
    _model(
        "softmax_ce_adam_float32",
        (4, 6, 3),
        ("relu", "identity"),
        "softmax_cross_entropy",
        OptimizerConfig("adam", 0.01),
        l2=0.05,
        dtype="float32",
    ),
    # The next three exercise the non-fused paths: Softmax.backpropagate, and the
    # probability-space gradients of bce and cross_entropy after an activation they do not cancel.
    _model("softmax_output_mse", (3, 4, 3), ("relu", "softmax"), "mse", OptimizerConfig("sgd", 0.5)),
    _model("softmax_output_bce", (3, 4, 2), ("tanh", "softmax"), "bce", OptimizerConfig("sgd", 0.5)),
    _model(
        "sigmoid_output_cross_entropy", (3, 4, 3), ("relu", "sigmoid"), "cross_entropy", OptimizerConfig("sgd", 0.5)
    ),
    _model("single_example_mse", (2, 2, 2), ("sigmoid", "sigmoid"), "mse", OptimizerConfig("sgd", 0.5), batch=1),
    # issue 17's op set: every new activation, loss and optimizer in at least one model
    _model("gelu_silu_huber_rmsprop", (4, 5, 4, 2), ("gelu", "silu", "identity"), "huber",
           OptimizerConfig("rmsprop", 0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    _model("elu_selu_softplus_l1_adagrad", (3, 5, 4, 2), ("elu", "selu", "softplus"), "l1",
           OptimizerConfig("adagrad", 0.1, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-10)),
    _model("gelu_tanh_kl_div_adamw", (4, 5, 3), ("gelu_tanh", "softmax"), "kl_div",
           OptimizerConfig("adamw", 0.01, weight_decay=0.05)),
    _model("gelu_kl_div_adamw_float32", (4, 5, 3), ("gelu", "softmax"), "kl_div",
           OptimizerConfig("adamw", 0.01, weight_decay=0.05), dtype="float32"),
    _model("batchnorm_silu_mse_sgd", (3, 5, 4, 2), ("silu", "tanh", "identity"), "mse",
           OptimizerConfig("sgd", 0.1, momentum=0.9), l2=0.01, normalization="batch"),
    _model("layernorm_gelu_softmax_ce_adam", (4, 6, 3), ("gelu", "identity"), "softmax_cross_entropy",
           OptimizerConfig("adam", 0.01), normalization="layer"),
]


def reference_results(model: GoldenModel) -> dict[str, np.ndarray]:
    """Forward output, cost, gradients and parameters after ``GOLDEN_STEPS`` steps, as a flat
    dict of arrays: ``forward``, ``cost``, ``grad_W1``, ..., ``updated_W1``, ..."""
    config = model.config
    params, X, Y = golden_inputs(model)
    activations = config.activation_objects()
    norm = config.normalization_spec()  # golden normalized models run in training mode: batch statistics
    AL, caches = rn.model_forward(X, params, activations, norm)
    with deliberate_output_pairing():  # golden models include bce after softmax on purpose
        cost = rn.compute_cost(AL, Y, config.loss, params, config.l2)
    results = {"forward": np.asarray(AL), "cost": np.asarray(cost).reshape(1)}
    grads = rn.model_backward(AL, Y, caches, config.loss, config.l2)
    results.update({f"grad_{name[1:]}": value for name, value in grads.items()})
    optimizer = config.optimizer.build()
    current = params
    for _ in range(config.steps):
        AL, caches = rn.model_forward(X, current, activations, norm)
        current = optimizer.step(current, rn.model_backward(AL, Y, caches, config.loss, config.l2))
    results.update({f"updated_{name}": value for name, value in current.items()})
    return results
