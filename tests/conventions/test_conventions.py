"""Pin each framework's measured behaviour on each convention of ``equivalence_tests.conventions``.

Every expected number is derived here by hand (a closed form or a few-line loop of the
framework's documented formula), never taken from the module under test. If a framework
release changes a convention, the matching test fails and the table in docs/conventions.md
(and README) must be regenerated and re-read.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from equivalence_tests import conventions as cv

TORCH = pytest.param("torch", marks=pytest.mark.torch)
TENSORFLOW = pytest.param("tensorflow", marks=pytest.mark.tensorflow)
JAX = pytest.param("jax", marks=pytest.mark.jax)


def torch_case(*expected):
    """A parameter set ``("torch", *expected)`` carrying the torch marker."""
    return pytest.param("torch", *expected, marks=pytest.mark.torch, id="torch")


def tensorflow_case(*expected):
    """A parameter set ``("tensorflow", *expected)`` carrying the tensorflow marker."""
    return pytest.param("tensorflow", *expected, marks=pytest.mark.tensorflow, id="tensorflow")


def jax_case(*expected):
    """A parameter set ``("jax", *expected)`` carrying the jax marker."""
    return pytest.param("jax", *expected, marks=pytest.mark.jax, id="jax")


def f32(x: float) -> float:
    """``x`` rounded to float32 and back: what a float32 hyper-parameter really holds."""
    return float(np.float32(x))


def measured(result: cv.ConventionResult, framework: str):
    """The framework's measured value; skip when it is not installed, fail when measuring failed."""
    measurement = result.measurement(framework)
    if measurement.status == cv.NOT_INSTALLED:
        pytest.skip(f"{framework} is not installed")
    assert measurement.status == cv.MEASURED, f"{result.name} / {framework}: {measurement.status}"
    return measurement


# ------------------------------------------------------------------------- activations
@pytest.mark.parametrize("framework", [TORCH, TENSORFLOW])
def test_relu_and_leaky_relu_derivatives_at_zero(framework):
    result = cv.relu_derivative_at_zero()
    expected = {"relu'(0)": 0.0, "leaky_relu'(0)": 2.0**-7}  # ReLU'(0) = 0, LeakyReLU'(0) = alpha
    assert result.reference == expected
    measurement = measured(result, framework)
    assert measurement.value == expected  # exact: a branch choice, not a rounded number
    assert measurement.agrees is True


@pytest.mark.jax
def test_jax_relu_and_leaky_relu_derivatives_at_zero():
    # jax.nn.relu has a custom derivative that is 0 at 0, as torch and TF; jax.nn.leaky_relu is
    # where(x >= 0, x, alpha * x), so at exactly 0 autodiff takes the x branch: derivative 1, not alpha.
    result = cv.relu_derivative_at_zero()
    measurement = measured(result, "jax")
    assert measurement.value == {"relu'(0)": 0.0, "leaky_relu'(0)": 1.0}, measurement.value
    assert measurement.agrees is False and measurement.max_abs_difference == 1.0 - 2.0**-7, measurement


@pytest.mark.parametrize(
    ("framework", "expected"),
    [
        torch_case({"F.leaky_relu": 0.01, "nn.LeakyReLU()": 0.01}),
        # TF and Keras hold the slope as float32, so -f(-1) is the float32 rounding of the default.
        tensorflow_case({"tf.nn.leaky_relu": f32(0.2), "keras.activations.leaky_relu": f32(0.2),
                         "keras.layers.LeakyReLU()": f32(0.3)}),
        jax_case({"jax.nn.leaky_relu": 0.01}),  # a float64 parameter default: no float32 rounding
    ],
)
def test_leaky_relu_default_slopes(framework, expected):
    result = cv.leaky_relu_default_slope()
    assert result.reference == 0.01
    assert measured(result, framework).value == expected


SPLIT, FIRST = [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]  # a tie's gradient shared, or all to the first maximum


@pytest.mark.parametrize(
    ("framework", "expected"),
    [torch_case({"torch.max(x)": SPLIT, "x.max(dim=-1)": FIRST, "F.max_pool1d": FIRST}),
     tensorflow_case({"tf.reduce_max": SPLIT, "tf.nn.max_pool1d": FIRST, "keras.layers.MaxPooling1D": FIRST}),
     jax_case({"jnp.max": SPLIT, "lax.reduce_window(max) (Flax max_pool)": FIRST})],
)
def test_max_tie_rule(framework, expected):
    result = cv.max_tie_gradient()
    measurement = measured(result, framework)
    assert measurement.value == expected  # exact: a branch choice
    assert result.reference == {} and measurement.agrees is None, "reference_nn has no max op: nothing compared"


