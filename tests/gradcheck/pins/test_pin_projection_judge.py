"""Pins of one projection's verdict (projection.TensorProblem.judge and what follows from it) by the
module's documented formulas, on a problem built here (|x| > 1 for some elements, so c_j = max(1, |x_j|)
matters):

* T = max(T_tol, E); passed iff |D| <= T; resolved iff 2 (T + E) sqrt|S| / MISS <= min_j c_j (tol_j +
  MAX_RMS_SHARE RMS); unresolved: shrink = max(2, (needed / (SPLIT_TARGET available))^2) and the largest
  unresolved E is kept; a non-finite estimate is unresolved with an infinite discrepancy;
* resolution and rms_share: the largest delta_j over scale_j and over the RMS;
* direction(): seeded, zero outside the set, |v_j| in [0.5, 1.5] c_j / sqrt|S|;
* single_element_resolves: None before an unresolved projection, then median(E / max(tol, allowance)) <= 1;
* estimate_elements: fails iff |a - n| > tol + ESTIMATE_SAFETY E; full_estimate fills the rest with a.
"""

import math

import numpy as np
import pytest

from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.projection import MAX_RMS_SHARE, MISS_PER_DIRECTION, SPLIT_TARGET, TensorProblem

N = 16
rng = np.random.default_rng(3)
G = rng.choice([-1.0, 1.0], N) * rng.uniform(0.5, 1.5, N)
X = np.linspace(-3.0, 2.0, N)  # c = max(1, |x|) from 1 to 3


def linear(p):
    return np.sum(G * p["w"])  # complex-safe: complex step estimates elements


def problem(analytic=G, rtol=1e-6, atol=0.0):
    ev = LossEvaluator(linear, {"w": X.copy()}, np.float64)
    return TensorProblem(ev, "w", np.array(analytic, dtype=float), np.float64, "complex", rtol, atol, (4, 5))


IDX = np.arange(N)


def _expected(p, idx, error):
    threshold = max(p.tolerance_threshold(idx, idx.size), error)
    needed = 2.0 * (threshold + error) * math.sqrt(idx.size) / MISS_PER_DIRECTION
    available = float(np.min(p.c[idx] * (p.tol[idx] + MAX_RMS_SHARE * tol.finite_rms(G))))
    return threshold, needed, available


def test_the_problems_scales():
    p = problem(rtol=1e-3, atol=1e-4)
    rms = tol.finite_rms(G)
    assert np.allclose(p.c, np.maximum(1.0, np.abs(X)), atol=0) and p.rms == rms, "c_j and the RMS"
    assert np.allclose(p.tol, 1e-4 + 1e-3 * np.maximum(np.abs(G), rms), rtol=1e-14, atol=0), (
        "tol_j = atol + rtol scale_j"
    )
    assert np.allclose(p.limit, p.c * (p.tol + MAX_RMS_SHARE * rms), rtol=1e-14, atol=0), "the cap per element"
    default = problem(rtol=None)
    assert default.rtol == tol.default_rtol(np.float64, "complex", np.float64), "rtol None: the method's default"


@pytest.mark.parametrize("share, passed", [(0.95, True), (1.05, False)])
def test_a_projection_passes_within_its_threshold(share, passed):
    p = problem()
    error = 1e-9  # below T_tol = MISS min(tol c) / (4 sqrt 16) = 8.1e-9 here: T is T_tol, resolved
    threshold, needed, available = _expected(p, IDX, error)
    projection = p.judge(IDX, N, 1.0 + share * threshold, 1.0, error)
    assert projection.passed is passed and projection.threshold == pytest.approx(threshold, rel=1e-14), projection
    assert projection.discrepancy == pytest.approx(share * threshold, rel=1e-6), projection
    assert projection.resolved == (needed <= available) and projection.shrink == 1.0, projection
    assert (projection.analytic, projection.numeric, projection.error) == (1.0 + share * threshold, 1.0, error)
    assert projection.generated_size == N, projection


def test_a_large_error_bound_is_the_threshold_and_leaves_the_projection_unresolved():
    p = problem()
    error = 1e-3  # far above T_tol and above what the cap allows over 16 elements
    threshold, needed, available = _expected(p, IDX, error)
    projection = p.judge(IDX, N, 2.0, 2.0 + 0.9 * error, error)
    assert projection.threshold == error and projection.passed, "T = max(T_tol, E): |D| = 0.9 E passes"
    assert not projection.resolved and needed > available, (needed, available)
    assert projection.shrink == pytest.approx(max(2.0, (needed / (SPLIT_TARGET * available)) ** 2), rel=1e-12)
    assert p.unresolved_error == error, "the largest unresolved E is kept"
    p.judge(IDX, N, 2.0, 2.0, error / 2)
    assert p.unresolved_error == error, "a smaller one does not replace it"
    assert p.single_element_resolves(0.0) == bool(np.median(error / p.tol) <= 1.0), "median(E / tol) <= 1"
    assert p.single_element_resolves(1.0) is True, "an allowance above E: one element resolves"


