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


def test_readme_prose_quotes_the_committed_bfloat16_figures():
    """The sentence after the framework-rules list quotes two cells of the committed results."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    rows = json.loads((root / "benchmarks/results/framework_rules.json").read_text())["rows"]
    cell = {(r["n"], r["dtype"], r["case"]): r for r in rows if r["contender"] == "refnn check_torch"}
    right, element = cell[(1_000_000, "bfloat16", "right")], cell[(1_000_000, "bfloat16", "element")]
    assert right["verdict"] == "PASS" and element["verdict"] == "FAIL" and element["named"], (right, element)
    sentence = (f"a right bfloat16 rule at 1M PASS in {right['seconds']:.1f} s, its one wrong element named in "
                f"{element['seconds']:.1f} s")
    readme = " ".join((root / "README.md").read_text().split())
    assert sentence in readme, f"README must say: {sentence}"
