"""benchmarks/gradcheck_scale.py's own accounting, at a tiny size: the planted cases are what the
table says they are (the default check catches and names each), and the right gradient passes."""

import numpy as np
import pytest

from benchmarks import gradcheck_scale as bench


@pytest.mark.parametrize("loss_kind", bench.LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", bench.CASES)
def test_default_check_row_is_what_the_table_reports(case, dtype, loss_kind):
    problem = bench.Problem((8, 24, 10), dtype, loss_kind=loss_kind)
    assert (type(problem.loss(problem.params)) is float) == (loss_kind == "float()"), "the loss kind is as named"
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


def test_update_docs_replaces_only_the_readme_table(tmp_path):
    rows = [{"size": "~300", "n_params": 466, "loss": "float()", "dtype": "float64", "case": "right",
             "contender": "refnn default", "seconds": 0.0123, "evaluations": 620, "caught": False, "named": None,
             "note": "PASS; dW1 verified to 9e-08 x RMS"}]
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n\n{bench.README_TITLE} text\n\n| params | old |\n|---|---|\n| 1 | 2 |\n\nafter\n")
    bench.update_readme(rows, readme)
    text = readme.read_text()
    assert "| 466 | float() | float64 | right | 12.30 ms pass, dW1 to 9e-08 RMS |" in text, text
    assert text.startswith("intro\n\n") and text.endswith("\n\nafter\n") and "| 1 | 2 |" not in text, text
