"""The interface every oracle shares, and the result it returns.

An oracle is handed a :class:`~equivalence_tests.config.ModelConfig` plus ``params``, ``X``
and ``Y`` in the reference's layout (samples in columns: ``X (n0, m)``, ``Y (nL, m)``,
``W{l} (n[l], n[l-1])``, ``b{l} (n[l], 1)``) and answers, in that same layout and with the
same names, the four quantities the harness compares:

* ``forward``: the network output ``AL (nL, m)`` at ``params``;
* ``cost``: loss plus the ``0.5 * l2 * sum(W**2)`` penalty, a Python float;
* ``gradients``: ``{"W1": (n1, n0), "b1": (n1, 1), ...}``, d cost / d parameter at ``params``;
* ``updated_params``: the parameters after ``config.steps`` optimizer steps, each taken on the
  full batch ``(X, Y)`` at the then-current parameters, starting from fresh optimizer state.

A framework oracle imports its framework lazily (on first use, once per process) so that a
missing framework is a reason (``available`` False, ``unavailable_reason`` a sentence) and
never an ImportError while tests are being collected.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from equivalence_tests.config import ModelConfig

QUANTITIES = ("forward", "cost", "gradient", "updated_params")


@dataclass
class OracleResult:
    """What one oracle says about one model. Arrays are NumPy, in the reference's layout and dtype.

    ``forward (nL, m)``; ``cost`` float; ``gradients`` and ``updated_params`` keyed
    ``"W1", "b1", ...`` with the shapes of ``params``.
    """

    oracle: str  # e.g. "torch/functional"
    framework: str  # "reference_nn", "torch" or "tensorflow"
    framework_version: str  # e.g. "2.13.0+cpu"; for TensorFlow also the Keras version
    path: str  # "functional", "layers", "keras", "reference", "complex", "richardson", ...
    dtype: str  # "float32" or "float64"
    forward: np.ndarray
    cost: float
    gradients: dict[str, np.ndarray]
    updated_params: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)  # conventions applied on this run
    # normalized models: running statistics after the run ({"running_mean1": (n1, 1), ...}); None if not tracked
    norm_state: dict[str, np.ndarray] | None = None

    def quantity(self, name: str) -> Any:
        """The value of one of :data:`QUANTITIES` (``"gradient"`` gives the gradients dict)."""
        if name not in QUANTITIES:
            raise ValueError(f"quantity must be one of {QUANTITIES}, got {name!r}")
        return {"forward": self.forward, "cost": self.cost, "gradient": self.gradients,
                "updated_params": self.updated_params}[name]


class UnsupportedConfiguration(ValueError):
    """This oracle path cannot compute this model the reference's way (the reason says why)."""


class Oracle:
    """Base class. Subclasses set ``framework`` and ``path`` and implement :meth:`_run`.

    ``name`` is ``"<framework>/<path>"``; the tolerance table is keyed by ``framework``
    with optional per-path overrides (see ``equivalence_tests.tolerances``).
    """

    framework = "abstract"
    path = "abstract"

    def __init__(self) -> None:
        self._modules: SimpleNamespace | None = None
        self._unavailable_reason: str | None = None
        self._loaded = False

    @property
    def name(self) -> str:
        return f"{self.framework}/{self.path}"

    # -- availability ---------------------------------------------------------------
    def _load(self) -> SimpleNamespace:
        """Import the framework and return a namespace of its modules. Raise ImportError if absent."""
        return SimpleNamespace()

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            self._modules = self._load()
        except ImportError as error:  # only a missing/broken install; anything else is a bug to show
            self._unavailable_reason = f"{self.name} unavailable: cannot import {self.framework} ({error})"

    @property
    def available(self) -> bool:
        self._ensure_loaded()
        return self._unavailable_reason is None

    @property
    def unavailable_reason(self) -> str | None:
        """None when available, else a sentence naming the framework and the import error."""
        self._ensure_loaded()
        return self._unavailable_reason

    @property
    def modules(self) -> SimpleNamespace:
        self._ensure_loaded()
        if self._unavailable_reason is not None:
            raise RuntimeError(self._unavailable_reason)
        assert self._modules is not None
        return self._modules

    @property
    def version(self) -> str:
        """The framework's version string (raises RuntimeError if unavailable)."""
        return self._version(self.modules)

    def _version(self, modules: SimpleNamespace) -> str:
        raise NotImplementedError

    # -- running --------------------------------------------------------------------
    def unsupported_reason(self, config: ModelConfig) -> str | None:
        """Why this oracle cannot compute ``config`` the reference's way (from the op table), or None."""
        from equivalence_tests import ops

        return ops.unsupported_reason(self.name, config)

    def run(self, config: ModelConfig, params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> OracleResult:
        """Forward, cost, gradients and updated parameters for ``config`` at ``params``.

        ``params`` {"W1": (n1, n0), "b1": (n1, 1), ...}, ``X (n0, m)``, ``Y (nL, m)``, all of
        dtype ``config.dtype``. Inputs are not modified. Raises :class:`UnsupportedConfiguration`
        when the op table says this oracle path computes something else for ``config``.
        """
        validate_run_inputs(config, params, X, Y)
        reason = self.unsupported_reason(config)
        if reason is not None:
            raise UnsupportedConfiguration(f"{self.name} cannot check {config.describe()}: {reason}")
        modules = self.modules
        return self._run(modules, config, params, X, Y)

    def _run(self, modules: SimpleNamespace, config: ModelConfig, params: dict[str, np.ndarray],
             X: np.ndarray, Y: np.ndarray) -> OracleResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r})"


