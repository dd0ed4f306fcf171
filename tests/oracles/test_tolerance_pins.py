"""Pins of the harness's tolerance modules by their effect (issue 26: every non-equivalent survivor of
`python -m mutation.mutants tolerances` gets a test).

Expected values are written by hand from the documented rules of equivalence_tests.error_scale
(``R_x`` counts the rounding of the operation that made x, the sum of |terms| of a sum, plus the
inputs' errors propagated through the operation's derivative) and of equivalence_tests.tolerances,
never computed by the code under test. Each test is a few small arrays: milliseconds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from equivalence_tests import error_scale
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.oracles.base import OracleResult
from equivalence_tests.tolerances import MEASURED_SCALED, SCALED_TOLERANCES, compare, compare_results

EPS64 = float(np.finfo(np.float64).eps)
EXACT = dict(rel=1e-13, abs=0.0)  # float64 arithmetic of a few operations: far below any mutant's change


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


# ------------------------------------------------------------------------ activations
def test_sigmoid_is_accurate_on_the_negative_side_where_saturated_units_live():
    Z = np.array([-3.0, -50.0, 3.0])
    expected = [_sigmoid(-3.0), math.exp(-50.0) / (1 + math.exp(-50.0)), _sigmoid(3.0)]
    assert error_scale._sigmoid(Z) == pytest.approx(expected, **EXACT), "sigmoid(z < 0) lost its value"


def test_relu_passes_nothing_below_zero_and_rounds_nothing():
    A, R_A, slope, R_slope = error_scale._activation("relu", np.array([[-1.0, 2.0]]), np.array([[3.0, 4.0]]), 0.01)
    assert A.tolist() == [[0.0, 2.0]] and slope.tolist() == [[0.0, 1.0]], f"relu value/slope wrong: {A}, {slope}"
    # exact operation: R_A = |g'| R_Z, no rounding of its own, and g' is exact
    assert R_A.tolist() == [[0.0, 4.0]] and R_slope.tolist() == [[0.0, 0.0]], f"relu scales wrong: {R_A}, {R_slope}"


def test_tanh_slope_and_its_error_scale():
    z, R_z = 0.5, 3.0
    A, R_A, slope, R_slope = error_scale._activation("tanh", np.array([[z]]), np.array([[R_z]]), 0.01)
    a = math.tanh(z)
    g = 1 - a * a  # tanh' = 1 - tanh^2
    R_a = abs(a) + g * R_z  # one rounding of tanh + the input's error through tanh'
    # g' = 1 - A^2 from the rounded A: the subtraction rounds at the size of its terms 1 + A^2, and A^2
    # carries A's error doubled: 2 |A| R_A.
    expected = 1 + a * a + 2 * abs(a) * R_a
    assert (A.item(), R_A.item(), slope.item()) == pytest.approx((a, R_a, g), **EXACT), "tanh value/slope wrong"
    assert R_slope.item() == pytest.approx(expected, **EXACT), f"tanh R_g' {R_slope.item()} != {expected}"


def test_sigmoid_slope_error_scale_counts_the_rounded_one_minus_a():
    z, R_z = -1.0, 40.0  # R_A > 1, so a sign slip on R_A inside (1 + A + R_A) shows
    A, R_A, slope, R_slope = error_scale._activation("sigmoid", np.array([[z]]), np.array([[R_z]]), 0.01)
    a = _sigmoid(z)
    g = a * (1 - a)
    R_a = a + g * R_z
    # g' = A (1 - A): the product rounds once (g); 1 - A rounds at 1 + A and carries A's error (R_a),
    # times |A|; A's own error R_a times |1 - A|.
    expected = g + a * (1 + a + R_a) + (1 - a) * R_a
    assert (A.item(), R_A.item(), slope.item()) == pytest.approx((a, R_a, g), **EXACT), "sigmoid value/slope wrong"
    assert R_slope.item() == pytest.approx(expected, **EXACT), f"sigmoid R_g' {R_slope.item()} != {expected}"


# ------------------------------------------------------------------------------ losses
def test_mse_cost_gradient_and_scales_by_hand():
    AL, Y, R_AL = np.array([[1.5, -0.5]]), np.array([[1.0, 0.5]]), np.array([[2.0, 3.0]])
    cost, R_cost, dAL, R_dAL = error_scale._loss("mse", AL, R_AL, Y, EPS64)
    # d = [0.5, -1], R_d = |d| + R_AL = [2.5, 4]; cost = mean d^2 = 0.625;
    # R_cost = mean(d^2 + 2 |d| R_d) = mean(0.25 + 2.5, 1 + 8) = 5.875;
    # dAL = 2 d / 2 = [0.5, -1]; R_dAL = 2 (|d| + R_d) / 2 = [3, 5]
    assert (cost, R_cost) == pytest.approx((0.625, 5.875), **EXACT), f"mse cost/R_cost {cost}, {R_cost}"
    assert dAL.ravel().tolist() == pytest.approx([0.5, -1.0], **EXACT), f"mse dAL {dAL}"
    assert R_dAL.ravel().tolist() == pytest.approx([3.0, 5.0], **EXACT), f"mse R_dAL {R_dAL}"


def test_bce_cost_scale_counts_each_label_side_once():
    AL, Y = np.array([[0.8, 0.3]]), np.array([[1.0, 0.0]])
    _, R_cost, _, _ = error_scale._loss("bce", AL, np.zeros_like(AL), Y, EPS64)
    # y = 1 uses log p only: |log 0.8| (exact p); y = 0 uses log(1 - p) only, 1 - p rounded (R = 1):
    # |log 0.7| + 1 / 0.7
    expected = (abs(math.log(0.8)) + abs(math.log(0.7)) + 1 / 0.7) / 2
    assert R_cost == pytest.approx(expected, **EXACT), f"bce R_cost {R_cost} != {expected}"


@pytest.mark.parametrize("R_z", [(0.0, 0.0), (5.0, 7.0)])
def test_bce_with_logits_cost_and_gradient_scales(R_z):
    Z, Y, R_Z = np.array([[2.0, -3.0]]), np.array([[1.0, 0.0]]), np.array([R_z])
    _, R_cost, dAL, R_dAL = error_scale._loss("bce_with_logits", Z, R_Z, Y, EPS64)
    # cost terms max(z, 0) - z y + softplus(-|z|): magnitudes |z| (1 + |y|) + softplus, plus the
    # input's error through d/dz (at most 1 + |y|)
    terms = [abs(z) * (1 + abs(y)) + math.log1p(math.exp(-abs(z))) + (1 + abs(y)) * r
             for z, y, r in zip(Z[0], Y[0], R_z, strict=True)]
    assert R_cost == pytest.approx(sum(terms) / 2, **EXACT), f"bce_with_logits R_cost {R_cost}"
    p = [_sigmoid(z) for z in Z[0]]
    # dAL = (p - y) / size: the subtraction rounds |p - y|, p rounds once (p) and carries sigmoid' R_z
    expected = [(abs(pi - y) + pi + pi * (1 - pi) * r) / 2 for pi, y, r in zip(p, Y[0], R_z, strict=True)]
    assert dAL[0].tolist() == pytest.approx([(pi - y) / 2 for pi, y in zip(p, Y[0], strict=True)], **EXACT), "dAL"
    assert R_dAL[0].tolist() == pytest.approx(expected, **EXACT), f"bce_with_logits R_dAL {R_dAL}"


def test_softmax_cross_entropy_cost_and_gradient():
    Z = np.array([[1.0, -2.0], [0.5, 0.0], [-1.0, 3.0]])
    Y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    cost, _, dAL, _ = error_scale._loss("softmax_cross_entropy", Z, np.zeros_like(Z), Y, EPS64)
    p = np.exp(Z) / np.exp(Z).sum(axis=0)
    expected_cost = -(math.log(p[0, 0]) + math.log(p[2, 1])) / 2
    assert cost == pytest.approx(expected_cost, **EXACT), f"softmax CE cost {cost} != {expected_cost}"
    assert dAL == pytest.approx((p - Y) / 2, **EXACT), f"softmax CE dAL {dAL}"


def test_l2_penalty_adds_its_own_size_to_the_cost_scale():
    config = ModelConfig((2, 1), ("sigmoid",), "bce")
    params = {"W1": np.array([[0.6, -0.8]]), "b1": np.array([[0.1]])}
    X, Y = np.array([[0.5, -1.0], [2.0, 0.25]]), np.array([[1.0, 0.0]])
    without = error_scale.gradient_scales(config, params, X, Y)[2]
    with_l2 = error_scale.gradient_scales(ModelConfig((2, 1), ("sigmoid",), "bce", l2=0.1), params, X, Y)[2]
    # the penalty 0.5 l2 sum W^2 = 0.05 * (0.36 + 0.64) is one more term of size 0.05
    assert with_l2 - without == pytest.approx(0.05, **EXACT), f"l2 adds {with_l2 - without} to R_cost"


# ---------------------------------------------------------------------------- optimizer
def _adam_coefficients(beta1: float, beta2: float, t: int) -> tuple[np.ndarray, np.ndarray]:
    """``(a, w)``: m_t = sum a_j g_j and v_t = sum w_j g_j^2, read off Adam's recursion by impulses."""
    a, w = np.zeros(t), np.zeros(t)
    for j in range(t):
        m = v = 0.0
        for k in range(t):
            g = 1.0 if k == j else 0.0
            m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        a[j], w[j] = m, v
    return a, w


