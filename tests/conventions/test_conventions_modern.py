"""Pin the conventions of issue 17's op set (GELU, SELU, Softplus, Huber/SmoothL1, KL divergence,
RMSprop, Adagrad, AdamW, BatchNorm, LayerNorm), framework by framework.

Every expected number is derived here by hand from the framework's documented formula (closed
forms, or a few-line loop), never taken from the module under test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from equivalence_tests import conventions as cv
from equivalence_tests.conventions import activations, losses, normalization, optimizers


def measured(result: cv.ConventionResult, framework: str):
    """The framework's measurement; skip when it is not installed, fail when measuring failed."""
    measurement = result.measurement(framework)
    if measurement.status == cv.NOT_INSTALLED:
        pytest.skip(f"{framework} is not installed")
    assert measurement.status == cv.MEASURED, f"{result.name} / {framework}: {measurement.status}"
    return measurement


def exact_gelu(x: float) -> float:
    return 0.5 * x * math.erfc(-x / math.sqrt(2.0))


def tanh_gelu(x: float) -> float:
    return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


# ------------------------------------------------------------------------- activations
def test_gelu_defaults_exact_in_torch_and_tensorflow_tanh_in_jax():
    result = activations.gelu_default_approximation()
    for x in (-1.5, 1.0):
        assert result.reference[f"x={x:g}"] == pytest.approx(exact_gelu(x), rel=1e-15), f"reference gelu({x})"
    torch = measured(result, "torch")
    assert torch.agrees, f"torch F.gelu default must be exact: {torch.value}"
    tensorflow = measured(result, "tensorflow")
    assert tensorflow.agrees, f"tf.nn.gelu and keras gelu default must be exact (within 1e-7): {tensorflow.value}"
    assert tensorflow.value["keras.activations.gelu x=1"] == pytest.approx(exact_gelu(1.0), abs=1e-7)
    jax = measured(result, "jax")
    assert not jax.agrees, "jax.nn.gelu defaults to the tanh approximation"
    assert jax.value["x=1"] == pytest.approx(tanh_gelu(1.0), rel=1e-15), f"jax gelu(1): {jax.value}"


def test_tensorflow_gelu_rounds_its_constant_to_float32_in_float64():
    result = activations.gelu_float64_constants()
    x = activations.GELU_CONSTANT_POINT
    assert result.reference == pytest.approx(exact_gelu(x), rel=1e-15), "reference exact gelu"
    assert measured(result, "torch").agrees and measured(result, "jax").agrees, "torch / jax use float64 constants"
    tensorflow = measured(result, "tensorflow")
    with_float32_constant = 0.5 * x * math.erfc(-x * float(np.float32(math.sqrt(0.5))))
    assert tensorflow.value["tf.nn.gelu(approximate=False)"] == pytest.approx(with_float32_constant, rel=1e-15), \
        "tf.nn.gelu in float64 is the formula with sqrt(1/2) rounded to float32"
    assert not tensorflow.agrees and 1e-9 < tensorflow.max_abs_difference < 1e-8, tensorflow


def test_selu_derivative_at_zero_left_slope_except_tensorflow():
    result = activations.selu_derivative_at_zero()
    scale, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    assert result.reference == pytest.approx(scale * alpha, rel=1e-15), "reference takes the left slope"
    assert measured(result, "torch").agrees and measured(result, "jax").agrees, "torch and jax: scale * alpha"
    tensorflow = measured(result, "tensorflow")
    assert tensorflow.value == pytest.approx(scale, rel=1e-15), f"TF takes the right slope: {tensorflow.value}"


def test_softplus_threshold_only_in_torch():
    result = activations.softplus_threshold()
    x = activations.SOFTPLUS_POINT
    assert result.reference[f"softplus({x:g}) - {x:g}"] == pytest.approx(math.log1p(math.exp(-x)), rel=1e-5)
    torch = measured(result, "torch")
    assert torch.value == {f"softplus({x:g}) - {x:g}": 0.0, f"softplus'({x:g}) - 1": 0.0}, \
        f"torch's Softplus returns x (slope 1) past threshold 20: {torch.value}"
    assert measured(result, "tensorflow").agrees and measured(result, "jax").agrees, "TF and JAX: exact softplus"