def test_a_non_finite_estimate_is_unresolved_and_never_passes():
    p = problem()
    for numeric, error in ((math.nan, 1e-9), (1.0, math.inf)):
        projection = p.judge(IDX, N, 1.0, numeric, error)
        assert not projection.passed and not projection.resolved and projection.discrepancy == math.inf, projection
        assert projection.shrink == math.inf and projection.threshold == 0.0, projection
    assert problem().single_element_resolves(1.0) is None, "no unresolved projection yet: unknown"


def test_resolution_and_rms_share_are_the_largest_delta():
    p = problem()
    projection = p.judge(IDX, N, 1.0, 1.0, 1e-9)
    delta = 2.0 * (projection.threshold + 1e-9) * math.sqrt(N) / (MISS_PER_DIRECTION * p.c)
    assert np.allclose(p.delta(IDX, projection), delta, rtol=1e-14, atol=0), "delta_j"
    assert p.resolution(IDX, projection) == pytest.approx(np.max(delta / p.scale), rel=1e-14), "over scale_j"
    assert p.rms_share(IDX, projection) == pytest.approx(np.max(delta) / p.rms, rel=1e-14), "over the RMS"


def test_directions_are_seeded_and_confined_to_their_set():
    p = problem()
    subset = np.array([2, 3, 5, 11])
    v = p.direction(subset, 1)
    assert np.array_equal(v, p.direction(subset, 1)), "seeded: the same each time"
    assert not np.array_equal(v, p.direction(subset, 2)), "another draw, another direction"
    assert not np.array_equal(v, problem().direction(np.array([2, 3, 5, 12]), 1)), "another set, another one"
    outside = np.setdiff1d(IDX, subset)
    assert np.all(v[outside] == 0.0), "zero outside the set"
    size = np.abs(v[subset]) * math.sqrt(subset.size) / p.c[subset]
    assert np.all((size >= 0.5) & (size <= 1.5)), f"|v_j| in [0.5, 1.5] c_j / sqrt|S|: {size}"


# rtol 0: the bound is the estimate's own 4 E (complex step's 100 eps |g|, ~800 ulps of g: 5% of it is resolved)
@pytest.mark.parametrize("rtol", [1e-6, 0.0])
@pytest.mark.parametrize("share, fails", [(0.95, False), (1.05, True)])
def test_estimate_elements_fail_beyond_tol_plus_the_estimates_bound(share, fails, rtol):
    analytic = G.copy()
    p = problem(analytic, rtol=rtol)
    # complex step is exact here (f is linear): n = G, E = 100 eps |G|; the planted error sits at share x bound
    bound = p.tol[4] + tol.ESTIMATE_SAFETY * tol.method_rtol("complex", np.float64) * abs(G[4])
    p.a[4] = G[4] + share * bound
    out = p.estimate_elements(np.array([4, 7]))
    assert out.tolist() == [fails, False], f"{share} x (tol + E): {out}"
    assert np.isfinite(p.values[[4, 7]]).all() and np.isnan(p.values[0]), "estimates stored where made"
    full = p.full_estimate()
    assert full.values[0] == p.a[0] and full.errors[0] == 0.0 and full.values[7] == p.values[7], "filled with a"
    assert p.estimate_elements(np.array([], dtype=int)).size == 0, "nothing to estimate"


def test_the_verification_tier_caps_the_tolerances_at_the_cap():
    # atol 0.1 beside gradients ~1: tol_i ~ 0.1 is far above the cap (0.5% of scale_i); T_v uses the cap instead
    p = problem(rtol=1e-6, atol=0.1)
    cap = p.ev.verified_share * p.scale
    assert np.allclose(p.verify_tc, np.minimum(p.tol, cap) * p.c, rtol=1e-14, atol=0) and np.all(p.tol > cap), (
        "T_v's tol"
    )
    t_v = MISS_PER_DIRECTION * float(np.min(cap * p.c)) / (4 * math.sqrt(N))
    assert p.tolerance_threshold(IDX, N, "verify") == pytest.approx(t_v, rel=1e-12), "T_v"
    t = p.tolerance_threshold(IDX, N)
    assert t > 10 * t_v, (t, t_v)
    for discrepancy, tight in ((0.9 * t_v, True), (0.5 * (t + t_v), False)):
        projection = p.judge(IDX, N, 1.0 + discrepancy, 1.0, 0.0)
        assert projection.passed and projection.tight is tight, (discrepancy, projection)
        assert projection.tight_threshold == pytest.approx(t_v, rel=1e-12), projection
        used = t_v if tight else t  # a test passed at T only rules out T's delta
        assert np.allclose(
            p.delta(IDX, projection), 2 * used * math.sqrt(N) / (MISS_PER_DIRECTION * p.c), rtol=1e-9, atol=0
        )
