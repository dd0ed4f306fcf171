"""The TensorFlow oracle's models with a normalization between LINEAR and each hidden activation
(``ModelConfig.normalization``): functional (``tf.Variable`` kernels without bias, the op table's
``tf.nn.moments`` + ``tf.nn.batch_normalization`` twins, running statistics as variables) and Keras
(``Dense(use_bias=False)``, ``BatchNormalization`` / ``LayerNormalization`` with torch's constants,
then ``Activation``). Tensors are in TF's layout, samples in rows; kernels are ``W.T``."""

from __future__ import annotations

from typing import Any

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig


class NormalizedTensorFlowModel:
    """``variables`` in ``config.parameter_names()`` order (``W`` as kernels ``W.T``), ``forward(A,
    training)``, ``norm_state()`` (functional path only: Keras' running variance has another meaning)."""

    def __init__(self, fw: Any, config: ModelConfig, params: dict[str, np.ndarray], path: str):
        self.fw, self.config, self.path = fw, config, path
        self.norm_row = ops.op(f"{config.normalization}_norm")
        tf = fw.tf
        names = config.parameter_names()
        if path == "functional":
            self.by_name = {name: tf.Variable(_framework_layout(name, params[name]), dtype=config.dtype)
                            for name in names}
            self.stats = {layer: (tf.Variable(np.zeros(config.layer_dims[layer]), dtype=config.dtype),
                                  tf.Variable(np.ones(config.layer_dims[layer]), dtype=config.dtype))
                          for layer in range(1, config.n_layers) if config.normalization == "batch"}
        else:
            self.model, self.by_name = self._keras(params)
        self.variables = [self.by_name[name] for name in names]

    def _keras(self, params: dict[str, np.ndarray]):
        fw, config = self.fw, self.config
        keras, dims = fw.keras, config.layer_dims
        layers, by_name = [], {}
        for layer, name in enumerate(config.activations, start=1):
            normalized = config.is_normalized(layer)
            regularizer = ops.op("l2").keras_layer(fw, config.l2) if config.l2 else None
            dense = keras.layers.Dense(dims[layer], use_bias=not normalized, dtype=config.dtype,
                                       kernel_regularizer=regularizer)
            layers.append(dense)
            if normalized:
                layers.append(self.norm_row.keras_layer(fw, dims[layer], config))
            layers.append(keras.layers.Activation(ops.activation_op(name).keras_layer(fw, config), dtype=config.dtype))
        model = keras.Sequential([keras.Input(shape=(dims[0],), dtype=config.dtype), *layers])
        position = 0
        for layer in range(1, config.n_layers + 1):
            dense = layers[position]
            dense.kernel.assign(params[f"W{layer}"].T)
            by_name[f"W{layer}"] = dense.kernel
            if config.is_normalized(layer):
                norm = layers[position + 1]
                norm.gamma.assign(params[f"gamma{layer}"].reshape(-1))
                norm.beta.assign(params[f"beta{layer}"].reshape(-1))
                by_name[f"gamma{layer}"], by_name[f"beta{layer}"] = norm.gamma, norm.beta
                position += 3
            else:
                dense.bias.assign(params[f"b{layer}"].reshape(-1))
                by_name[f"b{layer}"] = dense.bias
                position += 2
        return model, by_name

    def forward(self, A: Any, training: bool | None = None) -> Any:
        """``A (m, n0)`` -> output; ``training`` None means the config's mode."""
        training = self.config.normalization_mode == "train" if training is None else training
        if self.path != "functional":
            return self.model(A, training=training)
        fw, config = self.fw, self.config
        tf = fw.tf
        for layer, name in enumerate(config.activations, start=1):
            Z = tf.linalg.matmul(A, self.by_name[f"W{layer}"])
            if config.is_normalized(layer):
                Z = self.norm_row.tf_functional(fw, Z, self.by_name[f"gamma{layer}"], self.by_name[f"beta{layer}"],
                                                self.stats.get(layer), training, config)
            else:
                Z = tf.nn.bias_add(Z, self.by_name[f"b{layer}"])
            A = ops.activation_op(name).tf_functional(fw, Z, config)
        return A

    def regularization(self) -> Any:
        """The L2 term: Keras' kernel_regularizer losses, or the l2 row's tf twin on the kernels."""
        if self.path != "functional":
            return self.fw.tf.add_n(self.model.losses)
        kernels = [self.by_name[f"W{layer}"] for layer in range(1, self.config.n_layers + 1)]
        return ops.op("l2").tf_functional(self.fw, kernels, self.config.l2)

    def warm_up(self, A: Any) -> None:
        """Eval mode's running statistics: one training-mode forward pass at the initial parameters."""
        self.forward(A, training=True)

    def norm_state(self) -> dict[str, np.ndarray] | None:
        if self.config.normalization != "batch" or self.path != "functional":
            return None
        state = {}
        for layer, (mean, var) in self.stats.items():
            state[f"running_mean{layer}"] = mean.numpy().reshape(-1, 1).copy()
            state[f"running_var{layer}"] = var.numpy().reshape(-1, 1).copy()
        return state


def _framework_layout(name: str, value: np.ndarray) -> np.ndarray:
    """A kernel ``W.T (n_in, n_out)`` for ``W``; a vector ``(n,)`` for ``b``, ``gamma``, ``beta``."""
    return value.T.copy() if name.startswith("W") else value.reshape(-1)
