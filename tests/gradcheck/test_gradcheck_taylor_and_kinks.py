"""The Taylor remainder test (slope ~2 right, ~1 wrong, whatever the step) and kink handling."""

import numpy as np
import pytest
from gradcheck_nets import ClassicNet

from reference_nn.gradcheck import check_gradients, one_sided_differences, taylor_test
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.kinks import nearby_slopes


def smooth_case():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((4, 4))
    params = {"x": rng.standard_normal(4)}

    def f(p):
        return np.sum(np.tanh(A @ p["x"]) ** 2)

    def grad(p):
        t = np.tanh(A @ p["x"])
        return {"x": A.T @ (2 * t * (1 - t**2))}

    return f, grad, params


def test_right_gradient_has_slope_two():
    f, grad, params = smooth_case()
    result = taylor_test(f, grad, params).results["x"]
    assert result.status == "PASS"
    assert result.slope == pytest.approx(2.0, abs=0.1)  # the h^2 remainder, fitted over a decade


@pytest.mark.parametrize("relative_error", [1e-2, 1e-4, 1e-5])
def test_wrong_gradient_has_slope_one(relative_error):
    f, grad, params = smooth_case()
    report = taylor_test(f, lambda p: {"x": grad(p)["x"] * (1 + relative_error)}, params)
    result = report.results["x"]
    assert not report.passed and result.status == "FAIL"
    assert result.slope == pytest.approx(1.0, abs=0.25)  # linear at small h; near the crossover (1e-5) ~1.15
    assert "remainder shrinks linearly" in str(report)


def test_taylor_at_a_kink_is_inconclusive():
    params = {"x": np.array([0.0, 0.0, 0.0])}  # every ReLU exactly at its kink

    def f(p):
        return np.sum(np.where(p["x"].real > 0, p["x"], 0.0) * np.array([1.0, 2.0, 3.0]))

    report = taylor_test(f, lambda p: {"x": np.zeros(3)}, params)  # ReLU'(0) = 0, a valid convention
    assert report.inconclusive


def test_one_sided_differences_see_the_jump_of_abs():
    ev = LossEvaluator(lambda p: float(np.sum(np.abs(p["x"]))), {"x": np.array([0.0, 1.0])}, np.float64)
    sides = one_sided_differences(ev, "x", 0)
    np.testing.assert_allclose(sides.forward, 1.0)
    np.testing.assert_allclose(sides.backward, -1.0)


@pytest.mark.parametrize("convention", [0.0, 0.5, 1.0, -1.0])  # d|x|/dx at 0: any value in [-1, 1] is fine
def test_abs_at_zero_is_inconclusive_for_any_subgradient(convention):
    params = {"x": np.array([0.0, 2.0, -1.0])}
    report = check_gradients(
        lambda p: float(np.sum(np.abs(p["x"]))), lambda p: {"x": np.array([convention, 1, -1])}, params
    )
    if convention != 0.0:  # 0 is exactly the central difference there: it simply passes
        assert report.inconclusive and report["x"].inconclusive_indices == [(0,)], str(report)
        assert report["x"].inconclusive_reasons == {"at a kink": 1}, str(report)
    else:
        assert report.passed, str(report)


def test_analytic_value_outside_the_one_sided_range_fails_even_at_a_kink():
    params = {"x": np.array([0.0, 2.0])}
    report = check_gradients(lambda p: float(np.sum(np.abs(p["x"]))), lambda p: {"x": np.array([3.0, 1.0])}, params)
    assert not report.passed and report["x"].worst_index == (0,)
    assert "outside the one-sided slopes" in report["x"].note


def test_max_and_relu_kinks_do_not_cry_wolf():
    params = {"a": np.array([1.0, 1.0, 0.0]), "b": np.array([1.0, 0.5, 0.0])}

    def f(p):
        return float(np.sum(np.maximum(p["a"], p["b"]) + np.maximum(p["a"], 0.0)))

    def grad(p):  # ties go to "a", relu'(0) = 0: what NumPy-style code usually computes
        a_wins = p["a"] >= p["b"]
        return {"a": a_wins.astype(float) + (p["a"] > 0), "b": (~a_wins).astype(float)}

    for method in ("auto", "central", "richardson", "directional"):
        report = check_gradients(f, grad, params, method=method)
        assert report.inconclusive, str(report)


