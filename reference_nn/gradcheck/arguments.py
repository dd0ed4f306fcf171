"""The arguments and outputs of user functions: names, which are differentiable, upstream gradients.

Shared by check_vjp, check_value_and_grad and check_layer. A differentiable value is a float
NumPy array; everything else (config dicts, ints, integer arrays such as token ids or labels,
None) is *static*: passed unchanged, as a fresh deep copy on every call, so a forward that writes
into its config dict (batch norm's running mean) or its inputs sees the same values each time.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from .validation import UserCodeError

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def argument_names(fn, count: int, fallback: str = "input") -> list[str]:
    """Names of the first ``count`` positional parameters of ``fn`` (``x``, ``w``, ``prev_h``).

    A ``*args`` parameter names its entries ``args[0]``, ...; where the signature cannot be read
    or is too short, ``input0``, ``input1``, ... are used.
    """
    names: list[str] = []
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    for p in parameters:
        if len(names) == count:
            break
        if p.kind in _POSITIONAL:
            names.append(p.name)
        elif p.kind == inspect.Parameter.VAR_POSITIONAL:
            names += [f"{p.name}[{j}]" for j in range(count - len(names))]
    names += [f"{fallback}{j}" for j in range(len(names), count)]
    return names


def accepts(fn, count: int) -> bool | None:
    """Whether ``fn`` can be called with ``count`` positional arguments; None if unknown."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def upstream_count(backward, n_outputs: int, others: int = 0, skip: tuple = ()) -> int:
    """How many upstream gradients ``backward`` takes: its required positional parameters (not named
    in ``skip``) less ``others`` (a cache); every output where the signature cannot tell (``*args``)."""
    try:
        parameters = list(inspect.signature(backward).parameters.values())
    except (TypeError, ValueError):
        return n_outputs
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return n_outputs
    required = [p for p in parameters if p.kind in _POSITIONAL and p.default is p.empty and p.name not in skip]
    return max(1, min(n_outputs, len(required) - others))


def user_call(function, role: str, *args, **kwargs):
    """``function(*args, **kwargs)``; an exception raised by the user's code becomes a UserCodeError.

    role: "f" for the forward / loss side, "grad_f" for the backward / gradient side (the names
    check_gradients and ``refnn check`` use); the message names the user's function itself.
    """
    try:
        return function(*args, **kwargs)
    except UserCodeError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever the user's code raises is reported as theirs
        name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None) or repr(function)
        raise UserCodeError(role, error, f"in {name}") from error


def is_differentiable(value) -> bool:
    """A float32 / float64 NumPy array (the things a gradient is checked for)."""
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype.itemsize in (4, 8)


def fresh(value):
    """A deep copy of a static argument for one call (the value itself if it cannot be copied)."""
    if value is None or isinstance(value, int | float | str | bool):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an object that refuses copying is passed as it is
        return value


def describe(value) -> str:
    """``dict``, ``int64 array (4, 5)``, ``int``: how a static argument is named in the report."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array {value.shape}"
    return type(value).__name__


def upstream_gradient(output, rng: np.random.Generator):
    """The upstream gradient the tool drives ``output`` with: 1.0 for a scalar (a loss), else
    N(0, 1) values of the output's shape, rounded to its dtype (so the analytic side, which gets
    them in the output's dtype, and the numerical side, which sums ``output * dout`` in float64,
    use the same numbers). Returns (dout for backward, dout in float64)."""
    array = np.asarray(output)
    if array.ndim == 0:
        one = np.ones((), dtype=array.dtype)
        return (1.0 if not isinstance(output, np.ndarray) else one), np.float64(1.0)
    dout = rng.standard_normal(array.shape).astype(array.dtype)
    return dout, dout.astype(np.float64)


def contract(outputs, douts, driven) -> complex | float:
    """sum over the driven outputs of sum(output * dout): the scalar whose gradient is the VJP."""
    total = 0.0
    for i in driven:
        total = total + np.sum(np.asarray(outputs[i]) * douts[i])
    return total


def contract_scale(outputs, douts, driven) -> float:
    """sum |output * dout| over the driven outputs: the size of the terms the contraction adds,
    which sets its rounding error (the sum itself may cancel to ~0)."""
    return float(sum(np.sum(np.abs(np.asarray(outputs[i], dtype=np.float64) * douts[i])) for i in driven))
