"""The layer-object form: a list of layers and a loss, with ``gradient()`` that runs the
forward pass, then ``backward`` through the reversed layer list.

It reuses the layer classes of :mod:`reference_nn.layers` and the losses of
:mod:`reference_nn.losses`; no op's math is written twice. Parameters are named like the
functional API: the l-th :class:`Linear` owns ``W{l}`` and ``b{l}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reference_nn._validation import check_finite, check_positive_finite
from reference_nn.layers import Activation, Linear
from reference_nn.losses import Loss, get_loss, l2_gradient, l2_penalty
from reference_nn.model import Params


class Sequential:
    """``Sequential([Linear(W1, b1), ReLU(), Linear(W2, b2), Sigmoid()], loss="bce", l2=0.0)``."""

    def __init__(self, layers: Sequence[Any], loss: str | Loss = "bce", l2: float = 0.0):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("layers must hold at least one layer")
        for position, layer in enumerate(self.layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"layers[{position}] must have forward and backward, got {layer!r}")
        self.loss = get_loss(loss)
        self.l2 = check_positive_finite("l2", l2, allow_zero=True)
        self.linear_layers = [layer for layer in self.layers if isinstance(layer, Linear)]

    @property
    def params(self) -> Params:
        """``{"W1": ..., "b1": ..., ...}``: the layers' own arrays (not copies)."""
        return {
            f"{name}{index}": layer.params[name]
            for index, layer in enumerate(self.linear_layers, start=1)
            for name in ("W", "b")
        }

    def forward(self, X: np.ndarray) -> np.ndarray:
        check_finite("X", X)
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def cost(self, X: np.ndarray, Y: np.ndarray) -> Any:
        AL = self.forward(X)
        Y = self.loss.prepare_targets(Y, AL)
        value = self.loss.value(AL, Y)
        return value + l2_penalty(self.params, self.l2) if self.l2 else value

    def gradient(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Forward, then backward through the reversed layers. Returns ``{"dW1": ..., "db1": ...}``."""
        AL = self.forward(X)
        Y = self.loss.prepare_targets(Y, AL)
        layers = self.layers
        last = layers[-1]
        if isinstance(last, Activation) and last.name == self.loss.fused_activation:
            upstream = self.loss.fused_gradient(AL, Y)  # exact d cost / d Z of the last layer
            layers = layers[:-1]
        else:
            upstream = self.loss.gradient(AL, Y)
        for layer in reversed(layers):
            upstream = layer.backward(upstream)
        grads = {}
        for index, layer in enumerate(self.linear_layers, start=1):
            dW = layer.grads["W"]
            if self.l2:
                dW = dW + l2_gradient(layer.params["W"], self.l2)
            grads[f"dW{index}"] = dW
            grads[f"db{index}"] = layer.grads["b"]
        return grads
