"""benchmarks/framework_rules.py's own accounting at 200 elements, float64: check_torch PASSes the right
SiLU rule, FAILs every planted bug (naming the planted element), and the README table shows it."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")

from benchmarks import framework_rules as bench  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.jax]


def test_refnn_rows_and_table():
    rows = bench.measure({"200": 200}, ("float64",), max_seconds=30.0)
    refnn = {r["case"]: r for r in rows if r["contender"] == "refnn check_torch"}
    assert refnn["right"]["verdict"] == "PASS", f"the right rule must PASS: {refnn['right']}"
    for case in ("element", "sign", "missing term", "double"):
        assert refnn[case]["verdict"] == "FAIL", f"planted bug {case!r} must FAIL: {refnn[case]}"
    assert refnn["element"]["named"] is True, f"the planted element is named: {refnn['element']}"
    assert "linear in the upstream gradient" in refnn["sign"]["note"], "the sign bug is the linearity contract's"
    assert len(rows) == len(bench.CASES) * len(bench.CONTENDERS), "one row per case and contender"
    table = bench.readme_table(rows)
    assert "| 200 | float64 | element | FAIL, named" in table, f"the table shows the verdict:\n{table}"
