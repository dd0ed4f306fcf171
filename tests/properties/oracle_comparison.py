"""The agreement property's core: the reference against one oracle, judged by the project's
tolerance table (equivalence_tests.tolerances.compare_results), reported for a person.

Thin adapter over the tolerance module: ``tolerances.assert_agree`` lists mismatches but not the
example's reproducer, shapes or the worst element across tensors; this builds that report from the
same ``Comparison`` objects, so the numbers and the verdicts are the table's own.
"""

from __future__ import annotations

from functools import cache

from hypothesis import assume, event
from property_report import failure_report

from equivalence_tests.oracles import (
    FiniteDifferenceOracle,
    JaxOracle,
    Oracle,
    OracleResult,
    ReferenceOracle,
    TensorFlowOracle,
    TorchOracle,
)
from equivalence_tests.strategies import ModelExample
from equivalence_tests.tolerances import Comparison, compare_results

# Oracle id (as used in test ids and profiles) -> the Python that builds it (for reproducers).
ORACLE_CONSTRUCTORS = {
    "finite_difference": "FiniteDifferenceOracle()",
    "torch_functional": "TorchOracle('functional')",
    "torch_layers": "TorchOracle('layers')",
    "tensorflow_functional": "TensorFlowOracle('functional')",
    "tensorflow_keras": "TensorFlowOracle('keras')",
    "jax_functional": "JaxOracle('functional')",
}


@cache
def oracle_named(oracle_id: str) -> Oracle:
    """One oracle instance per process (frameworks are imported once, on first use)."""
    namespace = {"FiniteDifferenceOracle": FiniteDifferenceOracle, "TorchOracle": TorchOracle,
                 "TensorFlowOracle": TensorFlowOracle, "JaxOracle": JaxOracle}
    return eval(ORACLE_CONSTRUCTORS[oracle_id], namespace)  # noqa: S307 - constant strings above


@cache
def reference_oracle() -> ReferenceOracle:
    return ReferenceOracle()


def assume_expressible(example: ModelExample, oracle_id: str) -> None:
    """Reject (hypothesis.assume) configurations the op table says this oracle path computes
    differently (e.g. Keras bce after softmax); the event shows how often that happens."""
    reason = oracle_named(oracle_id).unsupported_reason(example.config)
    if reason is not None:
        event(f"not expressible by {oracle_id}")
    assume(reason is None)


def _badness(comparison: Comparison) -> float:
    """How far out of tolerance: normalized error over rtol (inf where rtol is 0 and they differ)."""
    if comparison.passed:
        return 0.0
    rtol = comparison.tolerance.rtol
    return comparison.max_rel_error / rtol if rtol > 0 else float("inf")


def check_oracle_agreement(example: ModelExample, oracle_id: str, prop: str = "agreement") -> OracleResult:
    """Forward output, cost, every gradient and the parameters after ``config.steps`` optimizer steps
    of the reference agree with oracle ``oracle_id`` within the tolerance table. Returns the
    oracle's result; raises AssertionError with the report otherwise."""
    oracle = oracle_named(oracle_id)
    config = example.config
    reference = reference_oracle().run(config, example.params, example.X, example.Y)
    result = oracle.run(config, example.params, example.X, example.Y)
    comparisons = compare_results(reference, result, config, example.params, example.X, example.Y)
    failures = sorted((c for c in comparisons if not c.passed), key=_badness, reverse=True)
    if not failures:
        return result
    worst = failures[0]
    details = [
        f"worst:      {_describe(worst)}",
        f"            tolerance rtol {worst.tolerance.rtol:.3g} atol {worst.tolerance.atol:.3g}: "
        f"{worst.tolerance.reason}",
        *(f"also:       {_describe(c)}" for c in failures[1:8]),
    ]
    if len(failures) > 8:
        details.append(f"            ... and {len(failures) - 8} more tensors out of tolerance")
    details += [f"oracle note: {note}" for note in result.notes]
    headline = f"{worst.quantity} {worst.name} of {result.oracle} disagrees with the reference"
    reproduce_call = (f"from equivalence_tests.oracles import *; {ORACLE_CONSTRUCTORS[oracle_id]}"
                      ".run(example.config, example.params, example.X, example.Y)")
    raise AssertionError(failure_report(
        f"{prop}/{oracle_id}", example, headline, details,
        oracle=f"{result.oracle} ({result.framework} {result.framework_version}) vs reference_nn "
               f"{reference.framework_version}",
        reproduce_call=reproduce_call,
    ))


def _describe(c: Comparison) -> str:
    index = "[" + ", ".join(str(i) for i in c.worst_index) + "]" if c.worst_index else ""
    what = "updated " if c.quantity == "updated_params" else f"{c.quantity} "
    measured = " (error of the displacement from the initial value)" if c.quantity == "updated_params" else ""
    return (f"{what}{c.name}{index}: reference {c.reference_value:.17g}, oracle {c.oracle_value:.17g}, "
            f"normalized err {c.max_rel_error:.3g}{measured} > rtol {c.tolerance.rtol:.3g}, "
            f"max abs err of the tensor {c.max_abs_error:.3g}")
