"""The reference itself (``reference_nn``) behind the oracle interface: the thing under test,
so that tests compare two :class:`OracleResult` objects and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import reference_nn as rn
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import Oracle, OracleResult, deliberate_output_pairing, run_steps


def reference_cost_and_gradients(config: ModelConfig, params: dict[str, np.ndarray], X: np.ndarray,
                                 Y: np.ndarray, norm_state: dict[str, np.ndarray] | None = None,
                                 ) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """``AL (nL, m)``, cost and ``{"W1": dW1, ...}`` from the reference's hand-written backward pass.

    A normalized model runs in ``config.normalization_mode``; in training mode ``norm_state`` (when
    given) is updated in place by this forward pass, in eval mode it supplies the statistics."""
    activations = config.activation_objects()
    AL, caches = rn.model_forward(X, params, activations, config.normalization_spec(), norm_state,
                                  training=config.normalization_mode == "train")
    with deliberate_output_pairing():
        cost = rn.compute_cost(AL, Y, config.loss, params, config.l2)
    classic = rn.model_backward(AL, Y, caches, config.loss, config.l2)
    return np.asarray(AL), float(cost), {name[1:]: value for name, value in classic.items()}


def initial_norm_state(config: ModelConfig, params: dict[str, np.ndarray], X: np.ndarray,
                       ) -> dict[str, np.ndarray] | None:
    """Running statistics at the start of a run: (0, 1) in training mode; in eval mode those after one
    training-mode forward pass at ``params`` (ModelConfig's definition). None without normalization."""
    if config.normalization is None:
        return None
    state = rn.initialize_norm_state(params)
    if config.normalization_mode == "eval":
        rn.model_forward(X, params, config.activation_objects(), config.normalization_spec(), state, training=True)
    return state


class ReferenceOracle(Oracle):
    """``reference_nn``: model_forward, compute_cost, model_backward and its optimizers."""

    framework = "reference_nn"
    path = "reference"

    def _version(self, modules: SimpleNamespace) -> str:
        return rn.__version__

    def _run(self, modules, config, params, X, Y) -> OracleResult:
        state = initial_norm_state(config, params, X)
        AL, cost, gradients = reference_cost_and_gradients(config, params, X, Y, state)
        first = [gradients]  # the first step uses these (as the frameworks do): one forward pass per step

        def gradient_at(current):
            return first.pop() if first else reference_cost_and_gradients(config, current, X, Y, state)[2]

        updated = run_steps(config, params, gradient_at)
        return OracleResult(
            oracle=self.name, framework=self.framework, framework_version=self.version, path=self.path,
            dtype=config.dtype, forward=AL, cost=cost, gradients=gradients, updated_params=updated,
            norm_state=state,
        )
