"""TensorFlow oracle: ``tf.GradientTape`` for gradients, ``keras.optimizers`` for the steps.

Two paths, as users write TF:

* ``"functional"``: ``tf.Variable`` kernels ``K = W.T (n_in, n_out)`` and biases ``(n_out,)``,
  ``tf.nn`` / ``keras.losses`` functions from the op table, run eagerly (no ``tf.function``, so
  nothing is traced or retraced per call);
* ``"keras"``: ``keras.Sequential`` of ``Dense(dtype=config.dtype)`` layers with kernels set to
  ``W.T``, a Keras loss object with ``dtype=config.dtype``, the L2 term as Keras
  ``kernel_regularizer`` losses (``model.losses``).

Every tensor is created with the run's dtype explicitly (TF and Keras default to float32).
Keras conventions that differ from the reference (Adam epsilon, decoupled weight decay, the
float32 learning-rate variable) are reproduced with Keras' own machinery by
:class:`equivalence_tests.ops.KerasOptimizerTwin`; ``conventions="keras"`` runs the plain
Keras calls instead, to measure those differences.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import Oracle, OracleResult, import_quietly, import_tensorflow
from equivalence_tests.oracles.tensorflow_normalized import NormalizedTensorFlowModel


class TensorFlowOracle(Oracle):
    """``TensorFlowOracle(path="functional" | "keras", conventions="reference" | "keras")``."""

    framework = "tensorflow"
    PATHS = ("functional", "keras")

    def __init__(self, path: str = "functional", conventions: str = "reference"):
        super().__init__()
        if path not in self.PATHS:
            raise ValueError(f"path must be one of {self.PATHS}, got {path!r}")
        if conventions not in ("reference", "keras"):
            raise ValueError(f"conventions must be 'reference' or 'keras', got {conventions!r}")
        self.path = path
        self.conventions = conventions

    @property
    def name(self) -> str:
        suffix = "" if self.conventions == "reference" else "+keras-conventions"
        return f"{self.framework}/{self.path}{suffix}"

    def _load(self) -> SimpleNamespace:
        tf = import_tensorflow()
        keras = import_quietly("keras")
        return SimpleNamespace(tf=tf, keras=keras)

    def _version(self, modules: SimpleNamespace) -> str:
        return f"{modules.tf.__version__} (keras {modules.keras.__version__})"

    # -- model building -----------------------------------------------------------------
    def _functional_model(self, fw: SimpleNamespace, config: ModelConfig, params: dict[str, np.ndarray]):
        """Variables ``[K1, b1, ...]`` (``K = W.T``) and a forward function of ``A0 (m, n0)``."""
        tf = fw.tf
        variables = []
        for layer in range(1, config.n_layers + 1):
            variables.append(tf.Variable(params[f"W{layer}"].T.copy(), dtype=config.dtype))
            variables.append(tf.Variable(params[f"b{layer}"].reshape(-1), dtype=config.dtype))
        linear = ops.op("linear").tf_functional
        activations = [ops.activation_op(name).tf_functional for name in config.activations]
        penalty = ops.op("l2").tf_functional

        def forward(A: Any) -> Any:
            for layer, activation in enumerate(activations):
                A = activation(fw, linear(fw, A, variables[2 * layer], variables[2 * layer + 1]), config)
            return A

        def regularization() -> Any:
            return penalty(fw, variables[0::2], config.l2)

        return variables, forward, regularization

    def _keras_model(self, fw: SimpleNamespace, config: ModelConfig, params: dict[str, np.ndarray]):
        keras = fw.keras
        dims = config.layer_dims
        dense = ops.op("linear").keras_layer
        layers = [dense(fw, dims[layer], ops.activation_op(name).keras_layer(fw, config), config)
                  for layer, name in enumerate(config.activations, start=1)]
        model = keras.Sequential([keras.Input(shape=(dims[0],), dtype=config.dtype), *layers])
        for layer_number, layer in enumerate(layers, start=1):
            layer.kernel.assign(params[f"W{layer_number}"].T)
            layer.bias.assign(params[f"b{layer_number}"].reshape(-1))
        variables = [v for layer in layers for v in (layer.kernel, layer.bias)]

        def regularization() -> Any:
            return fw.tf.add_n(model.losses)

        return variables, model, regularization

    # -- running --------------------------------------------------------------------------
    def _run(self, fw, config, params, X, Y) -> OracleResult:
        with warnings.catch_warnings():
            # Keras warns when softmax runs over an axis of size 1 (a one-output softmax is the
            # constant 1): a legitimate, if degenerate, model for the harness, not an error.
            warnings.filterwarnings("ignore", message="You are using a softmax over axis", category=UserWarning)
            return self._run_eagerly(fw, config, params, X, Y)

    def _run_eagerly(self, fw, config, params, X, Y) -> OracleResult:
        tf = fw.tf
        normalized = NormalizedTensorFlowModel(fw, config, params, self.path) if config.normalization else None
        if normalized is not None:
            variables, forward, regularization = normalized.variables, normalized.forward, normalized.regularization
        if self.path == "functional":
            if normalized is None:
                variables, forward, regularization = self._functional_model(fw, config, params)
            loss = ops.op(config.loss).tf_functional
            loss_of = lambda AL, Yt: loss(fw, AL, Yt)  # noqa: E731
        else:
            if normalized is None:
                variables, forward, regularization = self._keras_model(fw, config, params)
            loss_of = ops.op(config.loss).keras_layer(fw, config.dtype)
        X_rows = tf.constant(X.T, dtype=config.dtype)
        Y_rows = tf.constant(Y.T, dtype=config.dtype)
        if normalized is not None and config.normalization_mode == "eval":
            normalized.warm_up(X_rows)

        def gradient_step() -> tuple[Any, Any, list[Any]]:
            with tf.GradientTape() as tape:
                AL = forward(X_rows)
                cost = loss_of(AL, Y_rows)
                if config.l2:
                    cost = cost + regularization()
            return AL, cost, tape.gradient(cost, variables)

        AL, cost, gradients = gradient_step()
        _check_dtype(config, [AL, cost, *gradients])
        forward_value = AL.numpy().T.copy()
        first_gradients = [g.numpy().copy() for g in gradients]
        optimizer_row = ops.optimizer_ops(config.optimizer)[0]
        builder = optimizer_row.tf_functional if self.path == "functional" else optimizer_row.keras_layer
        optimizer = builder(fw, config.optimizer, config.dtype, self.conventions) if config.steps else None
        for step in range(1, config.steps + 1):
            if step > 1:
                gradients = gradient_step()[2]
            optimizer.step(gradients, variables, step)
        return OracleResult(
            oracle=self.name, framework=self.framework, framework_version=self.version, path=self.path,
            dtype=config.dtype, forward=forward_value, cost=float(cost.numpy()),
            gradients=_reference_layout(first_gradients, config),
            updated_params=_reference_layout([v.numpy() for v in variables], config),
            notes=[f"conventions={self.conventions}"],
            norm_state=None if normalized is None else normalized.norm_state(),
        )


def _check_dtype(config: ModelConfig, tensors: list[Any]) -> None:
    """Fail loudly if any TF computation silently ran in another dtype (Keras' float32 default)."""
    for tensor in tensors:
        if tensor.dtype.name != config.dtype:
            raise AssertionError(f"TensorFlow computed a {tensor.dtype.name} tensor in a {config.dtype} run: "
                                 "a twin is missing an explicit dtype")


def _reference_layout(arrays: list[np.ndarray], config: ModelConfig) -> dict[str, np.ndarray]:
    """``[K1, b1, ...]`` in Keras layout (``config.parameter_names()`` order) -> ``{"W1": K1.T, "b1": b1 as
    (n, 1), ...}``."""
    return {name: np.ascontiguousarray(value.T) if name.startswith("W") else value.reshape(-1, 1).copy()
            for name, value in zip(config.parameter_names(), arrays, strict=True)}
