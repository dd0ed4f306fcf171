"""``refnn crosscheck``: build a model, run the reference and every available oracle on it, and print
the max abs / rel error of the forward output, cost, each gradient and each updated parameter.

Every quantity of every oracle path ends in one of these outcomes, and the report says which:

* ``ok`` / ``FAIL``: compared within the tolerance of ``equivalence_tests.tolerances`` (per oracle
  family, per finite-difference method), or not;
* ``not comparable``: the framework follows its own convention at this point (a loss on saturated
  probabilities, ``equivalence_tests.saturation``) and its value is a different quantity; the
  footer names the convention. Not a disagreement, not counted as compared;
* an oracle path that cannot compute the model is ``not run: <reason>`` (framework not installed,
  or a configuration the path computes differently, from the op table); an oracle that crashes is
  an ``ERROR`` (counted as a disagreement).

Exit status: 0 every compared quantity agrees, 1 a disagreement or an oracle error, 2 bad usage
(one line naming the option; also a run that diverges, with the step and layer), 4 nothing was
compared (no oracle ran, or every quantity was not comparable): never a silent green.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from equivalence_tests.cli.common import EXIT_DISAGREE, EXIT_OK, UsageError, parse_names
from equivalence_tests.cli.crosscheck_options import (  # noqa: F401 (ORACLE_GROUPS, default_oracle_groups: API)
    ORACLE_GROUPS,
    add_arguments,
    build_config,
    default_oracle_groups,
    describe_settings,
)
from equivalence_tests.cli.output import (
    json_default,
    plain_table,
    progress,
    quiet_native_stderr,
    rich_available,
    rich_table,
)

EXIT_NOTHING_COMPARED = 4
# A run whose parameters grow beyond this factor times their starting size has diverged for the purpose
# of a comparison: every unit is saturated or exploding, and the optimizer's trajectory amplifies the
# rounding differences of two correct implementations without bound (found: lr 10, 6 steps, weights
# 1e32, finite differences 2e-8 relative off the reference in one tensor). 1e8 is far above any run
# that trains (lr 30 saturating runs reach 1e2-1e3) and far below float overflow.
GROWTH_BOUND = 1e8
ROW_PREFIX = {"forward": "forward", "cost": "cost", "gradient": "grad", "updated_params": "updated"}


def select_oracles(names: tuple[str, ...], fd_method: str) -> list[Any]:
    """Oracle objects for ``--oracles``; the reference is not among them (it is what they are compared with)."""
    from equivalence_tests.oracles import FiniteDifferenceOracle, JaxOracle, TensorFlowOracle, TorchOracle

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


def comparison_row(judgement: Any, convention: str | None = None) -> tuple[str, dict[str, Any]]:
    """``("grad W1", {...})``: one row of the report from a ``resolution.Judgement`` (a ``tolerances.Comparison``
    and whether it resolves a 10% change); ``convention``: the framework convention that makes this quantity
    not comparable here (used only if it failed)."""
    comparison = judgement.comparison
    label = ROW_PREFIX[comparison.quantity]
    if comparison.quantity in ("gradient", "updated_params"):
        label += f" {comparison.name}"
    status = "not comparable" if convention and judgement.status == "FAIL" else judgement.status
    return label, {
        "quantity": comparison.quantity, "status": status, "max_abs": comparison.max_abs_error,
        "max_rel": comparison.max_rel_error, "worst_index": list(comparison.worst_index),
        "reference_value": comparison.reference_value, "oracle_value": comparison.oracle_value,
        "rtol": comparison.tolerance.rtol, "atol": comparison.tolerance.atol, "reason": comparison.tolerance.reason,
        "passed": status != "FAIL", "convention": convention if status == "not comparable" else None,
        "precision": judgement.reason if judgement.status == "not comparable" and not convention else None,
        "precision_detail": judgement.detail,
        "identical": judgement.reason if status == "identical" else None,
        "elements": judgement.elements, "judged_elements": judgement.judged,
        "judged_by_bound": judgement.bound_judged, "spread_worst": judgement.spread_worst,
    }  # fmt: skip


def divergence(config: Any, params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> str | None:
    """Where the reference's run leaves the finite numbers, in the user's terms (which step, which
    layer's output or which parameter), or None if every step stays finite."""
    import reference_nn as rn
    from equivalence_tests.oracles.reference_oracle import initial_norm_state, reference_cost_and_gradients

    optimizer, current = config.optimizer.build(), {name: value.copy() for name, value in params.items()}
    activations = config.activation_objects()
    bound = GROWTH_BOUND * max(1.0, max(float(np.abs(value).max()) for value in params.values()))
    # eval mode's running statistics, fixed at the start as every oracle takes them (None in training mode)
    state = initial_norm_state(config, params, X) if config.normalization_mode == "eval" else None
    with np.errstate(all="ignore"):
        for step in range(config.steps + 1):
            where = "at the starting parameters" if step == 0 else f"after optimizer step {step} of {config.steps}"
            bad = [name for name, value in current.items() if not np.isfinite(value).all()]
            if bad:
                return f"the parameters {', '.join(bad)} overflow to inf/NaN {where}"
            grown = {name: float(np.abs(value).max()) for name, value in current.items()}
            name = max(grown, key=grown.get)
            if grown[name] > bound:
                return (f"the parameter {name} reaches {grown[name]:.2g} {where}, more than {GROWTH_BOUND:g} times "
                        "the starting parameters' size")
            _, caches = rn.model_forward(X, current, activations, config.normalization_spec(), state,
                                         training=config.normalization_mode == "train")
            for layer, (activation, cache) in enumerate(zip(activations, caches, strict=True), start=1):
                if not np.isfinite(cache.A).all():
                    return f"the output of layer {layer} ({activation.name}) holds inf/NaN {where}"
            if step == config.steps:
                return None
            gradients = reference_cost_and_gradients(config, current, X, Y, state)[2]
            bad = [name for name, value in gradients.items() if not np.isfinite(value).all()]
            if bad:
                return f"the gradients of {', '.join(bad)} overflow to inf/NaN {where}"
            current = optimizer.step(current, gradients)
    return None


def run_crosscheck(config: Any, seed: int, batch_size: int, oracles: list[Any]) -> dict[str, Any]:
    """Run the reference and every oracle; compare each quantity with equivalence_tests.tolerances
    (errors normalized with the running-error floor of equivalence_tests.error_scale, which follows
    rounding through long, high-learning-rate runs; per-oracle tolerances), mark what a framework
    convention makes not comparable (equivalence_tests.saturation) and count. Returns the JSON-ready
    report. Raises ValueError (the message in the user's terms) if the reference's run diverges."""
    from equivalence_tests import ops, rounding_spread, saturation, tolerances
    from equivalence_tests.error_scale import error_scales
    from equivalence_tests.oracles import ReferenceOracle
    from equivalence_tests.oracles.base import UnsupportedConfiguration

    params, X, Y = ops.example_inputs(config, seed=seed, m=batch_size)
    diverged = divergence(config, params, X, Y)
    if diverged is not None:
        raise ValueError(f"the run diverges: {diverged} (--optimizer {config.optimizer.name} --lr "
                         f"{config.optimizer.learning_rate:g}); try a smaller --lr, fewer --steps or a smaller --l2")
    reference = ReferenceOracle().run(config, params, X, Y)
    outputs = saturation.reference_outputs(config, params, X, Y)
    with np.errstate(all="ignore"):  # magnitudes of saturated or huge runs may overflow to inf: no floor lost
        # the running-error floor has no rules for normalizations yet: normalized models get the RMS-floored table
        scales = None if config.normalization else error_scales(config, params, X, Y)
        # float32 adaptive optimizers: the bound of the displacements compounds into "any step"; the
        # measured rounding spread judges the elements it cannot (equivalence_tests.rounding_spread)
        spread = rounding_spread.displacement_spread(config, params, X, Y, reference.updated_params, seed=seed) \
            if rounding_spread.applies(config) else None
    report: dict[str, Any] = {
        "config": config.to_dict(), "description": describe_settings(config), "seed": seed,
        "batch_size": batch_size, "versions": {"numpy": np.__version__, "reference_nn": reference.framework_version},
        "oracles": {}, "not_run": {}, "errors": {},
        "spread": None if spread is None else _spread_summary(config, spread),
    }  # fmt: skip
    with progress(len(oracles), "cross-checking") as advance:
        for oracle in oracles:
            advance(oracle.name)
            with quiet_native_stderr(oracle.framework == "tensorflow"):
                available = oracle.available
            if not available:
                report["not_run"][oracle.name] = oracle.unavailable_reason
                continue
            try:
                with quiet_native_stderr(oracle.framework == "tensorflow"), np.errstate(all="ignore"):
                    result = oracle.run(config, params, X, Y)
            except (UnsupportedConfiguration, NotImplementedError) as error:  # cannot compute it: not run
                report["not_run"][oracle.name] = str(error)
                continue
            except Exception as error:  # an oracle crash is reported, not a traceback
                report["errors"][oracle.name] = f"{type(error).__name__}: {error}"
                continue
            report["versions"][oracle.framework] = result.framework_version
            conventions = saturation.not_comparable(oracle.name, config, outputs)
            comparisons = tolerances.compare_results(reference, result, config, initial_params=params, scales=scales)
            judgements = judge_comparisons(comparisons, reference, result, config, params, scales, spread)
            rows = dict(comparison_row(j, conventions.get(j.comparison.quantity)) for j in judgements
                        if config.steps or j.comparison.quantity != "updated_params")  # fmt: skip
            report["oracles"][oracle.name] = {"rows": rows, "notes": list(result.notes),
                                              "passed": all(row["status"] != "FAIL" for row in rows.values())}
    return _conclude(report)


def judge_comparisons(comparisons: list[Any], reference: Any, result: Any, config: Any, params: dict[str, np.ndarray],
                      scales: Any, spread: Any) -> list[Any]:
    """Each ``tolerances.Comparison`` as a ``resolution.Judgement``: ok only where a 10% change is resolved,
    identical where the quantity is the reference's own, else not comparable at this precision."""
    from equivalence_tests.resolution import judge

    family = result.oracle.split("/")[0]
    judgements = []
    for comparison in comparisons:
        quantity, name = comparison.quantity, comparison.name
        if quantity in ("forward", "cost"):
            arrays = (reference.quantity(quantity), result.quantity(quantity))
        else:
            arrays = (reference.quantity(quantity)[name], result.quantity(quantity)[name])
        initial = params[name] if quantity == "updated_params" else None
        judgements.append(judge(comparison, *arrays, initial=initial, steps=max(config.steps, 1),
                                error_scale=None if scales is None else scales.for_quantity(quantity, name),
                                spread=spread, family=family))
    return judgements


def _spread_summary(config: Any, spread: Any) -> dict[str, Any]:
    """What the measured rounding spread is, for the report (JSON) and its footer line."""
    from equivalence_tests.resolution import RESOLVE, SAFETY

    text = (f"{config.dtype} {config.optimizer.name}: each updated-parameter element is judged by the running-error "
            f"bound where that resolves a {RESOLVE:.0%} change, else against {SAFETY:g}x the measured rounding spread "
            f"({spread.runs} reference runs differing in summation order and last bits, vs float64) where that does; "
            "elements whose steps rounding decides are not judged")
    return {"runs": spread.runs, "safety": SAFETY, "resolve": RESOLVE, "description": text}


def _conclude(report: dict[str, Any]) -> dict[str, Any]:
    """Counts, the result and the exit status: nothing compared is never an agreement."""
    statuses = [row["status"] for entry in report["oracles"].values() for row in entry["rows"].values()]
    counts = {status: statuses.count(status) for status in ("ok", "FAIL", "not comparable", "identical")}
    compared = counts["ok"] + counts["FAIL"]
    report["counts"] = {"compared": compared, "agree": counts["ok"], "disagree": counts["FAIL"],
                        "not_comparable": counts["not comparable"], "identical": counts["identical"],
                        "oracle_paths_run": len(report["oracles"]), "not_run": len(report["not_run"]),
                        "errors": len(report["errors"])}  # fmt: skip
    if counts["FAIL"] or report["errors"]:
        report["result"], report["exit_status"] = "disagreement", EXIT_DISAGREE
    elif compared == 0:
        report["result"], report["exit_status"] = "nothing compared", EXIT_NOTHING_COMPARED
    else:
        report["result"], report["exit_status"] = "agree", EXIT_OK
    report["passed"] = report["result"] == "agree"
    return report


def result_line(report: dict[str, Any]) -> str:
    """The last line: what was compared and what it showed."""
    counts = report["counts"]
    extra = [f"{counts[key]} {text}" for key, text in (("identical", "identical by construction"),
                                                        ("not_comparable", "not comparable"), ("not_run", "not run"))
             if counts.get(key)]  # fmt: skip
    scope = f"{counts['compared']} quantities compared on {counts['oracle_paths_run']} oracle path(s)"
    scope += f"; {', '.join(extra)}" if extra else ""
    if report["result"] == "agree":
        return f"RESULT: all oracles agree with the reference ({scope})"
    if report["result"] == "nothing compared":
        return f"RESULT: nothing was compared ({scope}): no verdict, exit status 4"
    errors = f", {counts['errors']} oracle error(s)" if counts["errors"] else ""
    return f"RESULT: DISAGREEMENT: {counts['disagree']} of {scope}{errors} (see FAIL/ERROR)"


def _tolerance_summary(report: dict[str, Any]) -> list[str]:
    """One line per oracle path family: the rtol of each quantity (the reasons are in --json)."""
    lines = {}
    for name, entry in report["oracles"].items():
        family = name.split("/")[0] if not name.startswith("finite_difference") else name
        by_quantity = {row["quantity"]: row["rtol"] for row in entry["rows"].values()}
        lines[family] = f"  {family}: " + ", ".join(f"{quantity} {rtol:.2g}" for quantity, rtol in by_quantity.items())
    return ["tolerances (rtol on the normalized error; reasons in --json):", *lines.values()] if lines else []


def _not_comparable_lines(report: dict[str, Any]) -> list[str]:
    """One line per reason (a framework convention at this point, too little precision, identical by
    construction) and set of quantities, naming the oracle paths it applies to."""
    grouped: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for name, entry in report["oracles"].items():
        by_reason: dict[tuple[str, str], list[str]] = {}
        for label, row in entry["rows"].items():
            if row.get("identical"):
                by_reason.setdefault(("identical by construction", row["identical"]), []).append(label)
            elif row["status"] == "not comparable" and row.get("precision"):
                by_reason.setdefault(("not comparable at this precision", row["precision"]), []).append(label)
            elif row["status"] == "not comparable":
                by_reason.setdefault(("not comparable at this point", row["convention"]), []).append(label)
        for (kind, reason), labels in by_reason.items():
            grouped.setdefault((kind, reason, tuple(labels)), []).append(name)
    return [f"{kind}: {', '.join(labels)} of {', '.join(names)}: {reason}"
            for (kind, reason, labels), names in grouped.items()]


def format_crosscheck(report: dict[str, Any], use_rich: bool) -> str:
    """The side-by-side table (one column per oracle path: max abs / max rel error and the outcome)."""
    oracle_names = list(report["oracles"])
    labels = list(next(iter(report["oracles"].values()))["rows"]) if oracle_names else []
    header = ["quantity", *[f"{name}\nabs / rel" for name in oracle_names]]
    body = []
    for label in labels:
        cells = [label]
        for name in oracle_names:
            row = report["oracles"][name]["rows"][label]
            cells.append(f"{row['max_abs']:.1e} / {row['max_rel']:.1e} {row['status']}")
        body.append(cells)
    title = f"refnn crosscheck: {report['description']}, batch {report['batch_size']}, seed {report['seed']}"
    footer = [
        "versions: " + ", ".join(f"{name} {version}" for name, version in report["versions"].items()),
        *[f"not run: {reason}" for reason in report["not_run"].values()],
        *[f"ERROR {name}: {message}" for name, message in report["errors"].items()],
        *_not_comparable_lines(report),
        *([f"precision: {report['spread']['description']}"] if report.get("spread") else []),
        *[f"note {name}: {'; '.join(entry['notes'])}" for name, entry in report["oracles"].items() if entry["notes"]],
        *_tolerance_summary(report),
        result_line(report),
    ]
    if use_rich:
        return rich_table(title, header, body, footer)
    return "\n".join([title, plain_table(header, body) if body else "(no oracle path ran)", *footer])


def command_crosscheck(args: argparse.Namespace) -> int:
    config = build_config(args)
    oracles = select_oracles(parse_names(args.oracles, "--oracles"), args.fd_method)
    try:
        report = run_crosscheck(config, args.seed, args.batch_size, oracles)
    except ValueError as error:  # the reference cannot run this configuration: said in the user's terms
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(report, indent=2, default=json_default))
    else:
        # The box-drawn rich table on a terminal only: a pipe or a file gets plain text (as with --plain).
        print(format_crosscheck(report, use_rich=rich_available() and not args.plain and sys.stdout.isatty()))
    return report["exit_status"]


def add_parser(commands: Any) -> None:
    crosscheck = commands.add_parser(
        "crosscheck", help="the reference vs finite differences, torch, TensorFlow and JAX on one model",
        description="Build a model, run the reference and every available oracle on it (finite differences, torch, "
        "TensorFlow / Keras, JAX), and print the max abs / "
        "rel error of the forward output, cost, each gradient and each updated parameter. Exit status: 0 all "
        "compared quantities agree, 1 a disagreement, 2 bad usage, 4 nothing was compared.",
    )  # fmt: skip
    add_arguments(crosscheck)
    crosscheck.set_defaults(handler=command_crosscheck)
