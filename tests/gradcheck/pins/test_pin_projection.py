"""Pins of the projection test's constants (projection.py) by their effect.

MISS_PER_DIRECTION = 1/8 and the threshold T = MISS min(tol_i c_i) / (4 sqrt|S|): a direction
v_i = s_i u_i c_i / sqrt|S| (s fair signs, u ~ U(0.5, 1.5)) passes a gradient whose error is e on element
j and -e on element k (c = 1) iff |s_j u_j - s_k u_k| e / sqrt|S| <= T. With e = 2 T sqrt|S| / MISS (the
module's delta: what one passing direction rules out), the pass probability is, from the distribution of
the direction alone: signs that subtract (1/2) times P(|u_j - u_k| <= MISS / 2), and u_j - u_k is
triangular on [-1, 1] (P(|d| <= x) = 1 - (1 - x)^2): 1/2 (1 - (15/16)^2) = 0.0605 for MISS = 1/8,
0.22 for 1/2, 0.0155 for 1/32. Over 400 seeded directions the count must lie in [12, 50] (expected 24):
a threshold 4x wider or narrower leaves it.

DIRECTIONS = 8: a right tensor is verified by 8 passing directions (MISS^8 = 6e-8), one complex-step
evaluation each.
"""

import math

import numpy as np

from reference_nn.gradcheck import PASS, check_gradients
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.projection import TensorProblem

N = 64
rng = np.random.default_rng(7)
G = rng.choice([-1.0, 1.0], N) * rng.uniform(0.5, 1.5, N)
X = rng.uniform(-0.9, 0.9, N)  # |x| < 1: c = 1


def linear(p):
    return np.sum(G * p["w"])


def test_two_cancelling_errors_pass_a_direction_as_often_as_miss_allows():
    ev = LossEvaluator(linear, {"w": X.copy()}, np.float64)
    right = TensorProblem(ev, "w", G.copy(), np.float64, "complex", None, 0.0, (1, 2))
    everything = np.arange(N)
    threshold = right.tolerance_threshold(everything, N)
    tolerance = float(np.min(right.tol))
    miss = 1 / 8  # the documented miss probability per direction
    # T from its documented formula, independently of the code's arithmetic
    assert math.isclose(threshold, miss * tolerance / (4 * math.sqrt(N)), rel_tol=1e-12), (
        f"T = {threshold!r}, documented {miss * tolerance / (4 * math.sqrt(N))!r}")
    error = 2 * threshold * math.sqrt(N) / miss  # delta: what one passing direction rules out
    wrong = G.copy()
    wrong[5] += error
    wrong[40] -= error
    problem = TensorProblem(ev, "w", wrong, np.float64, "complex", None, 0.0, (1, 2))
    passed = sum(problem.project(everything, draw).passed for draw in range(400))
    assert 12 <= passed <= 50, f"{passed} of 400 directions passed two cancelling errors at delta (expected ~24)"


def test_a_right_tensor_is_verified_by_eight_directions():
    report = check_gradients(linear, lambda p: {"w": G.copy()}, {"w": X.copy()}, method="projection")
    row = report["w"]
    assert report.verdict == PASS, f"a right tensor\n{report}"
    ev = LossEvaluator(linear, {"w": X.copy()}, np.float64)
    problem = TensorProblem(ev, "w", G.copy(), np.float64, "complex", None, 0.0, (1, 2))
    passes = [problem.project(np.arange(N), draw).passed for draw in range(8)]
    assert all(passes), f"right gradient: directions passed {passes}"
    # the 8 directions cost one complex evaluation each; the rest of the check (determinism, the complex
    # probe) is the same for any DIRECTIONS: 7 or 9 directions move the count by one
    assert row.n_evaluations - 8 == _evaluations_beyond_directions(), f"{row.n_evaluations} evaluations\n{report}"


def _evaluations_beyond_directions():
    """The check's evaluations of w outside its projections: measured on a tensor checked element by
    element (method elementwise, complex step: one evaluation per element, N of them)."""
    report = check_gradients(linear, lambda p: {"w": G.copy()}, {"w": X.copy()}, method="elementwise")
    return report["w"].n_evaluations - N


def test_what_a_passing_direction_rules_out_and_the_rounding_it_expects():
    """delta_j = 2 (T + E) sqrt|S| / (MISS c_j) (the module's detection guarantee: the error of element j
    one passing test rules out) and the predicted rounding of a right float32 gradient on a set,
    GRADIENT_ROUNDING_ULPS = 4 ulps of the RMS of scale_j c_j (documented: measured 0.3-3 ulps on float32
    MLPs, summed like a random walk), both from their documented formulas, independently of the code's
    arithmetic; 3 or 5 ulps, or a delta off by any factor, moves them."""
    ev = LossEvaluator(linear, {"w": X.copy()}, np.float64)
    problem = TensorProblem(ev, "w", G.copy(), np.float64, "complex", None, 0.0, (1, 2))
    everything = np.arange(N)
    projection = problem.project(everything, 0)
    expected = 2 * (projection.threshold + projection.error) * math.sqrt(N) / ((1 / 8) * problem.c)
    assert np.allclose(problem.delta(everything, projection), expected, rtol=1e-12, atol=0), (
        f"delta {problem.delta(everything, projection)[:3]} vs documented {expected[:3]}")
    single = TensorProblem(LossEvaluator(linear, {"w": X.astype(np.float32)}, np.float64), "w",
                           G.astype(np.float32), np.float32, "complex", None, 0.0, (1, 2))  # fmt: skip
    terms = single.scale * single.c
    documented = 4 * float(np.finfo(np.float32).eps) * math.sqrt(float(np.mean(terms * terms)))
    assert math.isclose(single.predicted_rounding(everything), documented, rel_tol=1e-9), (
        f"predicted rounding {single.predicted_rounding(everything)!r}, documented {documented!r}")


def test_the_threshold_scales_each_tolerance_by_its_direction_scale():
    """T = MISS min_i(tol_i c_i) / (4 sqrt|S|) with c_i = max(1, |x_i|) (the module docstring): at weights
    of 2-4 every c_i > 1, and T is that of tol_i c_i, not of tol_i alone."""
    x = np.linspace(2.0, 4.0, N)
    problem = TensorProblem(LossEvaluator(linear, {"w": x.copy()}, np.float64), "w", G.copy(), np.float64,
                            "complex", None, 0.0, (1, 2))  # fmt: skip
    everything = np.arange(N)
    documented = (1 / 8) * float(np.min(problem.tol * np.abs(x))) / (4 * math.sqrt(N))
    assert math.isclose(problem.tolerance_threshold(everything, N), documented, rel_tol=1e-12), (
        f"T = {problem.tolerance_threshold(everything, N)!r}, documented {documented!r}")
