"""Parameters as people keep them: a dict, a list or tuple of arrays, or nested dicts of those.

check_gradients works on a flat dict of named arrays. ``flatten`` turns any such container into
one, naming each array by its path: dict keys as they are (``W1``), nested dicts joined by dots
(``layer1.W``), list and tuple positions in brackets (``[0]``, ``weights[1]``, ``[0].W``).
``rebuild`` makes a container of the same shape holding other arrays, and ``match_gradients``
reads a gradient container of the same shape (a dict key ``k`` or ``dk`` per parameter) into the
flat names, accepting a gradient that differs from its parameter only by singleton dimensions
(``db`` of shape () for a (1, 1) bias: compared by value, with a note). ``as_flat`` gives
check_gradients the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# A classic ``model_backward`` also returns dA<l> / dZ<l> (gradients of cached activations): not
# parameters, skipped as check_gradients skips them (validation.leftover_gradient_keys).
from .validation import BadReturnValue, GradientKeyError, leftover_gradient_keys


@dataclass(frozen=True)
class Tree:
    """The shape of a parameter container: a leaf (``name`` is its flat name), a dict (``keys``
    and ``children`` in order) or a list / tuple (``children``)."""

    kind: str  # "leaf", "dict", "list" or "tuple"
    name: str = ""
    keys: tuple = ()
    children: tuple = ()


def flatten(params, *, root: str = "", what: str = "params") -> tuple[dict[str, np.ndarray], Tree]:
    """(flat dict name -> array, Tree) of a container of arrays; the arrays are not copied.

    root: the name of a bare array (params itself an array). Raises TypeError naming the path of
    a value that is not a NumPy array, and ValueError for an empty container.
    """
    flat: dict[str, np.ndarray] = {}
    if isinstance(params, np.ndarray):
        flat[root or "params"] = params
        return flat, Tree("leaf", name=root or "params")
    tree = _flatten(params, "", flat, what)
    if not flat:
        raise ValueError(f"{what} holds no arrays: there is nothing to check")
    return flat, tree


def _flatten(value, path: str, flat: dict, what: str) -> Tree:
    if isinstance(value, np.ndarray):
        flat[path] = value
        return Tree("leaf", name=path)
    if isinstance(value, Mapping):
        keys = tuple(value)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"{what} keys must be strings; got {key!r} ({type(key).__name__}) at {path or 'top'}")
        children = tuple(_flatten(value[k], f"{path}.{k}" if path else k, flat, what) for k in keys)
        return Tree("dict", keys=keys, children=children)
    if isinstance(value, list | tuple):
        children = tuple(_flatten(v, f"{path}[{i}]", flat, what) for i, v in enumerate(value))
        return Tree("list" if isinstance(value, list) else "tuple", children=children)
    where = f"{what}[{path!r}]" if path else what
    raise TypeError(
        f"{where} must be a NumPy array (or a dict, list or tuple of arrays); got {type(value).__name__}"
    )


def rebuild(tree: Tree, flat: Mapping[str, np.ndarray]):
    """A container shaped like ``tree`` holding ``flat[name]`` at each leaf."""
    if tree.kind == "leaf":
        return flat[tree.name]
    if tree.kind == "dict":
        return {k: rebuild(child, flat) for k, child in zip(tree.keys, tree.children, strict=True)}
    items = [rebuild(child, flat) for child in tree.children]
    return items if tree.kind == "list" else tuple(items)


def slots(params, tree: Tree) -> list[tuple[object, object, str]]:
    """(container, key, flat name) of every leaf held by a dict or list: where an array can be put
    back if a function replaced it. Arrays in tuples have no slot (a tuple cannot be changed)."""
    if tree.kind == "leaf":
        return []
    found = []
    keys = tree.keys if tree.kind == "dict" else range(len(tree.children))
    for key, child in zip(keys, tree.children, strict=True):
        if child.kind == "leaf" and tree.kind != "tuple":
            found.append((params, key, child.name))
        else:
            found += slots(params[key], child)
    return found


def leaves(tree: Tree) -> list[str]:
    """Flat names of the leaves, in order."""
    if tree.kind == "leaf":
        return [tree.name]
    return [name for child in tree.children for name in leaves(child)]


def as_flat(f, grad_f, params, extra_keys: str = "error"):
    """(f, grad_f, params) for check_gradients: unchanged for a flat dict of arrays; for a list,
    tuple, nested dict or one array, params flattened (names ``[0]``, ``layer1.W``, ``params``) and
    f / grad_f wrapped to receive a container shaped like params (fresh copies each call), grad_f's
    result read back with match_gradients (``k`` or ``dk`` keys, singleton-squeezed shapes compared
    by value with a note: the wrapper's ``notes``). The one container rule of check_vjp,
    check_value_and_grad and check_layer."""
    if isinstance(params, Mapping) and not any(_holds_arrays(v) for v in params.values()):
        return f, grad_f, params  # a flat dict (validation.validate_params names any bad value in it)
    flat, tree = flatten(params, root="params")
    return _FlatLoss(f, tree), _FlatGradient(grad_f, tree, flat, extra_keys), flat


def _holds_arrays(value) -> bool:
    """A dict, list or tuple with a NumPy array somewhere inside (a nested container of parameters)."""
    if isinstance(value, Mapping):
        return any(isinstance(v, np.ndarray) or _holds_arrays(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(isinstance(v, np.ndarray) or _holds_arrays(v) for v in value)
    return False


class _FlatLoss:
    def __init__(self, f, tree: Tree):
        self.f, self.tree = f, tree
        self.__name__ = self.__qualname__ = getattr(f, "__qualname__", "f")

    def __call__(self, theta):
        return self.f(rebuild(self.tree, {k: np.array(v, copy=True) for k, v in theta.items()}))


class _FlatGradient:
    """grad_f of a container, returning a flat dict; ``notes`` collects what reading it noted."""

    def __init__(self, grad_f, tree: Tree, flat: dict, extra_keys: str):
        self.grad_f, self.tree, self.flat, self.extra_keys = grad_f, tree, flat, extra_keys
        self.__name__ = self.__qualname__ = getattr(grad_f, "__qualname__", "grad_f")
        self.notes: list[str] = []

    def __call__(self, theta):
        raw = self.grad_f(rebuild(self.tree, {k: np.array(v, copy=True) for k, v in theta.items()}))
        try:
            grads, notes, _ = match_gradients(raw, self.tree, self.flat, who="grad_f", extra_keys=self.extra_keys)
        except (TypeError, ValueError) as error:  # grad_f returned it: grad_f is at fault, not its code raising
            raise BadReturnValue(str(error), "grad_f") from None
        self.notes.extend(n for n in notes if n not in self.notes)
        return grads


def match_gradients(grads, tree: Tree, params: Mapping[str, np.ndarray], *, who: str = "fn",
                    extra_keys: str = "error") -> tuple[dict[str, np.ndarray], list[str], dict[str, str]]:
    """Read ``grads`` (shaped like ``tree``) into copies keyed by the flat parameter names.

    A dict level accepts key ``k`` or ``"d" + k`` for parameter ``k`` (both: ambiguous, an error);
    keys matching no parameter raise unless extra_keys="ignore" (dA1 / dZ2 are always skipped).
    Returns (gradients, notes, labels: the path each gradient was read from, e.g. ``dW1``). Copies
    are taken at once: a function that reuses its gradient buffers on the next call cannot change
    what is checked.
    """
    out: dict[str, np.ndarray] = {}
    notes: list[str] = []
    labels: dict[str, str] = {}
    _match(grads, tree, params, who, extra_keys, out, notes, labels, "")
    return out, notes, labels


def _match(grads, tree: Tree, params, who, extra_keys, out, notes, labels, where) -> None:
    label = f"{who}'s gradient{' ' + where if where else ''}"
    if tree.kind == "leaf":
        labels[tree.name] = where or tree.name
        out[tree.name], note = conform_gradient(grads, params[tree.name], label, tree.name)
        if note:
            notes.append(note)
        return
    if tree.kind == "dict":
        if not isinstance(grads, Mapping):
            raise TypeError(f"{label} must be a dict keyed like the parameters; got {type(grads).__name__}")
        used = set()
        for key, child in zip(tree.keys, tree.children, strict=True):
            found = [k for k in (key, "d" + key) if k in grads]
            path = f"{where}.{key}" if where else key
            if not found:
                raise GradientKeyError(
                    f"{label} has no gradient for parameter {path!r}: expected key {key!r} or {'d' + key!r}; "
                    f"got keys {sorted(map(str, grads))}"
                )
            if len(found) == 2:
                raise GradientKeyError(f"{label} has both {key!r} and {'d' + key!r}: ambiguous gradient for {path!r}")
            used.add(found[0])
            _match(grads[found[0]], child, params, who, extra_keys, out, notes, labels,
                   f"{where}.{found[0]}" if where else found[0])
        notes += leftover_gradient_keys(grads, used, extra_keys, label, f"parameters here are {list(tree.keys)}")
        return
    if not isinstance(grads, list | tuple):
        raise TypeError(f"{label} must be a list or tuple like the parameters; got {type(grads).__name__}")
    if len(grads) != len(tree.children):
        raise ValueError(f"{label} has {len(grads)} entries but the parameters have {len(tree.children)}")
    for i, (g, child) in enumerate(zip(grads, tree.children, strict=True)):
        _match(g, child, params, who, extra_keys, out, notes, labels, f"{where}[{i}]")


def conform_gradient(grad, param: np.ndarray, label: str, name: str) -> tuple[np.ndarray, str]:
    """A copy of ``grad`` (its own dtype) in ``param``'s shape, and a note if it had to be reshaped.

    Accepted: the parameter's shape, or one that differs only by singleton dimensions (the same
    elements in the same order: ``()`` or ``(1,)`` for ``(1, 1)``, ``(3,)`` for ``(3, 1)``), which
    is compared by value with a note. Any other shape is an error naming both shapes: a gradient
    flattened from (2, 3) to (6,) or transposed could hide a wrong layout.
    """
    if grad is None:
        raise TypeError(f"{label} for {name!r} is None; expected an array of shape {param.shape}")
    if not isinstance(grad, np.ndarray | np.generic | float | int):
        raise TypeError(f"{label} for {name!r} must be a NumPy array; got {type(grad).__name__}")
    array = np.asarray(grad)
    if array.dtype.kind not in "fiu" or (array.dtype.kind == "f" and array.dtype.itemsize not in (4, 8)):
        raise TypeError(f"{label} for {name!r} must be float32 or float64; got dtype {array.dtype}")
    if array.shape == param.shape:
        return np.array(array, copy=True), ""
    if array.size == param.size and _squeezed(array.shape) == _squeezed(param.shape):
        note = (f"{name}: gradient of shape {array.shape} for a parameter of shape {param.shape} (they differ only "
                "by singleton dimensions): compared by value")
        return np.array(array, copy=True).reshape(param.shape), note
    raise ValueError(
        f"{label} for {name!r} has shape {array.shape} but {name!r} has shape {param.shape}; a gradient must have "
        "its parameter's shape (singleton dimensions aside)"
    )


def _squeezed(shape: tuple) -> tuple:
    return tuple(n for n in shape if n != 1)
