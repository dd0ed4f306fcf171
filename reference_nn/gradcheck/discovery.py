"""Find a layer object's parameters and their gradients, wherever the layer keeps them.

Looked for, after a forward and a backward (so lazy layers have created them), in this order:

1. the attributes named by ``params=`` / ``grads=`` (a dict, a list, or a method returning one);
2. ``.params`` with ``.grads`` (the course style; gradient key ``k`` or ``dk``);
3. ``.parameters`` with ``.gradients`` (attributes or methods, as some layer libraries have);
4. array attributes paired by name: ``W`` with ``dW`` (also ``d_W``, ``W_grad``, ``grad_W``),
   ``gamma`` with ``dgamma``, the book style's ``weights`` with ``dweights`` and ``biases`` with
   ``dbiases``; but ``inputs`` with ``dinputs`` is the book style's stored input and its gradient
   (what its backward returns None instead of; layer.py reads it), not a parameter;
5. if none of these: the sub-layers of a model made of layers (attributes, or entries of lists
   and dicts, that have a forward method), each searched the same way: ``layers[0].W``, ``fc1.b``.

Entries with no gradient (running mean and variance, masks, cached inputs) are *buffers*: not
checked, listed in a note. A layer where nothing is found gets a warning, never a silent pass.

Each parameter gets a ``Slot``: how a trial value reaches the layer. A dict or list the layer
keeps (the same object on every access) and an attribute are *replaced* (so float64 and complex
trial values work); a container rebuilt on every access (a method returning a new list) is
written *in place* into the layer's own array. ``settle`` then keeps only real parameters (an
array that exists before a forward call, is not assigned by it, and changes the output: caches
such as ``self.x`` / ``self.dx`` are skipped) and checks that the layer really reads what is
replaced: a layer holding the same array twice (``self.W`` and ``self.params = [self.W]``) reads
only one, and falls back to in-place writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .arguments import is_differentiable

GRADIENT_ATTRIBUTE_PATTERNS = ("d{}", "d_{}", "{}_grad", "grad_{}")
# The book style ("Neural Networks from Scratch") keeps its input in self.inputs and the input
# gradient its backward computes in self.dinputs: a cached value and the input's gradient, never a
# parameter, though the names pair like W / dW.
STORED_INPUT, STORED_INPUT_GRADIENT = "inputs", "dinputs"
PROBE_SEED = 20261129


@dataclass
class Slot:
    """Where a parameter lives: ``attr`` (setattr on holder), ``item`` (holder[key] = ...) or
    ``inplace`` (np.copyto into the original array; holder / key, if given, say which container
    entry must keep holding it)."""

    kind: str
    holder: object
    key: object
    original: np.ndarray
    saved: np.ndarray = field(init=False)
    current: object = field(init=False)  # what the slot holds now

    def __post_init__(self):
        self.saved = np.array(self.original, copy=True)
        self.current = self.original

    def put(self, value: np.ndarray) -> None:
        if self.kind == "attr":
            setattr(self.holder, str(self.key), value)
        elif self.kind == "item":
            self.holder[self.key] = value  # type: ignore[index]
        else:
            if np.iscomplexobj(value):
                raise TypeError("this parameter is written into its own real array: no complex values")
            np.copyto(self.original, value, casting="same_kind")
            value = self.original
        self.current = value

    def holds_current(self) -> bool:
        """False if someone else replaced the container entry (or attribute) since ``put``."""
        if self.kind == "attr":
            return getattr(self.holder, str(self.key), None) is self.current
        return self.holder is None or self.holder[self.key] is self.current  # type: ignore[index]

    def restore(self) -> None:
        if self.kind == "attr":
            setattr(self.holder, str(self.key), self.original)
        elif self.holder is not None:
            self.holder[self.key] = self.original  # type: ignore[index]
        if self.original.flags.writeable:
            np.copyto(self.original, self.saved)  # also undoes writes the code under test made into it
        self.current = self.original

    def to_inplace(self) -> None:
        """Write trial values into the original array from now on (it is read through another reference)."""
        if self.kind == "attr":  # an object, not a container: nothing to check an entry of
            self.holder = self.key = None
        self.kind = "inplace"


@dataclass
class Parameter:
    """A parameter found: its report name, where it lives, how to read its current gradient."""

    name: str
    slot: Slot
    gradient: Callable[[], object]
    source: str
    gradient_name: str  # the key or attribute the gradient was found under (``dW``)
    declared: bool = True  # the layer pairs it with its gradient itself (a container); False: paired by name


@dataclass
class Discovery:
    parameters: list[Parameter]
    buffers: list[str]
    source: str  # where the parameters were found, for the report ("" if nowhere)
    looked: str  # what was looked for, for the warning


def discover(layer, params: str | None = None, grads: str | None = None, _seen: set | None = None) -> Discovery:
    """The parameters of ``layer`` (call after forward and backward)."""
    pairs = [(params, grads)] if params is not None else [("params", "grads"), ("parameters", "gradients")]
    for p_name, g_name in pairs:
        container, stable = _container(layer, p_name, required=params is not None)
        if container is None or not _has_arrays(container):
            continue
        candidates = [g_name] if g_name else ["grads", "gradients"]
        g_attr = next((n for n in candidates if _container(layer, n, required=False)[0] is not None), None)
        if g_attr is None:
            raise ValueError(
                f"layer.{p_name} holds parameters but no gradient container was found after backward (looked for "
                f"{' and '.join('layer.' + n for n in candidates)}); pass grads='<attribute name>'"
            )
        found: list[Parameter] = []
        buffers: list[str] = []
        _walk(layer, p_name, g_attr, container, stable, (), found, buffers)
        return Discovery(found, buffers, f"layer.{p_name} / layer.{g_attr}", "")
    found, buffers = _attribute_pairs(layer)
    looked = ".params/.grads, .parameters/.gradients, array attributes paired with a gradient (W/dW, gamma/dgamma)"
    if found or params is not None:
        return Discovery(found, buffers, "array attributes" if found else "", looked)
    return _in_sublayers(layer, buffers, looked, _seen or {id(layer)})


def _in_sublayers(layer, buffers: list[str], looked: str, seen: set) -> Discovery:
    """A model made of layers (``self.layers = [Dense(...), ReLU(), ...]``, ``self.fc1 = Dense(...)``):
    each sub-layer's parameters, named ``layers[0].W``, ``fc1.W``."""
    found: list[Parameter] = []
    sources = []
    for prefix, child in _sublayers(layer):
        if id(child) in seen:
            continue
        seen.add(id(child))
        inner = discover(child, _seen=seen)
        for p in inner.parameters:
            p.name = prefix + (p.name if p.name.startswith("[") else "." + p.name)
            p.source = p.source.replace("layer.", f"layer.{prefix}.")
        found += inner.parameters
        buffers += [prefix + (b if b.startswith("[") else "." + b) for b in inner.buffers]
        sources += [f"{prefix} ({inner.source})"] if inner.parameters else []
    source = f"sub-layers {', '.join(sources)}" if found else ""
    return Discovery(found, buffers, source, looked + ", and in sub-layers (objects with a forward method)")


