"""Pins of the rounding model behind every central-difference verdict, by its effect.

The loss is linear, f(w) = g . w, so a central difference has no truncation error at all: what
separates PASS, INCONCLUSIVE and FAIL is only the rounding bound E of the estimate, which the
documented model (tolerances.py) makes

    E = ROUNDING_FACTOR eps S / h     (10 ulps of the loss's size S per evaluation in float64, 3 where f
                                       computes in float32 (issue 21: COARSE_ROUNDING_FACTOR), two
                                       evaluations, span 2h; S given through check_gradients(f_scale=S)),
    h = 2^floor(log2(eps^(1/3)))      (for |w| < 1: 2^-18 in float64, 2^-8 in float32),

and a verdict uses T + ESTIMATE_SAFETY E (safety 4) with T = eps^(1/3) |g| for the central method.
The constants below are written here from that documentation, not read from the code, and the
size S (f_scale: the size of the terms summed in f, as a user passes it) scales E to where each
boundary sits. Every window is at most 2.5x wide on each side, so a bound 2-4x looser or tighter
(``span / 2`` -> ``span * 2``, safety 4 -> 2 or 8, 10 ulps -> 40) fails a test.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_gradients
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.numerical import central_difference

# the documented rounding model: 10 ulps of |f| per evaluation in float64, 3 in float32 (measured
# |f32 - f64| <= 0.88 ulp; tolerances.COARSE_ROUNDING_FACTOR)
ULPS_PER_EVALUATION = {np.float64: 10.0, np.float32: 3.0}
CAP = 5e-3  # the documented cap (tolerances.VERIFIED_SHARE): |a - n| + 4 E within 0.5% of |g| verifies
SAFETY = 4.0  # the documented factor on a method's own error estimate
STEP = {np.float64: 2.0**-18, np.float32: 2.0**-8}  # eps^(1/3) rounded down to a power of two
W = np.array([0.3, -0.55, 0.7, 0.45])
G = np.array([1.0, -1.0, 1.0, -1.0])  # |g| = 1 everywhere: the RMS floor equals each element's scale


def linear_loss(dtype):
    def f(p):
        return np.sum(G.astype(dtype) * p["w"].astype(dtype))

    return f


def rounding_bound(size, dtype):
    """E of a central difference of linear_loss with f_scale = size, from the documented model alone."""
    return ULPS_PER_EVALUATION[dtype] * np.finfo(dtype).eps * size / STEP[dtype]


def gradient(planted=0.0):
    def grad_f(p):
        g = G.copy()
        g[2] += planted
        return {"w": g}

    return grad_f


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_central_difference_reports_the_documented_rounding_bound(dtype):
    size = 1e3
    ev = LossEvaluator(linear_loss(dtype), {"w": W.astype(dtype)}, dtype, f_scale=size)
    estimate = central_difference(ev, "w")
    expected = rounding_bound(size, dtype)
    assert np.allclose(estimate.steps, STEP[dtype], rtol=0), f"{dtype.__name__}: steps {estimate.steps}"
    # exact to rounding: a +-1 change of the 10 ulps (10%) or a 2x change of the span is far outside
    assert np.allclose(estimate.errors, expected, rtol=1e-6), (
        f"{dtype.__name__}: bound {estimate.errors} vs the documented ulps of |f| over h {expected:.3g}")
    # and the bound holds: the estimate of an exactly linear f is within it
    assert np.all(np.abs(estimate.values - G) <= estimate.errors), (
        f"{dtype.__name__}: error {np.abs(estimate.values - G)} beyond the bound {estimate.errors}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_error_of_six_bounds_fails_and_one_of_two_and_a_half_does_not(dtype):
    """ESTIMATE_SAFETY and the rounding bound: E dominates T here (C large), so a planted error of
    6 E is beyond T + 4 E (FAIL) and one of 2.5 E within it (not FAIL: unverifiable, INCONCLUSIVE).
    Safety 8 or a bound 2x looser passes the first; safety 2 or a bound 2x tighter fails the second."""
    size = 1e8 if dtype is np.float64 else 1e2
    bound = rounding_bound(size, dtype)
    tolerance = np.finfo(dtype).eps ** (1 / 3) + 100 * np.finfo(dtype).eps * size  # T: rtol + loss floor
    assert SAFETY * bound > 4 * tolerance, f"{dtype.__name__}: E {bound:.3g} must dominate T {tolerance:.3g}"
    params = {"w": W.astype(dtype)}
    f = linear_loss(dtype)
    wrong = check_gradients(f, gradient(6 * bound), params, method="central", f_scale=size)
    assert wrong.verdict == FAIL and wrong["w"].worst_index == (2,), f"{dtype.__name__}: 6 E planted\n{wrong}"
    within = check_gradients(f, gradient(2.5 * bound), params, method="central", f_scale=size)
    assert within.verdict == INCONCLUSIVE, f"{dtype.__name__}: 2.5 E planted is within T + 4 E\n{within}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_largest_rounding_a_central_difference_verifies_and_the_smallest_it_does_not(dtype):
    """A central element is verified only where what it proves, |a - n| + 4 E, is within the cap (0.5%
    of |g| = 1, issue 21); beyond it the checker re-estimates the element by Richardson from 2^-10 (and
    says so in the note). The size S with 4 E = cap / 2.5 is verified by the central difference itself;
    with 4 E = 2.5 cap it is re-estimated, and still PASSes in float64 (the gradient is right, and
    Richardson's steps are 2^8 larger); in float32 the central step 2^-8 is already larger than 2^-10,
    Richardson cannot do better, and the element is INCONCLUSIVE (error bound too large), never FAIL.
    A bound 2.5x looser re-estimates (or leaves unverified) the first, 2.5x tighter verifies the second
    by central."""
    unit = rounding_bound(1.0, dtype)  # E per unit of S
    for ratio, escalated in ((1 / 2.5, False), (2.5, True)):
        size = ratio * CAP / (SAFETY * unit)
        report = check_gradients(linear_loss(dtype), gradient(), {"w": W.astype(dtype)}, method="central",
                                 f_scale=size)  # fmt: skip
        note = "re-estimated by Richardson" in report["w"].note
        expected = PASS if not escalated or dtype is np.float64 else INCONCLUSIVE
        assert report.verdict == expected and note == (escalated and dtype is np.float64), (
            f"{dtype.__name__}: S = {size:.3g} (4 E / T = {ratio}): {report.verdict}, re-estimated {note}\n{report}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_central_truncation_allowance_is_eps_to_the_third(dtype):
    """With E negligible (C = 0), a planted relative error of 2.5 eps^(1/3) FAILs and one of
    eps^(1/3) / 2.5 PASSes (the central method's rtol, 6.1e-6 in float64, 4.9e-3 in float32)."""
    rtol = np.finfo(dtype).eps ** (1 / 3)
    f, params = linear_loss(dtype), {"w": W.astype(dtype)}
    caught = check_gradients(f, gradient(2.5 * rtol), params, method="central")
    assert caught.verdict == FAIL, f"{dtype.__name__}: 2.5 rtol planted\n{caught}"
    passed = check_gradients(f, gradient(rtol / 2.5), params, method="central")
    assert passed.verdict == PASS, f"{dtype.__name__}: rtol / 2.5 planted\n{passed}"
