"""The torch oracle's models with a normalization between LINEAR and each hidden activation
(``ModelConfig.normalization``): functional (``F.linear`` without bias, ``F.batch_norm`` with
running-statistic buffers / ``F.layer_norm``) and layers (``nn.Linear(bias=False)`` followed by
``nn.BatchNorm1d`` / ``nn.LayerNorm``), the norm twins taken from the op table's
``batch_norm`` / ``layer_norm`` rows. Tensors are in torch's layout, samples in rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig


class NormalizedTorchModel:
    """``tensors`` (leaf tensors in ``config.parameter_names()`` order), ``forward(A, training)`` and
    ``norm_state()`` (running statistics in the reference's layout, ``(n, 1)``)."""

    def __init__(self, fw: Any, config: ModelConfig, params: dict[str, np.ndarray], path: str):
        self.fw, self.config, self.path = fw, config, path
        self.norm_row = ops.op(f"{config.normalization}_norm")
        names = config.parameter_names()
        if path == "functional":
            self.by_name = {name: fw.torch.tensor(params[name] if name.startswith("W") else params[name].reshape(-1),
                                                  requires_grad=True) for name in names}
            self.stats = {layer: (fw.torch.zeros(config.layer_dims[layer], dtype=getattr(fw.torch, config.dtype)),
                                  fw.torch.ones(config.layer_dims[layer], dtype=getattr(fw.torch, config.dtype)))
                          for layer in range(1, config.n_layers) if config.normalization == "batch"}
            self._forward = self._functional_forward
        else:
            self.model, self.by_name, self.norms = self._layers(params)
            self._forward = self._layers_forward
        self.tensors = [self.by_name[name] for name in names]

    def _functional_forward(self, A: Any, training: bool) -> Any:
        fw, config = self.fw, self.config
        linear = ops.op("linear").torch_functional
        for layer, name in enumerate(config.activations, start=1):
            W = self.by_name[f"W{layer}"]
            if config.is_normalized(layer):
                gamma, beta = self.by_name[f"gamma{layer}"], self.by_name[f"beta{layer}"]
                Z = self.norm_row.torch_functional(fw, linear(fw, A, W, None), gamma, beta, self.stats.get(layer),
                                                   training, config)
            else:
                Z = linear(fw, A, W, self.by_name[f"b{layer}"])
            A = ops.activation_op(name).torch_functional(fw, Z, config)
        return A

    def _layers(self, params: dict[str, np.ndarray]):
        fw, config = self.fw, self.config
        dims, modules, by_name, norms = config.layer_dims, [], {}, {}
        for layer, name in enumerate(config.activations, start=1):
            normalized = config.is_normalized(layer)
            linear = fw.nn.Linear(dims[layer - 1], dims[layer], bias=not normalized,
                                  dtype=getattr(fw.torch, config.dtype))
            with fw.torch.no_grad():
                linear.weight.copy_(fw.torch.from_numpy(params[f"W{layer}"]))
            by_name[f"W{layer}"] = linear.weight
            modules.append(linear)
            if normalized:
                norm = self.norm_row.torch_layer(fw, dims[layer], config)
                with fw.torch.no_grad():
                    norm.weight.copy_(fw.torch.from_numpy(params[f"gamma{layer}"].reshape(-1)))
                    norm.bias.copy_(fw.torch.from_numpy(params[f"beta{layer}"].reshape(-1)))
                by_name[f"gamma{layer}"], by_name[f"beta{layer}"], norms[layer] = norm.weight, norm.bias, norm
                modules.append(norm)
            else:
                with fw.torch.no_grad():
                    linear.bias.copy_(fw.torch.from_numpy(params[f"b{layer}"].reshape(-1)))
                by_name[f"b{layer}"] = linear.bias
            modules.append(ops.activation_op(name).torch_layer(fw, config))
        return fw.nn.Sequential(*modules), by_name, norms

    def _layers_forward(self, A: Any, training: bool) -> Any:
        self.model.train(training)
        return self.model(A)

    def forward(self, A: Any, training: bool | None = None) -> Any:
        """``A (m, n0)`` -> output; ``training`` None means the config's mode."""
        return self._forward(A, self.config.normalization_mode == "train" if training is None else training)

    def warm_up(self, A: Any) -> None:
        """Eval mode's running statistics: one training-mode forward pass at the initial parameters."""
        with self.fw.torch.no_grad():
            self.forward(A, training=True)

    def norm_state(self) -> dict[str, np.ndarray] | None:
        if self.config.normalization != "batch":
            return None
        pairs: Callable[[int], tuple[Any, Any]] = (
            (lambda layer: self.stats[layer]) if self.path == "functional"
            else (lambda layer: (self.norms[layer].running_mean, self.norms[layer].running_var)))
        state = {}
        for layer in range(1, self.config.n_layers):
            mean, var = pairs(layer)
            state[f"running_mean{layer}"] = mean.detach().numpy().reshape(-1, 1).copy()
            state[f"running_var{layer}"] = var.detach().numpy().reshape(-1, 1).copy()
        return state
