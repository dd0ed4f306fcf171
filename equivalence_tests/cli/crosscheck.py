"""``refnn crosscheck``: build a model, run the reference and every available oracle on it, and print
the max abs / rel error of the forward output, cost, each gradient and each updated parameter."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from equivalence_tests.cli.common import EXIT_DISAGREE, EXIT_OK, UsageError, parse_names, parse_sizes
from equivalence_tests.cli.output import (
    json_default,
    plain_table,
    progress,
    quiet_native_stderr,
    rich_available,
    rich_table,
)

ORACLE_GROUPS = ("fd", "torch", "tensorflow", "jax")  # what --oracles accepts; the reference always runs


def default_oracle_groups() -> tuple[str, ...]:
    """fd, torch and tensorflow (a missing one is reported unavailable), and jax when it is installed."""
    import importlib.util

    return ("fd", "torch", "tensorflow") + (("jax",) if importlib.util.find_spec("jax") is not None else ())
DEFAULT_LOSS = "bce"


def build_config(args: argparse.Namespace) -> Any:
    """The ModelConfig from the crosscheck options, every name and number validated."""
    import reference_nn as rn
    from equivalence_tests import ops
    from equivalence_tests.config import ModelConfig, OptimizerConfig

    dims = parse_sizes(args.dims, "--dims")
    if len(dims) < 2:
        raise UsageError(f"--dims needs at least an input and an output size (e.g. 4-8-8-1), got {args.dims!r}")
    if args.loss not in rn.LOSSES:
        raise UsageError(f"--loss must be one of {', '.join(sorted(rn.LOSSES))}, got {args.loss!r}")
    if args.activations is None:  # relu between layers, the loss's canonical output activation last
        activations = ("relu",) * (len(dims) - 2) + (ops.valid_output_activations(args.loss)[0],)
    else:
        activations = parse_names(args.activations, "--activations")
    unknown = [name for name in activations if name not in rn.ACTIVATIONS]
    if unknown:
        raise UsageError(f"--activations: unknown {unknown}; known: {', '.join(sorted(rn.ACTIVATIONS))}")
    if len(activations) != len(dims) - 1:
        raise UsageError(
            f"--activations needs one name per layer: --dims {args.dims} has {len(dims) - 1} layers, "
            f"got {len(activations)} ({','.join(activations)})"
        )
    valid_last = ops.valid_output_activations(args.loss)
    if activations[-1] not in valid_last:  # e.g. relu before bce: outputs are not probabilities
        raise UsageError(f"--loss {args.loss} needs the last activation in {valid_last}, got {activations[-1]!r}")
    smallest = max(ops.op(args.loss).min_outputs, 2 if activations[-1] == "softmax" else 1)
    if dims[-1] < smallest:  # a softmax over one unit is the constant 1: every gradient would be 0
        raise UsageError(f"--loss {args.loss} with a {activations[-1]} output needs >= {smallest} outputs, "
                         f"got {dims[-1]} (the last of --dims)")  # fmt: skip
    for option in ("l2", "lr", "momentum", "weight_decay"):
        value = getattr(args, option)
        if not (np.isfinite(value) and value >= 0):
            raise UsageError(f"--{option.replace('_', '-')} must be a finite number >= 0, got {value}")
    for option in ("batch_size", "steps"):
        if getattr(args, option) < (1 if option == "batch_size" else 0):
            raise UsageError(f"--{option.replace('_', '-')} must be >= {1 if option == 'batch_size' else 0}")
    optimizer = OptimizerConfig(name=args.optimizer, learning_rate=args.lr, momentum=args.momentum,
                                nesterov=args.nesterov, weight_decay=args.weight_decay)  # fmt: skip
    return ModelConfig(dims, activations, args.loss, l2=args.l2, optimizer=optimizer, steps=args.steps,
                       dtype=args.dtype)  # fmt: skip


def select_oracles(names: tuple[str, ...], fd_method: str) -> list[Any]:
    """Oracle objects for ``--oracles``; the reference is not among them (it is what they are compared with)."""
    from equivalence_tests.oracles import FiniteDifferenceOracle, JaxOracle, TensorFlowOracle, TorchOracle

    unknown = [name for name in names if name not in ORACLE_GROUPS]
    if unknown:
        raise UsageError(f"--oracles: unknown {unknown}; choose from {', '.join(ORACLE_GROUPS)}")
    oracles: list[Any] = []
    if "fd" in names:
        oracles.append(FiniteDifferenceOracle(fd_method))
    if "torch" in names:
        oracles += [TorchOracle("functional"), TorchOracle("layers")]
    if "tensorflow" in names:
        oracles += [TensorFlowOracle("functional"), TensorFlowOracle("keras")]
    if "jax" in names:
        oracles.append(JaxOracle("functional"))
    return oracles


ROW_PREFIX = {"forward": "forward", "cost": "cost", "gradient": "grad", "updated_params": "updated"}


def comparison_row(comparison: Any) -> tuple[str, dict[str, Any]]:
    """``("grad W1", {...})``: one row of the report from a ``tolerances.Comparison``."""
    label = ROW_PREFIX[comparison.quantity]
    if comparison.quantity in ("gradient", "updated_params"):
        label += f" {comparison.name}"
    return label, {
        "quantity": comparison.quantity, "max_abs": comparison.max_abs_error, "max_rel": comparison.max_rel_error,
        "worst_index": list(comparison.worst_index), "reference_value": comparison.reference_value,
        "oracle_value": comparison.oracle_value, "rtol": comparison.tolerance.rtol,
        "atol": comparison.tolerance.atol, "reason": comparison.tolerance.reason, "passed": comparison.passed,
    }  # fmt: skip


def run_crosscheck(config: Any, seed: int, batch_size: int, oracles: list[Any]) -> dict[str, Any]:
    """Run the reference and every oracle; compare each quantity with equivalence_tests.tolerances
    (normalized errors, the tolerance table). Returns the JSON-ready report."""
    from equivalence_tests import ops, tolerances
    from equivalence_tests.oracles import ReferenceOracle

    params, X, Y = ops.example_inputs(config, seed=seed, m=batch_size)
    reference = ReferenceOracle().run(config, params, X, Y)
    report: dict[str, Any] = {
        "config": config.to_dict(), "description": config.describe(), "seed": seed, "batch_size": batch_size,
        "versions": {"numpy": np.__version__, "reference_nn": reference.framework_version},
        "oracles": {}, "unavailable": {}, "errors": {},
    }  # fmt: skip
    with progress(len(oracles), "cross-checking") as advance:
        for oracle in oracles:
            advance(oracle.name)
            with quiet_native_stderr(oracle.framework == "tensorflow"):
                available = oracle.available
            if not available:
                report["unavailable"][oracle.name] = oracle.unavailable_reason
                continue
            try:
                with quiet_native_stderr(oracle.framework == "tensorflow"):
                    result = oracle.run(config, params, X, Y)
            except NotImplementedError as error:  # a path that cannot express this model: say so, not fail
                report["unavailable"][oracle.name] = f"{oracle.name} cannot run this model: {error}"
                continue
            except Exception as error:  # an oracle crash is a disagreement to report, not a traceback
                report["errors"][oracle.name] = f"{type(error).__name__}: {error}"
                continue
            report["versions"][oracle.framework] = result.framework_version
            comparisons = tolerances.compare_results(reference, result, config, initial_params=params)
            rows = dict(comparison_row(comparison) for comparison in comparisons)
            if not config.steps:
                rows = {label: row for label, row in rows.items() if row["quantity"] != "updated_params"}
            report["oracles"][oracle.name] = {"rows": rows, "notes": list(result.notes),
                                              "passed": all(row["passed"] for row in rows.values())}  # fmt: skip
    report["passed"] = not report["errors"] and all(entry["passed"] for entry in report["oracles"].values())
    return report


def _tolerance_summary(report: dict[str, Any]) -> list[str]:
    """One line per oracle family: the rtol of each quantity (the reasons are in --json)."""
    lines = {}
    for name, entry in report["oracles"].items():
        family = name.split("/")[0]
        by_quantity = {row["quantity"]: row["rtol"] for row in entry["rows"].values()}
        lines[family] = f"  {family}: " + ", ".join(f"{quantity} {rtol:g}" for quantity, rtol in by_quantity.items())
    return ["tolerances (rtol on the normalized error; reasons in --json):", *lines.values()] if lines else []


def format_crosscheck(report: dict[str, Any], use_rich: bool) -> str:
    """The side-by-side table (one column per oracle: max abs / max rel error and the verdict)."""
    oracle_names = list(report["oracles"])
    labels = list(next(iter(report["oracles"].values()))["rows"]) if oracle_names else []
    header = ["quantity", *[f"{name}\nabs / rel" for name in oracle_names]]
    body = []
    for label in labels:
        cells = [label]
        for name in oracle_names:
            row = report["oracles"][name]["rows"][label]
            verdict = "ok" if row["passed"] else "FAIL"
            cells.append(f"{row['max_abs']:.1e} / {row['max_rel']:.1e} {verdict}")
        body.append(cells)
    title = f"refnn crosscheck: {report['description']}, batch {report['batch_size']}, seed {report['seed']}"
    footer = [
        "versions: " + ", ".join(f"{name} {version}" for name, version in report["versions"].items()),
        *[f"not run: {reason}" for reason in report["unavailable"].values()],
        *[f"ERROR {name}: {message}" for name, message in report["errors"].items()],
        *[f"note {name}: {'; '.join(entry['notes'])}" for name, entry in report["oracles"].items() if entry["notes"]],
        *_tolerance_summary(report),
        "RESULT: " + ("all oracles agree with the reference" if report["passed"] else "DISAGREEMENT (see FAIL/ERROR)"),
    ]
    if use_rich:
        return rich_table(title, header, body, footer)
    return "\n".join([title, plain_table(header, body), *footer])


def command_crosscheck(args: argparse.Namespace) -> int:
    config = build_config(args)
    oracles = select_oracles(parse_names(args.oracles, "--oracles"), args.fd_method)
    try:
        report = run_crosscheck(config, args.seed, args.batch_size, oracles)
    except ValueError as error:  # the config itself is invalid for the reference (e.g. softmax over 1 unit)
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(report, indent=2, default=json_default))
    else:
        print(format_crosscheck(report, use_rich=rich_available() and not args.plain))
    return EXIT_OK if report["passed"] else EXIT_DISAGREE


def add_parser(commands: Any) -> None:
    crosscheck = commands.add_parser(
        "crosscheck", help="the reference vs finite differences, torch and TensorFlow on one model",
        description="Build a model, run the reference and every available oracle on it, and print the max abs / "
        "rel error of the forward output, cost, each gradient and each updated parameter.",
    )  # fmt: skip
    crosscheck.add_argument("--dims", default="4-8-8-1", help="layer sizes n0-n1-...-nL (default 4-8-8-1)")
    crosscheck.add_argument("--activations", help="one per layer, comma-separated (default relu,...,relu and the "
                            "loss's usual output activation, e.g. sigmoid for bce)")  # fmt: skip
    crosscheck.add_argument("--loss", default=DEFAULT_LOSS, help="bce (default), bce_with_logits, mse, "
                            "cross_entropy, softmax_cross_entropy")  # fmt: skip
    crosscheck.add_argument("--l2", type=float, default=0.0, help="penalty 0.5 * l2 * sum(W**2) (default 0)")
    crosscheck.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    crosscheck.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    crosscheck.add_argument("--momentum", type=float, default=0.0)
    crosscheck.add_argument("--nesterov", action="store_true")
    crosscheck.add_argument("--weight-decay", type=float, default=0.0)
    crosscheck.add_argument("--steps", type=int, default=1, help="optimizer steps for 'updated' (default 1)")
    crosscheck.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    crosscheck.add_argument("--batch-size", type=int, default=8, help="examples m (default 8)")
    crosscheck.add_argument("--seed", type=int, default=0)
    crosscheck.add_argument("--oracles", default=",".join(default_oracle_groups()),
                            help=f"comma-separated subset of {','.join(ORACLE_GROUPS)} (default all; jax when "
                                 "installed)")  # fmt: skip
    crosscheck.add_argument("--fd-method", choices=("auto", "complex", "richardson", "central"), default="auto")
    crosscheck.add_argument("--json", action="store_true", help="print a JSON report")
    crosscheck.add_argument("--plain", action="store_true", help="plain text table even if rich is installed")
    crosscheck.set_defaults(handler=command_crosscheck)
