"""The Taylor remainder test (slope ~2 right, ~1 wrong, whatever the step) and kink handling."""

import numpy as np
import pytest

from reference_nn.gradcheck import check_gradients, one_sided_differences, taylor_test
from reference_nn.gradcheck.evaluation import LossEvaluator


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
    assert result.status == "pass"
    assert result.slope == pytest.approx(2.0, abs=0.1)  # the h^2 remainder, fitted over a decade


@pytest.mark.parametrize("relative_error", [1e-2, 1e-4, 1e-5])
def test_wrong_gradient_has_slope_one(relative_error):
    f, grad, params = smooth_case()
    report = taylor_test(f, lambda p: {"x": grad(p)["x"] * (1 + relative_error)}, params)
    result = report.results["x"]
    assert not report.passed and result.status == "fail"
    assert result.slope == pytest.approx(1.0, abs=0.25)  # linear at small h; near the crossover (1e-5) ~1.15
    assert "remainder shrinks linearly" in str(report)


def test_taylor_at_a_kink_is_inconclusive():
    params = {"x": np.array([0.0, 0.0, 0.0])}  # every ReLU exactly at its kink

    def f(p):
        return np.sum(np.where(p["x"].real > 0, p["x"], 0.0) * np.array([1.0, 2.0, 3.0]))

    report = taylor_test(f, lambda p: {"x": np.zeros(3)}, params)  # ReLU'(0) = 0, a valid convention
    assert report.passed and report.inconclusive


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
    assert report.passed
    if convention != 0.0:  # 0 is exactly the central difference there: it simply passes
        assert report["x"].inconclusive_indices == [(0,)]


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
        assert report.passed and report.inconclusive, str(report)
