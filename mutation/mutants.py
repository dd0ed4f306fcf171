"""Mutation testing of reference_nn.gradcheck, reference_nn and the harness's tolerance modules.

    python -m mutation.mutants gradcheck                      every mutant of reference_nn/gradcheck
    python -m mutation.mutants gradcheck --sample 200 --seed 1  a seeded random sample of them
    python -m mutation.mutants gradcheck --rerun-survivors --seed 1  its survivors against today's tests
    python -m mutation.mutants gradcheck --modules diagnosis.py  one module (a quick try)
    python -m mutation.mutants --summary                     the committed counts (mutation/results/)
    python -m mutation.mutants --summary --update-docs       ... and the README block rewritten from them

``nox -s mutants`` runs the three targets. Each mutant is one small change of the source made by
cosmic-ray's operators (``+`` -> ``-``, ``<`` -> ``<=``, a number +-1, ``True`` -> ``False``, a loop
that never runs, ...), and is run against the tests that target its package (TARGETS: fast
selections, ``-m "not slow" -x``, the pinning tests first so that a killed mutant stops within seconds).
A mutant is *killed* when a test fails, *survives* when every test passes, *timeout* when the tests
run past TIMEOUT_S (an infinite loop: counted apart, not as killed). A survivor that no input can tell
apart from the original is *equivalent*; mutation/equivalent.toml lists each one with its reason, and
the kill rate is killed / (all - equivalent - timeout).

The sources are mutated in a copy of the working tree (refnn-output/mutants/tree-<name>), never in place,
so an interrupted run leaves the checkout untouched. Results are appended per mutant to
refnn-output/mutants/<name>.jsonl, <name> = <target>-seed<seed> for a sample (a rerun resumes where it stopped:
same code, same seed); with --update-docs the summary is also written to mutation/results/<name>.json
(committed), and the README's block between its mutation-results markers is rewritten from every committed
summary. ``--rerun-survivors --seed S`` runs every test stage again on that sample's survivors not judged
equivalent, applying each by its line's text (after tests were written for them): the kill rate stays
the first pass's, the rerun's is reported beside it, biased. On a machine without the run's log (a fresh
checkout), ``--rerun-survivors`` takes the survivors of the committed summary instead (rerun_summary).

Operators left out: the bitwise and shift replacements of arithmetic operators (``a / b`` -> ``a ^ b``)
raise TypeError on every float and would count as cheap kills, inflating the rate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "refnn-output" / "mutants"
RESULTS = ROOT / "mutation" / "results"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
# The fast selection of tests/gradcheck takes ~10 s on the quiet 2-core machine; a mutant that makes
# a loop infinite (a step halved the wrong way) is stopped after this long and reported as a timeout.
TIMEOUT_S = 120.0
PYTEST = "python -m pytest -p no:cacheprovider -q -x --no-header -m 'not slow'"  # fast selections, first failure

# target name: (module paths or globs, test stages). Each stage is one pytest run, the next only if it passes:
# the first holds the pinning tests, whose collection takes a second, so that most mutants are killed within
# seconds; collecting all of tests/gradcheck (~2000 parametrized cases) alone takes ~10 s on a loaded machine.
TARGETS: dict[str, tuple[list[str], list[list[str]]]] = {
    "gradcheck": (
        ["reference_nn/gradcheck/*.py"],
        # the verdict fuzzer (test_verdict_fuzz.py, ~45 s of the ~2 min the whole folder takes on the loaded
        # machine) is a search, not a targeted test: left to the suite
        # then the verdict corpus (~8 s): fixed fuzzed cases whose verdicts the truth decides, and every
        # claim of their reports checked against the torch twin (equivalence_tests/report_invariants.py)
        [["tests/gradcheck/pins", "tests/gradcheck/test_batched_arithmetic.py"],
         ["tests/gradcheck/test_verdict_corpus.py"],
         ["tests/gradcheck", "--ignore=tests/gradcheck/pins", "--ignore=tests/gradcheck/test_batched_arithmetic.py",
          "--ignore=tests/gradcheck/test_verdict_fuzz.py", "--ignore=tests/gradcheck/test_verdict_corpus.py"]],
    ),
    "reference_nn": (
        ["reference_nn/*.py"],
        # the pins first (~0.5 s): every activation, loss and normalization backward verified by
        # reference_nn.gradcheck, every optimizer's update against torch's documented rule, and the values
        # a derivative pin cannot see (test_reference_pins_round5.py: offsets, scales, defaults, names)
        [["tests/core/test_reference_backward_pins.py", "tests/core/test_reference_optimizer_pins.py",
          "tests/core/test_reference_pins_round5.py"],
         ["tests/core/test_numerics.py", "tests/core/test_special.py", "tests/core/test_saturation.py",
          "tests/core/test_bad_input.py", "tests/core/test_worked_examples.py"]],
    ),
    "tolerances": (
        ["equivalence_tests/tolerances.py", "equivalence_tests/error_scale.py"],
        # the pins (tests/oracles/test_tolerance_pins.py, ~0.2 s) first: hand-derived error scales and table invariants
        [["tests/oracles/test_tolerance_pins.py"],
         ["tests/oracles/test_fd_method_tolerances.py", "tests/oracles/test_readme_tolerance_table.py",
          "tests/oracles/test_compare.py"]],
    ),
}  # fmt: skip
EXCLUDED_OPERATORS = re.compile(r"core/ReplaceBinaryOperator_\w+_(RShift|LShift|BitOr|BitAnd|BitXor)$")


def tree_copy(destination: Path) -> Path:
    """The working tree's tracked and untracked-not-ignored files, copied to ``destination``."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")  # fmt: skip
    if destination.exists():
        shutil.rmtree(destination)
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def enter_tree(destination: Path) -> Path:
    """A fresh tree_copy at ``destination``, made the working directory and the import root of the tests
    run from here (one BLAS / OpenMP thread each: a measurement on a shared machine)."""
    tree = tree_copy(destination)
    os.chdir(tree)
    os.environ.update(PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1",
                      OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")  # fmt: skip
    return tree


def modules_of(target: str, only: list[str] | None, tree: Path) -> list[Path]:
    patterns, _ = TARGETS[target]
    found = sorted({p.relative_to(tree) for pattern in patterns for p in tree.glob(pattern)})
    if only:
        found = [p for p in found if p.name in only or str(p) in only]
        if not found:
            raise SystemExit(f"--modules {only}: no module of target {target!r} has that name")
    return found


def mutations_of(modules: list[Path]) -> list[dict]:
    """Every (module, operator, occurrence) cosmic-ray can mutate, in a stable order."""
    from cosmic_ray.commands.init import _all_work_items

    jobs = []
    for item in _all_work_items(modules, {}):
        spec = item.mutations[0]
        if EXCLUDED_OPERATORS.match(spec.operator_name):
            continue
        jobs.append({"module": str(spec.module_path), "operator": spec.operator_name, "occurrence": spec.occurrence,
                     "line": spec.start_pos[0], "definition": spec.definition_name})  # fmt: skip
    return jobs


ANNOTATION_ONLY = ("changes only a type annotation, which this module never evaluates (`from __future__ import "
                   "annotations`): its syntax tree with annotations removed is the original's (not run)")  # fmt: skip


def _without_annotations(code: str) -> str:
    """ast.dump of ``code`` with every annotation's content removed (its presence kept: an annotated
    class attribute is a dataclass field)."""
    import ast

    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return ast.dump(tree)


def annotation_only(tree: Path, job: dict) -> tuple[str, str] | None:
    """(original line, mutated line) where ``job``'s mutant changes nothing but annotations of a module that
    never evaluates them (``from __future__ import annotations``: they stay strings), equivalent by
    construction; else None. The lines come from the mutated source (the mutant is not run: no diff)."""
    import difflib

    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    code = (tree / job["module"]).read_text()
    if "from __future__ import annotations" not in code:
        return None
    mutated = mutate_code(code, get_operator(job["operator"])(), job["occurrence"])
    try:
        if mutated is None or _without_annotations(mutated) != _without_annotations(code):
            return None
    except SyntaxError:
        return None
    return changed_lines("".join(difflib.unified_diff(code.splitlines(True), mutated.splitlines(True))))


def job_key(job: dict) -> str:
    return f"{job['module']}:{job['operator']}:{job['occurrence']}"


def changed_lines(diff: str) -> tuple[str, str]:
    """The original and the mutated line of a one-line mutation diff (stripped)."""
    old = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(old), " / ".join(new)


def load_equivalent() -> list[dict]:
    with open(EQUIVALENT, "rb") as handle:
        return tomllib.load(handle).get("mutant", [])


def is_equivalent(record: dict, equivalent: list[dict]) -> dict | None:
    for entry in equivalent:
        if (record["module"].endswith(entry["module"]) and record["original"] == entry["original"]
                and record["mutated"] == entry["mutated"]):  # fmt: skip
            return entry
    return None


def log_name(target: str, sample: int | None, seed: int) -> str:
    """A run's name (its log refnn-output/mutants/<name>.jsonl, its summary mutation/results/<name>.json):
    a seeded sample is named by its seed, so that samples of different seeds are kept apart."""
    return f"{target}-seed{seed}" if sample else target


def run(target: str, sample: int | None, seed: int, only: list[str] | None, deadline: float | None) -> Path:
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_item import MutationSpec, TestOutcome

    OUTPUT.mkdir(parents=True, exist_ok=True)
    tree = enter_tree(OUTPUT / f"tree-{log_name(target, sample, seed)}")  # one per run: runs may go on side by side
    command = test_command(target, tree)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()  # fmt: skip
    commit = commit.strip() + (" with uncommitted changes" if dirty else "")
    started = time.monotonic()
    baseline = subprocess.run(command, shell=True, capture_output=True, text=True)
    if baseline.returncode != 0:
        raise SystemExit(f"the unmutated tests fail ({command}):\n{baseline.stdout[-3000:]}")
    baseline_s = time.monotonic() - started
    jobs = mutations_of(modules_of(target, only, tree))
    population = len(jobs)
    if sample is not None and sample < population:
        jobs = random.Random(seed).sample(jobs, sample)
    log = OUTPUT / f"{log_name(target, sample, seed)}.jsonl"
    done = {}
    if log.exists():
        done = {json.loads(line)["key"]: json.loads(line) for line in log.read_text().splitlines() if line}
    print(f"{target}: {population} mutants, running {len(jobs)} ({len(done)} done before); baseline {baseline_s:.1f} s;"
          f" tests: {command}", flush=True)  # fmt: skip
    with open(log, "a") as out:
        for number, job in enumerate(jobs, 1):
            key = job_key(job)
            if key in done:
                continue
            if deadline is not None and time.time() > deadline:
                print(f"deadline reached after {number - 1} of {len(jobs)} mutants", flush=True)
                break
            spec = MutationSpec(module_path=job["module"], operator_name=job["operator"],
                                occurrence=job["occurrence"], start_pos=(job["line"], 0), end_pos=(job["line"], 1),
                                definition_name=job["definition"])  # fmt: skip
            begun = time.monotonic()
            reason = None
            if lines := annotation_only(tree, job):
                outcome, reason, (original, mutated) = "equivalent", ANNOTATION_ONLY, lines
            else:
                result = mutate_and_test([spec], command, TIMEOUT_S)
                original, mutated = changed_lines(result.diff or "")
                killed, survived = TestOutcome.KILLED, TestOutcome.SURVIVED
                outcome = ("timeout" if result.output == "timeout" else "killed" if result.test_outcome == killed
                           else "survived" if result.test_outcome == survived else "error")  # fmt: skip
            record = {**job, "key": key, "outcome": outcome, "original": original, "mutated": mutated,
                      "seconds": round(time.monotonic() - begun, 1), "population": population,
                      "sample": len(jobs), "seed": seed if sample else None, "commit": commit,
                      "date": time.strftime("%Y-%m-%d", time.gmtime())}  # fmt: skip
            if reason:
                record["reason"] = reason
            if outcome == "error":
                record["output"] = (result.output or "")[-1500:]
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(f"[{number}/{len(jobs)}] {outcome:8s} {record['seconds']:5.1f}s {job['module']}:{job['line']} "
                  f"{original!r} -> {mutated!r}", flush=True)  # fmt: skip
    return log


def rerun_survivors(target: str, log: Path | None = None) -> int:
    """Run the target's tests (every stage, the pins first) again against each survivor of the log that is
    not judged equivalent; a survivor they kill is recorded as ``killed after``. The mutant is applied as
    text: the module's line that reads as the record's original is replaced by its mutated line (the
    module may have changed elsewhere since the run); a survivor whose line is gone (or that is not a
    one-line replacement) is left as it is and said so. Returns how many it killed."""
    log = log or OUTPUT / f"{target}.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines() if line]
    tree = enter_tree(OUTPUT / "rerun-tree")  # apart from a run's tree: a rerun may go on beside a run
    command = test_command(target, tree)
    equivalent = load_equivalent()
    killed = 0
    for record in records:
        if record["outcome"] != "survived" or is_equivalent(record, equivalent):
            continue
        outcome = run_textual_mutant(tree, record, command)
        where = f"{record['module']}:{record['line']} {record['mutated']!r}"
        if outcome is None:
            print(f"not rerun (its line is no longer in the module, or not one line): {where}", flush=True)
            continue
        print(f"{outcome:8s} {where}", flush=True)
        if outcome == "killed":
            record["outcome"], killed = "killed after", killed + 1
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    return killed


def rerun_summary(target: str, name: str) -> dict:
    """``--rerun-survivors`` where the run's log is not on this machine (a fresh checkout): the survivors
    of the committed summary mutation/results/<name>.json, each judged equivalent now (equivalent.toml)
    moved to the equivalent ones, each other rerun as rerun_survivors does (killed: ``killed after``).
    The first pass's killed count stays; its rate is recomputed without the newly judged equivalents,
    as summarize counts a log. Returns the updated summary (written by main with --update-docs)."""
    summary = json.loads((RESULTS / f"{name}.json").read_text())
    tree = enter_tree(OUTPUT / "rerun-tree")
    command, equivalent, left = test_command(target, tree), load_equivalent(), []
    for survivor in summary["survivors"]:
        where = f"{survivor['module']}:{survivor['line']} {survivor['mutated']!r}"
        if entry := is_equivalent(survivor, equivalent):
            summary["equivalent_survivors"].append({**_where(survivor), "reason": entry["reason"]})
            summary["survived"], summary["equivalent"] = summary["survived"] - 1, summary["equivalent"] + 1
            print(f"equivalent {where}", flush=True)
            continue
        outcome = run_textual_mutant(tree, survivor, command)
        print(f"{outcome or 'not rerun (its line is gone)':8s} {where}", flush=True)
        if outcome == "killed":
            summary["survived"], summary["killed after"] = summary["survived"] - 1, summary["killed after"] + 1
        else:
            left.append({**survivor, "line_still_in_code": _line_in_code(survivor)})
    summary["survivors"] = left
    judged = summary["killed"] + summary["killed after"] + summary["survived"]
    summary["kill_rate"] = summary["killed"] / judged if judged else math.nan
    summary["kill_rate_95ci"] = list(wilson(summary["killed"], judged))
    summary["kill_rate_after"] = (summary["killed"] + summary["killed after"]) / judged if judged else math.nan
    return summary


def test_command(target: str, tree: Path) -> str:
    """The shell command that runs the target's test stages in ``tree``, each only if the one before passed."""
    stages = [[t for t in stage if t.startswith("-") or (tree / t).exists()] for stage in TARGETS[target][1]]
    command = " && ".join(f"{PYTEST} {' '.join(stage)}" for stage in stages if stage)
    return f"sh -c {shlex.quote(command)}"


def run_textual_mutant(tree: Path, record: dict, command: str) -> str | None:
    """Apply ``record``'s one-line mutation to its module in ``tree`` by text, run ``command``, restore the
    module: "killed", "survived", "timeout", or None when the original line is no longer there (a line that
    occurs several times: the occurrence nearest the record's line number)."""
    if not record["mutated"]:  # a removed line (a decorator): not a one-line replacement
        return None
    path = tree / record["module"]
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.strip() == record["original"]]
    if not found:
        return None
    at = min(found, key=lambda i: abs(i + 1 - record["line"]))  # a repeated line: the one nearest the record's
    line = lines[at]
    lines[at] = line[: len(line) - len(line.lstrip())] + record["mutated"] + "\n"
    path.write_text("".join(lines))
    try:
        with subprocess.Popen(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) as process:  # fmt: skip
            try:
                return "survived" if process.wait(timeout=TIMEOUT_S) == 0 else "killed"
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the shell and its pytest runs
                return "timeout"
    finally:
        path.write_text(source)


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (a sample's kill rate)."""
    if total == 0:
        return (math.nan, math.nan)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(target: str, log: Path) -> dict:
    records = [json.loads(line) for line in log.read_text().splitlines() if line]
    equivalent = load_equivalent()
    counts = {"killed": 0, "killed after": 0, "survived": 0, "equivalent": 0, "timeout": 0, "error": 0}
    survivors, equivalents = [], []
    for record in records:
        outcome = record["outcome"]
        if outcome == "survived" and (entry := is_equivalent(record, equivalent)):
            outcome = "equivalent"
            equivalents.append({**_where(record), "reason": entry["reason"]})
        elif outcome == "equivalent":  # recognized before running (annotation_only)
            equivalents.append({**_where(record), "reason": record["reason"]})
        elif outcome == "survived":
            survivors.append({**_where(record), "line_still_in_code": _line_in_code(record)})
        counts[outcome] += 1
    judged = counts["killed"] + counts["killed after"] + counts["survived"]
    low, high = wilson(counts["killed"], judged)  # the sample's first pass: its survivors then got tests
    return {
        "target": target, "population": records[0]["population"] if records else 0, "run": len(records),
        "sampled": bool(records and records[0]["sample"] < records[0]["population"]),
        "seed": records[0]["seed"] if records else None, **counts,
        "kill_rate": counts["killed"] / judged if judged else math.nan, "kill_rate_95ci": [low, high],
        "kill_rate_after": (counts["killed"] + counts["killed after"]) / judged if judged else math.nan,
        "survivors": survivors, "equivalent_survivors": equivalents,
        "commit": records[0].get("commit") if records else None, "date": records[0].get("date") if records else None,
        "minutes": round(sum(r["seconds"] for r in records) / 60),
    }  # fmt: skip


def readme_line(summary: dict) -> str:
    """The README's sentence for one target's committed summary (tests/core/test_readme_mutation.py checks it)."""
    low, high = summary["kill_rate_95ci"]
    run = (f"a seeded random sample of {summary['run']} of its {summary['population']} mutants (seed {summary['seed']})"
           if summary["sampled"] else f"all {summary['run']} mutants")  # fmt: skip
    return (f"`{summary['target']}`: {run}: {summary['killed']} killed, {summary['survived']} survived, "
            f"{summary['equivalent']} equivalent, {summary['timeout']} timed out, {summary['error']} errors; kill rate "
            f"of the non-equivalent {summary['kill_rate']:.0%} (95% CI {low:.0%}-{high:.0%}); "
            f"{summary['killed after']} of the survivors killed by tests added after the run "
            f"({summary['kill_rate_after']:.0%} of this sample, no longer an unbiased estimate).")  # fmt: skip


README = ROOT / "README.md"
README_BEGIN = "<!-- mutation results: written by python -m mutation.mutants --update-docs -->"
README_END = "<!-- end of mutation results -->"


def readme_block(summaries: list[dict], equivalent: list[dict]) -> str:
    """The README's generated part of 'Mutation testing': each committed summary's line, the survivors judged
    equivalent (mutation/equivalent.toml) with their reasons, and the survivors not killed."""
    lines = ["Measured on the shared 2-core machine, single process, `nice`, each run against the commit it names:", ""]
    for summary in summaries:
        lines.append(f"- {readme_line(summary)} (commit {summary.get('commit') or '?'}, {summary.get('date') or '?'}, "
                     f"{summary.get('minutes', '?')} minutes)")  # fmt: skip
    lines += ["", "Survivors judged equivalent (`mutation/equivalent.toml`; `python -m mutation.mutants` counts them "
              "apart), each with the reason no input can tell it from the original:", ""]  # fmt: skip
    lines += [f"- {Path(e['module']).name}: `{e['original']}` -> `{e['mutated']}`: {e['reason']}" for e in equivalent]
    left = [(summary, s) for summary in summaries for s in summary["survivors"]]
    lines += ["", "Survivors not killed (what is left; `mutation/results/` has each run's full list):", ""]
    lines += [f"- {Path(s['module']).name}:{s['line']} `{s['original']}` -> `{s['mutated']}` (seed {summary['seed']}"
              + ("" if s.get("line_still_in_code", True) else "; its line has changed since: gone")
              + ")" for summary, s in left] or ["- none"]  # fmt: skip
    return "\n".join(lines)


def update_readme() -> None:
    """Rewrite the README between README_BEGIN and README_END from mutation/results/ and equivalent.toml."""
    text = README.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise SystemExit(f"README.md has no {README_BEGIN!r} ... {README_END!r} block to rewrite")
    summaries = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))]
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    README.write_text(f"{head}{README_BEGIN}\n{readme_block(summaries, load_equivalent())}\n{README_END}{tail}")


