"""check_layer for layers that update themselves instead of keeping their gradients.

Two styles of public code never store ``dW``:

* ``backward(output_gradient, learning_rate)`` takes a plain SGD step ``W -= learning_rate * dW``
  and returns only the input gradient. Binding the rate to 0 would check the input gradient only
  and hide every weight-gradient bug, so the step itself is measured: the parameters before and
  after, ``g = (W_before - W_after) / lr``. The rate is a power of two (multiplying and dividing by
  it is exact), chosen so that ``lr * RMS(g) >= max |W|``: the rounding left is the layer's own
  ``W - lr * g`` (half an ulp of ``W_after``: over lr, at most one ulp of max(|g_i|, RMS(g))) and,
  for float64 parameters, the float64 difference ``W_before - W_after`` (half an ulp of lr |g_i|):
  at most 1.5 ulps of max(|g_i|, RMS(g)) in all (test_layer_step_recovery.py measures it), a share
  of 1.5 sqrt(eps) of the analytic allowance tolerances.analytic_rtol = sqrt(eps) that the verdict
  gives every hand-written gradient (5e-4 of it in float32, 2e-8 in float64). The update must be an
  SGD step: doubling the upstream gradient must double it (weight decay, momentum carried over,
  Adam's normalized step do not), or the check refuses it with a one-line error rather than call a
  right gradient wrong.
* backward hands ``(W, dW)`` to an optimizer object kept as a plain attribute
  (``self.optimizer.update(self.W, dW)``): during the check that attribute is replaced by a
  recorder, which keeps the gradients and updates nothing.

The layer's whole state (every attribute, the bits of every array in it) is put back before each
call (a momentum buffer or step counter the layer keeps does not carry over) and on return, also
when the layer raises.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping

import numpy as np

from . import tolerances as tol
from .arguments import is_differentiable

LEARNING_RATE_NAMES = ("learning_rate", "lr", "learn_rate", "learningrate", "eta", "alpha", "step_size", "lr_rate",
                       "rate", "learning_step")
OPTIMIZER_PATTERN = re.compile(r"optim|^opt$|updater|sgd|adam|rmsprop|adagrad|momentum", re.IGNORECASE)
DISCOVERY_RATE = 1.0  # the discovery pass's step: only the candidates and the gradient's size are read from it
MAX_RATE_EXPONENT = 100  # 2**100 and 2**-100 are float32 numbers: a float32 layer multiplies by it exactly


def step_argument(backward, n_douts: int, given: str | None) -> str | None:
    """The name of backward's learning-rate parameter (after its upstream gradients), or None."""
    try:
        parameters = list(inspect.signature(backward).parameters.values())
    except (TypeError, ValueError):
        return None
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if given is not None:
        if given not in names:
            raise ValueError(f"learning_rate={given!r} names no parameter of backward (its parameters: {names})")
        return given
    return next((n for n in names[n_douts:] if n.lower() in LEARNING_RATE_NAMES), None)


class LayerState:
    """Every attribute of a layer (the object it holds) and the bits of every array in it, also the
    arrays in its dict and list attributes: ``restore`` puts all of them back."""

    def __init__(self, layer):
        self.layer = layer
        self.attributes = dict(vars(layer)) if hasattr(layer, "__dict__") else {}
        self.entries = {}
        for key, value in self.attributes.items():
            if isinstance(value, dict | list):
                self.entries[key] = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        self.bits = [(a, np.array(a, copy=True)) for a in self._arrays() if a.flags.writeable]

    def _arrays(self):
        seen = set()
        for value in [*self.attributes.values(), *(v for items in self.entries.values() for _, v in items)]:
            if isinstance(value, np.ndarray) and id(value) not in seen:
                seen.add(id(value))
                yield value

    def restore(self) -> None:
        for key, value in self.attributes.items():
            setattr(self.layer, key, value)
            container = value
            for k, v in self.entries.get(key, ()):
                if isinstance(container, dict) or (isinstance(container, list) and k < len(container)):
                    container[k] = v
        for array, saved in self.bits:
            np.copyto(array, saved)


def float_arrays(layer) -> dict[str, tuple[object, object, np.ndarray]]:
    """name -> (holder, key, array) of the float arrays a layer holds: attributes (``W``) and entries
    of its dict and list attributes (``params.W``, ``weights[0]``)."""
    found = {}
    for key, value in (vars(layer).items() if hasattr(layer, "__dict__") else ()):
        if is_differentiable(value):
            found[key] = (layer, key, value)
        elif isinstance(value, Mapping):
            found.update({f"{key}.{k}": (value, k, v) for k, v in value.items() if is_differentiable(v)})
        elif isinstance(value, list):
            found.update({f"{key}[{i}]": (value, i, v) for i, v in enumerate(value) if is_differentiable(v)})
    return found


def read(holder, key) -> np.ndarray:
    return getattr(holder, key) if not isinstance(holder, Mapping | list) else holder[key]  # type: ignore[index]


