"""Drift report: the golden models replayed through every framework oracle.

For each golden model (``equivalence_tests.golden_models``) and each available framework path
(torch functional/layers, TF functional/keras, JAX functional), run the framework on the golden inputs and
compare its forward output, cost, gradients and updated parameters with the *stored* golden
values (``tests/golden/test_golden/*.npz``, loaded with ``allow_pickle=False``), using the
tolerance table's normalized error. One row per (framework, version, path, dtype, quantity):
the largest absolute and normalized differences over all models and tensors.

    python -m equivalence_tests.drift                       Markdown table of this environment
    python -m equivalence_tests.drift --json FILE           also write JSON (the nox matrix does)
    python -m equivalence_tests.drift --collect DIR --markdown FILE
                                                            merge the matrix's JSON files into one table

A maintainer reads the merged table to see in one glance what a framework release changed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from equivalence_tests.golden_models import GOLDEN_MODELS, GoldenModel, golden_inputs

GOLDEN_FOLDER = Path(__file__).resolve().parent.parent / "tests" / "golden" / "test_golden"
COLUMNS = ("framework", "version", "path", "dtype", "quantity", "max_abs_diff", "max_normalized_diff",
           "within_tolerance", "numpy")


def load_golden(model: GoldenModel, folder: Path = GOLDEN_FOLDER) -> dict[str, np.ndarray]:
    """The stored golden arrays of ``model`` (no pickle)."""
    path = folder / f"{model.name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"golden file {path} is missing: run `nox -s regenerate` and commit it")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def golden_as_result(model: GoldenModel, golden: dict[str, np.ndarray]):
    from equivalence_tests.oracles import OracleResult

    names = [key[len("grad_"):] for key in golden if key.startswith("grad_")]
    return OracleResult(
        oracle="golden", framework="reference_nn", framework_version="golden", path="golden",
        dtype=model.config.dtype, forward=golden["forward"], cost=float(golden["cost"][0]),
        gradients={name: golden[f"grad_{name}"] for name in names},
        updated_params={name: golden[f"updated_{name}"] for name in names},
    )


def measure_drift(folder: Path = GOLDEN_FOLDER, frameworks: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """One row per (framework path, dtype, quantity) with the largest differences from golden;
    ``frameworks`` (e.g. ``("jax",)``): only those oracles (None: every framework oracle)."""
    from equivalence_tests.ops import valid_output_activations
    from equivalence_tests.oracles import framework_oracles
    from equivalence_tests.oracles.base import UnsupportedConfiguration
    from equivalence_tests.tolerances import compare_results

    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for oracle in framework_oracles():
        if frameworks is not None and oracle.framework not in frameworks:
            continue
        if not oracle.available:
            print(f"skipping {oracle.name}: {oracle.unavailable_reason}", file=sys.stderr)
            continue
        for model in GOLDEN_MODELS:
            last_activation = model.config.activations[-1]
            if last_activation not in valid_output_activations(model.config.loss):
                # A golden model kept to pin a non-fused reference path (e.g. cross_entropy after
                # sigmoid), outside the op table's domain: frameworks define no twin for it.
                continue
            params, X, Y = golden_inputs(model)
            golden = golden_as_result(model, load_golden(model, folder))
            try:
                result = oracle.run(model.config, params, X, Y)
            except UnsupportedConfiguration as reason:
                print(f"{oracle.name} skips {model.name}: {reason}", file=sys.stderr)
                continue
            for comparison in compare_results(golden, result, model.config, params):
                key = (oracle.name, result.framework_version, model.config.dtype, comparison.quantity)
                row = rows.setdefault(key, {
                    "framework": result.framework, "version": result.framework_version, "path": result.path,
                    "dtype": model.config.dtype, "quantity": comparison.quantity, "max_abs_diff": 0.0,
                    "max_normalized_diff": 0.0, "within_tolerance": True,
                    "numpy": importlib.metadata.version("numpy"),
                })
                row["max_abs_diff"] = max(row["max_abs_diff"], comparison.max_abs_error)
                row["max_normalized_diff"] = max(row["max_normalized_diff"], comparison.max_rel_error)
                row["within_tolerance"] = row["within_tolerance"] and comparison.passed
    return list(rows.values())


def to_markdown(rows: list[dict[str, Any]]) -> str:
    header = ("| framework | version | path | numpy | dtype | quantity | max abs diff | max normalized diff "
              "| within tolerance |")
    lines = [header, "|" + "---|" * 9]
    order = ("forward", "cost", "gradient", "updated_params")
    for row in sorted(rows, key=lambda r: (r["framework"], r["version"], r["path"], r["numpy"], r["dtype"],
                                           order.index(r["quantity"]))):
        lines.append(
            f"| {row['framework']} | {row['version']} | {row['path']} | {row['numpy']} | {row['dtype']} | "
            f"{row['quantity']} | {row['max_abs_diff']:.2e} | {row['max_normalized_diff']:.2e} | "
            f"{'yes' if row['within_tolerance'] else '**NO**'} |"
        )
    return "\n".join(lines) + "\n"


def to_summary_markdown(rows: list[dict[str, Any]]) -> str:
    """One line per (framework path, dtype), one column per environment (framework version and
    NumPy): the largest normalized difference from golden over all quantities, and whether every
    quantity stayed within tolerance."""
    environments = sorted({(row["framework"], row["version"], row["numpy"]) for row in rows})
    cells: dict[tuple[str, str], dict[tuple[str, str, str], list[Any]]] = {}
    for row in rows:
        line = cells.setdefault((f"{row['framework']}/{row['path']}", row["dtype"]), {})
        cell = line.setdefault((row["framework"], row["version"], row["numpy"]), [0.0, True])
        cell[0] = max(cell[0], row["max_normalized_diff"])
        cell[1] = cell[1] and row["within_tolerance"]
    header = "| path | dtype | " + " | ".join(f"{v} / numpy {n}" for _, v, n in environments) + " |"
    lines = [header, "|" + "---|" * (2 + len(environments))]
    for (path, dtype), line in sorted(cells.items()):
        values = [line.get(env) for env in environments]
        lines.append(f"| {path} | {dtype} | " + " | ".join(
            "" if value is None else f"{value[0]:.1e}" + ("" if value[1] else " **NO**") for value in values) + " |")
    return "\n".join(lines) + "\n"


def collect(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        rows.extend(json.loads(path.read_text()))
    return rows


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(prog="python -m equivalence_tests.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the rows as JSON to this file")
    parser.add_argument("--markdown", type=Path, help="write the Markdown table to this file")
    parser.add_argument("--summary", action="store_true", help="print the one-line-per-path summary instead")
    parser.add_argument("--collect", type=Path, help="merge the JSON files of this folder instead of measuring")
    args = parser.parse_args(argv)
    rows = collect(args.collect) if args.collect else measure_drift()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    table = to_markdown(rows)
    summary = to_summary_markdown(rows)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(
            "# Drift from the golden results\n\nGenerated by `nox -s drift_report` from the matrix sessions' "
            "`python -m equivalence_tests.drift --json` files.\n\n## Summary: largest normalized difference over "
            "all quantities\n\n" + summary + "\n## Per quantity\n\n" + table)
    print(summary if args.summary else table, end="")
    return 0 if all(row["within_tolerance"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
