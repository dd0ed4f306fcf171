"""benchmarks/gradcheck_scale.py's own accounting, at a tiny size: the planted cases are what the
table says they are (the default check catches and names each), and the right gradient passes."""

import numpy as np
import pytest

from benchmarks import gradcheck_scale as bench


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", bench.CASES)
def test_default_check_row_is_what_the_table_reports(case, dtype):
    problem = bench.Problem((8, 24, 10), dtype)
    outcome = bench.refnn("auto")(problem, case)
    assert outcome["caught"] == (case != "right"), f"{case}: {outcome}"
    assert outcome["named"] in ((True,) if case != "right" else (None,)), f"{case}: {outcome}"
    assert problem.calls > 0, "the loss calls are counted"


def test_planted_cases_change_exactly_what_they_say():
    problem = bench.Problem((8, 24, 10), np.float64)
    right = problem.grads(problem.params)["dW1"]
    element = problem.grads(problem.params, "element")["dW1"]
    row = problem.grads(problem.params, "row")["dW1"]
    assert np.flatnonzero(element != right).tolist() == [np.ravel_multi_index(bench.ELEMENT, right.shape)]
    assert sorted({int(i) for i in np.argwhere(row != right)[:, 0]}) == [bench.ROW]
    assert np.allclose(problem.grads(problem.params, "all")["dW1"], 1.01 * right, rtol=1e-15, atol=0)
