"""Pins of the numerical estimators' arithmetic (numerical.py) against independently derived values.

* Ridders' tableau: central differences D(h) = f' + a h^2 + b h^4 at steps halving per level are
  extrapolated exactly by T[j, k] = (4^k T[j, k-1] - T[j-1, k-1]) / (4^k - 1) (the h^2 term at k = 1,
  h^4 at k = 2), and an entry's error is floored by twice the rounding of its level.
* Complex step: Im f(x + i h) / h with h = 1e-20 max(1, |x|) in float64 (1e-10 in float32), bound
  100 eps |value|.
* Richardson on a real loss: h0 = 2^floor(log2(2^-4 max(1, |x|))), halved 5 times; rounding per level
  10 eps |f| / h_j.
* The loss-resolution floor: 100 ulps of the gradient dtype times |f| / max(1, |x|).
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, check_gradients
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.numerical import complex_step, richardson, ridders_tableau

EPS64 = np.finfo(np.float64).eps


def test_the_tableau_cancels_h2_and_h4_terms_exactly():
    h0 = np.array([2.0**-4, 2.0**-3])
    steps = h0[None, :] / 2.0 ** np.arange(6)[:, None]
    slope, a, b = np.array([0.75, -1.5]), np.array([3.0, -2.0]), np.array([5.0, 7.0])
    diffs = slope + a * steps**2 + b * steps**4
    values, errors, _ = ridders_tableau(diffs, steps, np.zeros_like(steps))
    assert np.allclose(values, slope, rtol=1e-13, atol=0), f"extrapolated {values} vs {slope}"
    assert np.all(errors < 1e-12), f"error estimates {errors} of an exactly extrapolated series"


def test_the_tableau_error_is_floored_by_twice_the_rounding_of_its_level():
    """The floor is 2x the level's rounding on the stated bound E = ESTIMATE_SAFETY x error (issue 21:
    the safety factor is no longer applied to the rounding floor a second time): error = 2 x / 4."""
    steps = (2.0**-4 / 2.0 ** np.arange(6))[:, None]
    diffs = np.full((6, 1), 0.5)  # exact at every level: only the rounding floor remains
    rounding = np.array([1e-9, 2e-9, 4e-9, 8e-9, 1.6e-8, 3.2e-8])[:, None]
    values, errors, best = ridders_tableau(diffs, steps, rounding)
    # the best entry is at level 1 (the smallest floor among entries, which start at level 1): 2 x 2e-9 / 4
    assert values[0] == 0.5 and errors[0] == pytest.approx(1e-9, rel=1e-12), f"value {values}, error {errors}"
    assert best[0] == steps[1, 0], f"step of the best entry {best} (level 1: {steps[1, 0]})"


def test_the_tableau_error_is_the_larger_change_from_its_parents():
    steps = (2.0**-4 / 2.0 ** np.arange(2))[:, None]
    diffs = np.array([[1.0], [1.3]])  # T[1,1] = (4 * 1.3 - 1) / 3 = 1.4: changes 0.1 and 0.4 from its parents
    values, errors, _ = ridders_tableau(diffs, steps, np.zeros_like(steps))
    assert values[0] == pytest.approx(1.4, rel=1e-14) and errors[0] == pytest.approx(0.4, rel=1e-13), (
        f"value {values}, error {errors}")


@pytest.mark.parametrize("dtype, step", [(np.float64, 1e-20), (np.float32, 1e-10)])
def test_complex_step_values_steps_and_bound(dtype, step):
    x = np.array([0.5, -3.0, 20.0])

    def f(p):
        return np.sum(np.sin(p["w"]) * p["w"])

    ev = LossEvaluator(f, {"w": x.astype(dtype)}, dtype)
    estimate = complex_step(ev, "w")
    xs = x.astype(dtype).astype(np.float64)
    exact = np.cos(xs) * xs + np.sin(xs)
    assert np.allclose(estimate.steps, step * np.maximum(1.0, np.abs(xs)), rtol=1e-15), f"steps {estimate.steps}"
    assert np.allclose(estimate.values, exact, rtol=50 * np.finfo(dtype).eps), f"{estimate.values} vs {exact}"
    bound = 100 * np.finfo(dtype).eps * np.abs(estimate.values)
    assert np.allclose(estimate.errors, bound, rtol=1e-12), f"bound {estimate.errors} vs 100 eps |value| {bound}"


def test_richardson_steps_and_rounding_of_a_loss_with_a_large_size():
    """A quadratic f is extrapolated exactly at level 1; what is left is the rounding floor,
    2 x 10 eps S / h_1 / 4 with h_1 = h0 / 2, h0 = 2^floor(log2(2^-4 max(1, |x|))). With S = 1e6 the floor
    is ~1e-7, far above the extrapolation's own change (~1e-16)."""
    x = np.array([0.3, 5.0])
    size = 1e6

    def f(p):
        return np.sum(p["w"] ** 2)

    ev = LossEvaluator(f, {"w": x.copy()}, np.float64, f_scale=size)
    estimate = richardson(ev, "w")
    h0 = 2.0 ** np.floor(np.log2(2.0**-4 * np.maximum(1.0, np.abs(x))))
    assert np.allclose(estimate.values, 2 * x, rtol=1e-12), f"values {estimate.values}"
    assert np.allclose(estimate.steps, h0 / 2, rtol=0), f"steps {estimate.steps} vs h0 / 2 {h0 / 2}"
    # 2 x 10 eps S / h_1, over ESTIMATE_SAFETY (4): E = 4 x error is the floor (issue 21)
    assert np.allclose(estimate.errors, 2 * 10 * EPS64 * size / (h0 / 2) / 4, rtol=1e-9), f"bounds {estimate.errors}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_loss_resolution_floor_is_100_ulps_of_the_loss(dtype):
    """floor = 100 eps(dtype) |f| / max(1, |x|): with |f| = 1e4 the floor dominates the element
    tolerance of a gradient of 1 in float64 (2.2e-10 vs 1.5e-8: no), so the pin is on the function itself,
    and on its effect in float32, where 100 ulps of 1e2 = 1.2e-3 is the tolerance a planted error meets."""
    x = np.array([0.5, -4.0])
    floor = tol.loss_resolution_floor(dtype, 1e4, x, dtype)
    expected = 100 * np.finfo(dtype).eps * 1e4 / np.maximum(1.0, np.abs(x))
    assert np.allclose(floor, expected, rtol=1e-12), f"floor {floor} vs {expected}"