def _sublayers(layer):
    """(name, object) of the layer-like attributes of ``layer``, also inside lists, tuples and dicts."""
    for key, value in (vars(layer).items() if hasattr(layer, "__dict__") else ()):
        if _layer_like(value):
            yield key, value
        elif isinstance(value, list | tuple):
            yield from ((f"{key}[{i}]", v) for i, v in enumerate(value) if _layer_like(v))
        elif isinstance(value, Mapping):
            yield from ((f"{key}.{k}", v) for k, v in value.items() if isinstance(k, str) and _layer_like(v))


def _layer_like(value) -> bool:
    return not isinstance(value, type) and callable(getattr(value, "forward", None))


def _container(layer, name: str, required: bool):
    """(dict or list, stable?) of ``layer.name`` (called if a method); (None, False) if absent."""
    if not hasattr(layer, name):
        if required:
            raise AttributeError(f"layer has no attribute {name!r} (given as the parameter / gradient container)")
        return None, False
    value = getattr(layer, name)
    stable = value is getattr(layer, name) and not callable(value)
    if callable(value) and not isinstance(value, Mapping | list | tuple):
        value = value()
    if value is None:
        return None, False
    if not isinstance(value, Mapping | list | tuple):
        if required:
            raise TypeError(f"layer.{name} must be a dict or list of arrays; got {type(value).__name__}")
        return None, False
    return value, stable and not isinstance(value, tuple)


