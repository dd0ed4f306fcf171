"""``refnn conventions``' terminal summary: one line per convention naming the frameworks that differ
and the values that differ (to the digits that tell them apart), on rows built by hand here so each
case is known."""

from __future__ import annotations

import math

from equivalence_tests.conventions.measuring import MEASURED, NOT_INSTALLED, NOT_MEASURED, ConventionResult, Measurement
from equivalence_tests.conventions.summary import summary, summary_line


def _result(reference, torch, tensorflow, jax, tolerance=1e-15, name="row") -> ConventionResult:
    def measured(framework, value):
        if isinstance(value, str):
            return Measurement(framework, value)
        differences = [abs(value[k] - reference[k]) if isinstance(value, dict) else abs(value - reference)
                       for k in (reference if isinstance(reference, dict) else [None])]  # fmt: skip
        difference = max(math.inf if d != d else d for d in differences)
        return Measurement(framework, MEASURED, value, difference <= tolerance, difference)

    measurements = (measured("torch", torch), measured("tensorflow", tensorflow), measured("jax", jax))
    return ConventionResult(name, "q", "setup", reference, tolerance, "why", measurements, "action")


def test_a_differing_framework_is_named_with_both_values():
    line = summary_line(_result({"eps": 1e-5, "momentum": 0.1}, {"eps": 1e-5, "momentum": 0.1},
                                {"eps": 1e-3, "momentum": 0.9}, NOT_MEASURED, name="batchnorm"))  # fmt: skip
    assert line.startswith("batchnorm: differs in TF:"), line
    assert "eps 1e-05 -> TF 0.001" in line and "momentum 0.1 -> TF 0.9" in line, line
    assert "torch" not in line, f"an agreeing framework is not listed as differing: {line}"
    assert "no such API in JAX" in line, line


def test_digits_grow_until_the_values_differ():
    """TF's float32 GELU constant is 5e-9 off: at 4 digits both print 1.298, which would say nothing."""
    line = summary_line(_result(1.2982295235507164, 1.2982295235507166, 1.298229518527334, 1.2982295235507166))
    assert "1.298229524 -> TF 1.298229519" in line, line


def test_agreement_missing_frameworks_and_nan_are_said():
    assert summary_line(_result(0.5, 0.5, 0.5, 0.5)) == "row: agrees", "all agree: one word"
    line = summary_line(_result(0.5, 0.5, NOT_INSTALLED, float("nan")))
    assert "differs in JAX: 0.5 -> JAX nan" in line and "TF not installed" in line, line


def test_one_line_per_convention_with_header_and_pointer_to_the_table():
    rows = [_result(0.5, 0.5, 0.5, 0.5, name=f"row{i}") for i in range(3)]
    rows.append(_result(0.5, 0.5, 0.25, 0.5, name="another"))
    lines = summary(rows, {"numpy": "2.4.6", "torch": "2.13.0"}).splitlines()
    assert len(lines) == 2 + len(rows) + 1, lines
    assert "numpy 2.4.6" in lines[0] and "1 of 4 conventions differ" in lines[1], lines[:2]
    assert lines[-1].endswith("refnn conventions --markdown (or --json)."), lines[-1]
    assert [line.split(":")[0] for line in lines[2:-1]] == ["row0", "row1", "row2", "another"], lines


def test_nothing_installed_is_said_not_counted_as_agreement():
    rows = [_result(0.5, NOT_INSTALLED, NOT_INSTALLED, NOT_INSTALLED, name="row")]
    lines = summary(rows, {"numpy": "2.4.6"}).splitlines()
    assert "could be measured: no framework is installed" in lines[1], lines[1]
    assert "0 of" not in lines[1], "no framework measured is not '0 differ'"
    assert lines[2] == "row: nothing measured (torch not installed; TF not installed; JAX not installed)", lines[2]


def test_main_summary_option_prints_the_summary(monkeypatch, capsys):
    """``refnn conventions`` passes --summary (tests/cli/test_other_commands.py); here --summary prints it.
    The summary of the real measurement is checked where the table is measured anyway
    (tests/conventions/test_conventions_table_is_current.py: one measurement for both)."""
    import equivalence_tests.conventions as conventions
    from equivalence_tests.conventions import table

    rows = [_result(0.5, 0.5, 0.25, 0.5, name="another")]
    monkeypatch.setattr(conventions, "measure_all", lambda: rows)
    monkeypatch.setattr(table, "framework_versions", lambda: {"numpy": "2.4.6"})
    assert table.main(["--summary"]) == 0
    assert capsys.readouterr().out == summary(rows, {"numpy": "2.4.6"}), "--summary prints summary()"
