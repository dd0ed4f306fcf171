"""Pins of scale.py's decisions and texts: where projections start, the miss probability, and the words that
say where wrong elements are and what would verify unresolvable ones (each number in them computed here).

``problem``, ``outcome`` and ``budget`` are stand-ins with the attributes describe() and
unresolvable_advice() read, so each text is checked against values chosen for it.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from reference_nn.gradcheck import scale
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.projection import DIRECTIONS, MISS_PER_DIRECTION


def test_projections_start_at_four_times_the_directions():
    assert scale.PROJECTION_MIN_ELEMENTS == 4 * DIRECTIONS, "4x DIRECTIONS (module comment)"
    n = scale.PROJECTION_MIN_ELEMENTS
    assert scale.use_projection(n) and not scale.use_projection(n - 1), f"from {n} elements on"


def test_miss_probability_is_per_direction_to_the_power_of_directions():
    assert scale.miss_probability() == pytest.approx(MISS_PER_DIRECTION**DIRECTIONS, rel=1e-12), "independent"
    assert scale.miss_probability() < MISS_PER_DIRECTION**2, "more directions, smaller miss probability"


def test_merge_joins_touching_and_overlapping_runs():
    assert scale._merge([(5, 6), (0, 1), (1, 2), (3, 5), (4, 9)]) == [(0, 2), (3, 9)], "sorted, merged"
    assert scale._merge([(0, 4), (1, 2)]) == [(0, 4)], "a run inside another keeps the outer end"
    assert scale._merge([]) == [], "nothing"


def test_ranges_text_names_runs_and_counts_covered():
    assert scale._ranges_text([(0, 1), (3, 6)], 10) == "0, 3-5 (4 of 10)", "single index, inclusive range"
    many = [(2 * i, 2 * i + 1) for i in range(8)]
    assert scale._ranges_text(many, 20) == "0, 2, 4, 6, 8, 10, ... (8 runs) (8 of 20)", "six runs, then a count"
    assert scale._ranges_text(many[:6], 20) == "0, 2, 4, 6, 8, 10 (6 of 20)", "six runs: no ellipsis"


def test_unravel():
    assert scale._unravel(7, (2, 4)) == (1, 3) and scale._unravel(0, ()) == (), "flat index to a tuple"


def _problem(a, values, tols, shape):
    return SimpleNamespace(a=np.array(a, float), values=np.array(values, float), tol=np.array(tols, float),
                           shape=shape, n=int(np.prod(shape)))  # fmt: skip


def _outcome(failing, rows=(), columns=(), sampled=0, sample_failing=0):
    return SimpleNamespace(failing=list(failing), wrong_rows=list(rows), wrong_columns=list(columns),
                           sampled=sampled, sample_failing=sample_failing)  # fmt: skip


def test_describe_orders_by_error_over_tolerance_and_names_rows():
    # errors / tolerances: element 1: 1/1, element 4: 4/2 = 2, element 6: 3/0.5 = 6: worst first 6, 4, 1
    problem = _problem([0, 1, 0, 0, 4, 0, 3, 0], [0] * 8, [1, 1, 1, 1, 2, 1, 0.5, 1], (4, 2))
    text = scale.describe(problem, _outcome([4, 1, 6, 4], rows=[0, 2, 3], columns=[0]), row_length=2)
    assert text == (
        "3 wrong element(s) confirmed element-wise, worst (3, 0), (2, 0), (0, 1); wrong elements share "
        "column(s) 0 (of the trailing axes, flattened); rows failing a projection: 0, 2-3 (3 of 4)"
    ), text


def test_describe_of_a_vector_names_flat_indices_and_the_sample():
    problem = _problem([1, 1, 0, 1, 0, 0], [0] * 6, [1] * 6, (6,))
    text = scale.describe(problem, _outcome([0, 1, 3], sampled=40, sample_failing=10), row_length=1)
    assert text == (
        "3 wrong element(s) confirmed element-wise, worst (0,), (1,), (3,); at flat indices 0-1, 3 "
        "(3 of 6); 10 of 40 elements sampled at random in the failing set are wrong (about 25%)"
    ), text


def test_describe_names_at_most_five_worst_and_six_columns():
    problem = _problem(np.arange(1, 9), [0] * 8, [1] * 8, (8, 1))
    text = scale.describe(problem, _outcome(range(8), columns=range(9)), row_length=2)
    assert "worst (7, 0), (6, 0), (5, 0), (4, 0), (3, 0);" in text, text
    assert "column(s) 0, 1, 2, 3, 4, 5 (of" in text, text


def _advice(inner, resolves, elapsed=3.0, evaluations=100):
    problem = SimpleNamespace(inner=inner, single_element_resolves=lambda allowance: resolves)
    budget = SimpleNamespace(elapsed=elapsed, evaluations=evaluations)
    return scale.unresolvable_advice(problem, 5, budget, 1e-3)


def test_unresolvable_advice_prices_element_wise_checks_at_the_checks_pace():
    base = (
        "5 element(s) not verified: real-difference projections cannot resolve 1% of this tensor's gradient RMS "
        "for this loss (its rounding is large next to these gradients)"
    )
    assert scale.MAX_RMS_SHARE == 1e-2, "the share the text names (the no-vacuous-tolerance cap, projection.py)"
    assert _advice("complex", True) == base and _advice("richardson", None) == base, "nothing to offer"
    assert _advice("richardson", False).startswith(base + ", nor would one element at a time"), "no element resolves"
    # 2 x RICHARDSON_LEVELS (6) x 5 elements = 60 evaluations; 3 s for 100 so far: 1.8 s
    evaluations = 2 * tol.RICHARDSON_LEVELS * 5
    assert evaluations == 60, "RICHARDSON_LEVELS moved: recompute the text below"
    assert _advice("richardson", True) == (
        base + ", method='elementwise' checks them one by one (60 evaluations, "
        "about 2 s at this check's pace), or a complex-safe f by complex step"
    )
    assert "(60 evaluations, about 180 s" in _advice("richardson", True, 3.0, 0), "no evaluation yet: per 1"