def validate_run_inputs(config: ModelConfig, params: Any, X: Any, Y: Any) -> None:
    """Refuse inputs that do not fit ``config``, naming the argument, expected and actual."""
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be an equivalence_tests.config.ModelConfig, got {type(config).__name__}")
    dtype = config.numpy_dtype
    dims = config.layer_dims
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict {{'W1': ..., 'b1': ...}}, got {type(params).__name__}")
    expected_keys = config.parameter_names()
    if sorted(params) != sorted(expected_keys):
        raise ValueError(f"params must have keys {expected_keys} for layer_dims {dims}, got {sorted(params)}")
    for name in expected_keys:
        layer = int(re.sub(r"^[A-Za-z]+", "", name))
        shape = (dims[layer], dims[layer - 1]) if name.startswith("W") else (dims[layer], 1)
        _check_array(f"params['{name}']", params[name], shape, dtype)
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n0={dims[0]}, m), got {X!r:.80}")
    _check_array("X", X, (dims[0], X.shape[1]), dtype)
    _check_array("Y", Y, (dims[-1], X.shape[1]), dtype)


def _check_array(name: str, value: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape {shape}, got {type(value).__name__}")
    if value.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
    if value.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the config's dtype), got {value.dtype}")


@contextlib.contextmanager
def deliberate_output_pairing() -> Iterator[None]:
    """Silence ``reference_nn.losses.OutputPairingWarning`` (bce after softmax) and nothing else:
    the harness checks that pairing on purpose (the op table lists softmax as a bce output), so the
    warning meant for a user who may have mixed up their losses is noise here."""
    from reference_nn.losses import OutputPairingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutputPairingWarning)
        yield


def import_quietly(module_name: str) -> Any:
    """``importlib.import_module`` with the import-time DeprecationWarnings of the big frameworks
    silenced (only those, only during the import: the test suite runs with warnings as errors,
    and a framework's own deprecations at import are not something this harness can fix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return importlib.import_module(module_name)


def import_tensorflow() -> Any:
    """Import TensorFlow with its C++ logging quieted (set before the first import only)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return import_quietly("tensorflow")


def keyed_by_parameter(arrays: list[np.ndarray], n_layers: int,
                       names: list[str] | None = None) -> dict[str, np.ndarray]:
    """``[W1, b1, W2, b2, ...]`` -> ``{"W1": ..., "b1": ..., ...}`` (reference order); ``names``:
    another order, e.g. ``config.parameter_names()`` of a normalized model."""
    names = names or [f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in "Wb"]
    return dict(zip(names, arrays, strict=True))


def run_steps(config: ModelConfig, params: dict[str, np.ndarray],
              gradient_at: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``config.steps`` steps of the reference optimizer, with gradients from ``gradient_at(params)``.

    Used by the oracles whose optimizer *is* the reference's (reference, finite differences)."""
    optimizer = config.optimizer.build()
    current = {name: value.copy() for name, value in params.items()}
    for _ in range(config.steps):
        current = optimizer.step(current, gradient_at(current))
    return current
