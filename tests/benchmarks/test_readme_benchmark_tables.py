"""The README's benchmark tables quote the committed results (benchmarks/results/*.md and .json):
every number in a table row is one of the results' numbers, rounded to the digits the README shows
(units normalized: "7.0 ms" may be 0.00704 s in the JSON). A table copied from an older run, or a
typo, fails; refreshing the results is an explicit step (`nox -s update_docs`)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# README sub-heading -> results stem
TABLES = {"Training step": "training_step", "Gradient-check cost and accuracy": "gradcheck_cost",
          "Suite throughput": "suite_throughput", "Hand-written framework rules": "framework_rules",
          "Gradient checks at scale": "gradcheck_scale", "Real-valued losses at scale": "scale_cases"}  # fmt: skip
NUMBER = re.compile(r"(\d[\d,]*\.?\d*(?:e[-+]?\d+)?)\s?(x|%|s|ms|µs|us|MiB)?(?![\w.])")
UNIT = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6}


def numbers_in(text: str) -> list[tuple[float, int, str]]:
    """(value in base units, significant digits shown, token) for every number in ``text``."""
    found = []
    for match in NUMBER.finditer(text):
        digits, unit = match.group(1).replace(",", ""), match.group(2) or ""
        mantissa = digits.split("e")[0].replace(".", "").lstrip("0") or "0"
        significant = len(mantissa.rstrip("0")) if "." not in digits.split("e")[0] else len(mantissa)
        found.append((float(digits) * UNIT.get(unit, 1.0), max(significant, 1), match.group(0)))
    return found


def shown_as(value: float, significant: int) -> float:
    if value == 0:
        return 0.0
    return round(value, significant - 1 - math.floor(math.log10(abs(value))))


def readme_table_rows(title: str) -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Benchmarks", 1)[1].split("\n## ", 1)[0]
    body = section.split(f"**{title}**", 1)[1].split("\n**", 1)[0]
    return [line for line in body.splitlines() if line.startswith("|") and not line.startswith("|---")][1:]


@pytest.mark.parametrize("title", TABLES)
def test_every_number_in_the_readme_table_is_in_the_committed_results(title):
    stem = TABLES[title]
    results = "\n".join((ROOT / "benchmarks" / "results" / f"{stem}.{ext}").read_text() for ext in ("md", "json"))
    available = [value for value, _, _ in numbers_in(results)]
    rows = readme_table_rows(title)
    assert rows, f"README has no {title} table"
    missing = []
    for row in rows:
        for value, significant, token in numbers_in(row):
            if not any(shown_as(candidate, significant) == shown_as(value, significant) for candidate in available):
                missing.append(token)
    assert not missing, f"README {title} table: {missing} are not in benchmarks/results/{stem}.md/.json"


def test_the_check_catches_a_changed_figure():
    available = [value for value, _, _ in numbers_in("| 1.07x | 7.04 ms | 0.00704 |")]
    assert any(shown_as(c, 2) == shown_as(7.0e-3, 2) for c in available), "7.0 ms is 7.04 ms rounded"
    assert not any(shown_as(c, 3) == shown_as(1.08, 3) for c in available), "1.08x is not 1.07x"
