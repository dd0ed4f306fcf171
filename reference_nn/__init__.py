"""reference-nn: a pure NumPy reference of a deep feed-forward network.

Samples in columns: ``X (n_features, m)``, ``W[l] (n[l], n[l-1])``, ``b[l] (n[l], 1)``.
This package imports nothing heavier than NumPy (no torch, no TensorFlow).
"""

from reference_nn.layers import (
    ACTIVATIONS,
    ELU,
    GELU,
    SELU,
    Activation,
    GELUTanh,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    get_activation,
    linear_backward,
    linear_forward,
)
from reference_nn.losses import L1, LOSSES, Huber, KLDivergence, Loss, get_loss, l2_gradient, l2_penalty
from reference_nn.model import (
    LayerCache,
    compute_cost,
    initialize_parameters,
    model_backward,
    model_forward,
    predict,
    update_parameters,
)
from reference_nn.network import Sequential
from reference_nn.normalization import BatchNorm, Dropout, LayerNorm, Normalization, initialize_norm_state
from reference_nn.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, make_optimizer
from reference_nn.train import fit

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Adagrad",
    "Adam",
    "AdamW",
    "BatchNorm",
    "Dropout",
    "ELU",
    "GELU",
    "GELUTanh",
    "Huber",
    "Identity",
    "KLDivergence",
    "L1",
    "LOSSES",
    "LayerCache",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "Loss",
    "Normalization",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "SELU",
    "SGD",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "compute_cost",
    "fit",
    "get_activation",
    "get_loss",
    "initialize_norm_state",
    "initialize_parameters",
    "l2_gradient",
    "l2_penalty",
    "linear_backward",
    "linear_forward",
    "make_optimizer",
    "model_backward",
    "model_forward",
    "predict",
    "update_parameters",
]
