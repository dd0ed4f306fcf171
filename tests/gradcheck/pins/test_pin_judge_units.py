"""Pins of the element verdict (judge.py) at its bounds, with estimates chosen here on f = sum(sin(w)).

* FAIL iff |a - n| > T + E (T = atol + rtol * max(|a|, |n|, RMS), E = ESTIMATE_SAFETY * the estimate's
  error): a planted analytic error at 1.05x and 0.95x of T + E (the estimate is the true derivative, so
  the second opinion at smaller steps agrees with it and the verdict stands);
* PASS only within the cap: |a - n| + E <= VERIFIED_SHARE * scale (``_within_cap``), and the zero rule
  for an exactly-zero analytic value (|n| <= E or rounding, proven <= ZERO_SHARE sqrt(eps) G);
* the report row (``_result``): worst element, its step and bound, err/tol, max abs / rel error;
* ``_required``, ``_rtols``, ``_finite_or_infinite``.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.judge import _finite_or_infinite, _required, _rtols, _within_cap, judge_elements
from reference_nn.gradcheck.numerical import Estimate
from reference_nn.gradcheck.report import BOUND_TOO_LARGE, FLOOR_TOO_LARGE, SMALL_BESIDE_LARGEST

W = np.array([[0.3, -0.4, 0.5], [0.6, -0.2, 0.1]])
TRUE = np.cos(W)  # every |g| in [0.82, 0.99]: the RMS (0.93) is the scale of the smaller ones
SCALE = np.maximum(np.abs(TRUE), tol.finite_rms(TRUE))
SAFETY = tol.ESTIMATE_SAFETY


def _sin(p):
    return float(np.sum(np.sin(p["w"])))


def _judge(analytic, values, errors, rtol=1e-3, atol=0.0, method="richardson", auto_floor=0.0, precision=None):
    ev = LossEvaluator(_sin, {"w": W.copy()}, np.float64)
    if precision is not None:  # as if measured (precision.measure_input_precision)
        ev.precision["w"] = np.dtype(precision)
    steps = 0.01 * np.arange(1, 7, dtype=float)  # distinct: the row's step says which element is worst
    estimate = Estimate(np.asarray(values, float).reshape(-1), np.broadcast_to(np.asarray(errors, float), (6,)).copy(),
                        steps, method)  # fmt: skip
    return judge_elements(ev, "w", np.asarray(analytic, float), "dw", np.float64, estimate, rtol, atol,
                          tol.finite_rms(TRUE), auto_floor)  # fmt: skip


# the estimate's stated error: E = 4e-6 beside T = 1e-3 x scale, or E = T (then T - E, T * E or T alone is far
# from T + E; the proven bound |a - n| + E stays within the 0.5% cap either way)
@pytest.mark.parametrize("error", [1e-6, 2.5e-4])
@pytest.mark.parametrize("share, status", [(1.05, FAIL), (0.95, PASS)])
def test_an_analytic_error_fails_beyond_tolerance_plus_the_estimates_bound(share, status, error):
    t = TRUE[1, 2]  # cos(0.1) = 0.995, the largest: its scale is |a| = t + delta itself
    # delta = share x (T + E) with T = 1e-3 (t + delta): solved for delta
    delta = share * (1e-3 * t + SAFETY * error) / (1 - share * 1e-3)
    bound = 1e-3 * (t + delta) + SAFETY * error
    analytic = TRUE.copy()
    analytic[1, 2] += delta
    row = _judge(analytic, TRUE, error)
    assert row.status == status, f"{share} x (T + E) on element (1, 2)\n{row}"
    assert row.worst_index == (1, 2) and row.step == 0.06, f"the worst element and its step: {row.worst_index}"
    assert row.tolerance == pytest.approx(bound, rel=1e-12), f"the bound T + E: {row.tolerance!r} vs {bound!r}"
    assert row.error_ratio == pytest.approx(share, rel=1e-9), f"err/tol {row.error_ratio!r}"
    assert row.max_abs_error == pytest.approx(delta, rel=1e-9), row.max_abs_error
    assert row.max_rel_error == pytest.approx(delta / (t + delta), rel=1e-9), row.max_rel_error
    assert row.n_failed == (status == FAIL) and row.n_elements == 6 and row.n_inconclusive == 0, str(row)


def test_an_absolute_floor_adds_to_the_tolerance():
    analytic = TRUE.copy()
    analytic[0, 0] += 1e-3 * SCALE[0, 0] + 2e-4  # beyond T without a floor, within it with atol = 3e-4
    assert _judge(analytic, TRUE, 0.0).status == FAIL, "no floor: 2e-4 beyond T"
    row = _judge(analytic, TRUE, 0.0, atol=3e-4)
    scale = abs(analytic[0, 0])  # the largest |a| of the tensor now: above the RMS
    assert row.status == PASS and row.tolerance == pytest.approx(3e-4 + 1e-3 * scale, rel=1e-12), str(row)


@pytest.mark.parametrize("share, verified", [(0.95, True), (1.05, False)])
def test_within_cap_at_the_verified_share(share, verified):
    a = np.full(4, 2.0)
    # proven |a - n| + E = share x 0.5% of the scale (2): split between the disagreement and the bound
    gap = share * tol.VERIFIED_SHARE * 2.0
    n = a - np.array([gap / 2, 0.0, gap, 0.0])
    errors = np.array([gap / 2, gap, 0.0, 0.0]) / SAFETY
    got = _within_cap(a, n, errors, (0.0, 0.0, 0.0), tol.VERIFIED_SHARE)
    assert got.tolist() == [verified, verified, verified, True], f"{share} x the cap: {got}"


@pytest.mark.parametrize("which", ["rounding_level", "numeric", "proven"])
@pytest.mark.parametrize("share", [0.95, 1.05])
def test_within_cap_of_a_zero_analytic_element(which, share):
    """a ~ 0 in a tensor of ~0 values (the relative cap verifies nothing there): verified iff |a| <= the
    rounding level, |n| <= max(E, the numerical rounding level) and |a - n| + E <= ZERO_SHARE sqrt(eps) G;
    each bound moved by ``share`` alone."""
    root_eps_g, rounding, numeric_rounding = 1e-6, 1e-9, 1e-10
    a = np.array([0.0, 0.9 * rounding])
    n = np.array([0.0, 0.5 * numeric_rounding])
    errors = np.array([0.0, 0.0])
    if which == "rounding_level":
        a[1] = share * rounding
    elif which == "numeric":
        n[1] = share * numeric_rounding
    else:  # the estimate's bound at share x what ZERO_SHARE sqrt(eps) G allows, |n| within it
        errors[1] = share * tol.ZERO_SHARE * root_eps_g / SAFETY
        a[1], n[1] = 0.0, 0.0
    got = _within_cap(a, n, errors, (root_eps_g, rounding, numeric_rounding), tol.VERIFIED_SHARE)
    assert got[0] and got[1] == (share < 1), f"{which} at {share} x its bound: {got}"


def test_required_rtols_and_infinite_bounds():
    a, n = np.array([2.0, -0.1]), np.array([2.0, 0.0])
    rms = tol.finite_rms(a)
    assert np.allclose(_required(a, n, np.array([1e-3, 1e-2]), 1e-5), [1e-5 + 2e-3, 1e-5 + 1e-2 * rms], atol=0), "T"
    est = Estimate(n, np.zeros(2), np.zeros(2), "central")
    assert _rtols(est, np.float64, np.float64, 0.5, 2).tolist() == [0.5, 0.5], "the user's rtol as given"
    central = tol.method_rtol("central", np.float64)
    assert central > tol.analytic_rtol(np.float64), "central's truncation allowance is the larger"
    assert np.allclose(_rtols(est, np.float64, np.float64, None, 2), central, atol=0), "the method's allowance"
    assert np.allclose(_rtols(est, np.float32, np.float64, None, 2), tol.analytic_rtol(np.float32), atol=0), "float32's"
    mixed = Estimate(n, np.zeros(2), np.zeros(2), "richardson", rtols=np.array([0.0, central]))
    assert np.allclose(
        _rtols(mixed, np.float64, np.float64, None, 2), [tol.analytic_rtol(np.float64), central], atol=0
    ), "per element: a Richardson element that fell back to central has central's allowance"
    assert _finite_or_infinite([1.0, np.nan, -np.inf]).tolist() == [1.0, np.inf, np.inf], "no bound: infinite"


def test_a_central_estimate_with_a_bound_above_the_cap_is_redone_by_richardson():
    # central values exact but stated to 2e-3 (E = 8e-3 > the 0.5% cap): every element is re-estimated by
    # Richardson from 2^-10 s, which agrees within both bounds and is far more precise: taken, PASS
    row = _judge(TRUE, TRUE, 2e-3, method="central")
    assert row.status == PASS and row.n_inconclusive == 0, str(row)
    assert row.note.startswith("6 element(s) re-estimated by Richardson from a step of 2^-10: the central "
                               "difference's rounding bound was larger than the tolerance"), row.note  # fmt: skip
    assert row.numeric_error < 1e-8, f"Richardson's bound replaced central's: {row.numeric_error!r}"


@pytest.mark.parametrize(
    "method, note",
    [
        ("richardson", "failed at the method's steps and agree at smaller ones, which disagree with the first "
                       "estimate beyond both error bounds (f curves on a finer scale there)"),
        ("complex", "failed by complex step agree with real differences, which disagree with complex step beyond "
                    "both error bounds (f is not complex-analytic there: abs, max or .real on some path)"),
    ],
)  # fmt: skip
def test_an_estimate_contradicted_at_smaller_steps_is_replaced(method, note):
    # the numerical side is off by 0.2% on three elements (within the cap, beyond T + E = 0.1% + 4e-9): the
    # second opinion at smaller steps agrees with the hand-written value and contradicts the estimate
    values = TRUE.copy().reshape(-1)
    values[[0, 2, 5]] *= 1.002
    row = _judge(TRUE, values, 1e-9, method=method)
    assert row.status == PASS and row.n_failed == 0, str(row)
    assert row.note == f"3 element(s) {note}", row.note
    assert row.max_abs_error < 1e-9, f"the replaced values are the true derivative: {row.max_abs_error!r}"


def test_a_wrong_analytic_value_agrees_with_the_estimate_at_every_step_and_fails():
    analytic = TRUE.copy()
    analytic[0, 1] *= 1.002  # the hand-written side off by 0.2%: the second opinion agrees with the estimate
    row = _judge(analytic, TRUE, 1e-9)
    assert row.status == FAIL and row.n_failed == 1 and row.worst_index == (0, 1) and row.note == "", str(row)


def test_an_estimate_bound_above_the_cap_is_inconclusive_with_its_reason():
    # E = 4 x 0.01 = 0.04, 4% of the gradients: agreeing (a = n) but proving nothing within the 0.5% cap; f
    # measured to compute in float32, so no second opinion at smaller steps is tried (rounding only grows)
    row = _judge(TRUE, TRUE, 0.01, precision=np.float32)
    assert row.status == INCONCLUSIVE and row.inconclusive_reasons == {BOUND_TOO_LARGE: 6}, str(row)
    assert row.inconclusive_indices == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)], "the first five only"
    assert row.note == (
        f"6 element(s) not verified: the numerical derivative's error bound (up to 4.0e-02, gradients up to "
        f"{np.max(SCALE):.1e}) is above the cap of 0.5% of their size (f computes in float32: its rounding over "
        "the steps)"), row.note  # fmt: skip


@pytest.mark.parametrize("auto_floor, reason", [(0.026, FLOOR_TOO_LARGE), (0.024, SMALL_BESIDE_LARGEST)])
def test_agreement_only_a_floor_allows_is_inconclusive_naming_the_floor(auto_floor, reason):
    # n 1% off, E = 0: within T only because of atol = 0.05 (not failed), beyond the cap (not verified); the
    # loss floor is most of atol (>= half of it: 0.026 of 0.05) or not (0.024)
    row = _judge(TRUE, TRUE * 1.01, 0.0, atol=0.05, auto_floor=auto_floor)
    assert row.status == INCONCLUSIVE and row.inconclusive_reasons == {reason: 6}, str(row)
