"""Pins of kink detection (kinks.py) at each documented bound, on one-sided slopes chosen here.

``is_kink(sides, tolerance, f_scale, precision)``: with D(s) = forward(s) - backward(s) at s = h, h/2, h/4,
a kink needs |D(h)| above max(tolerance, KINK_NOISE_MARGIN * noise) (noise = 2 eps f_scale / (h/4)) and
D(h/2) or D(h/4) departing from proportionality to s by more than KINK_NONLINEARITY |D(h)| + 2 noise.
Each bound is hit at 1.05x and 0.95x. ``one_sided_differences`` and ``explained_by_kink`` are pinned on
f = 2|w0| + 0.5 w0 (slopes 2.5 and -1.5 at 0), ``kinked_at_point`` on a smooth and a kinked f.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import kinks
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.kinks import OneSided, explained_by_kink, is_kink, kinked_at_point, one_sided_differences

H = 2.0**-18  # float64's central step at |x| <= 1: eps^(1/3) = 6.1e-6 rounded down to a power of two
STEPS = H / np.array([1.0, 2.0, 4.0])
F64 = np.dtype(np.float64)


def sides(d, backward=(0.0, 0.0, 0.0)):
    """OneSided whose jumps D are ``d`` (forward = backward + d)."""
    backward = np.asarray(backward, float)
    return OneSided(backward + np.asarray(d, float), backward, STEPS)


def test_a_constant_jump_is_a_kink_and_a_proportional_one_is_not():
    assert is_kink(sides([1.0, 1.0, 1.0], [0.3, -0.2, 0.1]), 0.0, 1.0, F64), "a jump that stays as s shrinks"
    assert not is_kink(sides([1.0, 0.5, 0.25]), 0.0, 1.0, F64), "D proportional to s: curvature"
    assert not is_kink(sides([1.0, np.nan, 1.0]), 0.0, 1.0, F64), "a non-finite jump proves nothing"


@pytest.mark.parametrize("share, kink", [(0.95, True), (1.05, False)])
def test_the_jump_must_exceed_the_tolerance(share, kink):
    assert is_kink(sides([1.0, 1.0, 1.0]), share * 1.0, 0.0, F64) is kink, f"tolerance {share} x the jump"


@pytest.mark.parametrize("share, kink", [(0.95, True), (1.05, False)])
def test_the_jump_must_exceed_three_times_the_noise(share, kink):
    # noise = 2 eps f_scale / (h/4); f_scale chosen so that KINK_NOISE_MARGIN * noise = share * |D(h)| = share
    f_scale = share / (tol.KINK_NOISE_MARGIN * 2.0 * tol.eps(F64) / STEPS[-1])
    assert tol.KINK_NOISE_MARGIN == 3.0, "the margin this test is named for"
    # (the departure test then has 0.5 |D| > 0.1 |D| + 2 noise = 0.1 + 0.67 share: true for both shares)
    assert is_kink(sides([1.0, 1.0, 1.0]), 0.0, f_scale, F64) is kink, f"3 noise = {share} x the jump"


@pytest.mark.parametrize("share, kink", [(1.05, True), (0.95, False)])
@pytest.mark.parametrize("where", [1, 2])
def test_the_departure_from_proportionality_must_exceed_a_tenth_of_the_jump(share, kink, where):
    d = np.array([1.0, 0.5, 0.25])  # proportional to s, no noise (f_scale 0)
    d[where] += share * tol.KINK_NONLINEARITY  # departure = share x 0.1 |D(h)| at one of the smaller steps
    assert tol.KINK_NONLINEARITY == 0.1, "the share this test is named for"
    assert is_kink(sides(d), 0.0, 0.0, F64) is kink, f"departure {share} x 0.1 |D(h)| at step {where}"


@pytest.mark.parametrize("share, kink", [(1.05, True), (0.95, False)])
def test_the_departure_must_also_exceed_twice_the_noise(share, kink):
    # D = (1, 0.8, 0.55): departure 0.3 at h/2 and h/4; 0.1 |D| + 2 noise = 0.3 / share, so
    # noise = (0.3 / share - 0.1) / 2
    noise = (0.3 / share - 0.1) / 2.0
    f_scale = noise * STEPS[-1] / (2.0 * tol.eps(F64))
    # (3 noise = 0.28-0.32 < |D(h)| = 1: the first test passes for both)
    assert is_kink(sides([1.0, 0.8, 0.55]), 0.0, f_scale, F64) is kink, f"departure {share} x its bound"


def abs_kink(p):
    w = p["w"]
    return float(2.0 * abs(w[0]) + 0.5 * w[0] + w[1] ** 2)


def evaluator(f, values):
    return LossEvaluator(f, {"w": np.array(values, dtype=np.float64)}, np.float64)


def test_one_sided_differences_of_abs_are_its_two_slopes():
    ev = evaluator(abs_kink, [0.0, 0.5])
    s = one_sided_differences(ev, "w", 0)
    # f is linear on each side of 0 and the steps are powers of two: the differences are exact to rounding
    assert np.allclose(s.forward, 2.5, rtol=1e-9, atol=0) and np.allclose(s.backward, -1.5, rtol=1e-9, atol=0), s
    assert np.array_equal(s.steps, STEPS), f"steps h, h/2, h/4 of the central step: {s.steps}"
    smooth = one_sided_differences(ev, "w", 1)  # w1^2 at 0.5: forward 1 + s, backward 1 - s
    assert np.allclose(smooth.forward, 1.0 + STEPS, rtol=1e-9, atol=0) and np.allclose(
        smooth.backward, 1.0 - STEPS, rtol=1e-9, atol=0
    )


@pytest.mark.parametrize(
    "analytic, tolerance, explained",
    [(0.5, 0.0, True), (2.5, 0.0, True), (-1.5, 0.0, True), (3.0, 0.6, True), (3.0, 0.4, False), (-2.0, 0.4, False)],
)
def test_explained_by_kink_within_the_one_sided_slopes_widened_by_the_tolerance(analytic, tolerance, explained):
    ev = evaluator(abs_kink, [0.0, 0.5])
    ok, kink, (low, high), coincident = explained_by_kink(ev, "w", 0, analytic, tolerance, probe_pieces=False)
    assert kink and not coincident, f"a kink of |w0| at 0: kink {kink}, coincident {coincident}"
    assert abs(low + 1.5) < 1e-9 and abs(high - 2.5) < 1e-9, f"slopes ({low}, {high})"
    assert ok is explained, f"{analytic} with tolerance {tolerance} in [-1.5, 2.5]: {ok}"


def test_explained_by_kink_on_a_smooth_element_is_no_kink():
    ev = evaluator(abs_kink, [0.0, 0.5])
    ok, kink, (low, high), _ = explained_by_kink(ev, "w", 1, 1.0, 0.0, probe_pieces=False)
    assert not ok and not kink, f"w1^2 is smooth: {ok}, {kink}"
    assert abs(low - (1 - STEPS[0])) < 1e-9 and abs(high - (1 + STEPS[0])) < 1e-9, (low, high)


def test_kinked_at_point_probes_once_and_caches():
    smooth = evaluator(lambda p: float(np.sum(np.sin(p["w"]))), [0.0, 0.5])
    before = smooth.count
    assert kinked_at_point(smooth) is False and smooth.kinked is False, "sin is smooth"
    # 6 evaluations per direction (3 steps, both sides), KINK_PROBE_DIRECTIONS directions for a smooth f
    assert smooth.count - before == 6 * tol.KINK_PROBE_DIRECTIONS, f"{smooth.count - before} evaluations"
    assert kinked_at_point(smooth) is False and smooth.count - before == 6 * tol.KINK_PROBE_DIRECTIONS, "cached"
    kinked = evaluator(lambda p: float(np.maximum(p["w"][0] + p["w"][1], 0.0)), [0.25, -0.25])
    assert kinked_at_point(kinked) is True and kinked.count - 1 <= 6 * tol.KINK_PROBE_DIRECTIONS + 12, (
        "a ReLU at 0 in every direction that moves w0 + w1"
    )


def test_central_slope_at_a_point_of_a_cubic():
    ev = evaluator(lambda p: float(np.sum(p["w"] ** 3)), [0.5, -2.0])
    h = 2.0**-10
    # (f(x + h) - f(x - h)) / 2h = 3 x^2 + h^2 exactly for a cubic (dyadic x, h: no rounding in the steps)
    assert kinks._central_slope_at(ev, ev.point, "w", 1, h) == pytest.approx(12.0 + h * h, rel=1e-14), "3 x^2 + h^2"
    moved = {"w": np.array([0.5, 1.0])}
    assert kinks._central_slope_at(ev, moved, "w", 1, h) == pytest.approx(3.0 + h * h, rel=1e-14), "at another point"


def test_nearby_slopes_find_the_pieces_of_coincident_kinks_and_none_of_a_smooth_f():
    def two_relus(p):  # relu(w0 + w1) + relu(w0 - w1) at (0, 0): d/dw0 is 0, 1 or 2 in the four pieces
        w = p["w"]
        return float(max(w[0] + w[1], 0.0) + max(w[0] - w[1], 0.0) + w[2] ** 2)

    ev = evaluator(two_relus, [0.0, 0.0, 0.5])
    before = ev.count
    slopes = kinks.nearby_slopes(ev, "w", 0, 1e-6)
    # 1 + 16 pairs x 2 signs x 2 radii x 2 evaluations + the slope at x (2): the documented 130
    assert ev.count - before == 2 + tol.NEARBY_PAIRS * 2 * 2 * 2, f"{ev.count - before} evaluations"
    assert 0 < slopes.size <= 2 * tol.NEARBY_PAIRS, slopes
    # the extreme pieces' slopes, exact for piecewise-linear f (a step straddling a kink gives a value between)
    assert abs(slopes.min()) < 1e-6 and abs(slopes.max() - 2.0) < 1e-6, slopes
    assert np.all((slopes > -1e-6) & (slopes < 2 + 1e-6)), f"every slope within the pieces' range: {slopes}"
    smooth = evaluator(lambda p: float(np.sum(np.sin(p["w"]))), [0.3, 0.2])
    assert kinks.nearby_slopes(smooth, "w", 0, 1e-6).size == 0, "a smooth f shows no piece"


def test_kinked_at_point_reaches_about_one_central_step():
    # the probe's steps are the coarsest tensor's central step eps^(1/3) = 6e-6 (x 0.5-1.5 per element, halved
    # twice): a kink 5e-5 away is beyond its reach (a smooth f there), one at the point is not
    far = evaluator(lambda p: float(max(p["w"][0] - 5e-5, 0.0) + p["w"][1] ** 2), [0.0, 0.5])
    assert kinked_at_point(far) is False, "a kink 8 central steps away is not at the point"
    near = evaluator(lambda p: float(max(p["w"][0], 0.0) + p["w"][1] ** 2), [0.0, 0.5])
    assert kinked_at_point(near) is True, "a kink at the point"


def test_a_departure_of_exactly_a_tenth_is_no_kink():
    # D(h) = 10: the bound is 0.1 x 10 = 1 exactly; D(h/2) = 6 departs from 10 / 2 by exactly 1 (binary-exact)
    assert not is_kink(sides([10.0, 6.0, 2.5]), 0.0, 0.0, F64), "departure equal to the bound: smooth"
    assert is_kink(sides([10.0, 6.0 + 2**-40, 2.5]), 0.0, 0.0, F64), "a hair beyond it: a kink"


def test_random_patterns_are_scaled_by_each_elements_size():
    x = np.linspace(-3.0, 3.0, 200)
    ev = evaluator(lambda p: float(np.sum(p["w"] ** 2)), x)
    rms = float(np.sqrt(np.mean(x**2)))
    for pattern, magnitude in (
        (kinks._random_pattern(ev, np.random.default_rng(1)), np.maximum(np.abs(x), rms)),
        (kinks._step_pattern(ev, np.random.default_rng(1)), np.maximum(1.0, np.abs(x))),
    ):
        share = np.abs(pattern["w"]) / magnitude
        # U(0.5, 1.5): the seeded 200 draws come within 2% of both ends (a wider range would pass them)
        assert share.min() >= 0.5 and share.max() <= 1.5 and share.min() < 0.52 and share.max() > 1.48, share
        assert 0.3 < np.mean(pattern["w"] > 0) < 0.7, "random signs"
    zero = evaluator(lambda p: float(np.sum(p["w"] ** 2)), np.zeros(50))
    share = np.abs(kinks._random_pattern(zero, np.random.default_rng(1))["w"])
    assert share.min() >= 0.5 and share.max() <= 1.5, "an all-zero tensor: magnitude 1"


def test_nearby_slopes_stay_within_sixteen_central_steps():
    # a second ReLU kink 3e-4 away: beyond r = 16 eps^(1/3) (1e-4, times the pattern's size ~0.3-0.4 here), so
    # the pieces seen are those of relu(w0 + w1) only (slopes 0 and 1), never the third piece's 2
    def two_kinks(p):
        w = p["w"]
        return float(max(w[0] + w[1], 0.0) + max(w[0] - w[1] - 3e-4, 0.0) + w[2] ** 2)

    slopes = kinks.nearby_slopes(evaluator(two_kinks, [0.0, 0.0, 0.5]), "w", 0, 1e-6)
    assert slopes.size and abs(slopes.max() - 1.0) < 1e-6 and abs(slopes.min()) < 1e-6, slopes


def test_the_jump_that_must_stand_out_is_the_one_at_the_largest_step():
    # |D(h)| = 1 above the tolerance 0.5, |D(h/2)| = 0.3 below it, departures 0.2 and 0.65: a kink
    assert is_kink(sides([1.0, 0.3, 0.9]), 0.5, 0.0, F64), "judged by D(h)"
    assert not is_kink(sides([0.3, 1.0, 0.9]), 0.5, 0.0, F64), "D(h) below the tolerance: no kink"


@pytest.mark.parametrize("distance", [4e-6, 6e-6])
def test_kinked_at_point_sees_a_kink_within_its_largest_step(distance):
    # the probe's largest step is the central step t = 6e-6 (x 0.5-1.5 per element): a ReLU 4e-6 or 6e-6 from
    # the point is crossed by it on the seeded directions (halving the first step would miss both)
    ev = evaluator(lambda p: float(max(p["w"][0] - distance, 0.0) + p["w"][1] ** 2), [0.0, 0.5])
    assert kinked_at_point(ev) is True, f"a kink {distance} away"
