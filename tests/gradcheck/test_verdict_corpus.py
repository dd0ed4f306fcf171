"""The verdict corpus (tests/gradcheck/verdict_corpus.json): fuzzed cases whose verdict the truth decides.

Each entry is a VerdictRecipe (equivalence_tests/strategies_verdicts.py) with the verdict its truth
asks for (the torch float64 twin: right code PASS, or INCONCLUSIVE "at a kink" at exact ReLU zeros and
ties; a repeating planted bug of at least the 1% cap FAIL at the planted tensor; a first-call-only or
non-deterministic bug INCONCLUSIVE "not deterministic"); tests/gradcheck/verdict_corpus.py says how
they were drawn and kept. Asserted per case: that verdict, the planted tensor among the failed ones,
and every claim of the report against the truth and itself (equivalence_tests/report_invariants.py).
One test per category, so a category's first broken case shows with its reproducer.
"""

import dataclasses

import pytest

from equivalence_tests.report_invariants import report_name, report_problems
from equivalence_tests.strategies_verdicts import CATEGORIES, VerdictRecipe
from tests.gradcheck.verdict_corpus import load, run, said

CORPUS = load()


def test_corpus_covers_every_category_and_verdict():
    kinds = {(e["recipe"]["category"], e["verdict"]) for e in CORPUS}
    for category in CATEGORIES:
        assert any(c == category for c, _ in kinds), f"no corpus case of category {category!r}"
    for verdict in ("PASS", "FAIL", "INCONCLUSIVE"):
        assert any(v == verdict for _, v in kinds), f"no corpus case expecting {verdict}"
    fields = {f.name for f in dataclasses.fields(VerdictRecipe)}
    for entry in CORPUS:
        assert set(entry["recipe"]) == fields, f"corpus recipe fields {sorted(entry['recipe'])} != {sorted(fields)}"


@pytest.mark.parametrize("category", CATEGORIES)
def test_corpus_verdicts_and_reports(category):
    entries = [e for e in CORPUS if e["recipe"]["category"] == category]
    assert entries, f"no corpus case of category {category!r}"
    for entry in entries:
        recipe = VerdictRecipe(**entry["recipe"])
        case, report, label = run(recipe)
        where = f"\nreproduce: {recipe!r}.build() (entry point {recipe.entry})"
        assert not isinstance(report, Exception), f"the checker raised {report!r}{where}"
        assert label == entry["label"], f"truth label {label}, corpus says {entry['label']}{where}"
        assert str(report.verdict) == entry["verdict"], \
            f"verdict {report.verdict}, the truth asks {entry['verdict']}\n{report}{where}"  # fmt: skip
        if entry["verdict"] == "FAIL":
            failed = [name.removesuffix(" (rule in float64)") for name in report.failed_parameters]
            planted = report_name(case, case.probe.key)
            assert planted == entry["failed"] and planted in failed, \
                f"the planted tensor {planted} (corpus: {entry['failed']}) is not among the failed {failed}" \
                f"{where}"  # fmt: skip
        if entry["verdict"] == "INCONCLUSIVE":
            reasons = said(report)
            assert entry["reason"] in reasons, f"INCONCLUSIVE without {entry['reason']!r}: {reasons!r}\n{report}{where}"
        problems = report_problems(case, report)
        assert not problems, "the report misstates:\n  " + "\n  ".join(problems) + f"\n{report}{where}"


def test_the_readme_states_the_corpus():
    from pathlib import Path

    from tests.gradcheck.verdict_corpus import LARGE_SIDES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    stated = f"**The verdict corpus** (`tests/gradcheck/test_verdict_corpus.py`, {len(CORPUS)} cases"
    assert stated in readme, f"README should say: {stated}"
    smallest, largest = LARGE_SIDES[0] ** 2, (LARGE_SIDES[1] - 1) ** 2
    assert f"({smallest} to {largest} elements" in readme, f"README should give the wide layers' {smallest}..{largest}"
