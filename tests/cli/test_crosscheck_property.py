"""``refnn crosscheck`` over option combinations and long runs (Hypothesis, through the entry point).

Drawn: every loss with a valid output activation, hidden layers 0-2 of width 1-6 with any hidden
activation, sgd (momentum, Nesterov, weight decay) or adam, 0-10 steps, learning rates up to 30,
l2, batch 1-8, both dtypes, oracles fd and torch (torch not installed: reported not run). Long runs
at lr 30 saturate sigmoid and softmax outputs, which is where torch's BCELoss convention applies.

Asserted: no DISAGREEMENT (exit 1) unless a reference bug is planted; a run that leaves the finite
numbers ends as a one-line usage error that names the step (exit 2), never as a traceback or a
NumPy warning (warnings are errors here); with a planted bug (first-layer weight gradient off by a
tenth of its RMS) every run that compares anything is a DISAGREEMENT.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from equivalence_tests import ops
from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main
from equivalence_tests.profiles import property_settings

LOSSES = ("bce", "bce_with_logits", "mse", "cross_entropy", "softmax_cross_entropy")
HIDDEN = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
EXIT_NOTHING_COMPARED = 4


@st.composite
def crosscheck_arguments(draw) -> list[str]:
    loss = draw(st.sampled_from(LOSSES))
    last = draw(st.sampled_from(ops.valid_output_activations(loss)))
    hidden = draw(st.lists(st.integers(1, 6), max_size=2))
    dims = [draw(st.integers(1, 4)), *hidden, draw(st.integers(ops.min_outputs(loss, last), 3))]
    activations = [draw(st.sampled_from(HIDDEN)) for _ in hidden] + [last]
    arguments = ["crosscheck", "--json", "--oracles", "fd,torch", "--dims", "-".join(map(str, dims)),
                 "--activations", ",".join(activations), "--loss", loss,
                 "--dtype", draw(st.sampled_from(["float64", "float32"])),
                 "--batch-size", str(draw(st.integers(1, 8))), "--seed", str(draw(st.integers(0, 2**16)))]
    if draw(st.booleans()):
        arguments += ["--l2", str(draw(st.sampled_from([0.001, 0.1, 1.0])))]
    steps = draw(st.integers(0, 10))
    arguments += ["--steps", str(steps)]
    if steps:
        optimizer = draw(st.sampled_from(["sgd", "adam"]))
        arguments += ["--optimizer", optimizer, "--lr", str(draw(st.sampled_from([0.001, 0.1, 1.0, 3.0, 10.0, 30.0])))]
        if optimizer == "sgd" and draw(st.booleans()):
            arguments += ["--momentum", "0.9"] + (["--nesterov"] if draw(st.booleans()) else [])
        if draw(st.booleans()):
            arguments += ["--weight-decay", "0.01"]
    return arguments


def _run(arguments: list[str]) -> tuple[int, dict | None, str]:
    """``refnn`` with these arguments: exit status, the JSON report (if one was printed), stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(arguments)
    report = json.loads(out.getvalue()) if status in (EXIT_OK, EXIT_DISAGREE, EXIT_NOTHING_COMPARED) else None
    return status, report, err.getvalue()


def _failures(report: dict) -> list[str]:
    return [f"{name} {label}: {row['reference_value']!r} vs {row['oracle_value']!r} (rel {row['max_rel']:.3g}, "
            f"rtol {row['rtol']:.3g})" for name, entry in report["oracles"].items()
            for label, row in entry["rows"].items() if row["status"] == "FAIL"]


@pytest.mark.slow
@property_settings("crosscheck/options")
@given(arguments=crosscheck_arguments())
def test_no_disagreement_without_a_reference_bug(arguments):
    status, report, err = _run(arguments)
    if status == EXIT_USAGE:  # only a diverging run may be refused: said in one line, with the step
        assert "the run diverges" in err and err.count("\n") == 1, f"{' '.join(arguments)}: {err}"
        event("the run diverges (exit 2)")
        return
    event(f"result: {report['result']}")
    if report["counts"]["not_comparable"]:
        event("some quantity not comparable (a framework convention at saturation)")
    assert status in (EXIT_OK, EXIT_NOTHING_COMPARED), (
        f"refnn {' '.join(arguments)} exited {status}: {_failures(report)} {report['errors']}")
    assert report["counts"]["compared"] > 0, f"fd always compares: {report['counts']}"


@property_settings("crosscheck/planted_bug")
@given(arguments=crosscheck_arguments())
def test_a_planted_reference_bug_is_always_a_disagreement(arguments):
    import reference_nn.model as model

    right = model.linear_parameter_gradients

    def wrong(dZ, A_prev):  # the first layer's dW (only it uses this function), one element off
        dW, db = right(dZ, A_prev)
        dW = dW.copy()
        dW[0, 0] += dW.dtype.type(0.1 * np.sqrt(np.mean(np.square(dW, dtype=np.float64))) + 1e-30)
        return dW, db

    model.linear_parameter_gradients = wrong  # restored below: a fixture would not reset per example
    try:
        status, report, _ = _run(arguments)
    finally:
        model.linear_parameter_gradients = right
    assume(status != EXIT_USAGE)  # a diverging run compares nothing
    assert status == EXIT_DISAGREE, f"refnn {' '.join(arguments)} exited {status}: the planted bug went unseen"
    fd = report["oracles"].get("finite_difference/complex")
    if fd is None:  # fd's own run, on the true gradients, left the finite numbers (float32, lr 10): an ERROR
        assert "finite_difference/complex" in report["errors"], f"fd neither compared nor failed: {report['errors']}"
        return
    failing = [label for label, row in fd["rows"].items() if row["status"] == "FAIL"]
    assert "grad W1" in failing, f"fd must name grad W1, failing rows: {failing}"
