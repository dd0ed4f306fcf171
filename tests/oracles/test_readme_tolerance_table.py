"""The README's tolerance table quotes equivalence_tests.tolerances: every measured figure is the
MEASURED entry it names, every rtol the TOLERANCES entry, so neither can go stale on its own."""

from __future__ import annotations

from pathlib import Path

from equivalence_tests import tolerances

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = {"torch": "torch", "TF": "tensorflow", "FD": "finite_difference", "JAX": "jax"}


def readme_tolerance_table() -> tuple[list[str], list[list[str]]]:
    section = (ROOT / "README.md").read_text().split("## Tolerances", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    split = [[cell.strip().strip("*") for cell in row.strip("|").split("|")] for row in rows]
    return split[0], split[2:]  # header, body (the |---| line dropped)


def test_every_figure_in_the_table_is_the_tolerance_modules():
    header, body = readme_tolerance_table()
    assert header[0] == "quantity" and body, "the README's tolerance table is missing or reshaped"
    checked = 0
    for row in body:
        quantity = row[0]
        for title, cell in zip(header[1:], row[1:], strict=True):
            dtype, what = title.split(" ", 1)
            if what == "rtol":
                expected = tolerances.TOLERANCES[(quantity, dtype, "torch")].rtol
                assert float(cell) == expected, f"README {quantity} {title}: {cell}, tolerances.py says {expected:g}"
            elif cell == "0 (identical)":
                rtol = tolerances.TOLERANCES[(quantity, dtype, FAMILIES[what])].rtol
                assert rtol == 0, f"README {quantity} {title}: 'identical', but the table allows rtol {rtol:g}"
            else:
                measured = tolerances.MEASURED[(quantity, dtype, FAMILIES[what])]
                assert float(cell) == float(f"{measured:.2g}"), (
                    f"README {quantity} {title}: {cell}, tolerances.MEASURED says {measured:.2g}"
                )
            checked += 1
    assert checked >= 4 * 8, f"only {checked} cells checked"
