"""Suite throughput: Hypothesis examples per second per oracle, and where the time goes.

    python -m benchmarks.suite_throughput           # ~1-2 min on 2 cores; writes refnn-output/benchmarks/
    python -m benchmarks.suite_throughput --quick   # seconds (the smoke test)

For each oracle of ``equivalence_tests.oracles`` (reference, finite differences, torch functional
and layers, TF functional and Keras) the same derandomized Hypothesis examples are drawn from the
strategy the agreement properties use (``models(model_configs(max_depth=4, max_width=8), scales=
tiny|classic|he)``; finite differences with ``max_parameters=200``, as in
tests/properties/test_property_oracle_agreement.py) and passed to ``oracle.run``. Reported:

* import: seconds to import the framework in a fresh interpreter (median of 2; the OS file cache
  is warm, as it is for a developer's second run);
* first call: ``oracle.run`` on the first example in a fresh oracle (graph tracing, kernel and
  Keras set-up), less the steady-state time of the same call;
* per example: wall time of the ``@given`` run divided by the examples run, split into the oracle's
  own ``run`` time and the rest (drawing the example, building its arrays, Hypothesis bookkeeping);
* examples per second = 1 / per-example time, for three set-ups: one process with 2 threads per
  framework; two worker processes at once with 2 threads each (what ``pytest -n 2`` does on this
  2-core machine, since nothing in the suite sets thread counts); two workers with 1 thread each.
  Two-worker figures are the sum over both workers.

Rows "(drawing only)" run the same ``@given`` loops with an oracle that does nothing: the floor
that drawing and building examples sets for any oracle. ``--quick`` skips the import timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _common as common

EXAMPLES = 40
QUICK_EXAMPLES = 3
FD_MAX_PARAMETERS = 200  # as tests/properties/test_property_oracle_agreement.py
IMPORTS = {  # oracle -> the module its framework import costs
    "reference": "reference_nn",
    "finite_difference/complex": "reference_nn.gradcheck",
    "torch/functional": "torch",
    "torch/layers": "torch",
    "tensorflow/functional": "tensorflow",
    "tensorflow/keras": "tensorflow",
    "jax/functional": "jax",
}


def build_oracles() -> dict[str, Any]:
    from equivalence_tests import oracles

    table = {
        "reference": oracles.ReferenceOracle(),
        "finite_difference/complex": oracles.FiniteDifferenceOracle("complex"),
        "torch/functional": oracles.TorchOracle("functional"),
        "torch/layers": oracles.TorchOracle("layers"),
        "tensorflow/functional": oracles.TensorFlowOracle("functional"),
        "tensorflow/keras": oracles.TensorFlowOracle("keras"),
        "jax/functional": oracles.JaxOracle("functional"),
    }
    return {name: oracle for name, oracle in table.items() if oracle.available}


def import_seconds(module: str, repeats: int = 2) -> float:
    """Median wall time of ``import module`` in a fresh interpreter (TF quieted as the suite does)."""
    code = (
        "import os, time, warnings; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3'); "
        "warnings.simplefilter('ignore'); import numpy; "
        f"t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def strategy_for(name: str) -> Any:
    from hypothesis import strategies as st

    from equivalence_tests.strategies import model_configs, models

    max_parameters = FD_MAX_PARAMETERS if name.startswith("finite_difference") else None
    return models(
        model_configs(max_depth=4, max_width=8),
        scales=st.sampled_from(["tiny", "classic", "he"]),
        max_parameters=max_parameters,
    )


class _DrawingOnly:
    """A stand-in oracle whose ``run`` does nothing: what drawing the examples alone costs."""

    def run(self, *inputs: Any) -> None:
        return None


def hypothesis_run(name: str, oracle: Any, examples: int) -> dict[str, Any]:
    """Run ``oracle.run`` under @given for ``examples`` examples; wall time and its split."""
    from hypothesis import HealthCheck, Phase, given, settings

    from equivalence_tests.oracles import UnsupportedConfiguration

    spent = {"oracle": 0.0, "examples": 0, "unsupported": 0}

    @settings(
        max_examples=examples,
        derandomize=True,  # the same examples for every oracle
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy_for(name))
    def run(example: Any) -> None:
        spent["examples"] += 1
        start = time.perf_counter()
        try:
            oracle.run(example.config, example.params, example.X, example.Y)
        except UnsupportedConfiguration:
            spent["unsupported"] += 1
        spent["oracle"] += time.perf_counter() - start

    start = time.perf_counter()
    run()
    spent["wall"] = time.perf_counter() - start
    return spent


def first_call(name: str, oracle_type: Any, args: tuple, example: Any) -> tuple[float, float]:
    """(first call in a fresh oracle, steady-state median of 5 more calls) on ``example``."""
    oracle = oracle_type(*args)
    oracle.available  # noqa: B018 - the import itself is measured separately
    inputs = (example.config, example.params, example.X, example.Y)
    start = time.perf_counter()
    oracle.run(*inputs)
    first = time.perf_counter() - start
    steady = []
    for _ in range(5):
        start = time.perf_counter()
        oracle.run(*inputs)
        steady.append(time.perf_counter() - start)
    return first, statistics.median(steady)


def measure(quick: bool) -> list[dict[str, Any]]:
    from equivalence_tests.config import ModelConfig
    from equivalence_tests.strategies import ExampleRecipe

    examples = QUICK_EXAMPLES if quick else EXAMPLES
    oracles = build_oracles()
    # A fixed, typical example for the first-call split: 3 layers, every oracle supports it.
    config = ModelConfig(
        layer_dims=(4, 8, 6, 3), activations=("tanh", "relu", "identity"), loss="softmax_cross_entropy"
    )
    example = ExampleRecipe(config=config, batch_size=5, seed=0).build()
    hypothesis_run("reference", _DrawingOnly(), examples)  # Hypothesis' own first-run set-up, not any oracle's
    drawing = {kind: hypothesis_run(kind, _DrawingOnly(), examples) for kind in ("reference", "finite_difference")}
    rows = []
    for kind, spent in drawing.items():
        per_example = spent["wall"] / max(spent["examples"], 1)
        label = "(drawing only" + (", max 200 parameters)" if kind == "finite_difference" else ")")
        rows.append(
            {
                "oracle": label,
                "version": "",
                "import_s": None,
                "first_call_s": 0.0,
                "steady_call_s": 0.0,
                "first_call_extra_s": 0.0,
                "examples": spent["examples"],
                "unsupported": 0,
                "wall_s": spent["wall"],
                "per_example_s": per_example,
                "oracle_share": 0.0,
                "examples_per_s": 1 / per_example if per_example else 0.0,
            }
        )
    for name, oracle in oracles.items():
        common.log(f"  suite throughput: {name}")
        path = getattr(oracle, "path", None)
        args = (path,) if type(oracle).__name__ != "ReferenceOracle" else ()
        first, steady = first_call(name, type(oracle), args, example)
        spent = hypothesis_run(name, oracle, examples)
        per_example = spent["wall"] / max(spent["examples"], 1)
        rows.append(
            {
                "oracle": name,
                "version": oracle.version,
                "import_s": None,  # filled in by the parent, from fresh interpreters
                "first_call_s": first,
                "steady_call_s": steady,
                # A first call faster than the steady median is noise (one lucky call): no extra cost, never
                # a negative time.
                "first_call_extra_s": max(first - steady, 0.0),
                "examples": spent["examples"],
                "unsupported": spent["unsupported"],
                "wall_s": spent["wall"],
                "per_example_s": per_example,
                "oracle_share": spent["oracle"] / spent["wall"] if spent["wall"] else 0.0,
                "examples_per_s": 1 / per_example if per_example else 0.0,
            }
        )
    return rows


# (label, parallel worker processes, threads per framework in each)
CONFIGURATIONS = (
    ("1 process, 2 threads", 1, 2),
    ("2 processes (pytest -n 2), 2 threads each", 2, 2),
    ("2 processes (pytest -n 2), 1 thread each", 2, 1),
)


def run_configuration(workers: int, threads: int, quick: bool) -> list[list[dict[str, Any]]]:
    """``workers`` child processes started together, each measuring every oracle; their rows."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"worker{index}.json" for index in range(workers)]
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.suite_throughput",
                    "--child-json",
                    str(path),
                    "--threads",
                    str(threads),
                ]
                + (["--quick"] if quick else [])
            )
            for path in paths
        ]
        for child in children:
            if child.wait() != 0:
                raise RuntimeError(f"suite throughput worker exited with {child.returncode}")
        return [json.loads(path.read_text()) for path in paths]


