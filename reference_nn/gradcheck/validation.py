"""Input validation: unusable input raises at once, naming the argument, what was expected and
what was received. A *mismatch* between gradients is never an error here: it is reported."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

# Keys a classic ``model_backward`` returns besides parameter gradients: the gradients of cached
# activations and pre-activations (dA0, dA1, dZ2 ...). They are not parameters and are skipped.
_CLASSIC_INTERMEDIATE = re.compile(r"^d[AZ]\d+$")


class GradientKeyError(KeyError, ValueError):
    """A gradient dict whose keys do not match the parameters (missing, ambiguous or extra)."""

    function = "grad_f"

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class UserCodeError(Exception):
    """The user's own function raised: ``function`` ("f" or "grad_f") raised ``error`` (also the
    ``__cause__``, with the user's frames in its traceback) while evaluated ``where``. Never a
    verdict about the gradient: the check could not run."""

    def __init__(self, function: str, error: BaseException, where: str):
        self.function, self.error, self.where = function, error, where
        super().__init__(f"{function} raised {type(error).__name__}: {error} ({where})")


class BadReturnValue(TypeError, ValueError):
    """The user's function returned something unusable (a NaN loss, an array for a scalar):
    ``function`` names which one ("f" or "grad_f"), the message says what and where."""

    def __init__(self, message: str, function: str = "f"):
        self.function = function
        super().__init__(message)


def call_user(function, name: str, argument, where: str = "at the given params"):
    """``function(argument)``, with any exception re-raised as UserCodeError naming ``name``."""
    try:
        return function(argument)
    except (UserCodeError, BadReturnValue):  # already names the user's function, or what it returned
        raise
    except Exception as error:  # noqa: BLE001 - whatever the user's code raises is reported as theirs
        raise UserCodeError(name, error, where) from error


def validate_params(params, *, name: str = "params") -> dict[str, np.ndarray]:
    """Check ``params`` is a non-empty dict of finite float32/float64 arrays; return a plain dict."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict mapping names to NumPy arrays; got {type(params).__name__}")
    if not params:
        raise ValueError(f"{name} is empty: there is nothing to check")
    out = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings; got {key!r} ({type(key).__name__})")
        where = f"{name}[{key!r}]"
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{where} must be a NumPy array; got {type(value).__name__} (wrap it in np.asarray)")
        _require_float(value, where)
        if value.size == 0:
            raise ValueError(f"{where} is empty (shape {value.shape}): there is nothing to check")
        _require_finite(value, where)
        out[key] = value
    return out


def validate_gradients(grads, params: Mapping[str, np.ndarray], *, extra_keys: str = "error", grads_owner=None):
    """Match ``grads`` to ``params``: key ``k`` or ``"d" + k``, same shape, float values (non-finite
    elements are allowed here: a check FAILs them, naming the element).

    Returns (dict param key -> gradient array, dict param key -> gradient key, notes). A gradient
    that differs from its parameter only by singleton dimensions (``()`` for a ``(1, 1)`` bias) is
    compared by value, with a note (the rule of containers.conform_gradient). grads_owner: the
    grad_f that returned grads; its ``notes`` (containers.as_flat's wrapper) are passed on.
    extra_keys: "error" (default) raises on keys that match no parameter, except the classic
    intermediate gradients dA<l> / dZ<l>, which are skipped; "ignore" skips every extra key.
    """
    if extra_keys not in ("error", "ignore"):
        raise ValueError(f"extra_keys must be 'error' or 'ignore'; got {extra_keys!r}")
    if not isinstance(grads, Mapping):
        raise BadReturnValue(f"grad_f must return a dict keyed like params; got {type(grads).__name__}", "grad_f")
    arrays, keys, used = {}, {}, set()
    squeezed: list[str] = []
    for key, param in params.items():
        candidates = [k for k in (key, "d" + key) if k in grads]
        if not candidates:
            raise GradientKeyError(
                f"grad_f result has no gradient for parameter {key!r}: expected key {key!r} or {'d' + key!r}; "
                f"got keys {sorted(map(str, grads))}"
            )
        if len(candidates) == 2:
            raise GradientKeyError(f"grad_f result has both {key!r} and {'d' + key!r}: ambiguous gradient for {key!r}")
        gkey = candidates[0]
        used.add(gkey)
        try:
            value = _gradient_array(grads[gkey], f"gradient {gkey!r}", key, param)
        except (TypeError, ValueError) as error:  # grad_f returned it: grad_f is at fault
            raise BadReturnValue(str(error), "grad_f") from None
        given = np.shape(grads[gkey])
        if given != param.shape:
            squeezed.append(f"{key}: gradient of shape {given} for a parameter of shape {param.shape} (they differ "
                            "only by singleton dimensions): compared by value")
        arrays[key], keys[key] = value, gkey
    notes = leftover_gradient_keys(grads, used, extra_keys, "grad_f result", f"parameters are {sorted(params)}")
    return arrays, keys, squeezed + notes + list(getattr(grads_owner, "notes", []))


