"""What the adapters and common.py share: the records of a call, and how user errors are named."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..validation import UserCodeError


class RuleShapeError(Exception):
    """The framework refused the gradients the rule returned (wrong shape): the shapes contract FAILs."""


def run_user(role: str, function, *args):
    """function(*args); an exception from the user's code becomes a UserCodeError naming the side
    ("f": the forward, "grad_f": the backward); RuleShapeError passes through (a verdict, not an error)."""
    try:
        return function(*args)
    except (UserCodeError, RuleShapeError):
        raise
    except Exception as error:  # noqa: BLE001 - whatever the user's code raises is reported as theirs
        where = "in the forward" if role == "f" else "in the backward (the rule under test)"
        raise UserCodeError(role, error, where) from error


@dataclass
class Backward:
    """One call of the framework's backward. grads: name -> float32/float64 array (None: the rule
    returned no gradient, i.e. zero); shapes / dtypes: what the framework returned, as text."""

    grads: dict
    shapes: dict = field(default_factory=dict)
    dtypes: dict = field(default_factory=dict)
    mutated_by_forward: list = field(default_factory=list)
    mutated_by_backward: list = field(default_factory=list)


@dataclass
class Prepared:
    """What an adapter found in the user's call: the differentiable tensors (name -> float32/float64
    copy of the values, name -> the dtype the framework computes in, name -> its dtype's name), the
    inputs passed unchanged, and notes for the report."""

    values: dict
    precisions: dict
    dtype_names: dict
    static: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def numpy_precision(dtype_name: str):
    """The NumPy dtype whose epsilon the gradient is judged at: float16/32/64, or ml_dtypes'
    bfloat16 (installed with JAX and TensorFlow; ``pip install ml_dtypes`` for torch alone)."""
    if dtype_name == "bfloat16":
        try:
            import ml_dtypes
        except ImportError as error:  # pragma: no cover - ml_dtypes comes with jax and tensorflow
            raise ImportError("checking a bfloat16 function needs ml_dtypes for its precision: pip install ml_dtypes "
                              "(or reference-nn[torch])") from error
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype_name)


def dense(grad, shape) -> np.ndarray:
    """A gradient as a float64 array of ``shape``; None (the rule returned no gradient) is zero."""
    return np.zeros(shape) if grad is None else np.asarray(grad, dtype=np.float64).reshape(shape)


def rms(x: np.ndarray) -> float:
    """Root mean square, scaled by the largest |x| first (no overflow of the squares near 1e154)."""
    largest = float(np.max(np.abs(x))) if x.size else 0.0
    if largest == 0.0 or not np.isfinite(largest):
        return largest
    return largest * float(np.sqrt(np.mean(np.square(x / largest))))
