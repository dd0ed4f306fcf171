"""Pins of reference_nn.gradcheck.tolerances' functions by the values their docstrings derive (each
computed here from eps, not read back from the module): steps, rounding models, allowances, floors and
the overflow-safe norms every verdict is scaled by.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import tolerances as tol

E64, E32, E16 = float(np.finfo(np.float64).eps), float(np.finfo(np.float32).eps), float(np.finfo(np.float16).eps)


def test_eps():
    assert (tol.eps(np.float64), tol.eps(np.float32), tol.eps(np.float16)) == (E64, E32, E16), "np.finfo's eps"


@pytest.mark.parametrize("dtype, e", [(np.float64, E64), (np.float32, E32)])
def test_central_step_is_the_power_of_two_at_or_below_cube_root_eps_times_s(dtype, e):
    x = np.array([0.0, 0.5, -1.0, 3.0, -1e3])
    h = tol.central_step(x, dtype)
    target = e ** (1 / 3) * np.maximum(1.0, np.abs(x))
    assert np.all(h <= target) and np.all(h > target / 2), f"{dtype}: {h} vs {target}"
    assert np.array_equal(np.exp2(np.round(np.log2(h))), h), f"{dtype}: powers of two: {h}"
    assert h[0] == h[1] == h[2], "s = max(1, |x|): the same step for |x| <= 1"


def test_richardson_first_steps_and_complex_steps():
    assert tol.richardson_first_step(np.float64) == 2.0**-4, "float64 starts at 2^-4 s"
    assert tol.richardson_first_step(np.float32) == 2.0**-3, "float32: 2^-3 s"
    assert tol.richardson_first_step(np.float16) == 2.0**-2, "float16: 2^-2 s"
    assert tol.RICHARDSON_LEVELS == 6, "six levels: 12 evaluations per element"
    assert tol.complex_step_size(np.float64) == 1e-20 and tol.complex_step_size(np.float32) == 1e-10, "h^2 << eps"


def test_rounding_error_is_ten_ulps_in_float64_and_three_in_coarser_precisions():
    steps = np.array([1e-3, 1e-5])
    assert np.allclose(tol.rounding_error(2.0, steps, np.float64), 10 * E64 * 2.0 / steps, rtol=1e-15, atol=0), (
        "float64"
    )
    assert np.allclose(tol.rounding_error(2.0, steps, np.float32), 3 * E32 * 2.0 / steps, rtol=1e-15, atol=0), "float32"
    assert np.allclose(tol.rounding_error(2.0, steps, np.float16), 3 * E16 * 2.0 / steps, rtol=1e-15, atol=0), "float16"


def test_rtols():
    assert tol.analytic_rtol(np.float64) == pytest.approx(np.sqrt(E64), rel=1e-15), "sqrt(eps64)"
    assert tol.analytic_rtol(np.float32) == pytest.approx(np.sqrt(E32), rel=1e-15), "sqrt(eps32)"
    assert tol.method_rtol("central", np.float64) == pytest.approx(E64 ** (1 / 3), rel=1e-15), "eps^(1/3)"
    assert tol.method_rtol("richardson", np.float64) == pytest.approx(100 * E64, rel=1e-15), "100 eps"
    assert tol.method_rtol("complex", np.float32) == pytest.approx(100 * E32, rel=1e-15), "100 eps"
    assert tol.default_rtol(np.float64, "central", np.float64) == tol.method_rtol("central", np.float64), "larger"
    assert tol.default_rtol(np.float32, "richardson", np.float64) == tol.analytic_rtol(np.float32), "larger"
    with pytest.raises(KeyError):
        tol.method_rtol("forward", np.float64)


def test_loss_resolution_floor():
    x = np.array([0.5, -4.0])
    s = np.array([1.0, 4.0])
    got = tol.loss_resolution_floor(np.float64, 0.01, x, np.float64)
    assert np.allclose(got, 100 * E64 * 0.01 / s, rtol=1e-15, atol=0), f"100 ulps of f over s: {got}"
    got = tol.loss_resolution_floor(np.float32, 0.01, x, np.float64)
    assert np.allclose(got, 100 * E32 * 1.0 / s, rtol=1e-15, atol=0), (
        f"float32 gradient, float64 f: f_scale >= 1: {got}"
    )
    got = tol.loss_resolution_floor(np.float32, 0.01, x, np.float32)
    assert np.allclose(got, 100 * E32 * 0.01 / s, rtol=1e-15, atol=0), f"float32 f: its own f_scale: {got}"


def test_allowances_and_floors_of_the_largest_rms():
    assert tol.verification_allowance(np.float32, 3.0) == pytest.approx(np.sqrt(E32) * 3.0, rel=1e-15), "sqrt(eps) G"
    assert tol.cross_tensor_floor(np.float32, 3.0) == pytest.approx(1000 * E32 * 3.0, rel=1e-15), "1000 ulps of G"
    a, n = np.array([2.0, 0.0]), np.array([2.0, 0.1])
    rms = np.sqrt((4 + 0.01) / 2)  # the larger RMS of a (sqrt(2)) and n: n's
    got = tol.element_tolerance(a, n, np.array([1e-3, 2e-3]), 1e-2, 1e-4)
    assert np.allclose(got, 1e-4 + 1e-2 * np.array([2.0, rms]) + 4 * np.array([1e-3, 2e-3]), rtol=1e-14, atol=0), got


def test_element_scale_over_finite_values_without_overflow():
    a = np.array([3.0, 0.0, np.inf, -1.0])
    n = np.array([2.0, 0.5, 1.0, np.nan])
    rms_a, rms_n = np.sqrt((9 + 0 + 0 + 1) / 4), np.sqrt((4 + 0.25 + 1 + 0) / 4)
    expected = np.maximum(np.maximum([3.0, 0.0, 0.0, 1.0], [2.0, 0.5, 1.0, 0.0]), max(rms_a, rms_n))
    assert np.allclose(tol.element_scale(a, n), expected, rtol=1e-15, atol=0), tol.element_scale(a, n)
    big = tol.element_scale(np.array([1e200, 1.0]), np.array([1e200, 1.0]))
    assert np.all(np.isfinite(big)) and big[0] == 1e200, f"no overflow: {big}"


def test_finite_rms_and_norm():
    assert tol.finite_rms(np.array([3.0, -4.0])) == pytest.approx(np.sqrt(12.5), rel=1e-15), "rms"
    assert tol.finite_rms(np.array([3.0, np.inf])) == pytest.approx(np.sqrt(4.5), rel=1e-15), "inf counts as 0"
    assert tol.finite_rms(np.zeros(0)) == 0.0 and tol.finite_rms(np.zeros(3)) == 0.0, "empty, zeros"
    assert tol.finite_rms(np.array([1e300, 1e300])) == pytest.approx(1e300, rel=1e-15), "no overflow"
    assert tol.finite_norm(np.array([3.0, -4.0])) == pytest.approx(5.0, rel=1e-15), "norm"
    assert tol.finite_norm(np.zeros(0)) == 0.0, "empty"