# ------------------------------------------------------------------------------- Adam
def adam_closed_form(g: float, steps: int, epsilon_at_step) -> float:
    """theta after ``steps`` Adam steps of a constant gradient ``g`` from theta0 = 1.

    With a constant g the bias-corrected moments are exactly m_hat = g and v_hat = g**2, so each
    step is lr * g / (|g| + eps_t): torch's eps_t = eps; Keras adds eps to sqrt(v) before the
    bias correction, which is the same as eps_t = eps / sqrt(1 - beta2**t) after it."""
    return 1.0 - sum(cv.ADAM_LR * g / (abs(g) + epsilon_at_step(t)) for t in range(1, steps + 1))


def torch_epsilon(t: int) -> float:
    return cv.ADAM_EPS


def keras_epsilon(t: int) -> float:
    return cv.ADAM_EPS / math.sqrt(1 - cv.ADAM_BETA2**t)


# The moments are sums of 10 float64 terms and each step is ~1e-3: rounding ~1e-18 per step,
# so 1e-14 is generous and still 1e6 below the Keras-torch difference for the typical gradient.
ADAM_TOLERANCE = 1e-14


@pytest.mark.parametrize(("framework", "epsilon"), [torch_case(torch_epsilon), tensorflow_case(keras_epsilon),
                                                   jax_case(torch_epsilon)])  # optax: eps after the corrected root
def test_adam_epsilon_placement_matches_each_formula(framework, epsilon):
    result = cv.adam_epsilon_placement()
    value = measured(result, framework).value
    for case, g in {"typical g=1e-2": 1e-2, "tiny g=1e-8 (~eps)": 1e-8}.items():
        assert value[case] == pytest.approx(adam_closed_form(g, 10, epsilon), abs=ADAM_TOLERANCE), case
        assert result.reference[case] == pytest.approx(adam_closed_form(g, 10, torch_epsilon), abs=ADAM_TOLERANCE)


def test_adam_epsilon_placement_matters_only_near_eps():
    # Hand numbers: a gradient ~100x eps moves Keras and torch apart by ~1e-7 after 10 steps
    # (relative 1e-4 of the distance travelled); a gradient ~eps moves them apart by ~5e-3, most of it.
    typical = adam_closed_form(1e-2, 10, keras_epsilon) - adam_closed_form(1e-2, 10, torch_epsilon)
    tiny = adam_closed_form(1e-8, 10, keras_epsilon) - adam_closed_form(1e-8, 10, torch_epsilon)
    assert 1e-8 < typical < 1e-6
    assert tiny > 1e-3


@pytest.mark.parametrize(("framework", "expected"), [torch_case(1e-8), tensorflow_case(1e-7), jax_case(1e-8)])
def test_adam_default_epsilon(framework, expected):
    result = cv.adam_default_epsilon()
    assert result.reference == 1e-8
    assert measured(result, framework).value == expected


# A single float64 step of |theta| <= 1: a few roundings of 1.1e-16 each.
ONE_STEP_TOLERANCE = 1e-15


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_float64_hyperparameters_torch_and_jax(framework):
    # JAX keeps Python floats weakly typed: under x64 they are float64, like torch's.
    expected = {
        "SGD lr=0.1, 1 step": 1 - 0.1 * 0.5,
        "Adam lr=0.1 betas=(0.9, 0.999) eps=1e-8, 1 step": 1 - 0.1 * 0.5 / (0.5 + 1e-8),  # m_hat=g, v_hat=g^2
        "leaky_relu slope 0.01: -f(-1)": 0.01,
    }
    result = cv.float32_hyperparameters()
    assert result.reference == pytest.approx(expected, abs=ONE_STEP_TOLERANCE)
    if importlib.util.find_spec(framework) is not None:
        assert measured(result, framework).value == pytest.approx(expected, abs=ONE_STEP_TOLERANCE)