def _has_arrays(container) -> bool:
    values = container.values() if isinstance(container, Mapping) else container
    return any(is_differentiable(v) or (isinstance(v, Mapping | list | tuple) and _has_arrays(v)) for v in values)


def _walk(layer, p_name, g_name, container, stable, path, found, buffers) -> None:
    """Pair every float array of ``container`` with its gradient at the same path."""
    items = container.items() if isinstance(container, Mapping) else enumerate(container)
    for key, value in items:
        here = (*path, key)
        name = _path_name(here)
        if isinstance(value, Mapping | list | tuple):
            _walk(layer, p_name, g_name, value, stable and not isinstance(value, tuple), here, found, buffers)
            continue
        if not is_differentiable(value):
            continue
        gradient_path = _gradient_path(_container(layer, g_name, required=False)[0], here)
        if gradient_path is None:
            buffers.append(name)
            continue
        slot = Slot("item", container, key, value) if stable else Slot("inplace", None, None, value)
        found.append(Parameter(name, slot, _reader(layer, g_name, gradient_path),
                               f"layer.{p_name}{_path_text(here)} / layer.{g_name}{_path_text(gradient_path)}",
                               str(gradient_path[-1])))


def _gradient_path(gradients, path):
    """The path of the gradient of the parameter at ``path`` (dict key k or dk), or None."""
    node, out = gradients, []
    for key in path:
        if isinstance(node, Mapping):
            match = [k for k in ((key, f"d{key}") if isinstance(key, str) else (key,)) if k in node]
            if len(match) != 1:
                return None
            key = match[0]
        elif not (isinstance(node, list | tuple) and isinstance(key, int) and key < len(node)):
            return None
        node = node[key]
        out.append(key)
    return tuple(out) if node is not None else None


def _reader(layer, g_name, path):
    def read():
        node = _container(layer, g_name, required=False)[0]
        for key in path:
            node = node[key]
        return node
    return read


def _attribute_pairs(layer) -> tuple[list[Parameter], list[str]]:
    attributes = dict(vars(layer)) if hasattr(layer, "__dict__") else {}
    arrays = {k: v for k, v in attributes.items() if is_differentiable(v)}
    found: list[Parameter] = []
    gradient_names: set[str] = {STORED_INPUT_GRADIENT}  # the input's gradient: neither parameter nor buffer
    for name, value in arrays.items():
        if name == STORED_INPUT:
            continue
        for pattern in GRADIENT_ATTRIBUTE_PATTERNS:
            g = pattern.format(name)
            if isinstance(attributes.get(g), np.ndarray | np.generic | float) and g != name:
                found.append(Parameter(name, Slot("attr", layer, name, value), _attribute_reader(layer, g),
                                       f"layer.{name} / layer.{g}", g, declared=False))
                gradient_names.add(g)
                break
    paired = {p.name for p in found}
    buffers = [k for k in arrays if k not in paired and k not in gradient_names]
    return found, buffers


def _attribute_reader(layer, name: str) -> Callable[[], object]:
    return lambda: getattr(layer, name)


