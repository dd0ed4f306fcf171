"""``refnn crosscheck`` in float32 with adaptive optimizers: every ``ok`` resolves a 10% change.

The running-error floor of the displacements compounds, for Adam / AdamW / RMSprop / Adagrad in float32
after 2+ steps, to ~1.7e6 eps per element (equivalence_tests.rounding_spread): before this module's
fixes an oracle whose displacements were 10x too large, or reversed, read ``ok`` and the run said "all
oracles agree". Now each element is judged by the bound where that resolves 10%, else by the measured
rounding spread where that does (equivalence_tests.resolution), else the row is "not comparable at this
precision".

The property plants x2, x-1 and x1.5 into one oracle's float32 displacements (1-10 steps, every
adaptive optimizer) and asserts that no updated row reads ``ok``, and that the same oracle's true
result disagrees nowhere. Each oracle is run once per example; the planted results are replays of it.
"""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from equivalence_tests import ops
from equivalence_tests.cli.crosscheck import run_crosscheck, select_oracles
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.profiles import property_settings

PLANTED = (2.0, -1.0, 1.5)
LOSSES = ("bce", "bce_with_logits", "mse", "cross_entropy", "softmax_cross_entropy")
HIDDEN = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
ORACLE_GROUPS = {"fd": "fd", "torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}


class Replay:
    """An oracle path that answers a stored result of another, its displacements scaled by ``factor``:
    ``theta_0 + factor (theta_k - theta_0)`` (a planted bug in that oracle's optimizer step)."""

    def __init__(self, result, params: dict[str, np.ndarray], factor: float | None):
        self.framework, self.result, self.params, self.factor = result.framework, result, params, factor
        self.name = result.oracle if factor is None else f"{result.oracle}+planted-x{factor:g}"
        self.available, self.unavailable_reason = True, None

    def run(self, config, params, X, Y):
        if self.factor is None:
            return self.result
        updated = {name: (self.params[name] + self.factor * (value - self.params[name])).astype(value.dtype)
                   for name, value in self.result.updated_params.items()}
        return dataclasses.replace(self.result, updated_params=updated)


def _crosscheck_with_plants(config: ModelConfig, seed: int, batch: int, group: str) -> dict | None:
    """The report of one crosscheck whose oracle paths are the true run of ``group``'s first path and its
    planted replays; None if the path does not run this model or the run diverges."""
    params, X, Y = ops.example_inputs(config, seed=seed, m=batch)
    oracle = select_oracles((ORACLE_GROUPS[group],), "complex")[0]
    try:
        result = oracle.run(config, params, X, Y)
    except (ValueError, NotImplementedError):  # UnsupportedConfiguration is a ValueError: not this path's model
        return None
    paths = [Replay(result, params, None)] + [Replay(result, params, factor) for factor in PLANTED]
    try:
        return run_crosscheck(config, seed, batch, paths)
    except ValueError:  # the reference's run diverges: refnn says so (exit 2), nothing to compare
        return None


@st.composite
def float32_adaptive_models(draw) -> tuple[ModelConfig, int, int]:
    loss = draw(st.sampled_from(LOSSES))
    last = draw(st.sampled_from(ops.valid_output_activations(loss)))
    hidden = draw(st.lists(st.integers(1, 8), max_size=2))
    dims = (draw(st.integers(1, 5)), *hidden, draw(st.integers(ops.min_outputs(loss, last), 3)))
    activations = (*[draw(st.sampled_from(HIDDEN)) for _ in hidden], last)
    name = draw(st.sampled_from(["adam", "adamw", "rmsprop", "adagrad"]))
    optimizer = OptimizerConfig(name=name, learning_rate=draw(st.sampled_from([0.001, 0.01, 0.1, 1.0])))
    if name == "adamw":
        optimizer = dataclasses.replace(optimizer, weight_decay=0.01)
    if name == "rmsprop" and draw(st.booleans()):
        optimizer = dataclasses.replace(optimizer, momentum=0.9)
    config = ModelConfig(dims, activations, loss, optimizer=optimizer, steps=draw(st.integers(1, 10)),
                         dtype="float32")
    return config, draw(st.integers(0, 2**16)), draw(st.integers(1, 8))


def _check_planted(report: dict, true_name: str) -> None:
    rows = report["oracles"][true_name]["rows"]
    wrong = {label: row for label, row in rows.items() if row["status"] == "FAIL"}
    assert not wrong, f"{report['description']}: the true {true_name} disagrees: " + "; ".join(
        f"{label} {row['spread_worst'] or (row['reference_value'], row['oracle_value'])}"
        for label, row in wrong.items())
    judged = sum(row["judged_elements"] for label, row in rows.items() if label.startswith("updated"))
    total = sum(row["elements"] for label, row in rows.items() if label.startswith("updated"))
    event(f"updated elements judged: {'all' if judged == total else 'none' if judged == 0 else 'some'}")
    for name, entry in report["oracles"].items():
        if name == true_name:
            continue
        read_ok = [label for label, row in entry["rows"].items()
                   if label.startswith("updated") and row["status"] == "ok" and row["judged_elements"] > 0]
        # an ok with no judged element is an all-zero displacement (x2 of 0 is 0: right, and verified exactly)
        assert not read_ok, f"{report['description']}: {name}: planted displacement reads ok in {read_ok}"


@pytest.mark.parametrize("group", ["fd", "torch", "tensorflow", "jax"])
def test_planted_displacements_never_read_ok(group):
    if group != "fd" and importlib.util.find_spec(group) is None:
        pytest.skip(f"{group} is not installed")

    @property_settings(f"crosscheck/planted_displacement/{group}")
    @given(drawn=float32_adaptive_models())
    def check(drawn):
        config, seed, batch = drawn
        report = _crosscheck_with_plants(config, seed, batch, group)
        assume(report is not None)
        true_name = next(iter(report["oracles"]))
        _check_planted(report, true_name)

    check()
