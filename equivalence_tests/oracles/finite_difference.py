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
Every path goes through the batched model path (``reference_nn.gradcheck.batched``: a perturbed
weight changes one row of one pre-activation, so many perturbed copies travel through the layers
above as one wide matmul): the same numbers as one full forward pass per perturbation, at a
fraction of the cost (the 784-256-128-10 MLP, batch 64: ~235k complex-step perturbations in a few
seconds instead of ~20 minutes). "auto" takes complex step there, since the reference's forward
pass accepts complex parameters (the probe of ``numerical_gradient`` would only swap in Richardson
near a kink, where a two-sided difference is no oracle). A model whose activation is not one of the
column-wise reference classes (``BATCHABLE``), or with a batch / layer normalization, falls back
to the element-wise path above.
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

# Activations the batched path may lay copies side by side for: each acts on one column (sample) at
# a time (all but softmax element by element). An activation that mixes samples would mix the copies.
BATCHABLE = ("Identity", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "GELUTanh", "ELU", "SELU",
             "Softplus", "SiLU")


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
        batched = import_quietly("reference_nn.gradcheck.batched")
        return SimpleNamespace(gradcheck=gradcheck, check=check, batched=batched)

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
        activations = config.activation_objects()
        batchable = config.normalization is None and all(
            type(a).__module__ == "reference_nn.layers" and type(a).__name__ in BATCHABLE for a in activations)

        def numerical(current: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            f = cost_function(config, X, Y, state)
            if batchable:
                method = "complex" if self.path == "auto" else self.path
                with deliberate_output_pairing():  # its self-check calls compute_cost (bce after softmax on purpose)
                    estimate = fw.batched.batched_numerical_gradient(
                        {k: v.astype(np.float64) for k, v in current.items()}, X.astype(np.float64), Y, activations,
                        config.loss, config.l2, method=method).values
            elif self.path == "complex":
                evaluator, _ = fw.check.make_evaluator(f, current, np.float64, None)
                estimate = {name: fw.gradcheck.complex_step(evaluator, name).values.reshape(value.shape)
                            for name, value in current.items()}
            else:
                estimate = fw.gradcheck.numerical_gradient(f, current, method=self.path, eval_dtype=np.float64)
            return {name: np.asarray(estimate[name]).astype(config.dtype) for name in current}

        gradients = numerical(params)

        def numerical_once(current: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            """The first optimizer step starts at params: their gradient is already known."""
            same = all(np.array_equal(current[name], params[name]) for name in params)
            return {name: value.copy() for name, value in gradients.items()} if same else numerical(current)

        updated = run_steps(config, params, numerical_once)
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