def stepped(before: dict, layer) -> list[str]:
    """Names of the arrays of ``before`` (float_arrays, with copies) that the call replaced or changed."""
    now = float_arrays(layer)
    out = []
    for name, (_, _, array, saved) in before.items():
        after = now.get(name)
        if after is None:
            continue
        if after[2] is not array or after[2].tobytes() != saved.tobytes():
            out.append(name)
    return out


def with_copies(arrays: dict) -> dict:
    return {name: (holder, key, array, np.array(array, copy=True)) for name, (holder, key, array) in arrays.items()}


def recovered(before: np.ndarray, after: np.ndarray, rate: float) -> np.ndarray:
    """(before - after) / rate in float64: the gradient an SGD step of ``rate`` took."""
    return (np.asarray(before, dtype=np.float64) - np.asarray(after, dtype=np.float64)) / rate


def recovery_allowance(before: np.ndarray, after: np.ndarray, rate: float) -> np.ndarray:
    """Bound on the rounding of a recovered gradient: half an ulp of ``after`` (the layer's own
    rounding of W - lr g; before and after are exact, their float64 difference too), over rate;
    taken as eps(dtype) * max(|before|, |after|) / rate (an ulp is at most eps |x|; twice the bound)."""
    eps = tol.eps(np.result_type(np.asarray(after).dtype, np.float32))
    return eps * np.maximum(np.abs(np.asarray(before, dtype=np.float64)), np.abs(np.asarray(after, np.float64))) / rate


def choose_rate(parameters: dict[str, np.ndarray], gradients: dict[str, np.ndarray]) -> float:
    """A power of two lr with lr * RMS(g) >= max |W| for every parameter with a gradient (module docstring)."""
    exponents = [0]
    for name, g in gradients.items():
        rms = _rms(g)
        if rms > 0:
            largest = float(np.max(np.abs(np.asarray(parameters[name], dtype=np.float64))))
            exponents.append(int(np.ceil(np.log2(max(largest, 1e-300) / rms))))
    return 2.0 ** int(np.clip(max(exponents), -MAX_RATE_EXPONENT, MAX_RATE_EXPONENT))


def _rms(a: np.ndarray) -> float:
    """RMS without overflow in the square (a huge gradient must not make the bound infinite)."""
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    if not np.isfinite(peak) or peak == 0:
        return peak
    return peak * float(np.sqrt(np.mean(np.square(a / peak))))


def not_linear(name: str, once: np.ndarray, twice: np.ndarray, allowance: np.ndarray) -> str | None:
    """A one-line refusal if doubling the upstream gradient did not double the step of ``name``."""
    excess = np.abs(twice - 2 * once) - 4 * allowance - tol.ROUNDING_FACTOR * tol.eps(np.float32) * np.maximum(
        np.abs(twice), _rms(twice))
    if not (excess > 0).any():
        return None
    i = np.unravel_index(int(np.argmax(excess)), once.shape)
    return (f"backward's update of {name} is not an SGD step W - learning_rate * dW: doubling the upstream gradient "
            f"gave {name}{list(map(int, i))} a step of {twice[i]:.6g} x learning_rate instead of 2 x {once[i]:.6g} "
            "(weight decay, momentum or Adam inside backward?); keep the gradient in an attribute (self.dW) or an "
            "optimizer object the layer calls, and check_layer reads it there")


class OptimizerRecorder:
    """Stands in for the layer's optimizer during the check: every method call records the
    (parameter, gradient) pairs among its arguments (an array the layer holds, followed by an array
    of its shape; or two dicts with the same keys) and updates nothing (returns its first argument,
    so ``self.W = self.opt.update(self.W, dW)`` keeps W)."""

    def __init__(self, name: str, real, layer_arrays):
        self._name, self._real, self._arrays = name, real, layer_arrays
        self.captured: dict[str, np.ndarray] = {}

    def __getattr__(self, attribute):
        real = getattr(self._real, attribute)
        if not callable(real):
            return real

        def record(*args, **kwargs):
            self._pair([*args, *kwargs.values()])
            return args[0] if args else None
        return record

    def _pair(self, values) -> None:
        held = self._arrays()
        for first, second in zip(values, values[1:], strict=False):
            if isinstance(first, Mapping) and isinstance(second, Mapping):
                for k, v in first.items():
                    g = second.get(k, second.get(f"d{k}"))
                    name = held.get(id(v))
                    if name and isinstance(g, np.ndarray | np.generic):
                        self.captured[name] = np.array(g, copy=True)
            elif isinstance(first, np.ndarray) and isinstance(second, np.ndarray | np.generic):
                name = held.get(id(first))
                if name is not None and np.size(second) in (first.size, 1):
                    self.captured[name] = np.array(second, copy=True)


def optimizer_attributes(layer) -> list[str]:
    """Attributes holding an optimizer object (by its attribute or class name), not arrays or layers."""
    out = []
    for key, value in (vars(layer).items() if hasattr(layer, "__dict__") else ()):
        if isinstance(value, np.ndarray | int | float | str | Mapping | list | tuple) or value is None:
            continue
        if callable(getattr(value, "forward", None)):
            continue
        if OPTIMIZER_PATTERN.search(key) or OPTIMIZER_PATTERN.search(type(value).__name__):
            out.append(key)
    return out