# ----------------------------------------------------------------------------- losses
def test_huber_equals_smooth_l1_times_beta():
    result = losses.huber_vs_smooth_l1()
    delta = losses.HUBER_DELTA
    expected = {0.5: 0.5 * 0.5**2, 3.0: delta * (3.0 - 0.5 * delta)}
    for r, value in expected.items():
        assert result.reference[f"delta={delta:g}, r={r:g}"] == value, f"reference Huber at r={r}"
    torch = measured(result, "torch")
    assert torch.agrees, f"torch HuberLoss: {torch.value}"
    for r, value in expected.items():
        assert torch.value[f"SmoothL1Loss(beta={delta:g}), r={r:g}"] == value / delta, "SmoothL1 = Huber / beta"
    assert measured(result, "tensorflow").agrees and measured(result, "jax").agrees, "Keras and optax Huber"


def test_kl_div_only_batchmean_on_log_probabilities_is_kl():
    result = losses.kl_div_reduction()
    P, Y = losses._kl_inputs()
    kl = float(np.sum(Y * np.log(Y / P)) / P.shape[1])
    assert result.reference == pytest.approx(kl, rel=1e-14), "reference: KL summed over classes, mean over batch"
    torch = measured(result, "torch")
    assert torch.value["KLDivLoss(reduction='batchmean')(log P, Y)"] == pytest.approx(kl, rel=1e-14)
    assert torch.value["KLDivLoss()(log P, Y): default 'mean'"] == pytest.approx(kl / P.shape[0], rel=1e-14), \
        "torch's default 'mean' divides by n_classes * m"
    assert not torch.agrees, "the torch cell must show the default reduction as a difference"
    assert measured(result, "tensorflow").agrees and measured(result, "jax").agrees, "Keras and optax: KL"


# --------------------------------------------------------------------------- optimizers
def _rmsprop_theta(g: float, steps: int, eps_inside: bool) -> float:
    lr, alpha, eps = optimizers.RMS_LR, optimizers.RMS_ALPHA, optimizers.RMS_EPS
    theta, v = 1.0, 0.0
    for _ in range(steps):
        v = alpha * v + (1 - alpha) * g * g
        theta -= lr * g / (math.sqrt(v + eps) if eps_inside else math.sqrt(v) + eps)
    return theta


def test_rmsprop_epsilon_inside_the_root_in_keras_and_optax():
    result = optimizers.rmsprop_epsilon_placement()
    for case, g in optimizers.ADAM_GRADIENTS.items():
        outside = _rmsprop_theta(g, optimizers.ADAM_STEPS, eps_inside=False)
        inside = _rmsprop_theta(g, optimizers.ADAM_STEPS, eps_inside=True)
        assert result.reference[case] == pytest.approx(outside, abs=1e-14), f"reference ({case})"
        assert measured(result, "torch").value[case] == pytest.approx(outside, abs=1e-14), f"torch ({case})"
        assert measured(result, "tensorflow").value[case] == pytest.approx(inside, abs=1e-14), f"Keras ({case})"
        jax = measured(result, "jax").value
        assert jax[case] == pytest.approx(inside, abs=1e-14), f"optax default ({case})"
        assert jax[f"eps_in_sqrt=False, {case}"] == pytest.approx(outside, abs=1e-14), f"optax eps outside ({case})"


@pytest.mark.parametrize(("framework", "alpha", "eps"), [("torch", 0.99, 1e-8), ("tensorflow", 0.9, 1e-7),
                                                         ("jax", 0.9, 1e-8)])
def test_rmsprop_defaults(framework, alpha, eps):
    value = measured(optimizers.rmsprop_defaults(), framework).value
    assert value == {"alpha (Keras rho, optax decay)": alpha, "eps": eps}, f"{framework} RMSprop defaults: {value}"


def _adagrad_theta(initial: float, eps: float, eps_inside: bool) -> float:
    theta, s = 1.0, initial
    for _ in range(optimizers.ADAGRAD_STEPS):
        s += 0.25
        theta -= optimizers.ADAGRAD_LR * 0.5 / (math.sqrt(s + eps) if eps_inside else math.sqrt(s) + eps)
    return theta


@pytest.mark.parametrize(("framework", "initial", "eps", "eps_inside"),
                         [("torch", 0.0, 1e-10, False), ("tensorflow", 0.1, 1e-7, True), ("jax", 0.1, 1e-7, True)])
