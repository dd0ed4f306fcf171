"""The porting guide people come for stays true: the README's conventions table is docs/conventions.md,
and docs/conventions.md is what the installed frameworks measure now (when the installed versions are
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


@pytest.mark.slow
def test_docs_conventions_is_what_the_installed_frameworks_measure_now():
    from equivalence_tests.conventions import measure_all
    from equivalence_tests.conventions.measuring import framework_versions
    from equivalence_tests.conventions.table import markdown_table

    docs = (ROOT / "docs" / "conventions.md").read_text()
    versions = framework_versions()
    now = markdown_table(measure_all(), versions)
    if _measured_part(now)[0] != _measured_part(docs)[0]:
        pytest.skip(f"installed versions differ from docs/conventions.md's: {_measured_part(now)[0]}")
    stale = [row.split("<br>")[0] for row in _measured_part(now)[1:] if row not in _measured_part(docs)]
    assert not stale, f"docs/conventions.md is stale for {stale}: regenerate it (nox -s update_docs)"
    assert re.search(r"\| \*\*", docs), "docs/conventions.md has no convention rows"