def _line_in_code(record: dict) -> bool:
    """Whether the survivor's original line is still in its module (else the code changed since the run)."""
    path = ROOT / record["module"]
    return path.exists() and record["original"] in {line.strip() for line in path.read_text().splitlines()}


def _where(record: dict) -> dict:
    return {"module": record["module"], "line": record["line"], "operator": record["operator"],
            "original": record["original"], "mutated": record["mutated"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"any of {list(TARGETS)} (default: all)")
    parser.add_argument("--sample", type=int, help="run a seeded random sample of this many mutants per target")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--modules", nargs="+", help="only these modules (file names) of the target")
    parser.add_argument("--minutes", type=float, help="stop starting new mutants after this long (a partial run)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results of these targets")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run the tests again on each non-equivalent survivor of a log (after adding tests); "
                             "with --sample and --seed, that sample's log")
    parser.add_argument("--summary", action="store_true", help="print the README lines of mutation/results/")
    parser.add_argument("--update-docs", action="store_true",
                        help="write mutation/results/<name>.json and the README's mutation-results block")
    args = parser.parse_args(argv)
    if args.summary:
        for path in sorted(RESULTS.glob("*.json")):
            print(readme_line(json.loads(path.read_text())))
        if args.update_docs:  # the README block from the committed results, nothing run
            update_readme()
        return 0
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; expected any of {list(TARGETS)}")
    deadline = time.time() + 60 * args.minutes if args.minutes else None
    for target in args.targets or list(TARGETS):
        name = log_name(target, args.sample, args.seed)
        if args.rerun_survivors and not (OUTPUT / f"{name}.jsonl").exists():
            name = log_name(target, 1, args.seed)  # --seed alone names a sample's log
        if args.fresh:
            (OUTPUT / f"{name}.jsonl").unlink(missing_ok=True)
        if args.rerun_survivors and not (OUTPUT / f"{name}.jsonl").exists() and (RESULTS / f"{name}.json").exists():
            summary = rerun_summary(target, name)  # a fresh machine: the committed summary's survivors
        else:
            if args.rerun_survivors:
                log = OUTPUT / f"{name}.jsonl"
                rerun_survivors(target, log)
            else:
                log = run(target, args.sample, args.seed, args.modules, deadline)
            summary = summarize(target, log)
        text = json.dumps(summary, indent=1)
        (OUTPUT / f"{name}.json").write_text(text + "\n")
        if args.update_docs:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"{name}.json").write_text(text + "\n")
            update_readme()
        print(readme_line(summary), flush=True)
        for s in summary["survivors"]:
            print(f"  survived {s['module']}:{s['line']} {s['original']!r} -> {s['mutated']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
