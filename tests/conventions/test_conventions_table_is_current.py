"""The porting guide people come for stays true: the README's conventions table is docs/conventions.md,
and docs/conventions.md is what the installed frameworks measure now, to rounding (when the installed versions are
the ones it was generated with; other versions, e.g. a nox matrix cell, are compared by the drift
report instead)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _measured_part(text: str) -> list[str]:
    """From the "Measured with" line to the table's last row, as lines."""
    start = text.index("Measured with ")
    lines = text[start:].splitlines()
    first_row = next(index for index, line in enumerate(lines) if line.startswith("|"))
    end = next((index for index in range(first_row, len(lines)) if not lines[index].startswith("|")), len(lines))
    return lines[:end]


def test_readme_table_is_docs_conventions():
    readme = _measured_part((ROOT / "README.md").read_text())
    docs = _measured_part((ROOT / "docs" / "conventions.md").read_text())
    assert readme == docs, (
        "README's conventions table differs from docs/conventions.md: copy it over (nox -s update_docs regenerates "
        "docs/conventions.md); first difference: "
        + next((f"{a!r} != {b!r}" for a, b in zip(readme, docs, strict=False) if a != b), "row count")
    )


# A number as the table prints it: "0.0078125", "-0.1002108019", "8.33e-17", "1e-05".
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# Two printings of one measured value agree when they differ by at most this much. Why these numbers:
# every row is a float64 (or float32) computation on a handful of values whose result is printed with
# 10 significant digits (".10g"), trajectories with 6 (".6g"), differences with 3 (".3g"). Another
# machine with the same framework versions can take another BLAS/SIMD path and round differently:
# measured differences of rounding size (a "max abs diff" of 1.67e-16 here, 8.33e-17 there), and a
# printed value that falls on the other side of its last printed digit. So: an absolute 1e-12
# (thousands of float64 ulps of an O(1) value, still 7 orders below the smallest convention gap in
# the table, e.g. GELU's tanh approximation at 2e-4 or TF's float32 constant at 5e-9), or a relative
# 1e-5 (one unit in the 6th significant digit of a trajectory; float32 rounding is 6e-8).
_ABSOLUTE = 1e-12
_RELATIVE = 1e-5


def _numbers_agree(now: float, then: float) -> bool:
    if now == then or (now != now and then != then):  # equal, or both NaN
        return True
    gap = abs(now - then)
    return gap <= _ABSOLUTE or gap <= _RELATIVE * max(abs(now), abs(then))


_CELL_BORDER = re.compile(r"(?<!\\)\|")  # a table cell border (not an escaped "\|" inside a cell)


def _row_difference(now: str, then: str) -> str | None:
    """Why two printings of a row are not the same measurement (None when they are). The measured cells
    (reference_nn and one per framework: the 3rd to the 3rd-last) must have the same words (agrees / differs,
    case names, statuses) and numbers within the rounding tolerance; the other cells (the question, the
    setup, what the harness does, the tolerance) are text written by hand and must be equal."""
    cells_now, cells_then = _CELL_BORDER.split(now), _CELL_BORDER.split(then)
    if len(cells_now) != len(cells_then):
        return f"{len(cells_now)} cells now, {len(cells_then)} in docs/conventions.md"
    measured = range(3, len(cells_now) - 3)  # "", convention, setup | measured ... | harness, tolerance, ""
    for index, (cell_now, cell_then) in enumerate(zip(cells_now, cells_then, strict=True)):
        if index not in measured:
            if cell_now != cell_then:
                return f"cell {index} differs: {cell_now.strip()!r} != {cell_then.strip()!r}"
            continue
        if _NUMBER.split(cell_now) != _NUMBER.split(cell_then):
            return f"cell {index}'s words differ: {cell_now.strip()!r} != {cell_then.strip()!r}"
        for number_now, number_then in zip(_NUMBER.findall(cell_now), _NUMBER.findall(cell_then), strict=True):
            if not _numbers_agree(float(number_now), float(number_then)):
                return f"measured {number_now} now, {number_then} in docs/conventions.md (cell {index})"
    return None


def test_row_comparison_ignores_rounding_but_not_a_convention():
    row = ("| **x**<br>q | x = 1 | a: 0.8413447461 | agrees, max abs diff 1.67e-16<br>a: 0.8413447461<br>"
           "traj: [0.1, 0.2] | *not installed* | *not measured* | harness | 1e-15: why |")
    rounding = row.replace("1.67e-16", "8.33e-17").replace("a: 0.8413447461<br>", "a: 0.8413447462<br>")
    assert _row_difference(row, rounding) is None, "a rounding-level difference must not make the table stale"
    moved = row.replace("0.8413447461", "0.8411919906")  # GELU exact -> tanh approximation: 2e-4
    assert _row_difference(row, moved) is not None, "a changed convention value must make the table stale"
    flipped = row.replace("agrees", "differs")
    assert _row_difference(row, flipped) is not None, "a changed verdict must make the table stale"
    assert _row_difference(row, row.replace("1e-15:", "1e-14:")) is not None, "a changed tolerance must be seen"
    assert _row_difference(row, row.replace("not installed", "measured")) is not None, "a changed status must be seen"
    tiny = row.replace("a: 0.8413447461 |", "a: 1e-05 |")
    assert _row_difference(tiny, tiny.replace("a: 1e-05 |", "a: 1e-06 |")) is not None, "a default eps 10x apart"


def _assert_summary_is_one_short_line_per_convention(results, versions) -> None:
    """``refnn conventions``' default output on the real measurement: a header of two lines, one line per
    convention in the table's order, one line pointing to --markdown; no line the width of the Markdown
    table (2,490 characters before the summary existed)."""
    from equivalence_tests.conventions import CONVENTIONS
    from equivalence_tests.conventions.summary import summary

    lines = summary(results, versions).splitlines()
    assert len(lines) == len(CONVENTIONS) + 3, f"{len(lines)} summary lines for {len(CONVENTIONS)} conventions"
    names = [line.split(":")[0] for line in lines[2:-1]]
    assert names == [convention.name for convention in CONVENTIONS], names
    assert max(len(line) for line in lines) <= 240, f"a summary line too long for a terminal: {max(lines, key=len)}"


@pytest.mark.slow
def test_docs_conventions_is_what_the_installed_frameworks_measure_now():
    from equivalence_tests.conventions import measure_all
    from equivalence_tests.conventions.measuring import framework_versions
    from equivalence_tests.conventions.table import markdown_table

    docs = (ROOT / "docs" / "conventions.md").read_text()
    versions = framework_versions()
    results = measure_all()
    _assert_summary_is_one_short_line_per_convention(results, versions)  # the same measurement: it takes ~15 s
    now = markdown_table(results, versions)
    if _measured_part(now)[0] != _measured_part(docs)[0]:
        pytest.skip(f"installed versions differ from docs/conventions.md's: {_measured_part(now)[0]}")
    rows_now, rows_docs = _measured_part(now)[1:], _measured_part(docs)[1:]
    assert len(rows_now) == len(rows_docs), (
        f"docs/conventions.md has {len(rows_docs)} table lines, the frameworks now give {len(rows_now)}: "
        "regenerate it (nox -s update_docs)"
    )
    stale = [f"{row.split('<br>')[0]}: {why}" for row, old in zip(rows_now, rows_docs, strict=True)
             if (why := _row_difference(row, old)) is not None]  # fmt: skip
    assert not stale, f"docs/conventions.md is stale for {stale}: regenerate it (nox -s update_docs)"
    assert re.search(r"\| \*\*", docs), "docs/conventions.md has no convention rows"