def _adam_ratio(gs: np.ndarray, beta1: float, beta2: float) -> float:
    m = v = 0.0
    for g in gs:
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
    t = len(gs)
    return abs(m / (1 - beta1**t)) / math.sqrt(v / (1 - beta2**t))


@pytest.mark.parametrize("t", [1, 3, 10])
def test_adam_ratio_bound_is_reached_and_never_exceeded(t: int):
    beta1, beta2 = 0.9, 0.999
    bound = error_scale._adam_ratio_bound(beta1, beta2, t)
    a, w = _adam_coefficients(beta1, beta2, t)
    worst = _adam_ratio(a / w, beta1, beta2)  # Cauchy-Schwarz equality: g_j proportional to a_j / w_j
    assert bound == pytest.approx(worst, rel=1e-12), f"t={t}: bound {bound}, attained {worst}"
    rng = np.random.default_rng(t)
    ratios = [_adam_ratio(rng.standard_normal(t), beta1, beta2) for _ in range(50)]
    assert max(ratios) <= bound * (1 + 1e-12), f"t={t}: a gradient sequence reached {max(ratios)} > {bound}"


def test_adam_first_step_scale_is_its_roundings_times_the_step():
    opt = OptimizerConfig(name="adam", learning_rate=1e-3)
    g = np.array([1.0, -2.0])
    step = error_scale._step_scale(opt, {}, g, np.zeros_like(g), 1, EPS64)
    # t = 1: m_hat = g, v_hat = g^2, |step| = lr |g| / (|g| + eps); exact gradients (M_g = 0) leave
    # only Adam's own ~12 roundings of that step
    expected = 12 * 1e-3 * np.abs(g) / (np.abs(g) + 1e-8)
    assert step == pytest.approx(expected, **EXACT), f"Adam step scale {step} != {expected}"


