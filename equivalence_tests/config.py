"""What a cross-check run is about: a model configuration every oracle understands.

A :class:`ModelConfig` plus ``params``, ``X``, ``Y`` in the reference's layout (samples in
columns, ``W{l} (n[l], n[l-1])``, ``b{l} (n[l], 1)``) is the whole input of an oracle.
It is plain data (frozen dataclasses of str / int / float), so a failing Hypothesis example
prints as code that rebuilds it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import reference_nn as rn


@dataclass(frozen=True)
class OptimizerConfig:
    """An optimizer and its hyper-parameters, with torch.optim meanings.

    ``name``: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"adagrad"``. For SGD:
    ``momentum``, ``dampening``, ``nesterov``, ``weight_decay``. For Adam: ``beta1``, ``beta2``,
    ``eps``, ``weight_decay`` (coupled; AdamW: decoupled, torch's ``lr * weight_decay``). RMSprop:
    ``alpha``, ``eps``, ``momentum``, ``centered``, ``weight_decay``. Adagrad: ``lr_decay``,
    ``initial_accumulator_value``, ``eps``, ``weight_decay``.
    """

    name: str = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    alpha: float = 0.99
    centered: bool = False
    lr_decay: float = 0.0
    initial_accumulator_value: float = 0.0

    def build(self) -> rn.Optimizer:
        """The reference optimizer (fresh state)."""
        if self.name == "sgd":
            return rn.SGD(
                learning_rate=self.learning_rate,
                momentum=self.momentum,
                nesterov=self.nesterov,
                weight_decay=self.weight_decay,
            )
        if self.name == "adam":
            return rn.Adam(
                learning_rate=self.learning_rate,
                beta1=self.beta1,
                beta2=self.beta2,
                eps=self.eps,
                weight_decay=self.weight_decay,
            )
        if self.name == "adamw":
            return rn.AdamW(learning_rate=self.learning_rate, beta1=self.beta1, beta2=self.beta2, eps=self.eps,
                            weight_decay=self.weight_decay)
        if self.name == "rmsprop":
            return rn.RMSprop(learning_rate=self.learning_rate, alpha=self.alpha, eps=self.eps,
                              weight_decay=self.weight_decay, momentum=self.momentum, centered=self.centered)
        if self.name == "adagrad":
            return rn.Adagrad(learning_rate=self.learning_rate, lr_decay=self.lr_decay, weight_decay=self.weight_decay,
                              initial_accumulator_value=self.initial_accumulator_value, eps=self.eps)
        raise ValueError(f"unknown optimizer {self.name!r}; expected one of 'sgd', 'adam', 'adamw', 'rmsprop', "
                         "'adagrad'")


@dataclass(frozen=True)
class ModelConfig:
    """An L-layer network, its loss and how it is trained.

    ``layer_dims = (n0, n1, ..., nL)``; ``activations`` has L names from
    ``reference_nn.ACTIVATIONS``; ``leaky_relu_alpha`` is the slope used by every
    ``"leaky_relu"``; ``loss`` is a name from ``reference_nn.LOSSES``; ``l2`` is the
    ``0.5 * l2 * sum(W**2)`` penalty; ``steps`` optimizer steps are taken for the
    "updated parameters" quantity; ``dtype`` is ``"float32"`` or ``"float64"``.

    ``normalization`` (None, ``"batch"`` or ``"layer"``) puts a BatchNorm / LayerNorm (torch's
    eps 1e-5 and momentum 0.1) between LINEAR and the activation of every hidden layer, whose
    parameters are then ``W{l}, gamma{l}, beta{l}`` (no ``b{l}``). ``normalization_mode``:
    ``"train"`` (batch statistics; each optimizer step's forward pass updates the running
    statistics, which oracles report as ``norm_state``) or ``"eval"`` (running statistics, taken
    after one training-mode forward pass at the initial parameters from (0, 1)).
    """

    layer_dims: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    l2: float = 0.0
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    steps: int = 1
    dtype: str = "float64"
    leaky_relu_alpha: float = 0.01
    normalization: str | None = None
    normalization_mode: str = "train"

    def __post_init__(self) -> None:
        if len(self.activations) != len(self.layer_dims) - 1:
            raise ValueError(
                f"activations must have {len(self.layer_dims) - 1} entries (one per layer), got {len(self.activations)}"
            )
        if self.normalization not in (None, "batch", "layer"):
            raise ValueError(f"normalization must be None, 'batch' or 'layer', got {self.normalization!r}")
        if self.normalization_mode not in ("train", "eval"):
            raise ValueError(f"normalization_mode must be 'train' or 'eval', got {self.normalization_mode!r}")

    def is_normalized(self, layer: int) -> bool:
        """Whether layer ``layer`` (1-based) has a normalization: every hidden layer of a normalized model."""
        return self.normalization is not None and layer < self.n_layers

    def parameter_names(self) -> list[str]:
        """``["W1", "b1", ...]``, or with a normalization ``["W1", "gamma1", "beta1", ..., "WL", "bL"]``."""
        return [name for layer in range(1, self.n_layers + 1)
                for name in ((f"W{layer}", f"gamma{layer}", f"beta{layer}") if self.is_normalized(layer)
                             else (f"W{layer}", f"b{layer}"))]

    def normalization_spec(self) -> rn.Normalization | None:
        """The reference's :class:`reference_nn.Normalization` (torch's eps and momentum), or None."""
        return None if self.normalization is None else rn.Normalization(self.normalization)

    @property
    def n_layers(self) -> int:
        return len(self.layer_dims) - 1

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def activation_objects(self) -> list[rn.Activation]:
        """The reference's activation objects (leaky_relu gets ``leaky_relu_alpha``)."""
        return [
            rn.LeakyReLU(self.leaky_relu_alpha) if name == "leaky_relu" else rn.get_activation(name)
            for name in self.activations
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line for reports: ``4-3-1 relu,sigmoid bce l2=0 sgd(lr=0.1) float64``."""
        dims = "-".join(str(n) for n in self.layer_dims)
        norm = f" {self.normalization}norm({self.normalization_mode})" if self.normalization else ""
        return (
            f"{dims} {','.join(self.activations)}{norm} {self.loss} l2={self.l2:g} "
            f"{self.optimizer.name}(lr={self.optimizer.learning_rate:g}) x{self.steps} {self.dtype}"
        )
