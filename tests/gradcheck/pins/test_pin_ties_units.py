"""Pins of the tie judgement (ties.py) by its effect, on losses whose derivatives are known exactly.

* ``along_set``: the derivative of f along the indicator of a tie set, Richardson over one-sided means at
  h, h/2, h/4. On a smooth f with a large third derivative (sin(50 (w0 + w1)): the central mean's
  truncation at the tensor's central step h = 3.8e-6 is ~2e-6) the extrapolation must cancel it down to
  rounding, and its error bound must hold and stay at the rounding floor: a wrong step ratio, a wrong
  sign in a one-sided difference or a mean off by a factor leaves ~1e-7 or more;
* a kink along the set (|w0 + w1 - 2c| with a slope jump of 0.4, below 1) and a side where f is not
  finite give None (nothing concluded);
* ``tie_persists``: a max over the tied elements still has its kink after the whole set moved
  together; two weights equal by coincidence at separate ReLU kinks do not;
* ``judge_ties``: the full gradient given to every tied maximum FAILs the set (and the set is no longer
  "at a kink"); the first maximum's convention rescues the set (at a kink, not failed); coincidental
  ties conclude nothing.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.ties import MAX_SETS, along_set, judge_ties, tie_persists

C = 0.3  # the tied value
W = 50.0  # frequency: the third derivative along the set, (2W)^3 = 1e6, makes truncation visible


def smooth(p):
    w = p["w"]
    return float(np.sin(W * (w[0] + w[1])) + 0.3 * w[2] ** 2 + w[3])


def max_pool(scale=3.0):
    def f(p):
        w = p["w"]
        return float(scale * max(w[0], w[1]) + w[2] ** 2)

    return f


def coincidence(p):
    """w0 and w1 both equal C, each at its own ReLU kink: moving both by +h turns one on, the other off."""
    w = p["w"]
    return float(3.0 * max(w[0] - C, 0.0) + 2.0 * max(C - w[1], 0.0) + w[2] ** 2)


def evaluator(f, values):
    return LossEvaluator(f, {"w": np.array(values, dtype=np.float64)}, np.float64)


def test_along_set_extrapolates_a_smooth_derivative_to_rounding():
    ev = evaluator(smooth, [C, C, 0.7, -0.2])
    value, error = along_set(ev, "w", np.array([0, 1]), C)
    exact = 2 * W * np.cos(2 * W * C)  # d/dt sin(W (2C + 2t)) at t = 0
    h = float(tol.central_step(np.float64(C), np.float64))
    # the floor of the bound: twice the rounding of the smallest step's difference, over the safety factor
    floor = 2 * float(tol.rounding_error(ev.scale_of("w"), h / 4, np.float64)) / tol.ESTIMATE_SAFETY
    assert abs(value - exact) <= error, f"the bound must hold: value {value!r}, exact {exact!r}, error {error!r}"
    # Richardson over h, h/2, h/4 cancels the h^2 and h^4 terms (~2e-6 and ~1e-12 here): what is left is
    # rounding, so the bound is the floor itself (2x: the floor of a neighbouring level)
    assert error <= 2 * floor, f"error bound {error!r} above the rounding floor {floor!r}: truncation left"
    assert abs(value - exact) <= 1e-8, f"value {value!r} vs exact {exact!r}: off by more than rounding"


def test_along_set_is_none_at_a_kink_along_the_set_and_where_f_is_not_finite():
    def kinked(p):  # slopes +-0.2 along 1_S: a jump of 0.4, below 1 (a kink is a kink at any size above noise)
        w = p["w"]
        return float(0.1 * abs(w[0] + w[1] - 2 * C) + w[2])

    assert along_set(evaluator(kinked, [C, C, 0.7]), "w", np.array([0, 1]), C) is None, "a kink along the set"

    def one_sided(p):  # finite above the tie, nan below it
        w = p["w"]
        s = w[0] + w[1] - 2 * C
        return float(np.sqrt(s) if s >= 0 else np.nan) + float(w[2])

    assert along_set(evaluator(one_sided, [C, C, 0.7]), "w", np.array([0, 1]), C) is None, "nan on one side"


def test_along_set_of_a_max_pool_tie_is_the_pool_slope():
    value, error = along_set(evaluator(max_pool(), [C, C, 0.7]), "w", np.array([0, 1]), C)
    # f = 3 max(w0, w1) + w2^2 moves by 3 t along 1_S: exact in the differences up to rounding (~1e-9)
    assert abs(value - 3.0) <= max(error, 1e-8), f"derivative along a max-pool tie: {value!r} +- {error!r}, expected 3"


def coincidence_fractional(p):
    """As ``coincidence`` with slopes 2.5 and 1.5 (not integers: floor division of a difference shows)."""
    w = p["w"]
    return float(2.5 * max(w[0] - C, 0.0) + 1.5 * max(C - w[1], 0.0) + w[2] ** 2)


def coincidence_falling(p):
    """As ``coincidence`` with f falling where the first weight's unit is on (and f > 0 throughout)."""
    w = p["w"]
    return float(10.0 - 3.0 * max(w[0] - C, 0.0) - 2.0 * max(C - w[1], 0.0) + w[2] ** 2)


