"""Oracles with one interface: ``oracle.run(config, params, X, Y) -> OracleResult``.

``ReferenceOracle`` (the code under test), ``FiniteDifferenceOracle`` (numerical derivative of
the reference's cost), ``TorchOracle(path="functional"|"layers")``,
``TensorFlowOracle(path="functional"|"keras")`` and ``JaxOracle(path="functional")``. Frameworks
are imported on first use;
``oracle.available`` / ``oracle.unavailable_reason`` say whether that worked.
"""

from equivalence_tests.oracles.base import (
    QUANTITIES,
    Oracle,
    OracleResult,
    UnsupportedConfiguration,
    validate_run_inputs,
)
from equivalence_tests.oracles.finite_difference import FiniteDifferenceOracle
from equivalence_tests.oracles.jax_oracle import JaxOracle
from equivalence_tests.oracles.reference_oracle import ReferenceOracle
from equivalence_tests.oracles.tensorflow_oracle import TensorFlowOracle
from equivalence_tests.oracles.torch_oracle import TorchOracle


def framework_oracles() -> list[Oracle]:
    """One instance of every framework path: torch functional/layers, TF functional/keras, JAX functional."""
    return [TorchOracle("functional"), TorchOracle("layers"), TensorFlowOracle("functional"),
            TensorFlowOracle("keras"), JaxOracle("functional")]


__all__ = [
    "QUANTITIES",
    "FiniteDifferenceOracle",
    "JaxOracle",
    "Oracle",
    "OracleResult",
    "ReferenceOracle",
    "TensorFlowOracle",
    "TorchOracle",
    "UnsupportedConfiguration",
    "framework_oracles",
    "validate_run_inputs",
]