def combine(configurations: dict[str, list[list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Rows of the first configuration, plus each configuration's total examples per second
    (summed over its parallel workers) under ``examples_per_s_by_configuration``."""
    first = next(iter(configurations.values()))[0]
    rows = []
    for position, row in enumerate(first):
        row = dict(row)
        row["examples_per_s_by_configuration"] = {
            label: sum(worker[position]["examples_per_s"] for worker in workers)
            for label, workers in configurations.items()
        }
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any], quick: bool) -> str:
    labels = list(rows[0].get("examples_per_s_by_configuration", {})) if rows else []
    headers = [
        "oracle",
        *(f"examples / s, {label}" for label in labels),
        "examples / s" if not labels else "per example (1st configuration)",
        "in oracle.run",
        "drawing + Hypothesis",
        "first call (extra)",
        "framework import",
        "examples (unsupported)",
    ]
    body = [
        [
            r["oracle"],
            *(f"{r['examples_per_s_by_configuration'][label]:.1f}" for label in labels),
            f"{r['examples_per_s']:.1f}" if not labels else common.fmt_seconds(r["per_example_s"]),
            f"{100 * r['oracle_share']:.0f}%",
            f"{100 * (1 - r['oracle_share']):.0f}%",
            common.fmt_seconds(r["first_call_extra_s"]),
            common.fmt_seconds(r["import_s"]) if r["import_s"] is not None else "—",
            f"{r['examples']} ({r['unsupported']})",
        ]
        for r in rows
    ]
    return "\n\n".join(
        [
            "## Suite throughput: Hypothesis examples per second per oracle",
            common.describe_machine_markdown(machine),
            "Command: `python -m benchmarks.suite_throughput`" + (" --quick" if quick else ""),
            common.markdown_table(headers, body),
        ]
    )


def plot(rows: list[dict[str, Any]]) -> Any:
    plt = common.pyplot()
    figure, axis = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.5))
    names = [r["oracle"] for r in rows]
    parts = {
        "framework import (once)": [r["import_s"] or 0.0 for r in rows],
        "first-call extra (once)": [max(r["first_call_extra_s"], 0.0) for r in rows],
        f"{rows[0]['examples'] if rows else 0} examples: oracle.run": [r["wall_s"] * r["oracle_share"] for r in rows],
        "... drawing + Hypothesis": [r["wall_s"] * (1 - r["oracle_share"]) for r in rows],
    }
    left = [0.0] * len(rows)
    for label, values in parts.items():
        axis.barh(names, values, left=left, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axis.set_xlabel("seconds (lower is better)")
    axis.set_title("Where a property run's time goes, per oracle", fontsize=10)
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> list[Path]:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--child-json", type=Path, help=argparse.SUPPRESS)
    args = common.parse_args(parser, argv)
    if args.quick or args.child_json:  # one configuration, in this process
        common.pin_threads(args.threads)
        common.import_torch()  # thread counts set here, before the oracles import the frameworks
        common.import_tensorflow()
        rows = measure(args.quick)
        if args.child_json:
            args.child_json.write_text(json.dumps(rows))
            return [args.child_json]
    else:
        configurations = {}
        for label, workers, threads in CONFIGURATIONS:
            common.log(f"  suite throughput: {label}")
            configurations[label] = run_configuration(workers, threads, args.quick)
        rows = combine(configurations)
        imports = {module: import_seconds(module) for module in dict.fromkeys(IMPORTS.values())}
        for row in rows:
            if row["oracle"] in IMPORTS:
                row["import_s"] = imports[IMPORTS[row["oracle"]]]
        common.pin_threads(args.threads)
    machine = common.machine_description()
    text = markdown(rows, machine, args.quick)
    paths = common.write_outputs(
        "suite_throughput", text, {"machine": machine, "rows": rows}, plot(rows), common.output_dir(args)
    )
    print(text)
    return paths


if __name__ == "__main__":
    main()