# --------------------------------------------------------------------------- tolerances
def test_every_scaled_tolerance_is_above_the_agreement_measured_for_it():
    # A measured max at or above its tolerance would be a table that fails the right code it was
    # measured on; a measured max <= 0 is no measurement. Measured maxima are 1-5 eps, rtol is 32 eps.
    for key, measured in MEASURED_SCALED.items():
        rtol = SCALED_TOLERANCES[key].rtol
        assert 0 < measured < rtol, f"{key}: measured {measured} not in (0, rtol {rtol})"


def test_identical_infinities_are_not_reported_as_an_error():
    result = compare("forward", "float64", "torch", np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))
    assert result.passed and result.max_rel_error == 0.0, f"same inf reported as error {result.max_rel_error}"


def test_updated_params_without_config_allow_one_step_of_storage_rounding():
    theta0 = np.array([1.0, 1.0])
    reference = theta0 + np.array([1e-6, -1e-6])
    candidate = reference.copy()
    candidate[0] = np.nextafter(np.nextafter(reference[0], 2.0), 2.0)  # 2 ulps off: one more than 1 step allows
    default = compare("updated_params", "float64", "torch", reference, candidate, initial=theta0)
    one = compare("updated_params", "float64", "torch", reference, candidate, initial=theta0, steps=1)
    two = compare("updated_params", "float64", "torch", reference, candidate, initial=theta0, steps=2)
    assert two.passed, "two stored steps may round 2 ulps apart"
    assert not one.passed and not default.passed, "a 2-ulp stored difference after one step must FAIL"
    assert default.max_rel_error == one.max_rel_error, "steps must default to 1 without a config"


