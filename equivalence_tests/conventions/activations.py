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


# ------------------------------------------------------- issue 17: GELU, SELU, Softplus
def _values_at(function, points) -> dict[str, float]:
    return {f"x={x:g}": float(function(x)) for x in points}


GELU_POINTS = (-1.5, 1.0)


def _gelu_default_torch(torch) -> dict[str, float]:
    return _values_at(lambda x: torch.nn.functional.gelu(torch.tensor(x, dtype=torch.float64)), GELU_POINTS)


def _gelu_default_tensorflow(ns) -> dict[str, float]:
    """tf.nn.gelu under the reference's keys (compared); keras.activations.gelu as extra cases."""
    def at(function):
        return _values_at(lambda x: function(ns.tf.constant(x, dtype=ns.tf.float64)), GELU_POINTS)
    keras_cases = {f"keras.activations.gelu {case}": value for case, value in at(ns.keras.activations.gelu).items()}
    return at(ns.tf.nn.gelu) | keras_cases


def _gelu_default_jax(ns) -> dict[str, float]:
    return _values_at(lambda x: ns.jax.nn.gelu(ns.jnp.float64(x)), GELU_POINTS)


gelu_default_approximation = Convention(
    name="gelu_default_approximation",
    family="activations",
    question="GELU with default arguments: exact x Phi(x), or the tanh approximation?",
    setup="gelu(x) at x = -1.5 and 1, float64, each framework's default call",
    reference=lambda: _values_at(lambda x: rn.GELU().evaluate(np.array([[x]]))[0, 0], GELU_POINTS),
    tolerance=1e-7,
    tolerance_reason="the tanh form is 1.5e-4 off at x = 1 (and 2.3e-4 at -1.5); 1e-7 still admits TF's "
                     "float32-rounded constants (4e-9, gelu_float64_constants)",
    twins={"torch": _gelu_default_torch, "tensorflow": _gelu_default_tensorflow, "jax": _gelu_default_jax},
    harness_action="the reference's 'gelu' is exact and 'gelu_tanh' the approximation; every twin passes "
                   "approximate= explicitly (torch approximate='tanh', tf/keras approximate=True, jax approximate=)",
)

GELU_CONSTANT_POINT = 1.41  # near the largest effect of sqrt(1/2) rounded to float32 (measured over [-40, 40])


def _gelu_constants_torch(torch) -> float:
    return float(torch.nn.functional.gelu(torch.tensor(GELU_CONSTANT_POINT, dtype=torch.float64)))


def _gelu_constants_tensorflow(ns) -> dict[str, float]:
    x = ns.tf.constant(GELU_CONSTANT_POINT, dtype=ns.tf.float64)
    return {"tf.nn.gelu(approximate=False)": float(ns.tf.nn.gelu(x, approximate=False)),
            "formula with float64 constants": float(0.5 * x * ns.tf.math.erfc(-x * 0.7071067811865476))}


def _gelu_constants_jax(ns) -> float:
    return float(ns.jax.nn.gelu(ns.jnp.float64(GELU_CONSTANT_POINT), approximate=False))


gelu_float64_constants = Convention(
    name="gelu_float64_constants",
    family="activations",
    question="exact GELU in float64: are its constants float64?",
    setup=f"gelu(x) at x = {GELU_CONSTANT_POINT}, float64, exact form",
    reference=lambda: float(rn.GELU().evaluate(np.array([[GELU_CONSTANT_POINT]]))[0, 0]),
    tolerance=1e-15,
    tolerance_reason="one erf/erfc and two products on a value ~1.3: a few ulps (2.2e-16 each)",
    twins={"torch": _gelu_constants_torch, "tensorflow": _gelu_constants_tensorflow, "jax": _gelu_constants_jax},
    harness_action="tf.nn.gelu casts sqrt(1/2) with tf.cast of a Python float (through float32): 5e-9 off; kept as "
                   "TF users get it, with a float64 tolerance override of 1e-5 on the gelu / gelu_tanh rows "
                   "(measured 6e-7 through networks)",
)


def _selu_slope_reference() -> float:
    zero = np.zeros((1, 1))
    return float(rn.SELU().backpropagate(np.ones((1, 1)), zero, zero)[0, 0])


def _selu_slope_torch(torch) -> float:
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.selu(x).sum().backward()
    return float(x.grad[0])


def _selu_slope_tensorflow(ns) -> float:
    x = ns.tf.constant([0.0], dtype=ns.tf.float64)
    with ns.tf.GradientTape() as tape:
        tape.watch(x)
        y = ns.tf.reduce_sum(ns.tf.nn.selu(x))
    return float(tape.gradient(y, x)[0])


selu_derivative_at_zero = Convention(
    name="selu_derivative_at_zero",
    family="activations",
    question="SELU'(0) from autodiff: the left slope scale * alpha = 1.758 or the right slope scale = 1.051?",
    setup="x = 0.0 exactly, float64",
    reference=_selu_slope_reference,
    tolerance=1e-15,
    tolerance_reason="a branch choice (the slopes differ by 0.71); the product scale * alpha may round differently",
    twins={"torch": _selu_slope_torch, "tensorflow": _selu_slope_tensorflow,
           "jax": lambda ns: float(ns.jax.grad(ns.jax.nn.selu)(ns.jnp.float64(0.0)))},
    harness_action="the strategies keep selu pre-activations a margin away from 0 (as relu's), so no oracle "
                   "evaluates the kink; TF's gradient at 0 is computed from the output (outputs < 0 ? ... : scale)",
)

