"""Pins of judge._re_estimate's disputed estimates: a failing element whose re-estimate at smaller steps
agrees with the hand-written value, and disagrees with the first estimate beyond their two stated bounds
but within ESTIMATE_SAFETY times them, is not FAIL: one of the bounds is wrong, so the FAIL it rested on is
not proven. The element takes the re-estimate, with the disagreement as its error bound.

Found by the verdict corpus's report checks (tests/gradcheck/verdict_corpus.py): a right float32-inside
loss with a ReLU unit 6.75e-3 from its kink FAILed b1 (Richardson from 2^-4 s averaged the two slopes, 2%
off while stating 0.2%; at smaller steps it agreed with the hand-written value, stating 0.4%).

Here f = sum(sin(w)) with its precision marked float32, so that the second opinion at 2^-4 s / 64 states
E_s = 3.1e-4 (float32's rounding over its steps) for an estimate good to 1e-10, and the next one (/ 4096,
its steps floored at 2^-8) 7.8e-5 for one 2.5e-6 off: a first estimate of element (1, 2) off by d,
stating 1e-5, against the true hand-written value:

    d = 6e-5   within E_s + 1e-5 of both re-estimates: the estimates agree; the FAIL stands
    d = 8e-4   beyond E_s + 1e-5, within 4 (E_s + 1e-5): disputed; bound d; proven 4 d < the 0.5% cap: PASS
    d = 2e-3   beyond 4 (E_s + 1e-5): contradicted, the re-estimate replaces it with its own bound
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, PASS
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.judge import SECOND_OPINION_LEVELS, judge_elements
from reference_nn.gradcheck.numerical import Estimate, richardson

W = np.array([[0.3, -0.4, 0.5], [0.6, -0.2, 0.1]])
TRUE = np.cos(W)
FIRST_ERROR = 1e-5
DISPUTED = "failed at the method's steps but agree at smaller ones, and the two estimates disagree beyond"
CONTRADICTED = "failed at the method's steps and agree at smaller ones, which disagree with the first estimate"


def _sin(p):
    return float(np.sum(np.sin(p["w"])))


def _evaluator():
    ev = LossEvaluator(_sin, {"w": W.copy()}, np.float64)
    ev.precision["w"] = np.dtype(np.float32)  # as if measured: the rounding model of a float32 loss
    return ev


def _judge(analytic, values):
    estimate = Estimate(values.reshape(-1).copy(), np.full(6, FIRST_ERROR), np.full(6, 0.0625), "richardson")
    return judge_elements(_evaluator(), "w", analytic, "dw", np.float64, estimate, 1e-6, 0.0, tol.finite_rms(TRUE))


def test_the_second_opinions_stated_bounds():
    assert tuple(tol.PROBE_SMALLER_STEPS) == (64.0, 4096.0), tol.PROBE_SMALLER_STEPS
    first = richardson(_evaluator(), "w", SECOND_OPINION_LEVELS, np.array([5]), tol.RICHARDSON_FIRST_STEP / 64)
    assert abs(first.values[0] - TRUE[1, 2]) < 1e-8, f"the re-estimate is good: {first.values[0]!r}"
    assert 2.5e-4 < first.errors[0] < 3.8e-4, f"the cases of this module assume E_s ~ 3.1e-4: {first.errors[0]!r}"
    then = richardson(_evaluator(), "w", SECOND_OPINION_LEVELS, np.array([5]), tol.RICHARDSON_FIRST_STEP / 4096)
    assert abs(then.values[0] - TRUE[1, 2]) < 5e-6, f"the second re-estimate: {then.values[0]!r}"
    assert 6e-5 < then.errors[0] < 1e-4, f"the cases of this module assume E_s ~ 7.8e-5: {then.errors[0]!r}"


@pytest.mark.parametrize("d, status, note", [(6e-5, FAIL, None), (8e-4, PASS, DISPUTED), (2e-3, PASS, CONTRADICTED)])
def test_a_first_estimate_off_by_d(d, status, note):
    values = TRUE.copy()
    values[1, 2] += d
    row = _judge(TRUE.copy(), values)
    assert row.status == status, f"first estimate off by {d}: {row}"
    if note is None:
        assert row.worst_index == (1, 2) and row.numeric == values[1, 2], f"the first estimate stands: {row.numeric!r}"
        return
    assert row.n_failed == 0 and f"1 element(s) {note}" in row.note, row.note
    assert row.worst_index == (1, 2) and abs(row.numeric - TRUE[1, 2]) < 1e-8, f"the re-estimate: {row.numeric!r}"
    if note is DISPUTED:
        assert row.numeric_error == pytest.approx(d, rel=1e-4), f"the bound is the disagreement: {row.numeric_error!r}"
        assert "within 4x them" in row.note, row.note
    else:
        assert row.numeric_error < 4e-4, f"the re-estimate's own bound: {row.numeric_error!r}"


def test_a_disagreement_above_the_cap_is_inconclusive_not_pass():
    # d = 1.5e-3 with a first bound of 3e-4: <= 4 (E_s + 3e-4) = 2.4e-3 (not contradicted), > E_s + 3e-4
    # (disputed); the proven bound 4 d = 6e-3 is above 0.5% of 0.995 (4.98e-3): INCONCLUSIVE, not PASS
    values = TRUE.copy()
    values[1, 2] += 1.5e-3
    estimate = Estimate(values.reshape(-1).copy(), np.full(6, 3e-4), np.full(6, 0.0625), "richardson")
    row = judge_elements(_evaluator(), "w", TRUE.copy(), "dw", np.float64, estimate, 1e-6, 0.0, tol.finite_rms(TRUE))
    assert row.n_failed == 0 and row.n_inconclusive == 1, str(row)
    assert f"1 element(s) {DISPUTED}" in row.note, row.note


def test_a_wrong_hand_written_value_stays_failed():
    # the first estimate is right (off by 0); the hand-written value is off by 8e-4: the re-estimate agrees with
    # the hand-written value within its wide bound (8e-4 < 4 E_s) but agrees with the first estimate too
    analytic = TRUE.copy()
    analytic[1, 2] += 8e-4
    row = _judge(analytic, TRUE.copy())
    assert row.status == FAIL and row.n_failed == 1 and DISPUTED not in row.note, str(row)