@pytest.mark.tensorflow
def test_keras_rounds_hyperparameters_to_float32():
    # Keras 3 (TF backend): lr, and beta1/beta2 in the bias correction, are float32 tensors cast to
    # float64; the moments use the Python floats 1 - beta. tf.nn.leaky_relu's alpha is a float32 attr.
    m, v = (1 - 0.9) * 0.5, (1 - 0.999) * 0.5**2
    alpha = f32(0.1) * math.sqrt(1 - f32(0.999)) / (1 - f32(0.9))
    expected = {
        "SGD lr=0.1, 1 step": 1 - f32(0.1) * 0.5,
        "Adam lr=0.1 betas=(0.9, 0.999) eps=1e-8, 1 step": 1 - alpha * m / (math.sqrt(v) + 1e-8),
        "leaky_relu slope 0.01: -f(-1)": f32(0.01),
    }
    measurement = measured(cv.float32_hyperparameters(), "tensorflow")
    assert measurement.value == pytest.approx(expected, abs=ONE_STEP_TOLERANCE)
    assert measurement.agrees is False


# -------------------------------------------------------------------------------- BCE
TORCH_BCE = {  # each log clamped at -100; log(1 - p) taken as log1p(-p)
    "p=0, y=0": 0.0, "p=0, y=1": 100.0,
    "p=1e-09, y=0": -math.log1p(-1e-9), "p=1e-09, y=1": -math.log(1e-9),
    "p=1, y=0": 100.0, "p=1, y=1": 0.0,
}
KERAS_BCE = {  # p clipped to [1e-7, 1 - 1e-7] first, no log clamp
    "p=0, y=0": -math.log(1 - 1e-7), "p=0, y=1": -math.log(1e-7),
    "p=1e-09, y=0": -math.log(1 - 1e-7), "p=1e-09, y=1": -math.log(1e-7),
    "p=1, y=0": -math.log(1 - (1 - 1e-7)), "p=1, y=1": -math.log(1 - 1e-7),
}


JAX_BCE = {  # -(y log p + (1 - y) log1p(-p)) with no clamp: 0 * log 0 is nan, log 0 is -inf
    "p=0, y=0": math.nan, "p=0, y=1": math.inf,
    "p=1e-09, y=0": -math.log1p(-1e-9), "p=1e-09, y=1": -math.log(1e-9),
    "p=1, y=0": math.inf, "p=1, y=1": math.nan,
}


@pytest.mark.parametrize(("framework", "expected"), [torch_case(TORCH_BCE), tensorflow_case(KERAS_BCE),
                                                     jax_case(JAX_BCE)])
def test_bce_at_the_edges(framework, expected):
    result = cv.bce_clipping()
    # rel 1e-8: log(1 - p) of a float64 1 - p near 1 carries a relative error up to 1.1e-16 / 1e-9 ~ 1e-7
    # in the reference's log(1 - p) and ~1e-16 in log1p; costs of 0 compare with abs 1e-15.
    assert result.reference == pytest.approx(TORCH_BCE, rel=2e-7, abs=1e-15)
    measurement = measured(result, framework)
    assert measurement.value == pytest.approx(expected, rel=1e-8, abs=1e-15, nan_ok=True), measurement.value
    assert measurement.agrees is (framework == "torch"), "only torch's clamp matches the reference at the edges"


# ----------------------------------------------------------------------- weight decay
LR, WD, G = 0.125, 0.0625, 0.5
ADAM_FIRST_STEP = lambda g: LR * g / (abs(g) + 2.0**-27)  # noqa: E731  m_hat = g, v_hat = g^2 at t = 1


def coupled_momentum_two_steps() -> float:
    theta, buffer = 1.0, None
    for _ in range(2):
        g = G + WD * theta  # torch: decay enters the gradient, hence the momentum buffer
        buffer = g if buffer is None else 0.5 * buffer + g
        theta -= LR * buffer
    return theta


def decoupled_momentum_two_steps() -> float:
    theta, velocity = 1.0, 0.0
    for _ in range(2):
        theta -= LR * WD * theta  # Keras: decay applied to theta first, outside the velocity
        velocity = 0.5 * velocity - LR * G
        theta += velocity
    return theta


COUPLED_ADAM = 1 - ADAM_FIRST_STEP(G + WD * 1.0)
DECOUPLED_ADAM = (1 - LR * WD) * 1.0 - ADAM_FIRST_STEP(G)
COUPLED = {
    "SGD(weight_decay)": 1 - LR * (G + WD), "SGD + explicit L2": 1 - LR * (G + WD),
    "SGD(momentum=0.5, weight_decay), 2 steps": coupled_momentum_two_steps(),
    "Adam(weight_decay)": COUPLED_ADAM, "Adam + explicit L2": COUPLED_ADAM, "AdamW(weight_decay)": DECOUPLED_ADAM,
}
KERAS_DECOUPLED = COUPLED | {
    "SGD(weight_decay)": (1 - LR * WD) - LR * G,  # equal to the coupled value for plain SGD
    "SGD(momentum=0.5, weight_decay), 2 steps": decoupled_momentum_two_steps(),
    "Adam(weight_decay)": DECOUPLED_ADAM,
}


