"""reference_nn.special: the NumPy error function against the standard library's, over a grid, and
its complex-step derivative (the reason it is written as analytic pieces)."""

import math

import numpy as np
import pytest

from reference_nn.special import erf, erfc, normal_cdf, normal_pdf

ULP = float(np.finfo(np.float64).eps)


@pytest.mark.parametrize(("low", "high", "points"), [(-26.0, 26.0, 20001), (-3.0, 3.0, 2001), (-1e-3, 1e-3, 101)])
def test_erf_and_erfc_match_math_over_a_grid(low, high, points):
    x = np.linspace(low, high, points)
    expected_erf = np.array([math.erf(v) for v in x])
    expected_erfc = np.array([math.erfc(v) for v in x])
    erf_error = np.abs(erf(x) - expected_erf) / np.maximum(np.abs(expected_erf), 1e-300)
    # 6 ulp: the documented bound (measured 4.4 ulp; math.erf itself is within ~1 ulp).
    assert erf_error.max() <= 6 * ULP, f"erf off by {erf_error.max() / ULP:.2f} ulp at x={x[erf_error.argmax()]}"
    normal = expected_erfc > 1e-290  # subnormal results carry fewer digits in both implementations
    erfc_error = np.abs(erfc(x) - expected_erfc)[normal] / expected_erfc[normal]
    # 2e-14: the documented bound (1 - erf below |x| = 1.5 loses at most 1/erfc(1.5) = 30x to cancellation).
    assert erfc_error.max() <= 2e-14, f"erfc relative error {erfc_error.max():.3g}"


def test_normal_cdf_is_accurate_in_the_left_tail():
    x = np.linspace(-30.0, 8.0, 1001)
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    normal = expected > 1e-290
    error = np.abs(normal_cdf(x) - expected)[normal] / expected[normal]
    # erfc's own 2e-14, plus 4 x^2 ulp: rounding x / sqrt(2) (here and in the expected value) costs 2 u^2 = x^2
    # ulp of relative error each; 3600 ulp = 8e-13 at x = -30.
    bound = 2e-14 + 4 * x[normal] ** 2 * ULP
    worst = int(np.argmax(error / bound))
    assert (error <= bound).all(), f"normal_cdf relative error {error[worst]:.3g} at x={x[normal][worst]}"


def test_complex_step_through_erf_gives_its_derivative():
    x = np.array([-5.0, -1.5, -1.2, 0.0, 0.3, 1.49, 1.5, 1.51, 4.0])  # both sides of the series limit
    h = 1e-20
    derivative = erf(x + 1j * h).imag / h
    expected = 2 / math.sqrt(math.pi) * np.exp(-x * x)
    # 32 ulp: the derivative is carried through up to 48 series terms or 110 fraction levels, each adding a
    # rounding to the imaginary part (measured 20 ulp at x = -1.2).
    np.testing.assert_allclose(derivative, expected, rtol=32 * ULP, atol=0,
                               err_msg="d erf / dx by complex step must equal 2/sqrt(pi) exp(-x^2)")
    cdf_slope = normal_cdf(x + 1j * h).imag / h
    np.testing.assert_allclose(cdf_slope, normal_pdf(x), rtol=32 * ULP, atol=0, err_msg="Phi' must be phi")


def test_float32_in_float32_out_and_correctly_rounded():
    x = np.linspace(-4, 4, 101, dtype=np.float32)
    result = erf(x)
    assert result.dtype == np.float32, f"erf of float32 must be float32, got {result.dtype}"
    expected = np.array([math.erf(float(v)) for v in x], dtype=np.float32)  # math.erf rounded once
    assert np.abs(result.astype(np.float64) - expected).max() <= np.finfo(np.float32).eps, "float32 erf off by > 1 ulp"
