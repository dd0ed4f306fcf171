"""The shared machinery of the conventions table: result types, the declarative row, lazy
framework loading and the comparison with the reference.

A convention is one :class:`Convention` row (its question, setup, how to compute the
reference's value, one small function per framework, the tolerance with its reason, and what
the harness does about it). Calling the row measures it now and returns a
:class:`ConventionResult`. A framework that is missing is reported ``"not installed"``, never
raised as an ImportError; a framework without a twin for the row is ``"not measured"``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import reference_nn as rn

FRAMEWORKS = ("torch", "tensorflow", "jax")
FAMILIES = ("activations", "losses", "optimizers", "normalization")
MEASURED = "measured"
NOT_INSTALLED = "not installed"
NOT_MEASURED = "not measured"  # the framework has no such API (e.g. a default it does not have)

Value = Any  # a float, or a dict {case name: float | list of floats}: always JSON-able


# ------------------------------------------------------------------------ result types
@dataclass(frozen=True)
class Measurement:
    """One framework's behaviour on one convention.

    ``status`` is ``"measured"``, ``"not installed"``, ``"not measured"`` or ``"failed: ..."``;
    ``value`` has the reference's structure (extra keys are framework-only cases, shown but not
    compared); ``max_abs_difference`` is over the keys shared with the reference.
    """

    framework: str
    status: str
    value: Value = None
    agrees: bool | None = None
    max_abs_difference: float | None = None


@dataclass(frozen=True)
class ConventionResult:
    """A convention: the question, the setup, the reference's value, each framework's measurement,
    the agreement tolerance (with why), and what the harness does about it."""

    name: str
    question: str
    setup: str
    reference: Value
    tolerance: float
    tolerance_reason: str
    measurements: tuple[Measurement, ...]
    harness_action: str

    def measurement(self, framework: str) -> Measurement:
        for measurement in self.measurements:
            if measurement.framework == framework:
                return measurement
        raise KeyError(f"framework must be one of {[m.framework for m in self.measurements]}, got {framework!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Convention:
    """One row of the table, declared as data.

    ``reference()`` computes the reference's value; ``twins[framework](module)`` the framework's
    (``module`` is what :func:`load_framework` returns); a framework absent from ``twins`` has no
    such API and is reported ``"not measured"``. Calling the row measures it now."""

    name: str
    family: str
    question: str
    setup: str
    reference: Callable[[], Value]
    tolerance: float
    tolerance_reason: str
    twins: Mapping[str, Callable[[Any], Value]]
    harness_action: str

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r} (convention {self.name})")
        unknown = sorted(set(self.twins) - set(FRAMEWORKS))
        if unknown:
            raise ValueError(f"twins must be keyed by {FRAMEWORKS}, got {unknown} (convention {self.name})")

    def __call__(self) -> ConventionResult:
        reference = self.reference()
        measurements = tuple(_measure(fw, self.twins.get(fw), reference, self.tolerance) for fw in FRAMEWORKS)
        return ConventionResult(self.name, self.question, self.setup, reference, self.tolerance,
                                self.tolerance_reason, measurements, self.harness_action)


# ------------------------------------------------------------------ lazy framework loading
def _import_torch() -> types.ModuleType:
    import torch

    return torch


def _import_tensorflow() -> types.SimpleNamespace:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TF and Keras emit DeprecationWarnings from their own imports; silence only those, only here,
    # so a caller running with warnings-as-errors is not broken by a framework's internals.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import keras
        import tensorflow as tf
    return types.SimpleNamespace(tf=tf, keras=keras, __version__=tf.__version__, keras_version=keras.__version__)


def _import_jax() -> types.SimpleNamespace:
    from equivalence_tests.oracles.jax_runtime import import_jax

    fw = import_jax()
    optax_version = NOT_INSTALLED if fw.optax is None else fw.optax.__version__
    return types.SimpleNamespace(jax=fw.jax, jnp=fw.jnp, optax=fw.optax, runtime=fw,
                                 __version__=fw.jax.__version__, optax_version=optax_version)


_IMPORTERS: dict[str, Callable[[], Any]] = {
    "torch": _import_torch,
    "tensorflow": _import_tensorflow,
    "jax": _import_jax,
}


@functools.cache
def load_framework(name: str) -> Any:
    """The framework module (for ``"tensorflow"``: a namespace with ``tf`` and ``keras``; for ``"jax"``
    one with ``jax``, ``jnp`` and ``optax``), or None when it is not installed. Imported once per process."""
    if name not in _IMPORTERS:
        raise ValueError(f"framework must be one of {sorted(_IMPORTERS)}, got {name!r}")
    try:
        return _IMPORTERS[name]()
    except ImportError:
        return None


def framework_versions() -> dict[str, str]:
    """Versions of NumPy, the reference and each framework (``"not installed"`` when missing)."""
    versions = {"numpy": np.__version__, "reference_nn": rn.__version__}
    for name in FRAMEWORKS:
        module = load_framework(name)
        versions[name] = NOT_INSTALLED if module is None else str(module.__version__)
        if name == "tensorflow":
            versions["keras"] = NOT_INSTALLED if module is None else str(module.keras_version)
        if name == "jax":
            versions["optax"] = NOT_INSTALLED if module is None else str(module.optax_version)
            versions["flax"] = _distribution_version("flax")
    return versions


def _distribution_version(name: str) -> str:
    """An installed distribution's version from its metadata (nothing imported), else "not installed"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return NOT_INSTALLED


# --------------------------------------------------------------------------- comparing
def _flatten(value: Value) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    return [float(value)]


def max_abs_difference(reference: Value, value: Value) -> float | None:
    """Largest ``|value - reference|`` over the cases both have (None when none is shared).

    A scalar reference is compared with every case of a dict value (e.g. one default slope
    against several framework entry points)."""
    if isinstance(value, dict):
        if isinstance(reference, dict):
            pairs = [(reference[key], value[key]) for key in value if key in reference]
        else:
            pairs = [(reference, v) for v in value.values()]
    else:
        pairs = [(reference, value)]
    differences = [abs(a - b) for ref, val in pairs for a, b in zip(_flatten(ref), _flatten(val), strict=True)]
    # A NaN (0 * log 0, say) differs by an unknown amount: infinitely, for the verdict (max() would drop it).
    differences = [math.inf if math.isnan(d) else d for d in differences]
    return max(differences) if differences else None


def _framework_context(framework: str, module: Any) -> contextlib.AbstractContextManager:
    """JAX twins run in float64 on the CPU, without changing the caller's JAX settings; others as they are."""
    if framework == "jax":
        from equivalence_tests.oracles.jax_runtime import jax_context

        return jax_context(module.runtime, "float64")
    return contextlib.nullcontext()


def _measure(
    framework: str, function: Callable[[Any], Value] | None, reference: Value, tolerance: float
) -> Measurement:
    """Run ``function(module)`` for an installed framework and compare with the reference."""
    if function is None:
        return Measurement(framework, NOT_MEASURED)
    module = load_framework(framework)
    if module is None:
        return Measurement(framework, NOT_INSTALLED)
    try:
        with _framework_context(framework, module):
            value = function(module)
    except ModuleNotFoundError as error:  # a library the twin needs on top of the framework (Flax for JAX)
        return Measurement(framework, f"{NOT_INSTALLED}: {error.name}")
    except Exception as error:  # reported in the table; the tests require status == "measured"
        return Measurement(framework, f"failed: {type(error).__name__}: {error}")
    difference = max_abs_difference(reference, value)
    agrees = None if difference is None else bool(difference <= tolerance)
    return Measurement(framework, MEASURED, value, agrees, difference)