def test_compare_results_with_inputs_uses_the_running_error_scale():
    config = ModelConfig((2, 3, 1), ("tanh", "sigmoid"), "bce")
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": rng.standard_normal((1, 1))}
    X, Y = rng.standard_normal((2, 4)), np.array([[1.0, 0.0, 1.0, 0.0]])
    result = OracleResult(oracle="torch/functional", framework="torch", framework_version="test", path="functional",
                          dtype="float64", forward=np.full((1, 4), 0.5), cost=0.7,
                          gradients={k: v * 0.1 for k, v in params.items()},
                          updated_params={k: v * 0.9 for k, v in params.items()})
    comparisons = compare_results(result, result, config, params, X, Y)
    # the scaled table: 32 eps in float64 (the RMS-floor table's float64 rtols are 1e-13 and up)
    assert {c.tolerance.rtol for c in comparisons} == {32 * EPS64}, "X, Y given: the running-error scale must apply"


# ------------------------------------------ survivors of `mutation.mutants tolerances --seed 20261208`
def test_leaky_relu_backward_value_and_scale():
    # leaky_relu is exact forward, but its backward multiplies by alpha and rounds once: |dA g'|
    dZ, R_dZ = error_scale._activation_backward("leaky_relu", None, None, np.array([[0.5, 1.0]]),
                                                np.zeros((1, 2)), np.array([[2.0, -3.0]]), np.array([[4.0, 1.0]]))
    # dZ = dA g' = [1, -3]; R = |dA g'| + R_dA |g'| = [1 + 2, 3 + 1]
    assert dZ.tolist() == [[1.0, -3.0]], f"leaky_relu backward value {dZ} != dA * slope"
    assert R_dZ.tolist() == [[3.0, 4.0]], f"leaky_relu backward scale {R_dZ} != [[3, 4]]"


def test_softmax_backward_value_and_scale_by_hand():
    A, dA = np.array([[0.25], [0.75]]), np.array([[1.0], [3.0]])
    R_A, R_dA = np.array([[1.0], [1.0]]), np.array([[2.0], [2.0]])
    dZ, R_dZ = error_scale._activation_backward("softmax", A, R_A, None, None, dA, R_dA)
    # s = sum A dA = 0.25 + 2.25 = 2.5; dA - s = [-1.5, 0.5]; dZ = A (dA - s) = [-0.375, 0.375]
    # R_s = sum(|A dA| + R_A |dA| + A R_dA) = (0.25 + 1 + 0.5) + (2.25 + 3 + 1.5) = 8.5
    # R = |A (dA - s)| + R_A |dA - s| + A (|dA - s| + R_dA + R_s)
    #   = [0.375 + 1.5 + 0.25 * (1.5 + 2 + 8.5), 0.375 + 0.5 + 0.75 * (0.5 + 2 + 8.5)] = [4.875, 9.125]
    assert dZ.ravel().tolist() == pytest.approx([-0.375, 0.375], **EXACT), f"softmax backward value {dZ}"
    assert R_dZ.ravel().tolist() == pytest.approx([4.875, 9.125], **EXACT), f"softmax backward scale {R_dZ}"