def leftover_gradient_keys(grads, used, extra_keys: str, owner: str, parameters: str) -> list[str]:
    """Keys of ``grads`` that matched no parameter: classic intermediates (``dA1``, ``dZ2``) and, with
    ``extra_keys="ignore"``, any key are skipped (returned as a note); any other is a GradientKeyError
    naming ``owner`` and ``parameters`` (e.g. "parameters are ['W1', 'b1']")."""
    extras = [k for k in grads if k not in used]
    skipped = [k for k in extras if extra_keys == "ignore" or _CLASSIC_INTERMEDIATE.match(str(k))]
    unknown = [k for k in extras if k not in skipped]
    if unknown:
        raise GradientKeyError(
            f"{owner} has keys that match no parameter: {sorted(map(str, unknown))}; "
            f"{parameters}. Pass extra_keys='ignore' to skip them."
        )
    if not skipped:
        return []
    return [f"skipped gradient keys that are not parameters: {', '.join(sorted(map(str, skipped)))}"]


def _gradient_array(value, where: str, key: str, param: np.ndarray) -> np.ndarray:
    if not isinstance(value, np.ndarray | np.generic | float | int):
        raise TypeError(f"{where} must be a NumPy array; got {type(value).__name__}")
    value = np.asarray(value)
    _require_float(value, where, allow_int=True)
    if value.shape != param.shape and value.size == param.size and _squeezed(value.shape) == _squeezed(param.shape):
        return value.reshape(param.shape)  # differs only by singleton dimensions: compared by value (noted)
    if value.shape != param.shape:
        raise ValueError(
            f"{where} has shape {value.shape} but parameter {key!r} has shape {param.shape}; "
            "gradients must have exactly the parameter's shape (no broadcasting)"
        )
    # a non-finite element is not an unusable return value but a wrong gradient: the checker FAILs
    # it, naming the element (check.nonfinite_result), instead of refusing the whole check
    return value


def loss_value(out, *, at: str | None = None) -> float:
    """The loss ``f`` returned, as a float.

    at: where f was evaluated; given, a non-scalar or non-finite loss raises (the base point must be
    usable). Without it (a perturbed point) a non-scalar still raises, a non-finite value becomes nan.
    """
    arr = np.asarray(out)
    if arr.size != 1:
        raise BadReturnValue(
            f"f must return a scalar loss; got an array of shape {arr.shape}. For a vector output use "
            "check_layer, which contracts it with a random upstream gradient."
        )
    if arr.dtype.kind == "c":
        raise BadReturnValue("f returned a complex value for real input")
    if arr.dtype.kind not in "fiub":
        raise BadReturnValue(f"f must return a real number; got {type(out).__name__} of dtype {arr.dtype}")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        if at is not None:
            raise BadReturnValue(f"f returned {value} at {at}; it must return a finite loss there (the loss is "
                                 "at fault here, not the gradient)")
        return float("nan")
    return value


def _squeezed(shape: tuple) -> tuple:
    return tuple(n for n in shape if n != 1)


def _require_float(value: np.ndarray, where: str, allow_int: bool = False) -> None:
    kind_ok = value.dtype.kind == "f" or (allow_int and value.dtype.kind in "iu")
    if not kind_ok or (value.dtype.kind == "f" and value.dtype.itemsize not in (4, 8)):
        raise TypeError(f"{where} must be float32 or float64; got dtype {value.dtype}")


def _require_finite(value: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(value)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{where} has {int(bad.sum())} non-finite value(s), first {value[index]} at index {index}")
