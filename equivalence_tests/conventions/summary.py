"""The conventions as a short terminal summary: one line per convention (its name, which frameworks
differ from the reference, and the values that differ, compactly), for ``refnn conventions``.

The full Markdown table (setups, every measured case, what the harness does, the tolerances) is
:func:`equivalence_tests.conventions.table.markdown_table` (``refnn conventions --markdown``).
"""

from __future__ import annotations

from collections.abc import Sequence

from equivalence_tests.conventions.measuring import FRAMEWORKS, MEASURED, NOT_MEASURED, ConventionResult, Value

SHORT_TITLES = {"torch": "torch", "tensorflow": "TF", "jax": "JAX"}
KEY_WIDTH = 28  # a case name longer than this is cut (the full name is in --markdown)
CASES_SHOWN = 3  # differing cases shown per line; the rest are counted


def _compact(value: Value, digits: int = 4) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_compact(v, digits) for v in value) + "]"
    return f"{float(value) + 0.0:.{digits}g}"  # + 0.0 prints -0.0 as 0


def _digits(reference: Value, values: Sequence[Value]) -> int:
    """Significant digits that show every differing value apart from the reference: 4 where that is enough
    (most conventions differ in the first digit), up to 10 (TF's float32 GELU constant: 5e-9 relative)."""
    for digits in range(4, 11):
        if all(_compact(value, digits) != _compact(reference, digits) for value in values):
            return digits
    return 10


def _gap(reference: Value, value: Value) -> float:
    """How far a value is from the reference, relative (to sort the cases shown: the largest first)."""
    pairs = zip(reference, value, strict=False) if isinstance(reference, (list, tuple)) else [(reference, value)]
    try:
        gaps = [abs(float(a) - float(b)) / max(abs(float(a)), abs(float(b)), 1e-300) for a, b in pairs]
    except (TypeError, ValueError):
        return float("inf")
    return max((float("inf") if gap != gap else gap for gap in gaps), default=0.0)


def _key(name: str) -> str:
    return name if len(name) <= KEY_WIDTH else name[: KEY_WIDTH - 3] + "..."


def _cases(value: Value) -> dict[str, Value]:
    """A measured value as {case: value}; a single number is the case ""."""
    return dict(value) if isinstance(value, dict) else {"": value}


def _differs(reference: Value, value: Value, tolerance: float) -> bool:
    pairs = zip(reference, value, strict=False) if isinstance(reference, (list, tuple)) else [(reference, value)]
    try:
        return any(not (abs(float(a) - float(b)) <= tolerance) for a, b in pairs)  # NaN differs
    except (TypeError, ValueError):  # a list against a number: a different shape is a different value
        return True


def _differing_cases(result: ConventionResult) -> dict[str, dict[str, Value]]:
    """{case: {framework: its value}} for every case where a measured framework differs from the reference
    beyond the row's tolerance; the case "" is a single-number convention."""
    reference = _cases(result.reference)
    differing: dict[str, dict[str, Value]] = {}
    for framework in FRAMEWORKS:
        measurement = result.measurement(framework)
        if measurement.status != MEASURED or measurement.agrees is not False:
            continue
        measured = _cases(measurement.value)
        if not isinstance(result.reference, dict):  # one reference number against each framework entry point
            pairs = {case: (result.reference, value) for case, value in measured.items()}
        else:
            pairs = {case: (reference[case], measured[case]) for case in measured if case in reference}
        for case, (expected, value) in pairs.items():
            if _differs(expected, value, result.tolerance):
                differing.setdefault(case, {})[framework] = value
    return differing


def summary_line(result: ConventionResult) -> str:
    """``name: differs in TF, JAX: case ref -> TF v, JAX w; ...`` (or ``agrees``), plus the frameworks not
    measured, not installed or failed."""
    statuses = {f: result.measurement(f) for f in FRAMEWORKS}
    differ = [f for f, m in statuses.items() if m.status == MEASURED and m.agrees is False]
    agree = [f for f, m in statuses.items() if m.status == MEASURED and m.agrees is True]
    if differ:
        cases = _differing_cases(result)
        shown = []
        reference = _cases(result.reference)
        def largest_gap(case: str) -> float:
            return max(_gap(reference.get(case, result.reference), value) for value in cases[case].values())

        for case in sorted(cases, key=largest_gap, reverse=True)[:CASES_SHOWN]:
            values = cases[case]
            expected = reference.get(case, result.reference)
            digits = _digits(expected, list(values.values()))
            label = f"{_key(case)} " if case else ""
            others = ", ".join(f"{SHORT_TITLES[f]} {_compact(v, digits)}" for f, v in values.items())
            shown.append(f"{label}{_compact(expected, digits)} -> {others}")
        more = f"; +{len(cases) - CASES_SHOWN} more" if len(cases) > CASES_SHOWN else ""
        text = f"differs in {', '.join(SHORT_TITLES[f] for f in differ)}: {'; '.join(shown)}{more}"
    elif agree:
        text = "agrees"
    elif any(m.status == MEASURED for m in statuses.values()):
        text = "measured, no reference value to compare (see --markdown)"
    else:
        text = "nothing measured"
    others = [f"{SHORT_TITLES[f]} {m.status}" for f, m in statuses.items()
              if m.status != MEASURED and m.status != NOT_MEASURED]  # fmt: skip
    no_api = [SHORT_TITLES[f] for f, m in statuses.items() if m.status == NOT_MEASURED]
    if no_api:
        others.append(f"no such API in {', '.join(no_api)}")
    return f"{result.name}: {text}" + (f" ({'; '.join(others)})" if others else "")


def summary(results: Sequence[ConventionResult], versions: dict[str, str]) -> str:
    """The header (versions, how many conventions differ), one line per convention, and where the full
    table is."""
    differing = sum(any(m.status == MEASURED and m.agrees is False for m in r.measurements) for r in results)
    version_line = ", ".join(f"{name} {version}" for name, version in versions.items())
    width = max((len(r.name) for r in results), default=0) + 1
    measured = sum(any(m.status == MEASURED for m in r.measurements) for r in results)
    if measured:
        count = (f"{differing} of {len(results)} conventions differ from the reference somewhere (reference value "
                 "-> framework value, to the digits that tell them apart; largest differences first):")
    else:  # a NumPy-only install: say so instead of "0 differ"
        count = (f"none of the {len(results)} conventions could be measured: no framework is installed "
                 '(pip install "reference-nn[torch]", "[tensorflow]" or "[jax]"):')
    lines = [f"Measured now with {version_line}.", count]
    for result in results:
        name, _, rest = summary_line(result).partition(": ")
        lines.append(f"{(name + ':').ljust(width)} {rest}")
    lines.append("Setups, every measured case, what the harness does and the tolerances: "
                 "refnn conventions --markdown (or --json).")  # fmt: skip
    return "\n".join(lines) + "\n"


__all__ = ["summary", "summary_line"]