def test_the_loss_resolution_floor_decides_a_float32_verdict():
    """float32 gradient of f = 100 + g . w (float32, complex step): T ~ 100 ulps of 100 = 1.2e-3 (plus
    rtol 3.5e-4): an error of 4e-3 FAILs (3x beyond), one of 4e-4 does not (3x within)."""
    g = np.array([1.0, -1.0, 0.5], dtype=np.float32)
    w = np.array([0.25, -0.5, 0.75], dtype=np.float32)

    def f(p):
        return np.float32(100.0) + np.sum(g * p["w"])

    def grad(planted):
        def grad_f(p):
            out = g.copy()
            out[1] += np.float32(planted)
            return {"w": out}

        return grad_f

    caught = check_gradients(f, grad(4e-3), {"w": w.copy()})
    assert caught.verdict == FAIL, f"4e-3 planted\n{caught}"
    within = check_gradients(f, grad(4e-4), {"w": w.copy()})
    assert within.verdict != FAIL, f"4e-4 planted\n{within}"


def _probe_with_real_estimates(monkeypatch, real_values, real_errors):
    """complex_step_support on f = sum(c w) (complex step exact: c . v) with the real differences scripted:
    the first Richardson and each smaller-step one return (value, error) from the lists in turn."""
    from reference_nn.gradcheck import numerical
    from reference_nn.gradcheck.numerical import Estimate, complex_step_support

    c = np.array([1.0, 2.0, -0.5])
    ev = LossEvaluator(lambda p: np.sum(c * p["w"]), {"w": np.array([0.3, -0.2, 0.7])}, np.float64)
    answers = iter(zip(real_values, real_errors, strict=True))

    def scripted(*args, **kwargs):
        value, error = next(answers)
        return Estimate(np.float64(value), np.float64(error), np.float64(1e-3), "richardson")

    monkeypatch.setattr(numerical, "directional_derivative", scripted)
    direction = np.array([1.0, 1.0, 1.0])  # c . v = 2.5
    return ev, complex_step_support(ev, "w", direction)


@pytest.mark.parametrize("factor, agreed", [(1.001, True), (0.999, False)])
def test_complex_step_agrees_with_real_differences_within_ten_of_their_error_bounds(monkeypatch, factor, agreed):
    # complex step gives 2.5; real differences 2.5 + 1e-2 with a bound E: agreement within 10 E + 1e-6 x the
    # larger value, so E = factor x (1e-2 - 1e-6 x 2.51) / 10 agrees just above factor 1 and not just below
    real = 2.5 + 1e-2
    bound = factor * (1e-2 - 1e-6 * real) / 10
    ev, (reason, impossible) = _probe_with_real_estimates(monkeypatch, [real] * 4, [bound] * 4)
    assert (reason is None) == agreed and not impossible, f"E at {factor} of the limit: {reason!r}"
    if agreed:
        # the window kept for elements whose imaginary part is exactly 0: 10 E + 1e-6 x the larger value
        expected = 10 * bound + 1e-6 * real
        assert ev.complex_probe["w"][0] == pytest.approx(expected, rel=1e-12), ev.complex_probe["w"]