def _path_name(path) -> str:
    """('conv', 'W') -> 'conv.W'; (0,) -> '[0]'; ('W',) -> 'W'."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _path_text(path) -> str:
    return "".join(f"[{key!r}]" for key in path)


def probe_move(array: np.ndarray) -> np.ndarray:
    """``array`` moved by 1e-3 relative, with seeded random signs: a uniform shift could be invisible
    (softmax ignores a bias added to every class) and make a parameter look unread."""
    signs = np.random.default_rng(PROBE_SEED).choice([-1.0, 1.0], size=array.shape)
    return array + 1e-3 * (np.abs(array) + 1.0) * signs


def settle(parameters: list[Parameter], run_forward: Callable[[], np.ndarray]
           ) -> tuple[list[Parameter], list[str], list[str], list[Parameter]]:
    """(the parameters, the caches, notes, the unread): sort what discovery paired with a gradient.

    A parameter exists before a forward call, is not (re)assigned or overwritten by it, and changes
    the output. Anything else paired with a gradient is a cache of the forward/backward pass: a
    layer keeping ``self.x`` / ``self.out`` with ``self.dx`` / ``self.dout`` (``X``/``dX``,
    ``Y``/``dY``) would otherwise have its input and output checked as parameters, and right code
    FAIL. Run after the discovery pass (so a lazy layer's weights exist): one forward at the given
    point shows what forward assigns; then each remaining slot is moved by 1e-3 relative (probe_move):
    if the output does not move, but does when the same values are written into the original array,
    the layer reads that array through another reference (trial values are then written in place);
    if neither moves it, forward does not read it: an attribute paired by name (``x`` / ``dx``) is then a
    cache, not checked; an entry of the layer's own parameter container (``.params`` / ``.grads``) is
    checked all the same (its numerical gradient is 0: a layer reading a stale copy FAILs, with a note
    saying why). Cost: one forward, plus one or two per parameter. The unread are returned apart too:
    a weight whose units are all inactive here (dead ReLU units) does not move the output either, so
    check_layer does not call a check PASS while such an array's gradient is nonzero.
    """
    saved = {p.name: np.array(p.slot.original, copy=True) for p in parameters}
    try:
        base = np.asarray(run_forward())
        assigned = [p for p in parameters
                    if not p.slot.holds_current() or not _same_bits(p.slot.original, saved[p.name])]
    finally:
        for p in parameters:
            p.slot.restore()
    kept, caches, notes = [], [p.name for p in assigned], []
    if caches:
        notes.append(f"not checked, caches (forward assigns them on every call, so they are no parameters): "
                     f"{', '.join(caches)}")
    unread, unread_parameters = [], []
    for p in (p for p in parameters if p not in assigned):
        if _moves(p, base, run_forward, in_place=p.slot.kind == "inplace"):
            kept.append(p)
        elif p.slot.kind != "inplace" and _moves(p, base, run_forward, in_place=True):
            p.slot.to_inplace()
            kept.append(p)
            notes.append(f"{p.name}: the layer reads this array through another reference; trial values are written "
                         "into it in place")
        elif p.declared:  # the layer's own container says it has this gradient: its numerical gradient is 0
            kept.append(p)
            notes.append(f"{p.name}: the output did not change when this array changed (the layer may read a copy "
                         "of it: then its numerical gradient is 0)")
        else:
            unread.append(p.name)
            unread_parameters.append(p)
    if unread:
        caches += unread
        notes.append(f"not checked, forward does not read them (the output did not change when they changed by 1e-3 "
                     f"relative): {', '.join(unread)}")
    return kept, caches, notes, unread_parameters


def _moves(p: Parameter, base: np.ndarray, run_forward: Callable[[], np.ndarray], in_place: bool) -> bool:
    """Whether the output changes when ``p`` is moved (put into its slot, or written into its array)."""
    moved = probe_move(p.slot.original)
    try:
        if in_place:
            np.copyto(p.slot.original, moved, casting="same_kind")
        else:
            p.slot.put(moved)
        return not np.array_equal(np.asarray(run_forward()), base)
    finally:
        p.slot.restore()


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
