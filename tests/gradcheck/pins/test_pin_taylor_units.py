"""Pins of the Taylor test's pieces (taylor.py) by their effect: the slope fit, the "f never changed" rule,
the linear term a planted error leaves, and the report's words.

* ``_fit_slope``: the slope of log r against log h over the TAYLOR_FIT_POINTS smallest steps whose
  remainder is finite and above the floor; fewer than 3 such points: nan with their count and the last;
* ``_change_f_never_showed``: only where f(x + h v) == f(x) at every step up to and including the fit's
  smallest, the largest remainder there; else None;
* ``taylor_test`` on sum(sin(w)): a planted error e on one element leaves a linear term |e v_i| (v the
  seeded direction, rebuilt here), FAIL with that figure; the right gradient's slope is 2.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, PASS
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.numerical import random_direction
from reference_nn.gradcheck.taylor import _change_f_never_showed, _fit_slope, taylor_test

STEPS = tol.TAYLOR_STEPS  # 10^-0.5 .. 10^-10


@pytest.mark.parametrize("power", [1.0, 2.0, 3.0])
def test_fit_slope_of_a_power_law_is_its_exponent(power):
    slope, used, last = _fit_slope(STEPS, 0.7 * STEPS**power, 0.0)
    # an exact power law: the least-squares slope is the exponent to rounding of the logs (~1e-14)
    assert abs(slope - power) < 1e-9 and used == tol.TAYLOR_FIT_POINTS and last == STEPS.size - 1, (slope, used, last)


def test_fit_slope_uses_the_smallest_steps_above_the_floor():
    r = STEPS**2
    r[:10] = STEPS[:10]  # slope 1 at the large steps, 2 from index 10 on
    r[15:] = 1e-30  # below the floor from index 15 on
    slope, used, last = _fit_slope(STEPS, r, np.full(STEPS.size, 1e-25))
    assert last == 14 and used == 3, f"the last point above the floor is 14: {last}, {used}"
    assert abs(slope - 2.0) < 1e-9, f"points 12-14 only (slope 2): {slope}"
    r[13] = np.nan  # a non-finite remainder is skipped: 11, 12, 14
    slope, _, last = _fit_slope(STEPS, r, 1e-25)
    assert last == 14 and abs(slope - 2.0) < 1e-9, f"nan skipped: {slope}, {last}"
    r[10:12] = STEPS[10:12]  # 11 now on the slope-1 branch: the fit over 11, 12, 14 is no longer 2
    slope, _, _ = _fit_slope(STEPS, r, 1e-25)
    chosen = [11, 12, 14]
    expected = np.polyfit(np.log(STEPS[chosen]), np.log(r[chosen]), 1)[0]
    assert abs(slope - expected) < 1e-9 and abs(slope - 2.0) > 1.0, f"points 11, 12, 14 fitted: {slope}, {expected}"


def test_fit_slope_with_too_few_points():
    r = np.zeros(STEPS.size)
    r[[3, 7]] = 1.0
    slope, used, last = _fit_slope(STEPS, r, 0.5)
    assert np.isnan(slope) and used == 2 and last == 7, (slope, used, last)
    slope, used, last = _fit_slope(STEPS, r, 2.0)
    assert np.isnan(slope) and used == 0 and last is None, (slope, used, last)


def test_change_f_never_showed_only_where_f_is_flat_up_to_the_last_fitted_step():
    f0 = 1.0
    remainder = np.arange(1.0, 21.0)  # distinct: the returned maximum says which steps were read
    plus = np.full(STEPS.size, f0)
    assert _change_f_never_showed(plus, f0, remainder, None) is None, "no fit: nothing to say"
    assert _change_f_never_showed(plus, f0, remainder, 5) == 6.0, "flat at steps 0..5: the largest of r[0..5]"
    plus[5] = f0 + 1e-12
    assert _change_f_never_showed(plus, f0, remainder, 5) is None, "f moved at the last fitted step"
    assert _change_f_never_showed(plus, f0, remainder, 4) == 5.0, "flat at steps 0..4"
    plus[0] = f0 - 1e-12
    assert _change_f_never_showed(plus, f0, remainder, 4) is None, "f moved at the largest step"


def _sin(p):
    return float(np.sum(np.sin(p["w"])))


W = np.linspace(-1.0, 1.2, 6)


@pytest.mark.parametrize("error", [1e-3, -2e-2])
def test_a_planted_error_leaves_its_linear_term(error):
    def grad_f(p):
        g = np.cos(p["w"])
        g[2] += error
        return {"w": g}

    report = taylor_test(_sin, grad_f, {"w": W.copy()}, seed=3)
    row = report.results["w"]
    v = random_direction(W, np.random.default_rng([3, 0]))  # taylor_test's direction: seed, tensor position
    expected = abs(error * v[2])
    # the linear term is r(h) / h at the smallest step above noise: |e v_2| plus h |v.Hv| / 2 (h <= 1e-5 there)
    assert row.status == FAIL and abs(row.linear_term - expected) <= 1e-3 * expected, (expected, str(report))
    assert abs(row.slope - 1.0) < 0.05, f"a wrong gradient's remainder is linear: slope {row.slope}"
    assert row.note == f"remainder shrinks linearly: |(g_true - g).v| ~ {row.linear_term:.2e} > allowance " + (
        f"{row.allowance:.1e}"
    ), row.note
    # the allowance: sqrt(eps64) of sum max(|g|, RMS) |v| plus float64 floors (orders below it)
    g = np.cos(W)
    g[2] += error
    analytic = tol.analytic_rtol(np.float64) * float(np.sum(np.maximum(np.abs(g), tol.finite_rms(g)) * np.abs(v)))
    assert analytic <= row.allowance <= 1.01 * analytic, f"allowance {row.allowance!r} vs {analytic!r}"
    assert report.verdict == FAIL and report.failed_parameters == ["w"], str(report)
    assert str(report).splitlines()[0] == (f"Taylor test FAIL (w): remainder slope ~2 right, ~1 wrong "
                                           f"({report.n_evaluations} evaluations)"), str(report)  # fmt: skip


def test_the_right_gradient_has_slope_two_and_costs_forty_one_evaluations():
    report = taylor_test(_sin, lambda p: {"w": np.cos(p["w"])}, {"w": W.copy()})
    row = report.results["w"]
    assert row.status == PASS and abs(row.slope - 2.0) < 0.05 and row.note == "", str(report)
    assert abs(row.symmetric_slope - 2.0) < 0.05, f"the symmetric remainder is h^2 v.Hv: {row.symmetric_slope}"
    assert row.n_points == tol.TAYLOR_FIT_POINTS, row.n_points
    d = report.to_dict()
    assert d["verdict"] == "PASS" and d["passed"] is True and d["inconclusive"] is False, d
    assert d["parameters"]["w"]["steps"] == [float(s) for s in STEPS], "steps as floats"


def test_a_linear_term_within_a_float32_gradients_allowance_passes_with_the_figures():
    # a float32 gradient 1e-4 off: the remainder is linear (slope ~1), but its linear term (~4e-5) is inside
    # sqrt(eps32) sum max(|g|, RMS) |v| (~2e-3): PASS, saying so
    report = taylor_test(_sin, lambda p: {"w": (np.cos(p["w"]) * (1 + 1e-4)).astype(np.float32)}, {"w": W.copy()})
    row = report.results["w"]
    assert row.status == PASS and row.slope < tol.TAYLOR_SLOPE_THRESHOLD and row.linear_term < row.allowance, row
    assert row.note == f"linear term {row.linear_term:.1e} within the dtype's allowance {row.allowance:.1e}", row.note


def _taylor_of_h_squared(noise: float):
    """_taylor_tensor on f = h^2 along v (a right zero gradient: the remainder at step h is h^2), with the
    measured noise set to ``noise``."""
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.taylor import _taylor_tensor

    w0, v = np.array([0.2, -0.4, 0.9]), np.array([1.0, -1.0, 1.0])
    ev = LossEvaluator(lambda p: float(np.sum(v * (p["w"] - w0))) ** 2 / float(np.sum(v * v)) ** 2,
                       {"w": w0.copy()}, np.float64)  # fmt: skip
    ev.noise = noise
    return _taylor_tensor(ev, "w", np.zeros(3), v, np.dtype(np.float64), 0.0)


@pytest.mark.parametrize("share", [9.5, 10.5])
def test_a_remainder_counts_only_above_ten_times_the_noise(share):
    """_taylor_tensor fits the remainder where it is above TAYLOR_NOISE_MARGIN (10) x the noise. With the
    noise set so that the remainder at h = 1e-3 (1e-6) is ``share`` x the noise, that step is counted at 10.5,
    not at 9.5. The fit's smallest step sets the linear term bound r(h) / h: 1e-3 at h = 1e-3, 10^-2.5 at the
    step before it."""
    result = _taylor_of_h_squared(1e-6 / share)
    smallest = 1e-3 if share > 10 else 10**-2.5
    assert result.n_points == 3 and result.linear_term == pytest.approx(smallest, rel=1e-6), result
    assert result.status == PASS, result


def test_two_points_above_the_noise_fit_no_slope():
    """With only two steps above 10x the noise (noise 2e-4: remainders 0.1 and 0.01 above 2e-3), no slope is
    fitted (three points are): INCONCLUSIVE "too few steps", never a verdict on a slope of two points."""
    from reference_nn.gradcheck import INCONCLUSIVE

    result = _taylor_of_h_squared(2e-4)
    assert result.n_points == 2 and result.status == INCONCLUSIVE, result
    assert result.note == "too few steps above the noise floor to fit a slope", result.note
