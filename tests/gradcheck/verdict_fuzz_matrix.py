"""The verdict fuzzer's confusion matrix per category (a script, not collected by pytest).

    PYTHONPATH=$PWD python -m tests.gradcheck.verdict_fuzz_matrix --examples 200
    PYTHONPATH=$PWD python -m tests.gradcheck.verdict_fuzz_matrix --examples 50 --categories huge ties --show 3
    PYTHONPATH=$PWD python -m tests.gradcheck.verdict_fuzz_matrix --examples 50 --by entry   # rows: entry points

For each category of equivalence_tests.strategies_verdicts, ``--examples`` cases drawn by Hypothesis
(generation only: no shrinking, no example database; ``--seed`` makes the draw repeatable), each run
through its checker entry point and judged against the torch twin (equivalence_tests.verdict_fuzz).
Prints per category: runs; on right code PASS / false FAIL (FAIL, or the checker raising) /
INCONCLUSIVE; on wrong code (beyond the cap) FAIL / false PASS / INCONCLUSIVE / raised; gray (not
judged). ``--show K`` prints the first K false PASS and false FAIL of each category with their report
and a one-line reproducer; ``--by entry`` (or ``mode``, ``bug``) gives the same cases' matrix per entry
point (precision mode, planted bug) instead. The property behind it is tests/gradcheck/test_verdict_fuzz.py.
"""

from __future__ import annotations

import argparse
import os
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # a measurement on a shared machine: one thread each

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from equivalence_tests.strategies_verdicts import CATEGORIES, verdict_cases  # noqa: E402
from equivalence_tests.verdict_fuzz import Tally, confusion_matrix, run_case  # noqa: E402


def run_category(category: str, examples: int, draw_seed: int, show: int) -> tuple[list, list[str]]:
    """(the category's outcomes, the descriptions of its first ``show`` false PASS and false FAIL)."""
    outcomes, bad = [], []

    @seed(draw_seed)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(verdict_cases(category))
    def run(recipe):
        outcome = run_case(recipe.build())
        outcomes.append(outcome)
        if (outcome.false_pass or outcome.false_fail) and len(bad) < show:
            bad.append(("false PASS " if outcome.false_pass else "false FAIL ") + outcome.describe())

    run()
    return outcomes, bad


def tallies_by(outcomes, attribute: str) -> list[Tally]:
    """One Tally per value of ``attribute`` (category, entry, mode or bug), in first-seen order."""
    tallies: dict[str, Tally] = {}
    for outcome in outcomes:
        key = str(getattr(outcome, attribute))
        tallies.setdefault(key, Tally(key)).add(outcome)
    return list(tallies.values())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="cases per category (default 100)")
    parser.add_argument("--categories", nargs="*", default=list(CATEGORIES), choices=CATEGORIES)
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed of the draw (default 0)")
    parser.add_argument(
        "--by",
        default="category",
        choices=("category", "entry", "mode", "bug"),
        help="the rows of the matrix (default: category)",
    )
    parser.add_argument("--show", type=int, default=0, help="print the first K false PASS / FAIL per category")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error(f"--examples must be >= 1; got {args.examples}")
    start, outcomes, shown = time.time(), [], []
    for category in args.categories:
        found, bad = run_category(category, args.examples, args.seed, args.show)
        outcomes += found
        shown += bad
    print(confusion_matrix(tallies_by(outcomes, args.by), args.by))
    print(f"{len(outcomes)} cases in {time.time() - start:.0f} s (--examples {args.examples}, "
          f"--seed {args.seed})")  # fmt: skip
    for text in shown:
        print("\n" + text)


if __name__ == "__main__":
    main()