@pytest.mark.parametrize(("framework", "expected"), [torch_case(COUPLED), tensorflow_case(KERAS_DECOUPLED),
                                                     jax_case(COUPLED)])  # add_decayed_weights chained first
def test_weight_decay_coupling(framework, expected):
    result = cv.weight_decay_coupling()
    assert result.reference == pytest.approx(COUPLED, abs=ONE_STEP_TOLERANCE)
    assert measured(result, framework).value == pytest.approx(expected, abs=ONE_STEP_TOLERANCE)


def test_decoupled_decay_differs_only_with_state():
    # Plain SGD: theta (1 - lr wd) - lr g == theta - lr (g + wd theta) exactly; with momentum or Adam not.
    assert KERAS_DECOUPLED["SGD(weight_decay)"] == COUPLED["SGD(weight_decay)"]
    assert abs(KERAS_DECOUPLED["Adam(weight_decay)"] - COUPLED["Adam(weight_decay)"]) > 1e-3
    assert abs(KERAS_DECOUPLED["SGD(momentum=0.5, weight_decay), 2 steps"] - coupled_momentum_two_steps()) > 1e-3


# ------------------------------------------------------------------ momentum, Nesterov
MU = 0.875


def torch_momentum(gradients, learning_rates, nesterov=False) -> list[float]:
    theta, buffer, thetas = 1.0, None, []
    for g, lr in zip(gradients, learning_rates, strict=True):
        buffer = g if buffer is None else MU * buffer + g
        theta -= lr * (g + MU * buffer if nesterov else buffer)
        thetas.append(theta)
    return thetas


def keras_momentum(gradients, learning_rates, nesterov=False) -> list[float]:
    theta, velocity, thetas = 1.0, 0.0, []
    for g, lr in zip(gradients, learning_rates, strict=True):
        velocity = MU * velocity - lr * g
        theta += MU * velocity - lr * g if nesterov else velocity
        thetas.append(theta)
    return thetas


GRADIENTS = list(cv.TRAJECTORY_GRADIENTS)
CONSTANT_LR = [0.125] * 6
HALVED_LR = [0.125] * 3 + [0.0625] * 3
# 6 float64 steps on |theta| < 3, the same terms summed in a different order: a few ulps (~1e-15).
TRAJECTORY_TOLERANCE = 1e-14


@pytest.mark.parametrize(("framework", "formula"), [torch_case(torch_momentum), tensorflow_case(keras_momentum),
                                                    jax_case(torch_momentum)])  # optax's trace is torch's buffer
def test_nesterov_trajectory(framework, formula):
    result = cv.nesterov_formulation()
    expected = formula(GRADIENTS, CONSTANT_LR, nesterov=True)
    assert measured(result, framework).value == pytest.approx(expected, abs=TRAJECTORY_TOLERANCE)
    assert result.reference == pytest.approx(torch_momentum(GRADIENTS, CONSTANT_LR, True), abs=TRAJECTORY_TOLERANCE)


def test_nesterov_formulations_are_the_same_sequence():
    # Keras' m is -lr * torch's buf when lr is constant, so the sequences coincide.
    assert keras_momentum(GRADIENTS, CONSTANT_LR, True) == pytest.approx(
        torch_momentum(GRADIENTS, CONSTANT_LR, True), abs=TRAJECTORY_TOLERANCE)


@pytest.mark.parametrize(("framework", "formula"), [torch_case(torch_momentum), tensorflow_case(keras_momentum),
                                                    jax_case(torch_momentum)])  # optax's trace is torch's buffer
def test_momentum_trajectories(framework, formula):
    result = cv.momentum_formulation()
    value = measured(result, framework).value
    assert value["constant lr"] == pytest.approx(formula(GRADIENTS, CONSTANT_LR), abs=TRAJECTORY_TOLERANCE)
    assert value["lr halved after step 3"] == pytest.approx(formula(GRADIENTS, HALVED_LR), abs=TRAJECTORY_TOLERANCE)