SOFTPLUS_POINT = 20.5  # just past torch's default threshold 20


def _softplus_cases(value: float, slope: float) -> dict[str, float]:
    return {f"softplus({SOFTPLUS_POINT:g}) - {SOFTPLUS_POINT:g}": value - SOFTPLUS_POINT,
            f"softplus'({SOFTPLUS_POINT:g}) - 1": slope - 1.0}


def _softplus_reference() -> dict[str, float]:
    z = np.array([[SOFTPLUS_POINT]])
    activation = rn.Softplus()
    A = activation.evaluate(z)
    return _softplus_cases(float(A[0, 0]), float(activation.backpropagate(np.ones((1, 1)), z, A)[0, 0]))


def _softplus_torch(torch) -> dict[str, float]:
    x = torch.tensor([SOFTPLUS_POINT], dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.softplus(x)
    y.sum().backward()
    return _softplus_cases(float(y.detach()[0]), float(x.grad[0]))


def _softplus_tensorflow(ns) -> dict[str, float]:
    x = ns.tf.constant([SOFTPLUS_POINT], dtype=ns.tf.float64)
    with ns.tf.GradientTape() as tape:
        tape.watch(x)
        y = ns.tf.math.softplus(x)
    return _softplus_cases(float(y[0]), float(tape.gradient(y, x)[0]))


def _softplus_jax(ns) -> dict[str, float]:
    x = ns.jnp.float64(SOFTPLUS_POINT)
    return _softplus_cases(float(ns.jax.nn.softplus(x)), float(ns.jax.grad(ns.jax.nn.softplus)(x)))


softplus_threshold = Convention(
    name="softplus_threshold",
    family="activations",
    question="softplus past 20: torch's Softplus(threshold=20) returns x itself (slope 1)",
    setup=f"x = {SOFTPLUS_POINT:g}, float64; value = softplus(x) - x and softplus'(x) - 1 (exactly exp(-x) "
          "= 1.25e-9 and -1.25e-9 for the exact function)",
    reference=_softplus_reference,
    tolerance=1e-13,
    tolerance_reason="softplus(20.5) carries ulp(20.5) / 2 = 1.8e-15 of rounding; 1e-13 is far below the 1.25e-9 "
                     "effect",
    twins={"torch": _softplus_torch, "tensorflow": _softplus_tensorflow, "jax": _softplus_jax},
    harness_action="the torch twins pass threshold=40 in float64 (exp(-40) is below half an ulp of x and of the "
                   "slope), where torch computes the exact function; float32 keeps the default (exact there)",
)

ROWS = ROWS + (gelu_default_approximation, gelu_float64_constants, selu_derivative_at_zero, softplus_threshold)


# ----------------------------------------------------------------- the tie rule of a max
TIE = (1.0, 1.0, 0.0)  # two equal maxima first


def _tie_torch(torch) -> dict[str, list[float]]:
    def gradient(function):
        x = torch.tensor([[list(TIE)]], dtype=torch.float64, requires_grad=True)
        function(x).sum().backward()
        return [float(v) for v in x.grad.reshape(-1)]
    return {"torch.max(x)": gradient(torch.max), "x.max(dim=-1)": gradient(lambda x: x.max(dim=-1).values),
            "F.max_pool1d": gradient(lambda x: torch.nn.functional.max_pool1d(x, len(TIE)))}


def _tie_tensorflow(ns) -> dict[str, list[float]]:
    tf = ns.tf

    def gradient(function):
        x = tf.constant([[[v] for v in TIE]], dtype=tf.float64)  # (batch 1, steps 3, channels 1)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(function(x))
        return [float(v) for v in tf.reshape(tape.gradient(y, x), [-1]).numpy()]
    return {"tf.reduce_max": gradient(tf.reduce_max),
            "tf.nn.max_pool1d": gradient(lambda x: tf.nn.max_pool1d(x, len(TIE), 1, "VALID")),
            "keras.layers.MaxPooling1D": gradient(ns.keras.layers.MaxPooling1D(len(TIE), dtype="float64"))}


def _tie_jax(ns) -> dict[str, list[float]]:
    jax, jnp = ns.jax, ns.jnp
    x = jnp.array(TIE, dtype=jnp.float64)
    window_max = lambda x: jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (len(TIE),), (1,), "VALID").sum()  # noqa: E731
    return {"jnp.max": [float(v) for v in jax.grad(jnp.max)(x)],
            "lax.reduce_window(max) (Flax max_pool)": [float(v) for v in jax.grad(window_max)(x)]}


max_tie_gradient = Convention(
    name="max_tie_gradient",
    family="activations",
    question="gradient of a max at a tie: split between the tied inputs, or all to the first?",
    setup="x = [1, 1, 0], d max(x) / dx by each framework's autodiff, float64; reference_nn has no max op, so "
          "nothing is compared",
    reference=lambda: {},
    tolerance=0.0,
    tolerance_reason="a branch choice, not a rounded number",
    twins={"torch": _tie_torch, "tensorflow": _tie_tensorflow, "jax": _tie_jax},
    harness_action="none needed today: no reference op takes a max (softmax's max shift cancels from its gradient). "
                   "A tie is a kink: a central difference gives 0.5 to each tied input (the full reductions' rule), "
                   "pooling layers give 1 to the first; a port that max-pools must keep inputs off ties",
)

ROWS = ROWS + (max_tie_gradient,)
