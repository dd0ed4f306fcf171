"""Finite-difference oracle: the numerical derivative of the reference's own cost.

Forward output and cost come from the reference (there is nothing numerical about them);
gradients come from ``reference_nn.gradcheck``. The default path ``"complex"`` is complex-step
differentiation of every element (``reference_nn.gradcheck.complex_step``): the reference's
forward pass and costs accept complex parameters and take masks and signs from the real part,
so complex step gives the derivative of the active branch, exact to rounding, even next to a
ReLU kink (and at exactly 0 it gives the same one-sided convention as the reference). The
paths ``"auto"``, ``"richardson"`` and ``"central"`` go through
:func:`reference_nn.gradcheck.numerical_gradient`; note that ``numerical_gradient`` with
``"auto"`` or ``"complex"`` probes each tensor and substitutes Richardson where the probe sees a
kink, and a two-sided difference that straddles a kink is *not* an oracle (measured 2e-2 off on
a random model with a pre-activation of -7.9e-5), which is why the default calls complex step
directly.
The numerical derivative is evaluated in float64 also for float32 models (the derivative of the
same function, far less rounding), then cast to the model's dtype. Updated parameters apply the
*reference* optimizer to these numerical gradients: they test the gradients' effect on a step,
not the optimizer.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import reference_nn as rn
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import (
    Oracle,
    OracleResult,
    deliberate_output_pairing,
    import_quietly,
    run_steps,
)
from equivalence_tests.oracles.reference_oracle import initial_norm_state


class FiniteDifferenceOracle(Oracle):
    """``FiniteDifferenceOracle(method="complex" | "auto" | "richardson" | "central")``."""

    framework = "finite_difference"
    METHODS = ("complex", "auto", "richardson", "central")

    def __init__(self, method: str = "complex"):
        super().__init__()
        if method not in self.METHODS:
            raise ValueError(f"method must be one of {self.METHODS}, got {method!r}")
        self.path = method

    def _load(self) -> SimpleNamespace:
        gradcheck = import_quietly("reference_nn.gradcheck")
        check = import_quietly("reference_nn.gradcheck.check")  # make_evaluator: f bound to float64 copies
        return SimpleNamespace(gradcheck=gradcheck, check=check)

    def _version(self, modules: SimpleNamespace) -> str:
        return f"reference_nn.gradcheck {rn.__version__}"

    def _run(self, fw, config, params, X, Y) -> OracleResult:
        # a normalized model in eval mode differentiates with its running statistics held fixed
        state = initial_norm_state(config, params, X) if config.normalization_mode == "eval" else None
        AL, _ = rn.model_forward(X, params, config.activation_objects(), config.normalization_spec(), state,
                                 training=config.normalization_mode == "train")
        with deliberate_output_pairing():
            cost = float(rn.compute_cost(AL, Y, config.loss, params, config.l2))
        AL = np.asarray(AL)

        def numerical(current: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            f = cost_function(config, X, Y, state)
            if self.path == "complex":
                evaluator, _ = fw.check.make_evaluator(f, current, np.float64, None)
                estimate = {name: fw.gradcheck.complex_step(evaluator, name).values.reshape(value.shape)
                            for name, value in current.items()}
            else:
                estimate = fw.gradcheck.numerical_gradient(f, current, method=self.path, eval_dtype=np.float64)
            return {name: np.asarray(estimate[name]).astype(config.dtype) for name in current}

        gradients = numerical(params)
        updated = run_steps(config, params, numerical)
        return OracleResult(
            oracle=self.name, framework=self.framework, framework_version=self.version, path=self.path,
            dtype=config.dtype, forward=AL, cost=cost, gradients=gradients, updated_params=updated,
        )


def cost_function(config: ModelConfig, X: np.ndarray, Y: np.ndarray, norm_state: dict[str, np.ndarray] | None = None):
    """``f(params) -> cost`` that follows the dtype of ``params`` (float32, float64 or complex).

    The numerical side perturbs one tensor at a time, so a complex step hands over one complex
    tensor among real ones; the reference refuses mixed dtypes, so every parameter and ``X`` are
    promoted to the common dtype first, and ``Y`` is cast to the output's real dtype. A normalized
    model runs in ``config.normalization_mode`` (eval: with the fixed statistics ``norm_state``;
    training: the batch's, never updating any state)."""
    activations = config.activation_objects()

    def f(params: dict[str, np.ndarray]):
        dtype = np.result_type(*params.values())
        params = {name: value.astype(dtype, copy=False) for name, value in params.items()}
        AL, _ = rn.model_forward(X.astype(dtype), params, activations, config.normalization_spec(), norm_state,
                                 training=config.normalization_mode == "train")
        with deliberate_output_pairing():
            return rn.compute_cost(AL, Y.astype(AL.real.dtype), config.loss, params, config.l2)

    return f