def test_bce_gradient_and_its_denominator_scale_by_hand():
    AL, Y, R_AL = np.array([[0.25]]), np.array([[1.0]]), np.array([[1.0]])
    _, _, dAL, R_dAL = error_scale._loss("bce", AL, R_AL, Y, EPS64)
    # dAL = (p - y) / (p (1 - p) size) = -0.75 / 0.1875 = -4
    # numerator -0.75, R_num = 0.75 + 1 = 1.75; denominator 0.1875 with
    # R_den = R_p |1 - p| + |p| (1 + R_p) + p (1 - p) = 0.75 + 0.5 + 0.1875 = 1.4375
    # R_dAL = (|num| + R_num) / den + |num| R_den / den^2 = 2.5 / 0.1875 + 1.078125 / 0.03515625 = 40/3 + 92/3 = 44
    assert dAL.item() == pytest.approx(-4.0, **EXACT), f"bce dAL {dAL.item()} != -4"
    assert R_dAL.item() == pytest.approx(44.0, **EXACT), f"bce R_dAL {R_dAL.item()} != 44"


def test_cross_entropy_cost_scale_is_a_mean_over_samples():
    AL = np.array([[0.5, 0.25], [0.5, 0.75]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    cost, R_cost, _, _ = error_scale._loss("cross_entropy", AL, np.zeros_like(AL), Y, EPS64)
    # exact probabilities: R_log p = |log p|; the cost and its scale are sums over the labels / m = 2
    expected = (math.log(2.0) + abs(math.log(0.75))) / 2
    assert cost == pytest.approx(expected, **EXACT), f"cross-entropy cost {cost} != {expected}"
    assert R_cost == pytest.approx(expected, **EXACT), f"cross-entropy R_cost {R_cost} != {expected}"


def test_softmax_cross_entropy_gradient_scale_by_hand():
    Z, Y = np.array([[0.0], [0.0]]), np.array([[1.0], [0.0]])
    _, _, dAL, R_dAL = error_scale._loss("softmax_cross_entropy", Z, np.zeros_like(Z), Y, EPS64)
    # p = [0.5, 0.5], exact logits: R = (|p - y| + p (1 + 0 + 0)) / m = [1, 1]
    assert dAL.ravel().tolist() == pytest.approx([-0.5, 0.5], **EXACT), f"softmax CE dAL {dAL}"
    assert R_dAL.ravel().tolist() == pytest.approx([1.0, 1.0], **EXACT), f"softmax CE R_dAL {R_dAL}"


def test_sgd_momentum_buffer_accumulates_magnitudes():
    opt = OptimizerConfig(name="sgd", learning_rate=0.5, momentum=0.5)
    state: dict = {}
    M_g = np.array([4.0])
    steps = [error_scale._step_scale(opt, state, np.zeros(1), M_g, t, EPS64).item() for t in (1, 2, 3)]
    # buffer_t = M_g (1 + mu + ... + mu^(t-1)) = 4, 6, 7; step scale lr * buffer = 2, 3, 3.5
    assert steps == pytest.approx([2.0, 3.0, 3.5], **EXACT), f"SGD momentum step scales {steps}"


def test_adam_step_scale_with_a_constant_gradient_over_eight_steps():
    # A constant gradient g with a constant magnitude M: m_hat = g and v_hat = g^2 at every t (the bias
    # corrections undo the zero start exactly), and the magnitude recursions give M_m_hat = M and
    # M_root = M. So each step's scale is lr (12 + M / |g| + M / |g|) (eps 1e-8 next to |g| = 2: 5e-9
    # relative). Eight steps reach b1^t < 0.5, where 1 % b1^t stops being 1 - b1^t.
    opt = OptimizerConfig(name="adam", learning_rate=0.01)
    state: dict = {}
    g, M_g = np.array([2.0]), np.array([3.0])
    scales = [error_scale._step_scale(opt, state, g, M_g, t, EPS64).item() for t in range(1, 9)]
    assert scales == pytest.approx([0.01 * 15.0] * 8, rel=1e-8), f"Adam step scales {scales}"


def test_identical_infinities_have_no_absolute_error_either():
    result = compare("forward", "float64", "torch", np.array([np.inf]), np.array([np.inf]))
    assert result.passed and result.max_abs_error == 0.0, f"same inf: max_abs_error {result.max_abs_error}"


def test_jax_float32_rows_describe_float32_rounding():
    from equivalence_tests.tolerances import _F32, _F64, TOLERANCES

    for quantity in ("forward", "cost", "gradient", "updated_params"):
        reason = TOLERANCES[(quantity, "float32", "jax")].reason
        assert reason.startswith(_F32) and not reason.startswith(_F64), f"jax float32 {quantity}: {reason[:60]}"
        assert TOLERANCES[(quantity, "float64", "jax")].reason.startswith(_F64), f"jax float64 {quantity}"


def test_op_row_overrides_only_ever_loosen(monkeypatch):
    from equivalence_tests import ops
    from equivalence_tests.tolerances import tolerance_for

    config = ModelConfig((2, 1), ("tanh",), "mse")
    base = tolerance_for("gradient", "float32", "torch/functional", config)
    tighter = ops.ToleranceOverride(None, "torch", "float32", base.rtol / 10, "tighter: must be ignored")
    looser = ops.ToleranceOverride(None, "torch", "float32", base.rtol * 10, "looser: applies")
    same = ops.ToleranceOverride(None, "torch", "float32", base.rtol, "the same rtol: changes nothing")
    for override, expected in ((tighter, base), (looser, None), (same, base)):
        row = type("Row", (), {"name": "planted", "tolerance_overrides": (override,)})()
        monkeypatch.setattr(ops, "ops_in", lambda config, row=row: (row,))
        got = tolerance_for("gradient", "float32", "torch/functional", config)
        if expected is None:
            assert got.rtol == base.rtol * 10 and "looser: applies" in got.reason, f"{override.reason}: {got}"
        else:  # the table's own row, with its own reason: an override that does not loosen is not named
            assert got == expected, f"{override.reason}: {got}, expected {expected}"


# ------------------------------------------ survivors of `mutation.mutants tolerances --seed 20261213`
def test_softmax_normalizes_each_column_and_its_scale_by_hand():
    Z = np.array([[0.0, 1.0], [2.0, 0.0]])  # samples in columns: each column is one softmax
    A, R_A, slope, R_slope = error_scale._activation("softmax", Z, np.array([[2.0, 0.0], [4.0, 0.0]]), 0.01)
    e = math.e
    expected = [[1 / (1 + e**2), e / (e + 1)], [e**2 / (1 + e**2), 1 / (e + 1)]]
    assert A == pytest.approx(np.array(expected), **EXACT), f"softmax over columns {A}"
    assert slope is None and R_slope is None, "softmax has no element-wise derivative"
    # column 0: R_A = A (1 + R_Z + sum_k A_k R_Z,k), sum = 2 A_0 + 4 A_1; column 1: R_Z = 0, R_A = A
    s = 2 * expected[0][0] + 4 * expected[1][0]
    assert R_A[:, 0] == pytest.approx([expected[0][0] * (3 + s), expected[1][0] * (5 + s)], **EXACT), R_A
    assert R_A[:, 1] == pytest.approx([expected[0][1], expected[1][1]], **EXACT), R_A


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "elu", "selu", "softplus", "silu"])
def test_every_element_wise_activation_has_a_slope(name):
    # an element-wise activation returns g'(Z) (softmax alone returns None): a name sorted after "softmax"
    # (softplus, silu ...) must not take softmax's branch
    Z = np.array([[-0.5, 0.7], [1.2, -2.0]])
    A, _, slope, R_slope = error_scale._activation(name, Z, np.zeros_like(Z), 0.01)
    import reference_nn as rn

    assert A == pytest.approx(rn.get_activation(name).forward(Z), rel=1e-12), f"{name} value"
    assert slope is not None and slope.shape == Z.shape and R_slope is not None, f"{name}: no element-wise slope"


