"""Conventions where torch, TensorFlow/Keras, JAX and the reference differ, measured live.

Each convention is one declarative :class:`Convention` row in its family's module
(:mod:`.activations`, :mod:`.losses`, :mod:`.optimizers` and :mod:`.momentum`,
:mod:`.normalization`): the reference's value, one small function per framework that runs it on
a tiny input, the agreement tolerance with its reason, and what the harness does about it.
Calling a row measures it now and returns a :class:`ConventionResult`. Frameworks are imported
lazily; one that is missing is reported ``"not installed"``, never raised as an ImportError.

Print the table (``--json`` for machines)::

    python -m equivalence_tests.conventions > docs/conventions.md
    python -m equivalence_tests.conventions --json

A new convention is one row in its family's module, added to that module's ``ROWS``.
"""

from __future__ import annotations

from equivalence_tests.conventions import activations, losses, momentum, normalization, optimizers
from equivalence_tests.conventions.activations import (
    LEAKY_SLOPE,
    leaky_relu_default_slope,
    max_tie_gradient,
    relu_derivative_at_zero,
)
from equivalence_tests.conventions.losses import BCE_CASES, _reduction_inputs, bce_clipping, loss_reductions
from equivalence_tests.conventions.measuring import (
    _IMPORTERS,
    FAMILIES,
    FRAMEWORKS,
    MEASURED,
    NOT_INSTALLED,
    NOT_MEASURED,
    Convention,
    ConventionResult,
    Measurement,
    _measure,
    framework_versions,
    load_framework,
    max_abs_difference,
)
from equivalence_tests.conventions.momentum import (
    TRAJECTORY_GRADIENTS,
    TRAJECTORY_LR,
    TRAJECTORY_MOMENTUM,
    momentum_formulation,
    nesterov_formulation,
)
from equivalence_tests.conventions.optimizers import (
    ADAM_BETA1,
    ADAM_BETA2,
    ADAM_EPS,
    ADAM_LR,
    ADAM_STEPS,
    adam_default_epsilon,
    adam_epsilon_placement,
    float32_hyperparameters,
    weight_decay_coupling,
)
from equivalence_tests.conventions.table import format_value, json_report, main, markdown_table

# The table's rows, grouped by family in FAMILIES order.
CONVENTIONS: tuple[Convention, ...] = (
    activations.ROWS + losses.ROWS + optimizers.ROWS + momentum.ROWS + normalization.ROWS
)


def measure_all() -> list[ConventionResult]:
    """Every convention in :data:`CONVENTIONS`, measured now."""
    return [convention() for convention in CONVENTIONS]


__all__ = [
    "ADAM_BETA1", "ADAM_BETA2", "ADAM_EPS", "ADAM_LR", "ADAM_STEPS", "BCE_CASES", "CONVENTIONS", "Convention",
    "ConventionResult", "FAMILIES", "FRAMEWORKS", "LEAKY_SLOPE", "MEASURED", "Measurement", "NOT_INSTALLED",
    "NOT_MEASURED", "TRAJECTORY_GRADIENTS", "TRAJECTORY_LR", "TRAJECTORY_MOMENTUM", "_IMPORTERS", "_measure",
    "_reduction_inputs", "adam_default_epsilon", "adam_epsilon_placement", "bce_clipping",
    "float32_hyperparameters", "format_value", "framework_versions", "json_report",
    "leaky_relu_default_slope", "load_framework", "loss_reductions", "main", "markdown_table", "max_abs_difference",
    "max_tie_gradient", "measure_all", "momentum_formulation", "nesterov_formulation", "relu_derivative_at_zero",
    "weight_decay_coupling",
]
