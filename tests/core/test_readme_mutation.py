"""The README's mutation-testing figures are those of the committed results (mutation/results/*.json, written
by ``python -m mutation.mutants ... --update-docs``), and every survivor judged equivalent is listed in the
README with its reason, as in mutation/equivalent.toml."""

import json
from pathlib import Path

import tomllib

from mutation.mutants import RESULTS, load_equivalent, readme_block, readme_line

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_states_the_committed_kill_rates():
    summaries = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))]
    assert summaries, "mutation/results/ holds no summary: run python -m mutation.mutants gradcheck --update-docs"
    for summary in summaries:
        line = readme_line(summary)
        assert line in README, f"README should state, for {summary['target']}:\n{line}"


def test_readme_lists_each_equivalent_survivor_with_its_reason():
    with open(ROOT / "mutation" / "equivalent.toml", "rb") as handle:
        entries = tomllib.load(handle).get("mutant", [])
    for entry in entries:
        row = f"`{entry['original']}` -> `{entry['mutated']}`"
        assert row in README and entry["reason"] in README, (
            f"README should list {entry['module']}: {row}: {entry['reason']}")


def test_readme_block_is_the_generated_one():
    """The block between the README's markers is what ``python -m mutation.mutants --summary --update-docs``
    writes from the committed results and equivalent.toml (survivors not killed included)."""
    summaries = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))]
    block = readme_block(summaries, load_equivalent())
    assert block in README, "README's mutation block is stale: run python -m mutation.mutants --summary --update-docs"