# Two ReLU units exactly at 0, moved by the shared weight w in opposite directions, with opposite
# output weights: f(w, b) = -relu(0.25 w + b0) + relu(-0.25 w + b1) at w = 2, b = (-0.5, 0.5).
# Along w alone f is linear (one unit switches on either way, each contributing slope -0.25), so
# the central and one-sided differences all say -0.25; the convention ReLU'(0) = 0 for both units
# says 0, the slope of the piece where both are off (reached by moving b, not w).
def _two_units_at_zero(p):
    z = np.array([0.25, -0.25]) * p["w"][0] + p["b"]
    return float(-max(z[0], 0.0) + max(z[1], 0.0))


TWO_UNITS_POINT = {"w": np.array([2.0]), "b": np.array([-0.5, 0.5])}


def _two_units_gradient(w_value):
    return lambda p: {"w": np.array([w_value]), "b": np.array([0.0, 0.0])}  # ReLU'(0) = 0 for both units


@pytest.mark.parametrize("method", ["central", "richardson", "auto"])
def test_relu_convention_at_two_coincident_kinks_is_inconclusive_not_failed(method):
    report = check_gradients(_two_units_at_zero, _two_units_gradient(0.0), TWO_UNITS_POINT, method=method)
    assert report.inconclusive and report["w"].status == "INCONCLUSIVE", str(report)
    assert "several kinks meet" in report["w"].note


@pytest.mark.parametrize("wrong", [0.3, -0.9])  # the pieces' slopes along w span [-0.5, 0]
def test_value_outside_every_piece_at_coincident_kinks_still_fails(wrong):
    report = check_gradients(_two_units_at_zero, _two_units_gradient(wrong), TWO_UNITS_POINT, method="central")
    assert not report.passed and report["w"].status == "FAIL", str(report)
    assert "outside every slope seen just off the point" in report["w"].note


def test_nearby_slopes_find_no_pieces_in_a_smooth_function():

    params = {"x": np.array([0.3, -1.2, 2.0]), "y": np.array([[0.5, 0.1]])}
    ev = LossEvaluator(lambda p: float(np.sum(np.sin(p["x"])) * np.sum(np.exp(p["y"]))), params, np.float64)
    for index in range(3):
        assert nearby_slopes(ev, "x", index, tolerance=1e-9).size == 0


def test_a_small_error_in_a_smooth_function_is_not_excused_by_nearby_slopes():
    params = {"x": np.array([0.3, -1.2, 2.0])}
    wrong = lambda p: {"x": np.cos(p["x"]) * (1 + 1e-4)}  # noqa: E731
    report = check_gradients(lambda p: float(np.sum(np.sin(p["x"]))), wrong, params, method="central")
    assert not report.passed and report["x"].n_inconclusive == 0, str(report)


def test_taylor_is_inconclusive_where_f_is_flat_to_the_last_bit():
    """A perfectly fitted bce-from-logits sample: softplus(z) - y z at z = 34.4, y = 1 is computed as
    exactly 0 (34.4 + 1.1e-15 rounds to 34.4), and stays 0 along +v. The right gradient (-1.1e-15)
    then leaves a remainder h |g.v| that is linear by construction: not evidence of a wrong gradient
    (Hypothesis found this; the Taylor test used to say FAIL)."""
    net = ClassicNet(X=np.array([[-0.80193143]]), Y=np.array([[1.0]]), hidden="sigmoid", output="bce")
    params = {"W1": np.array([[-7.45084866]]), "b1": np.array([[1.26133571]]), "W2": np.array([[34.08139597]]),
              "b2": np.array([[0.3291192]])}
    assert net.cost(params) == 0.0
    report = taylor_test(net.cost, net.grads, params)
    assert report.inconclusive and report.results["W2"].status == "INCONCLUSIVE", str(report)


def test_taylor_still_fails_a_gradient_for_a_parameter_f_ignores():
    params = {"x": np.array([0.5, -1.0]), "unused": np.array([2.0])}
    report = taylor_test(lambda p: float(np.sum(p["x"] ** 2)),
                         lambda p: {"x": 2 * p["x"], "unused": np.array([1e-3])}, params)
    assert not report.passed and report.results["unused"].status == "FAIL", str(report)
    assert report.results["x"].status == "PASS", str(report)