def test_tie_persists_for_a_max_and_not_for_coincidental_relu_kinks():
    for slope in (3.0, 0.5):  # a slope jump below 1 is a kink too (floor division of the differences is not)
        assert tie_persists(evaluator(max_pool(slope), [C, C, 0.7]), "w", np.array([0, 1]), C), f"max x {slope}"
    for f in (coincidence, coincidence_falling, coincidence_fractional):
        assert not tie_persists(evaluator(f, [C, C, 0.7]), "w", np.array([0, 1]), C), (
            f"{f.__name__}: weights equal by coincidence: moved together, each leaves its own kink"
        )


def _judge(f, a, failed, at_kink, values=(C, C, 0.7), bound=1e-6):
    ev = evaluator(f, list(values))
    bounds = np.full(len(values), bound)  # per-element tolerances: far below the gross errors planted here
    return judge_ties(ev, "w", np.array(a, dtype=float), np.array(failed), np.array(at_kink), bounds)


def test_full_gradient_to_every_tied_maximum_fails_the_set():
    failed, at_kink, notes = _judge(max_pool(), [3.0, 3.0, 1.4], [False, True, False], [True, False, False])
    assert failed.tolist() == [True, True, False], f"both tied elements fail: {failed}"
    assert at_kink.tolist() == [False, False, False], f"a failed set is no longer at a kink: {at_kink}"
    assert len(notes) == 1 and "tie of 2 equal elements (flat 0, 1)" in notes[0], notes
    assert "summed over them is 6," in notes[0] and "together 3 " in notes[0], notes


# bound 0: the derivative's own error bound (x ESTIMATE_SAFETY, ~2e-8 here) is all that covers rounding
@pytest.mark.parametrize("bound", [1e-6, 0.0])
def test_first_maximum_convention_is_rescued_at_a_kink(bound):
    failed, at_kink, notes = _judge(
        max_pool(), [3.0, 0.0, 1.4], [True, True, False], [False, False, False], bound=bound
    )
    assert failed.tolist() == [False, False, False], f"a valid subgradient does not fail: {failed}"
    assert at_kink.tolist() == [True, True, False], f"its elements are at a kink: {at_kink}"
    assert notes == [
        "2 element(s) outside their own one-sided slopes belong to ties whose summed gradient matches the derivative "
        "moving the tie together (a convention such as the first maximum): at a kink, not failed"
    ], notes


def test_coincidental_ties_conclude_nothing():
    failed, at_kink, notes = _judge(coincidence, [9.0, 9.0, 1.4], [True, False, False], [False, True, False])
    assert failed.tolist() == [True, False, False] and at_kink.tolist() == [False, True, False], (
        f"nothing concluded, the element verdicts stay: failed {failed}, at_kink {at_kink}"
    )
    assert notes == [], notes


def test_a_large_wrong_tie_names_six_members_then_an_ellipsis():
    n = 8

    def pool(p):
        return float(2.0 * np.max(p["w"][:n]) + p["w"][n] ** 2)

    values = [C] * n + [0.7]
    failed, _, notes = _judge(pool, [2.0] * n + [1.4], [True] * n + [False], [False] * (n + 1), values)
    assert failed[:n].all(), f"every tied element fails: {failed}"
    assert "tie of 8 equal elements (flat 0, 1, 2, 3, 4, 5, ...)" in notes[0], notes
    assert "summed over them is 16," in notes[0] and "together 2 " in notes[0], notes


@pytest.mark.parametrize("sets", [32, 33])  # MAX_SETS = 32 by its value (the constant moved fails this)
def test_at_most_max_sets_ties_are_judged(sets):
    """Ties of pairs (2k, 2k+1) at distinct values, each pair a max: the full gradient to both fails a set;
    sets beyond MAX_SETS are left as the element-wise judgement had them (not failed here)."""

    def pairs(p):
        w = p["w"]
        return float(sum(np.maximum(w[0::2], w[1::2])))

    values = np.repeat(0.1 * np.arange(1, sets + 1), 2)
    ev = evaluator(pairs, values)
    n = values.size
    failed, _, _ = judge_ties(ev, "w", np.ones(n), np.zeros(n, bool), np.ones(n, bool), np.full(n, 1e-6))
    assert MAX_SETS == 32, "the limit the module documents"
    assert int(failed.sum()) == 2 * min(sets, 32), f"{sets} sets: {int(failed.sum())} elements failed"
