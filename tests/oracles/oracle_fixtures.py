"""Helpers shared by the oracle tests: one oracle instance per path (so each framework is imported
once per process), a skip helper that reports the oracle's own reason, and a cache so each
(model, oracle) pair is computed once however many tests look at it.

A plain, uniquely named module rather than a conftest.py: tests/ has no packages, so test files
import it by name (pytest puts this folder on sys.path)."""

from __future__ import annotations

import pytest

from equivalence_tests import ops
from equivalence_tests.oracles import (
    FiniteDifferenceOracle,
    JaxOracle,
    Oracle,
    ReferenceOracle,
    TensorFlowOracle,
    TorchOracle,
)

ORACLES: dict[str, Oracle] = {
    oracle.name: oracle
    for oracle in (TorchOracle("functional"), TorchOracle("layers"), TensorFlowOracle("functional"),
                   TensorFlowOracle("keras"), JaxOracle("functional"), FiniteDifferenceOracle())
}
MARKS = {"torch": pytest.mark.torch, "tensorflow": pytest.mark.tensorflow, "jax": pytest.mark.jax}
REFERENCE = ReferenceOracle()


def require(oracle: Oracle) -> Oracle:
    """Skip the calling test, with the oracle's own reason, if its framework cannot be imported."""
    if not oracle.available:
        pytest.skip(oracle.unavailable_reason)
    return oracle


def oracle_params(names: list[str] | None = None) -> list:
    """``pytest.param(name, marks=...)`` for each oracle path, marked ``torch``/``tensorflow``/``jax``."""
    return [pytest.param(name, marks=[MARKS[name.split("/")[0]]] if name.split("/")[0] in MARKS else [], id=name)
            for name in (names or list(ORACLES))]


_RESULTS: dict[tuple, object] = {}


def cached_run(oracle: Oracle, config, seed: int = 0):
    """``(params, reference_result, oracle_result)`` for ``config`` with ``ops.example_inputs(config, seed)``."""
    key = (oracle.name, config, seed)
    if key not in _RESULTS:
        params, X, Y = ops.example_inputs(config, seed=seed)
        _RESULTS[key] = (params, REFERENCE.run(config, params, X, Y), oracle.run(config, params, X, Y))
    return _RESULTS[key]
