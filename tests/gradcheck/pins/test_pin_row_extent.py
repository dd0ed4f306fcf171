"""Pin of how group testing follows a block of wrong rows (group_testing._follow_patterns) by its
effect: from one row with a confirmed wrong element, the neighbouring rows that fail a projection are
added up and down, to the first and last row of the matrix included, and a column shared by wrong
elements of two or more rows is named (mutation-testing survivors of
issue 26: a walk that stops at row 1, tests an empty or shorter row, or never moves)."""

import numpy as np
import pytest

from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.group_testing import SearchOutcome, _follow_patterns
from reference_nn.gradcheck.projection import TensorProblem

ROWS, COLUMNS = 16, 8
rng = np.random.default_rng(11)
G = rng.choice([-1.0, 1.0], (ROWS, COLUMNS)) * rng.uniform(0.5, 1.5, (ROWS, COLUMNS))
X = rng.uniform(-0.9, 0.9, (ROWS, COLUMNS))


def linear(p):
    return np.sum(G * p["W"])


@pytest.mark.parametrize("wrong_rows, confirmed_row", [
    ((0, 1, 2, 3), 2),  # the block reaches row 0
    ((12, 13, 14, 15), 13),  # ... and the last row
    ((5, 6, 7, 8, 9), 7),  # both ways from the middle, stopping at right rows
])  # fmt: skip
def test_a_block_of_wrong_rows_is_followed_from_one_confirmed_element(wrong_rows, confirmed_row):
    analytic = G.copy()
    analytic[list(wrong_rows)] *= 1.01  # 1% of every element: each wrong row fails its projections
    ev = LossEvaluator(linear, {"W": X.copy()}, np.float64)
    problem = TensorProblem(ev, "W", analytic, np.float64, "complex", None, 0.0, (1, 2))
    out = SearchOutcome(np.zeros(problem.n, dtype=bool), np.zeros(problem.n, dtype=bool))
    out.failing = [confirmed_row * COLUMNS + 3]  # one element of one row confirmed wrong element-wise
    _follow_patterns(problem, out, COLUMNS)
    assert out.wrong_rows == list(wrong_rows), (
        f"rows {wrong_rows} are wrong, row {confirmed_row} confirmed: followed to {out.wrong_rows}")


@pytest.mark.parametrize("failing, shared", [
    ([(0, 3), (1, 3)], [3]),  # two rows share column 3
    ([(0, 3), (4, 3), (9, 3)], [3]),  # three rows
    ([(0, 3), (1, 5)], []),  # two rows, no column in common
])  # fmt: skip
def test_a_column_shared_by_wrong_elements_of_several_rows_is_named(failing, shared):
    ev = LossEvaluator(linear, {"W": X.copy()}, np.float64)
    problem = TensorProblem(ev, "W", G.copy(), np.float64, "complex", None, 0.0, (1, 2))
    out = SearchOutcome(np.zeros(problem.n, dtype=bool), np.zeros(problem.n, dtype=bool))
    out.failing = [row * COLUMNS + column for row, column in failing]
    _follow_patterns(problem, out, COLUMNS)
    assert out.wrong_columns == shared, f"failing {failing}: columns {out.wrong_columns}, expected {shared}"


def test_following_a_block_stops_after_sixty_four_row_tests():
    """EXTENT_TESTS = 64 row tests per tensor (group_testing's budget for following a pattern): from row 0
    of a 100-row matrix whose first 90 rows are wrong, rows 1..64 are tested and added, then it stops."""
    rows = 100
    gradient = np.random.default_rng(12).uniform(0.5, 1.5, (rows, 2))
    x = np.random.default_rng(13).uniform(-0.9, 0.9, (rows, 2))
    analytic = gradient.copy()
    analytic[:90] *= 1.01
    ev = LossEvaluator(lambda p: np.sum(gradient * p["W"]), {"W": x}, np.float64)
    problem = TensorProblem(ev, "W", analytic, np.float64, "complex", None, 0.0, (1, 2))
    out = SearchOutcome(np.zeros(problem.n, dtype=bool), np.zeros(problem.n, dtype=bool))
    out.failing = [1]  # row 0, column 1 confirmed wrong
    _follow_patterns(problem, out, 2)
    assert out.wrong_rows == list(range(65)), f"followed to rows {out.wrong_rows[0]}..{out.wrong_rows[-1]}"
