"""The reference itself (``reference_nn``) behind the oracle interface: the thing under test,
so that tests compare two :class:`OracleResult` objects and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import reference_nn as rn
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import Oracle, OracleResult, run_steps


def reference_cost_and_gradients(config: ModelConfig, params: dict[str, np.ndarray], X: np.ndarray,
                                 Y: np.ndarray) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """``AL (nL, m)``, cost and ``{"W1": dW1, ...}`` from the reference's hand-written backward pass."""
    activations = config.activation_objects()
    AL, caches = rn.model_forward(X, params, activations)
    cost = rn.compute_cost(AL, Y, config.loss, params, config.l2)
    classic = rn.model_backward(AL, Y, caches, config.loss, config.l2)
    return AL, float(cost), {name[1:]: value for name, value in classic.items()}


class ReferenceOracle(Oracle):
    """``reference_nn``: model_forward, compute_cost, model_backward and its optimizers."""

    framework = "reference_nn"
    path = "reference"

    def _version(self, modules: SimpleNamespace) -> str:
        return rn.__version__

    def _run(self, modules, config, params, X, Y) -> OracleResult:
        AL, cost, gradients = reference_cost_and_gradients(config, params, X, Y)
        updated = run_steps(config, params, lambda current: reference_cost_and_gradients(config, current, X, Y)[2])
        return OracleResult(
            oracle=self.name, framework=self.framework, framework_version=self.version, path=self.path,
            dtype=config.dtype, forward=AL, cost=cost, gradients=gradients, updated_params=updated,
        )
