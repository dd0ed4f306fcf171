"""Argument checks shared by the reference: every error names the argument, what was
expected and what was received, so a user never has to read a stack trace from deep
inside NumPy to learn that ``X`` had the wrong number of rows.

The reference accepts float32 and float64 everywhere. It also accepts complex64 and
complex128 in the forward pass and the costs, because complex-step differentiation
(``reference_nn.gradcheck``) pushes a complex perturbation through them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

REAL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
COMPLEX_DTYPES = (np.dtype(np.complex64), np.dtype(np.complex128))
ACCEPTED_DTYPES = REAL_DTYPES + COMPLEX_DTYPES


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages: type, shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def as_float_array(name: str, value: Any, *, allow_complex: bool = True) -> np.ndarray:
    """Return ``value`` as an ndarray of a floating (or complex) dtype, or raise TypeError.

    Lists and Python scalars are converted to float64; integer and boolean arrays are
    refused for parameters and inputs because a silent cast would hide a bug in the
    caller (an integer ``W`` cannot be updated in place).
    """
    if not isinstance(value, np.ndarray):
        if isinstance(value, (list, tuple, float, int)) and not isinstance(value, bool):
            value = np.asarray(value, dtype=np.float64)
        else:
            raise TypeError(f"{name} must be a NumPy array, got {describe(value)}")
    accepted = ACCEPTED_DTYPES if allow_complex else REAL_DTYPES
    if value.dtype not in accepted:
        names = ", ".join(str(d) for d in accepted)
        raise TypeError(f"{name} must have dtype in ({names}), got dtype {value.dtype}")
    return value


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise ValueError naming ``name`` and the first bad element if ``array`` has NaN or Inf."""
    finite = np.isfinite(array)
    if not finite.all():
        bad_index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} contains {int((~finite).sum())} non-finite value(s) "
            f"(NaN or Inf); the first is {array[bad_index].item()!r} at index {bad_index}"
        )


def check_ndim(name: str, array: np.ndarray, ndim: int, meaning: str) -> None:
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D with shape {meaning}, got shape {array.shape}")


def check_shape(name: str, array: np.ndarray, expected: tuple[int, ...], meaning: str = "") -> None:
    if array.shape != tuple(expected):
        suffix = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must have shape {tuple(expected)}{suffix}, got shape {array.shape}")


def check_same_dtype(name: str, array: np.ndarray, reference_name: str, dtype: np.dtype) -> None:
    """Refuse mixed precision: float32 parameters with a float64 X would silently upcast.

    Real and complex of the same precision may mix (float64 with complex128): that is how
    complex-step differentiation perturbs one parameter while the rest stay real."""
    if np.finfo(array.dtype).dtype != np.finfo(dtype).dtype:
        raise TypeError(
            f"{name} has dtype {array.dtype} but {reference_name} has dtype {dtype}; "
            f"convert one of them explicitly (mixing would silently change the precision)"
        )


def check_positive_finite(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise ValueError if it is not a finite (strictly) positive number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    number = float(value)
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def check_in_range(name: str, value: Any, low: float, high: float, *, high_inclusive: bool = False) -> float:
    number = check_positive_finite(name, value, allow_zero=True) if low >= 0 else float(value)
    upper_ok = number <= high if high_inclusive else number < high
    if not (low <= number and upper_ok):
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must lie in [{low}, {high}{bracket}, got {value!r}")
    return number


def choose_name(options: dict[str, Any], name: Any, kind: str) -> Any:
    """Look ``name`` up in a registry, raising ValueError that lists the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a name (str), got {describe(name)}")
    key = name.lower()
    if key not in options:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {sorted(options)}")
    return options[key]