def test_adagrad_accumulator_and_epsilon(framework, initial, eps, eps_inside):
    value = measured(optimizers.adagrad_accumulator_and_epsilon(), framework).value
    assert value["initial_accumulator_value"] == initial and value["eps"] == eps, f"{framework} defaults: {value}"
    # Keras initializes its accumulator through float32: 0.1 -> 0.10000000149 (moves theta by 3.8e-10); optax
    # keeps 0.1 in float64
    start = float(np.float32(initial)) if framework == "tensorflow" else initial
    expected = _adagrad_theta(start, eps, eps_inside)
    assert value[optimizers.ADAGRAD_TRAJECTORY] == pytest.approx(expected, abs=1e-14), f"{framework} trajectory"


@pytest.mark.parametrize(("framework", "weight_decay"), [("torch", 0.01), ("tensorflow", 0.004), ("jax", 1e-4)])
def test_adamw_default_weight_decay(framework, weight_decay):
    value = measured(optimizers.adamw_default_weight_decay(), framework).value
    assert value["weight_decay"] == weight_decay, f"{framework} AdamW default weight decay: {value}"
    # step 1: theta (1 - lr wd) - lr * m_hat / (sqrt(v_hat) + eps) with m_hat / sqrt(v_hat) = 1; Keras' epsilon
    # placement moves its step by ~1e-6 (eps / sqrt(1 - beta2) relative to g)
    expected = (1 - optimizers.ADAMW_LR * weight_decay) - optimizers.ADAMW_LR
    assert value[optimizers.ADAMW_TRAJECTORY] == pytest.approx(expected, abs=2e-6), f"{framework} one AdamW step"


# ------------------------------------------------------------------------ normalization
def test_batchnorm_momentum_meaning_and_eps():
    result = normalization.batchnorm_momentum_and_eps()
    mean, narrow = normalization.BATCH.mean(), normalization.NARROW[0]
    narrow_first = (narrow[0] - narrow.mean()) / math.sqrt(narrow.var() + 1e-5)
    expected = {normalization.MOMENTUM_CASE: 0.1 * mean, normalization.EPS_CASE: 1e-5,
                normalization.NARROW_CASE: narrow_first}
    for key, value in expected.items():
        assert result.reference[key] == pytest.approx(value, rel=1e-14), f"reference {key}"
    assert measured(result, "torch").agrees, "torch BatchNorm1d: momentum 0.1 weighs the new statistic, eps 1e-5"
    keras = measured(result, "tensorflow").value
    assert keras[normalization.MOMENTUM_CASE] == pytest.approx((1 - 0.99) * mean, rel=1e-12), \
        "Keras momentum 0.99 weighs the old value"
    assert keras["running_mean after 1 step, momentum=0.9 (= 1 - torch's 0.1)"] == pytest.approx(0.1 * mean, rel=1e-14)
    assert keras[normalization.EPS_CASE] == 1e-3, "Keras BatchNormalization default epsilon"
    assert keras[normalization.NARROW_CASE] == pytest.approx((narrow[0] - narrow.mean()) / math.sqrt(
        narrow.var() + 1e-3), rel=1e-12), "Keras normalizes with its own eps"


def test_batchnorm_running_variance_unbiased_in_torch_biased_in_keras():
    result = normalization.batchnorm_running_variance()
    batch = normalization.BATCH[0]
    unbiased, biased = batch.var(ddof=1), batch.var()
    assert result.reference[normalization.VARIANCE_CASE] == pytest.approx(0.9 + 0.1 * unbiased, rel=1e-15)
    assert measured(result, "torch").agrees, "torch: unbiased running variance"
    keras = measured(result, "tensorflow")
    assert keras.value[normalization.VARIANCE_CASE] == pytest.approx(0.9 + 0.1 * biased, rel=1e-14), \
        "Keras: biased running variance"


def test_layernorm_default_eps():
    result = normalization.layernorm_eps()
    narrow = normalization.NARROW[0]
    assert measured(result, "torch").agrees, "torch LayerNorm: eps 1e-5"
    keras = measured(result, "tensorflow").value
    assert keras[normalization.EPS_CASE] == 1e-3, "Keras LayerNormalization default epsilon"
    assert keras[normalization.NARROW_CASE] == pytest.approx((narrow[0] - narrow.mean()) / math.sqrt(
        narrow.var() + 1e-3), rel=1e-12), "Keras normalizes with eps 1e-3"
