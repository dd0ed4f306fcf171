"""The verdict corpus: fuzzed cases whose verdict the truth decides, pinned (a script, not collected).

    PYTHONPATH=$PWD python -m tests.gradcheck.verdict_corpus                 # draw, print the summary
    PYTHONPATH=$PWD python -m tests.gradcheck.verdict_corpus --refresh       # ... and rewrite verdict_corpus.json

Cases are drawn as the verdict fuzzer draws them (equivalence_tests.strategies_verdicts, Hypothesis
generation only, ``--seed``), run through their entry point, and labelled by the torch float64 twin
(equivalence_tests.verdict_fuzz). A case enters the corpus only where the truth alone decides the
verdict the contract asks for, and the checker gives it:

    right code (within RIGHT_LIMIT of the twin), differentiable PASS
    right code at exact ReLU zeros or ties, every unverified    INCONCLUSIVE "at a kink"
      element a kink and none failed
    wrong code (the planted bug >= the 1% cap), a bug that      FAIL, naming the planted tensor
      returns the same wrong value on every call
    a first-call-only or non-deterministic bug                  INCONCLUSIVE "not deterministic"

and every statement its report makes holds (equivalence_tests.report_invariants), far from the
verdict's boundary (MARGIN). Then the same
draws with wider layers (``enlarged``: W1 of 36..100 elements, checked by projections and group
testing) for the smooth categories. The expected
verdict is the truth's, never the checker's output taken as given: a case the checker gets only
INCONCLUSIVE on (allowed by the contract: right code it cannot resolve, wrong code within rounding's
reach) is left out, as is every case the fuzzer calls gray. tests/gradcheck/test_verdict_corpus.py
runs the corpus: a change that turns a verified PASS into INCONCLUSIVE, or a named FAIL into
anything else, or makes a report misstate a number, fails there. The file is rewritten only with
``--refresh`` (an explicit step, reviewed in its diff).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from equivalence_tests.report_invariants import report_name, report_problems  # noqa: E402
from equivalence_tests.strategies_verdicts import CATEGORIES, VerdictRecipe, verdict_cases  # noqa: E402
from equivalence_tests.verdict_fuzz import run_entry, truth_label  # noqa: E402

CORPUS = Path(__file__).with_name("verdict_corpus.json")
KINK = "at a kink"
NOT_DETERMINISTIC = "not deterministic"
# Wider layers for the checks of large tensors (projections, group testing): smooth categories only
# (exact kinks and ties are built for small layers); LARGE_SIDES: d and h drawn in [6, 11)
LARGE_CATEGORIES = ("float64", "float32", "float32-inside", "mixed", "tiny", "huge", "normalization",
                    "first_call", "layer_caches")  # fmt: skip
LARGE_SIDES = (6, 11)
# Kept only far from the verdict's boundary, so that another CPU's or NumPy's last bits cannot flip it:
# a PASS whose every row has err/tol <= MARGIN, a FAIL whose planted row has err/tol >= 1 / MARGIN.
MARGIN = 0.5
REPEATING_BUGS = ("one_element", "one_row", "x1.01", "x1.05", "x2", "sign", "transpose", "zero", "garbage", "tie_all")


def run(recipe: VerdictRecipe):
    """(case, report or the exception raised, truth label) of one recipe."""
    case = recipe.build()
    try:
        with warnings.catch_warnings():  # as run_case: NumPy's overflow warnings are printed, not raised
            warnings.simplefilter("ignore", RuntimeWarning)
            report = run_entry(case)
    except Exception as error:  # noqa: BLE001 - never expected of a corpus case; the test reports it
        report = error
    return case, report, truth_label(case)


def expected_outcome(recipe: VerdictRecipe, case, report, label: str) -> dict | None:
    """What the truth decides for this case ({"verdict", "failed" | "reason"}), or None: not decided
    by the truth, or not what the checker gives (then the case stays out of the corpus)."""
    if isinstance(report, Exception) or report_problems(case, report):
        return None  # printed by build() as a finding
    verdict, bug = str(report.verdict), recipe.bug
    ratios = [r.error_ratio for r in report.results.values() if not np.isnan(r.error_ratio)]
    if label == "right" and recipe.structure in ("smooth", "normalization") and verdict == "PASS":
        return {"verdict": "PASS"} if max(ratios, default=0.0) <= MARGIN else None
    if label == "right" and recipe.structure in ("kinks", "ties") and verdict == "INCONCLUSIVE":
        reasons = {reason for r in report.results.values() for reason in r.inconclusive_reasons}
        return {"verdict": "INCONCLUSIVE", "reason": KINK} if reasons == {KINK} and not report.problems else None
    if label == "wrong" and bug in REPEATING_BUGS and verdict == "FAIL":
        planted = report_name(case, case.probe.key)
        clear = [r for r in report.results.values()
                 if str(r.status) == "FAIL" and r.name.removesuffix(" (rule in float64)") == planted
                 and r.error_ratio >= 1 / MARGIN]  # fmt: skip
        return {"verdict": "FAIL", "failed": planted} if clear else None
    if label == "wrong" and bug in ("first_call", "nondeterministic") and verdict == "INCONCLUSIVE":
        return {"verdict": "INCONCLUSIVE", "reason": NOT_DETERMINISTIC} if NOT_DETERMINISTIC in said(report) else None
    return None


def said(report) -> str:
    """Every reason the report gives for what it did not verify (its problems, then each row's reasons)."""
    return " ".join([*report.problems, *(str(k) for r in report.results.values() for k in r.inconclusive_reasons)])


def draw(category: str, examples: int, draw_seed: int) -> list[VerdictRecipe]:
    from hypothesis import HealthCheck, Phase, given, seed, settings

    recipes: list[VerdictRecipe] = []

    @seed(draw_seed)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(verdict_cases(category))
    def collect(recipe):
        recipes.append(recipe)

    collect()
    return recipes


def enlarged(recipe: VerdictRecipe) -> VerdictRecipe:
    """The recipe with a wider layer: d, h in LARGE_SIDES (W1 of 36..100 elements, at or above the
    32 from which "auto" checks a tensor by projections and group testing, scale.py), drawn from the
    recipe's own seed so that the corpus file alone reproduces it."""
    rng = np.random.default_rng(recipe.seed)
    side = int(rng.integers(*LARGE_SIDES))
    d = h = side if recipe.bug == "transpose" else None  # transpose needs a square W1
    return dataclasses.replace(recipe, d=d or side, h=h or int(rng.integers(*LARGE_SIDES)))


def build(examples: int, draw_seed: int, per_kind: int) -> list[dict]:
    """Up to ``per_kind`` entries per (category, expected verdict), in draw order; then, for
    LARGE_CATEGORIES, up to ``per_kind // 2`` enlarged ones ("<category> large")."""
    entries, kept = [], {}
    passes = [(c, False) for c in CATEGORIES] + [(c, True) for c in LARGE_CATEGORIES]
    for category, large in passes:
        limit = per_kind // 2 if large else per_kind
        for drawn in draw(category, examples, draw_seed):
            recipe = enlarged(drawn) if large else drawn
            case, report, label = run(recipe)
            expected = expected_outcome(recipe, case, report, label)
            problems = [f"raised {report!r}"] if isinstance(report, Exception) else report_problems(case, report)
            if problems and label != "gray":
                print(f"FINDING ({label}): {recipe!r}\n  " + "\n  ".join(problems))
            if expected is None:
                continue
            kind = (category + " large" * large, expected["verdict"])
            if kept.get(kind, 0) >= limit:
                continue
            kept[kind] = kept.get(kind, 0) + 1
            entries.append({"recipe": dataclasses.asdict(recipe), "large": large, "label": label, **expected})
    return entries


def load() -> list[dict]:
    return json.loads(CORPUS.read_text())["cases"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=80, help="cases drawn per category (default 80)")
    parser.add_argument("--seed", type=int, default=20261206, help="Hypothesis seed of the draw")
    parser.add_argument("--per-kind", type=int, default=8, help="entries per category and verdict (default 8)")
    parser.add_argument("--refresh", action="store_true", help=f"rewrite {CORPUS.name} (committed)")
    args = parser.parse_args(argv)
    start = time.time()
    entries = build(args.examples, args.seed, args.per_kind)
    counts: dict[str, int] = {}
    for entry in entries:
        key = f"{entry['recipe']['category']}{' large' * entry['large']} {entry['verdict']}"
        counts[key] = counts.get(key, 0) + 1
    for key, count in counts.items():
        print(f"{key:40s} {count}")
    print(f"{len(entries)} cases kept in {time.time() - start:.0f} s (--examples {args.examples}, --seed {args.seed})")
    if args.refresh:
        payload = {"drawn_with": f"--examples {args.examples} --seed {args.seed} --per-kind {args.per_kind}",
                   "cases": entries}  # fmt: skip
        CORPUS.write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {CORPUS}")


if __name__ == "__main__":
    main()
