"""The QA case record and its judge (see cases.py for what each expectation means)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Case:
    name: str  # "style/function/variant"
    dtype: str  # "float64", "float32" or "mixed"
    expect: str  # PASS, NOT_FAIL, INCONCLUSIVE, FAIL, NOT_PASS
    run: Callable  # method -> GradientReport
    tensor: str | None = None  # the tensor a planted bug breaks
    index: tuple | None = None  # the element, where the bug sits in one place
    reason: str | None = None  # a word the INCONCLUSIVE reasons must contain


def judge(case: Case, report) -> str:
    """'ok' ('ok, inconclusive' where INCONCLUSIVE is allowed and given), or what is wrong: 'false
    pass' (also '(tensor)': the broken tensor's own row says PASS), 'false alarm', 'wrong tensor', 'wrong
    element', 'missed (inconclusive)', 'unneeded inconclusive', 'wrong reason'."""
    v = str(report.verdict)
    if case.expect in ("FAIL", "NOT_PASS") and v == "PASS":
        return "false pass"
    if case.expect in ("PASS", "NOT_FAIL", "INCONCLUSIVE") and v == "FAIL":
        return "false alarm"
    if case.expect == "PASS" and v != "PASS":
        return "unneeded inconclusive"
    if case.expect == "INCONCLUSIVE" and v != "INCONCLUSIVE":
        return "false pass"  # right code, but an unverifiable point was reported verified
    if case.expect == "FAIL":
        if v != "FAIL" and case.tensor in report.results and str(report[case.tensor].status) == "PASS":
            return "false pass (tensor)"  # the report is INCONCLUSIVE, but the broken tensor's row says PASS
        if v != "FAIL":
            return "missed (inconclusive)"
        if case.tensor not in report.failed_parameters:
            return "wrong tensor"
        if case.index is not None and tuple(report[case.tensor].worst_index or ()) != tuple(case.index):
            return "wrong element"
    if case.reason and v == "INCONCLUSIVE" and not any(case.reason in r for r in report.reasons):
        return "wrong reason"
    return "ok, inconclusive" if v == "INCONCLUSIVE" and case.expect != "INCONCLUSIVE" else "ok"