def test_cross_entropy_gradient_by_hand():
    AL = np.array([[0.5, 0.25], [0.5, 0.75]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    _, _, dAL, R_dAL = error_scale._loss("cross_entropy", AL, np.zeros_like(AL), Y, EPS64)
    # dAL = -Y / (AL m), m = 2: [[-1, 0], [0, -2/3]]; exact AL: R = |Y| / AL / m, the same magnitudes
    assert dAL == pytest.approx(np.array([[-1.0, 0.0], [0.0, -2 / 3]]), **EXACT), f"cross-entropy dAL {dAL}"
    assert R_dAL == pytest.approx(np.array([[1.0, 0.0], [0.0, 2 / 3]]), **EXACT), f"cross-entropy R_dAL {R_dAL}"


def test_softmax_cross_entropy_scales_with_uncertain_logits_by_hand():
    Z, Y, R_Z = np.array([[0.0], [0.0]]), np.array([[1.0], [0.0]]), np.array([[2.0], [4.0]])
    _, R_cost, _, R_dAL = error_scale._loss("softmax_cross_entropy", Z, R_Z, Y, EPS64)
    # p = [0.5, 0.5], log-sum log 2, spread = sum p R_Z = 3; R_log_softmax = |Z| + |top| + |log sum| + R_Z + spread;
    # the cost reads the label's class only: log 2 + 2 + 3
    assert R_cost == pytest.approx(math.log(2) + 5, **EXACT), f"softmax CE R_cost {R_cost}"
    # R_dAL = (|p - y| + p (1 + R_Z + spread)) / m = [0.5 + 0.5 * 6, 0.5 + 0.5 * 8]
    assert R_dAL.ravel().tolist() == pytest.approx([3.5, 4.5], **EXACT), f"softmax CE R_dAL {R_dAL}"


def test_forward_scale_of_an_affine_layer_counts_the_bias_by_hand():
    config = ModelConfig((2, 1), ("identity",), "mse")
    params = {"W1": np.array([[0.5, -2.0]]), "b1": np.array([[-3.0]])}
    X, Y = np.array([[1.0], [1.0]]), np.array([[0.0]])
    _, M_forward, _, _, _ = error_scale.gradient_scales(config, params, X, Y)
    # Z = 0.5 - 2 - 3 = -4.5; R_Z = |W| |X| + |b| = 2.5 + 3; identity rounds nothing; M = R + |A| = 5.5 + 4.5
    assert M_forward.item() == pytest.approx(10.0, **EXACT), f"forward magnitude {M_forward.item()} != 10"


def test_a_dead_units_gradient_magnitude_is_the_underflow_floor():
    # relu unit 1 is dead (Z < 0): its row of dW1 has no error at all but the flush-to-zero allowance tiny / eps
    config = ModelConfig((2, 2, 1), ("relu", "identity"), "mse", dtype="float32")
    params = {"W1": np.array([[1.0, 0.5], [-1.0, -0.5]]), "b1": np.zeros((2, 1)),
              "W2": np.array([[1.0, 1.0]]), "b2": np.zeros((1, 1))}
    X, Y = np.array([[1.0], [2.0]]), np.array([[0.5]])
    floor = float(np.finfo(np.float32).tiny / np.finfo(np.float32).eps)
    for scales in (error_scale.gradient_error_scales(config, params, X, Y),
                   error_scale.error_scales(config, params, X, Y).gradients):
        assert scales["W1"][1].tolist() == [floor, floor], f"dead unit's row {scales['W1'][1]} != tiny / eps {floor}"
        assert np.all(scales["W1"][0] > floor), "the live unit's row is above the floor"


def test_the_rms_floor_of_relative_errors_is_the_larger_sides():
    from equivalence_tests.tolerances import normalized_errors

    r, c = np.array([10.0, 1.0]), np.array([0.0, 0.0])
    for reference, candidate in ((r, c), (c, r)):
        errors, _ = normalized_errors(reference, candidate)
        # element 1 is off by 1 against a denominator of max(|r|, |c|, RMS of either side) = sqrt(50.5)
        assert errors[1] == pytest.approx(1 / math.sqrt(50.5), **EXACT), f"element 1: {errors[1]}"


def test_measured_note_states_eps_units():
    from equivalence_tests.tolerances import EPS, _measured_note

    key = next(iter(MEASURED_SCALED))
    measured = MEASURED_SCALED[key]
    note = _measured_note(*key, rtol=32 * EPS[key[1]])
    assert f"({measured / EPS[key[1]]:.2g} eps)" in note and f"margin {32 * EPS[key[1]] / measured:.0f}x" in note, note
