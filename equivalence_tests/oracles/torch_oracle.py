"""PyTorch oracle: autograd for gradients, ``torch.optim`` for the steps, twins from the op table.

Two paths, as users write torch:

* ``"functional"``: leaf tensors ``W (n_out, n_in)`` and ``b (n_out,)`` with ``requires_grad``,
  ``torch.nn.functional`` activations and losses (``F.linear``, ``F.relu``, ``F.mse_loss`` ...);
* ``"layers"``: ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules, a loss module.

Tensors are in torch's layout (samples in rows, ``(m, n)``); results are translated back to
the reference's (``forward (nL, m)``, ``b (n, 1)``). The L2 cost term is added by hand from
the ``l2`` row (torch has no L2 cost, only the ``weight_decay`` gradient rule).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import Oracle, OracleResult, import_quietly, keyed_by_parameter
from equivalence_tests.oracles.torch_normalized import NormalizedTorchModel


class TorchOracle(Oracle):
    """``TorchOracle(path="functional" | "layers")``."""

    framework = "torch"
    PATHS = ("functional", "layers")

    def __init__(self, path: str = "functional"):
        super().__init__()
        if path not in self.PATHS:
            raise ValueError(f"path must be one of {self.PATHS}, got {path!r}")
        self.path = path

    def _load(self) -> SimpleNamespace:
        torch = import_quietly("torch")
        return SimpleNamespace(torch=torch, F=torch.nn.functional, nn=torch.nn)

    def _version(self, modules: SimpleNamespace) -> str:
        return str(modules.torch.__version__)

    # -- model building -----------------------------------------------------------------
    def _functional_model(self, fw: SimpleNamespace, config: ModelConfig, params: dict[str, np.ndarray]):
        """Leaf tensors ``[W1, b1, ...]`` (b as ``(n,)``) and a forward function of ``A0 (m, n0)``."""
        tensors = []
        for layer in range(1, config.n_layers + 1):
            for kind in "Wb":
                value = params[f"{kind}{layer}"]
                value = value.reshape(-1) if kind == "b" else value
                tensors.append(fw.torch.tensor(value, requires_grad=True))
        linear = ops.op("linear").torch_functional
        activations = [ops.activation_op(name).torch_functional for name in config.activations]

        def forward(A: Any) -> Any:
            for layer, activation in enumerate(activations):
                A = activation(fw, linear(fw, A, tensors[2 * layer], tensors[2 * layer + 1]), config)
            return A

        return tensors, forward

    def _layers_model(self, fw: SimpleNamespace, config: ModelConfig, params: dict[str, np.ndarray]):
        modules: list[Any] = []
        dims = config.layer_dims
        for layer, name in enumerate(config.activations, start=1):
            linear = ops.op("linear").torch_layer(fw, dims[layer - 1], dims[layer], config.dtype)
            with fw.torch.no_grad():
                linear.weight.copy_(fw.torch.from_numpy(params[f"W{layer}"]))
                linear.bias.copy_(fw.torch.from_numpy(params[f"b{layer}"].reshape(-1)))
            modules += [linear, ops.activation_op(name).torch_layer(fw, config)]
        model = fw.nn.Sequential(*modules)
        tensors = [p for linear in modules[::2] for p in (linear.weight, linear.bias)]
        return tensors, model

    # -- running --------------------------------------------------------------------------
    def _run(self, fw, config, params, X, Y) -> OracleResult:
        torch = fw.torch
        normalized = NormalizedTorchModel(fw, config, params, self.path) if config.normalization else None
        if normalized is not None:
            tensors, forward = normalized.tensors, normalized.forward
            loss = ops.op(config.loss).torch_functional
            loss_of = (lambda AL, Yt: loss(fw, AL, Yt)) if self.path == "functional" else \
                ops.op(config.loss).torch_layer(fw, config.dtype)
        elif self.path == "functional":
            tensors, forward = self._functional_model(fw, config, params)
            loss = ops.op(config.loss).torch_functional
            loss_of = lambda AL, Yt: loss(fw, AL, Yt)  # noqa: E731
        else:
            tensors, forward = self._layers_model(fw, config, params)
            loss_of = ops.op(config.loss).torch_layer(fw, config.dtype)
        penalty = ops.op("l2").torch_functional
        weights = [t for name, t in zip(config.parameter_names(), tensors, strict=True) if name.startswith("W")]
        X_rows, Y_rows = torch.from_numpy(X.T.copy()), torch.from_numpy(Y.T.copy())
        if normalized is not None and config.normalization_mode == "eval":
            normalized.warm_up(X_rows)

        def cost_of() -> tuple[Any, Any]:
            AL = forward(X_rows)
            cost = loss_of(AL, Y_rows)
            if config.l2:
                cost = cost + penalty(fw, weights, config.l2)
            return AL, cost

        optimizer_row = ops.optimizer_ops(config.optimizer)[0]
        builder = optimizer_row.torch_functional if self.path == "functional" else optimizer_row.torch_layer
        optimizer = builder(fw, config.optimizer, tensors)
        AL, cost = cost_of()
        cost.backward()
        forward_value = AL.detach().numpy().T.copy()
        cost_value = float(cost.detach())
        gradients = [t.grad.detach().numpy().copy() for t in tensors]
        for step in range(config.steps):
            if step:
                optimizer.zero_grad()
                cost_of()[1].backward()
            optimizer.step()
        return OracleResult(
            oracle=self.name, framework=self.framework, framework_version=self.version, path=self.path,
            dtype=config.dtype, forward=forward_value, cost=cost_value,
            gradients=_reference_layout(gradients, params, config),
            updated_params=_reference_layout([t.detach().numpy().copy() for t in tensors], params, config),
            norm_state=None if normalized is None else normalized.norm_state(),
        )


def _reference_layout(arrays: list[np.ndarray], params: dict[str, np.ndarray], config: ModelConfig,
                      ) -> dict[str, np.ndarray]:
    keyed = keyed_by_parameter(arrays, config.n_layers, config.parameter_names())
    return {name: value.reshape(params[name].shape) for name, value in keyed.items()}
