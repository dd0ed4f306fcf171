"""Activation conventions: derivatives at kinks and default constants, measured live.

Each row is a :class:`~equivalence_tests.conventions.measuring.Convention`: the reference's
value and one small function per framework, ``(module) -> value``, in float64.
"""

from __future__ import annotations

import numpy as np

import reference_nn as rn
from equivalence_tests.conventions.measuring import Convention

# Passed explicitly everywhere (the default slopes differ, see leaky_relu_default_slope); dyadic, because
# tf.nn.leaky_relu holds its slope in float32 (see float32_hyperparameters) and 2**-7 is exact there.
LEAKY_SLOPE = 2.0**-7


# --------------------------------------------------------------- ReLU / LeakyReLU at x = 0
def _derivatives_at_zero_reference() -> dict[str, float]:
    zero, one = np.zeros((1, 1)), np.ones((1, 1))
    return {"relu'(0)": float(rn.ReLU().backpropagate(one, zero, zero)[0, 0]),
            "leaky_relu'(0)": float(rn.LeakyReLU(LEAKY_SLOPE).backpropagate(one, zero, zero)[0, 0])}


def _derivatives_at_zero_torch(torch) -> dict[str, float]:
    def derivative(function):
        x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        function(x).sum().backward()
        return float(x.grad[0])
    F = torch.nn.functional
    return {"relu'(0)": derivative(F.relu),
            "leaky_relu'(0)": derivative(lambda x: F.leaky_relu(x, negative_slope=LEAKY_SLOPE))}


def _derivatives_at_zero_tensorflow(ns) -> dict[str, float]:
    def derivative(function):
        x = ns.tf.constant([0.0], dtype=ns.tf.float64)
        with ns.tf.GradientTape() as tape:
            tape.watch(x)
            y = ns.tf.reduce_sum(function(x))
        return float(tape.gradient(y, x)[0])
    return {"relu'(0)": derivative(ns.tf.nn.relu),
            "leaky_relu'(0)": derivative(lambda x: ns.tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE))}


def _derivatives_at_zero_jax(ns) -> dict[str, float]:
    zero = ns.jnp.zeros((), dtype=ns.jnp.float64)
    return {"relu'(0)": float(ns.jax.grad(ns.jax.nn.relu)(zero)),
            "leaky_relu'(0)": float(ns.jax.grad(lambda x: ns.jax.nn.leaky_relu(x, LEAKY_SLOPE))(zero))}


relu_derivative_at_zero = Convention(
    name="relu_derivative_at_zero",
    family="activations",
    question="ReLU'(0) and LeakyReLU'(0) (slope alpha = 2^-7) from autodiff",
    setup="x = 0.0 exactly, float64",
    reference=_derivatives_at_zero_reference,
    tolerance=0.0,
    tolerance_reason="a branch choice, not a rounded number: must match exactly",
    twins={"torch": _derivatives_at_zero_torch, "tensorflow": _derivatives_at_zero_tensorflow,
           "jax": _derivatives_at_zero_jax},
    harness_action="no translation needed; gradient checks keep pre-activations off the kink (DESIGN point 3), "
                   "since a central difference at 0 gives 0.5 (or (1+alpha)/2), and report 'inconclusive at kink' "
                   "otherwise; JAX's leaky_relu is where(x >= 0, x, alpha x), so its derivative at exactly 0 is 1, "
                   "not alpha: the JAX oracle uses it as JAX users write it and the same kink margin covers it",
)


# ------------------------------------------------------------ LeakyReLU's default slope
def _default_slope_torch(torch) -> dict[str, float]:
    x = torch.tensor([-1.0], dtype=torch.float64)
    return {"F.leaky_relu": -float(torch.nn.functional.leaky_relu(x)[0]),
            "nn.LeakyReLU()": -float(torch.nn.LeakyReLU()(x)[0])}


def _default_slope_tensorflow(ns) -> dict[str, float]:
    x = ns.tf.constant([-1.0], dtype=ns.tf.float64)
    return {"tf.nn.leaky_relu": -float(ns.tf.nn.leaky_relu(x)[0]),
            "keras.activations.leaky_relu": -float(ns.keras.activations.leaky_relu(x)[0]),
            "keras.layers.LeakyReLU()": -float(ns.keras.layers.LeakyReLU(dtype="float64")(x)[0])}


def _default_slope_jax(ns) -> dict[str, float]:
    return {"jax.nn.leaky_relu": -float(ns.jax.nn.leaky_relu(ns.jnp.array([-1.0], dtype=ns.jnp.float64))[0])}


leaky_relu_default_slope = Convention(
    name="leaky_relu_default_slope",
    family="activations",
    question="default negative slope of LeakyReLU when none is passed",
    setup="-f(-1) for each entry point, float64",
    reference=lambda: -float(rn.LeakyReLU().evaluate(np.array([[-1.0]]))[0, 0]),
    tolerance=0.0,
    tolerance_reason="a default constant, not a rounded number: must match exactly",
    twins={"torch": _default_slope_torch, "tensorflow": _default_slope_tensorflow, "jax": _default_slope_jax},
    harness_action="ModelConfig.leaky_relu_alpha is always passed explicitly to every framework; never rely on a "
                   "default",
)

ROWS = (relu_derivative_at_zero, leaky_relu_default_slope)