def test_momentum_formulations_part_ways_when_lr_changes():
    assert keras_momentum(GRADIENTS, CONSTANT_LR) == pytest.approx(
        torch_momentum(GRADIENTS, CONSTANT_LR), abs=TRAJECTORY_TOLERANCE)
    # After the change torch rescales the whole buffer by the new lr, Keras keeps the old lr inside it.
    assert abs(keras_momentum(GRADIENTS, HALVED_LR)[-1] - torch_momentum(GRADIENTS, HALVED_LR)[-1]) > 1e-2


# ------------------------------------------------------------------------ reductions
def hand_reductions() -> dict[str, float]:
    P, Y, Z, T = cv._reduction_inputs()  # inputs only; every number below is computed here

    def log_softmax(logits, axis):
        shifted = logits - logits.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    return {
        "mse": float(np.mean((P - Y) ** 2)),
        "bce": float(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))),
        "softmax_ce": float(-np.mean((T * log_softmax(Z, axis=0)).sum(axis=0))),  # classes in rows
        "softmax_ce on (3, 4) as given": float(-np.mean((T * log_softmax(Z, axis=1)).sum(axis=1))),
    }


@pytest.mark.parametrize("framework", [TORCH, TENSORFLOW, JAX])
def test_loss_reductions(framework):
    expected = hand_reductions()
    if framework == "jax":  # optax.l2_loss is 0.5 (p - y)**2: half the mean squared error
        expected["optax.l2_loss, mean (half the squared error)"] = 0.5 * expected["mse"]
    result = cv.loss_reductions()
    # 12 float64 logs or squares summed in some order: relative rounding ~1e-15 on costs ~1.
    assert measured(result, framework).value == pytest.approx(expected, abs=1e-13)
    assert result.reference == pytest.approx({k: expected[k] for k in ("mse", "bce", "softmax_ce")}, abs=1e-13)
    assert abs(expected["softmax_ce"] - expected["softmax_ce on (3, 4) as given"]) > 0.1  # the layout matters


# ------------------------------------------------------------------------- bce at saturation
def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_bce_gradient_at_saturation_reference_is_sigmoid_minus_y():
    from equivalence_tests.conventions.losses import SATURATION_CASES, bce_gradient_at_saturation

    result = bce_gradient_at_saturation()
    for case, (z, y) in SATURATION_CASES.items():  # d softplus-form BCE / dz = sigmoid(z) - y, at every z
        expected = _sigmoid(z) - y
        assert result.reference[case] == pytest.approx(expected, rel=1e-13, abs=1e-300), case


@pytest.mark.parametrize("framework", [TORCH, TENSORFLOW])
def test_bce_gradient_at_saturation_frameworks(framework):
    from equivalence_tests.conventions.losses import SATURATION_CASES, bce_gradient_at_saturation

    result = bce_gradient_at_saturation()
    value = measured(result, framework).value
    for case, (z, y) in SATURATION_CASES.items():
        p = _sigmoid(z)
        # 1 - p near p = 1 carries a relative rounding of eps / (1 - p) (2.4e-3 at z = 30) that depends on
        # how sigmoid is evaluated: 1e-2 there still pins a convention that changes the value 10-fold
        rel = 1e-2 if p * (1 - p) < 1e-12 else 1e-9
        if framework == "torch":  # BCELoss backward (p - y) / max(p (1 - p), 1e-12), times sigmoid's (1 - p) p
            expected = (p - y) / max(p * (1 - p), 1e-12) * ((1 - p) * p)
        else:  # Keras clips p to [1e-7, 1 - 1e-7]: the clip's derivative is 0 outside it (|z| >= 20 here)
            expected = 0.0 if not 1e-7 <= p <= 1 - 1e-7 else p - y
        assert value[case] == pytest.approx(expected, rel=rel, abs=1e-300), f"{framework} {case}: {value[case]}"
    assert measured(result, framework).agrees is False, "the frameworks differ from the reference at saturation"


@pytest.mark.jax
def test_bce_gradient_at_saturation_jax():
    from equivalence_tests.conventions.losses import SATURATION_CASES, bce_gradient_at_saturation

    value = measured(bce_gradient_at_saturation(), "jax").value
    for case, (z, y) in SATURATION_CASES.items():
        # autodiff of -(y log p + (1 - y) log1p(-p)) through sigmoid's p (1 - p) is p - y up to rounding, until
        # p rounds to exactly 1 (z = 40): log1p(-1) = -inf and 0 * inf make the gradient nan, for either label
        expected = math.nan if _sigmoid(z) == 1.0 else _sigmoid(z) - y
        assert value[case] == pytest.approx(expected, rel=1e-13, abs=1e-15, nan_ok=True), f"jax {case}: {value[case]}"
