"""Accuracy of each numerical method on analytic functions with known derivatives, float64, and its
cost in evaluations of f per parameter element.

Measured on this machine (max relative error over the elements, numbers printed by -s):
  complex     3.3e-16  (the bar: 1e-14)
  richardson  6.4e-12  (the bar: 1e-10)
  central     1.3e-08  (the bar: 1e-7; its error is ~eps^(2/3) = 4e-11 times the third derivative's
                        scale, relative to the smallest first derivative of the test function)
Cost per element: complex 1, central 2, richardson 12 (+2 where it falls back to central).
"""

import numpy as np
import pytest

from reference_nn.gradcheck import central_difference, complex_step, numerical_gradient, richardson
from reference_nn.gradcheck.evaluation import LossEvaluator


def analytic_case():
    """f(x, y) = sum(exp(sin(x)) * y^3) + log(1 + x^2) . y with its exact gradient."""
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-2, 2, (3, 4)), rng.uniform(0.5, 2, (3, 4))

    def f(p):
        x, y = p["x"], p["y"]
        return np.sum(np.exp(np.sin(x)) * y**3) + np.sum(np.log(1 + x**2) * y)

    def exact(p):
        x, y = p["x"], p["y"]
        dx = np.cos(x) * np.exp(np.sin(x)) * y**3 + 2 * x / (1 + x**2) * y
        dy = 3 * np.exp(np.sin(x)) * y**2 + np.log(1 + x**2)
        return {"x": dx, "y": dy}

    return f, exact, {"x": x, "y": y}


def max_relative_error(numeric, exact):
    return max(float(np.max(np.abs(numeric[k] - exact[k]) / np.abs(exact[k]))) for k in exact)


@pytest.mark.parametrize(
    "method, bar",
    [
        ("complex", 1e-14),  # the bar; no subtraction, a few ulps (measured 3.3e-16)
        ("richardson", 1e-10),  # the bar; extrapolation to h^10 (measured 6.4e-12)
        ("central", 1e-7),  # eps^(2/3) ~ 4e-11 times derivative ratios (measured 1.3e-8)
    ],
)
def test_accuracy_on_an_analytic_function(method, bar):
    f, exact, params = analytic_case()
    numeric = numerical_gradient(f, params, method=method)
    error = max_relative_error(numeric, exact(params))
    print(f"{method}: max relative error {error:.1e}")
    assert error < bar


@pytest.mark.parametrize(
    "function, derivative",
    [
        (np.exp, np.exp),
        (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        (lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
        (lambda x: x**5 - 3 * x, lambda x: 5 * x**4 - 3),
    ],
)
def test_complex_and_richardson_on_scalar_functions(function, derivative):
    x = np.linspace(-1.5, 1.5, 7)
    params = {"x": x}
    exact = derivative(x)
    f = lambda p: np.sum(function(p["x"]))  # noqa: E731
    for method, bar in (("complex", 1e-14), ("richardson", 1e-10)):  # the bars
        numeric = numerical_gradient(f, params, method=method)["x"]
        assert np.max(np.abs(numeric - exact) / np.maximum(np.abs(exact), 1e-300)) < bar, method


@pytest.mark.parametrize(
    "estimator, per_element",
    [(complex_step, 1), (central_difference, 2), (richardson, 12)],  # evaluations of f per element
)
def test_cost_in_evaluations_per_element(estimator, per_element):
    f, _, params = analytic_case()
    ev = LossEvaluator(f, params, np.float64)
    before = ev.count
    estimate = estimator(ev, "x")
    assert ev.count - before == per_element * params["x"].size
    assert np.all(np.isfinite(estimate.errors))


def test_richardson_error_estimate_bounds_its_actual_error():
    f, exact, params = analytic_case()
    ev = LossEvaluator(f, params, np.float64)
    estimate = richardson(ev, "x")
    actual = np.abs(estimate.values - exact(params)["x"].reshape(-1))
    assert np.all(actual <= 4 * estimate.errors)  # 4 = ESTIMATE_SAFETY, the factor the verdict uses
