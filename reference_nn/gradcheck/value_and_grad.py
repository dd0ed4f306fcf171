"""check_value_and_grad: check a function that returns its loss and its gradients together.

    loss, grads = fn(params)           check_value_and_grad(fn, params)
    loss, dx = softmax_loss(x, y)      check_value_and_grad(softmax_loss, x, y)
    loss, grads = model.loss(X, y)     check_value_and_grad(model.loss, model.params, X, y)

The second argument is what is differentiated: a dict, a list or tuple of arrays, nested dicts of
those (named ``W1``, ``[0]``, ``layer1.W``, ``weights[1]`` in the report), or one array. The
arguments after it are passed unchanged (fresh copies per call, see arguments.py).

Two ways of calling fn, chosen from its signature (or by ``in_place=``):

* ``fn(params, *args)``: fn gets a container shaped like params, holding the checker's arrays.
* ``fn(*args)`` reading its own parameters (a model's ``self.params``, as the classic
  ``eval_numerical_gradient`` assumes): each trial array is put into params' own dict or list
  entries (so float64 and complex trial values work), or, where fn reads an array through another
  reference (found by a probe) or it sits in a tuple, written into that array in place, in its own
  dtype and with real differences only. The original objects and bits are put back on return,
  also when fn raises (see OwnParams).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .arguments import accepts, argument_names, describe, fresh, user_call
from .check import check_gradients
from .containers import flatten, match_gradients, rebuild, slots
from .determinism import Recorded
from .discovery import Slot, probe_move
from .report import GradientReport


def check_value_and_grad(fn: Callable, params, *args, in_place: bool | None = None, extra_keys: str = "error",
                         returns: str | None = None, seed: int = 0, **options) -> GradientReport:
    """Check the gradients fn returns against numerical derivatives of the loss it returns.

    fn returns (loss, grads): loss a scalar, grads shaped like params (dict keys ``k`` or ``dk``;
    a gradient differing only by singleton dimensions is compared by value, with a note). params:
    dict / list / tuple / nested / one array of float arrays. args: passed to fn unchanged.
    in_place: True when fn reads params itself and is called as fn(*args); default: from fn's
    signature (an error if both ways fit). extra_keys: "ignore" skips gradient keys that match no
    parameter. returns: "loss, grads" or "grads, loss" where fn's return value cannot tell (by
    default a scalar and a container are told apart, with a note). options: check_gradients'
    (method, rtol, atol, eval_dtype, ...).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    if returns not in (None, "loss, grads", "grads, loss"):
        raise ValueError(f"returns must be 'loss, grads' or 'grads, loss'; got {returns!r}")
    in_place = _calling_convention(fn, params, len(args), in_place)
    offset = 0 if in_place else 1
    arg_names = argument_names(fn, len(args) + offset)[offset:]
    root = "params" if in_place else argument_names(fn, 1, fallback="params")[0]
    flat, tree = flatten(params, root=root)
    bare = tree.kind == "leaf"
    notes: list[str] = []
    grad_keys: dict[str, str] = {}

    if in_place:
        own = OwnParams(params, tree, flat)

        def call(theta, role="f"):
            own.put(theta)
            try:
                return _split(user_call(fn, role, *[fresh(a) for a in args]), returns, notes)
            finally:
                own.verify()
    else:

        def call(theta, role="f"):
            mine = {k: np.array(v, copy=True) for k, v in theta.items()}
            return _split(user_call(fn, role, rebuild(tree, mine), *[fresh(a) for a in args]), returns, notes)

    def grad_f(theta):
        grads, shape_notes, labels = match_gradients(call(theta, "grad_f")[1], tree, flat, extra_keys=extra_keys)
        notes.extend(n for n in shape_notes if n not in notes)
        for name, label in labels.items():
            grad_keys[name] = "d" + name if bare or label == "d" + name else name
        return {grad_keys[name]: g for name, g in grads.items()}

    def loss(theta):
        return call(theta)[0]

    earlier_values: list = []
    try:
        if in_place:
            def loss_now():
                value = _split(user_call(fn, "f", *[fresh(a) for a in args]), returns, notes)[0]
                if not earlier_values:  # the probe's first call is at the given point
                    earlier_values.append(("the first call", value))
                return value

            notes += own.probe(loss_now)
            written = own.written_in_place()
            if written:  # a trial value must be stored exactly in the array, in its own dtype
                options["eval_dtype"] = _in_place_dtype({k: flat[k] for k in written}, options.get("eval_dtype"))
        # bad structure or shapes raise here, before any numerical work; this first call is part of the
        # determinism check (a gradient wrong on the first call only is not skipped)
        earlier_grads = [("the first call", grad_f(flat))]
        report = check_gradients(Recorded(loss, earlier_values), Recorded(grad_f, earlier_grads), dict(flat),
                                 seed=seed, **options)
    finally:
        if in_place:
            own.restore()
    if in_place:
        notes.insert(0, own.describe())
    static = [f"{n} ({describe(a)})" for n, a in zip(arg_names, args, strict=True)]
    if static:
        notes.append(f"passed unchanged on every call: {', '.join(static)}")
    report.notes[:0] = notes
    return report


def _calling_convention(fn, params, n_args: int, in_place: bool | None) -> bool:
    """True for fn(*args) reading params itself, False for fn(params, *args)."""
    if in_place is not None:
        return bool(in_place)
    with_params, without = accepts(fn, n_args + 1), accepts(fn, n_args)
    if with_params is None:  # no signature to read (a builtin, a C extension): the plain convention
        return False
    if with_params and not without:
        return False
    if without and not with_params:
        return True
    owner = getattr(fn, "__self__", None)
    if with_params and owner is not None and any(v is params for v in vars(owner).values()):
        return True  # a bound method of the object that holds params: it reads them itself
    if with_params:
        raise ValueError(
            f"fn can be called both as fn(params, *args) and as fn(*args) with {n_args} argument(s); say which: "
            "in_place=False (fn receives params) or in_place=True (fn reads params itself)"
        )
    raise TypeError(
        f"fn takes neither {n_args + 1} positional argument(s) (params, *args) nor {n_args} (*args, reading params "
        "itself); check the arguments given after params"
    )


class OwnParams:
    """Trial values for a function that reads ``params`` itself.

    An entry of a dict or list is replaced by the trial array (any dtype, complex too) and the
    original object put back afterwards; an array the function reads through another reference
    (``self.W`` aliasing ``self.params["W"]``, found by ``probe``) or held in a tuple gets the trial
    values written into it, in its own dtype. Every array gets its original bits back on restore.
    """

    def __init__(self, params, tree, flat):
        holders = {name: (container, key) for container, key, name in slots(params, tree)}
        self.slots = {
            name: Slot("item", *holders[name], array) if name in holders else Slot("inplace", None, None, array)
            for name, array in flat.items()
        }
        for name in self.written_in_place():
            if not flat[name].flags.writeable:
                raise ValueError(f"params[{name!r}] is read-only and held where it cannot be replaced (a tuple); "
                                 "fn reading params itself needs it writable")
        self.switched: list[str] = []
        self.ignored: list[str] = []

    def put(self, theta) -> None:
        for name, slot in self.slots.items():
            slot.put(np.array(theta[name], copy=True))

    def verify(self) -> None:
        for name, slot in self.slots.items():
            if not slot.holds_current():
                self.restore()
                raise RuntimeError(
                    f"fn replaced params[{name!r}] with a new array; checking a function that reads its own "
                    "parameters needs it to keep (and update in place) the arrays it was given"
                )

    def restore(self) -> None:
        for slot in self.slots.values():
            slot.restore()

    def written_in_place(self) -> list[str]:
        return [name for name, slot in self.slots.items() if slot.kind == "inplace"]

    def probe(self, loss_now) -> list[str]:
        """Replace each entry by a copy moved 1e-3 relative: if the loss does not move but does when
        the same values are written into the array, fn reads that array through another reference."""
        base = loss_now()
        for name, slot in self.slots.items():
            if slot.kind != "item":
                continue
            moved = probe_move(slot.original)
            try:
                slot.put(moved)
                replaced_moves = loss_now() != base
            finally:
                slot.restore()
            if replaced_moves:
                continue
            try:
                np.copyto(slot.original, moved, casting="same_kind")
                written_moves = loss_now() != base
            finally:
                slot.restore()
            if written_moves:
                slot.to_inplace()
                self.switched.append(name)
            else:
                self.ignored.append(name)
        notes = [f"{', '.join(self.switched)}: fn reads these arrays through another reference; trial values are "
                 "written into them in place"] if self.switched else []
        return notes + ([f"{', '.join(self.ignored)}: the loss did not change when these arrays changed (fn may read "
                         "copies of them: then their numerical gradient is 0)"] if self.ignored else [])

    def describe(self) -> str:
        written = self.written_in_place()
        how = "trial values put into params' containers" if not written else (
            f"trial values written in place into {', '.join(written)} (numerical side in their dtype), put into "
            "params' containers for the rest" if len(written) < len(self.slots) else
            "trial values written into params' arrays in place (numerical side in their dtype)")
        return f"fn reads params itself: {how}; originals restored bit for bit"


def _split(result, returns: str | None = None, notes: list | None = None):
    """(loss, grads) from fn's return value: (loss, grads), or (grads, loss) where that is what came
    back unambiguously (a scalar and a container or array; said in a note) or ``returns`` says so."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(
            f"fn must return (loss, grads); got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple | list) else "")
        )
    first, second = result
    if returns is not None:
        return (first, second) if returns == "loss, grads" else (second, first)
    if _scalar(first) or not _scalar(second):
        if not _scalar(first):
            raise ValueError(f"fn returned ({_describe(first)}, {_describe(second)}): neither is a scalar loss; say "
                             "which is the loss: returns='loss, grads' or returns='grads, loss'")
        return first, second
    if notes is not None and GRADS_FIRST not in notes:
        notes.append(GRADS_FIRST)
    return second, first


GRADS_FIRST = "fn returns (grads, loss): read as such (the scalar is the loss)"


def _scalar(value) -> bool:
    return isinstance(value, float | int | np.generic) or (isinstance(value, np.ndarray) and value.size == 1
                                                           and value.ndim <= 1)


def _describe(value) -> str:
    return f"array {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__


def _in_place_dtype(flat, asked) -> np.dtype:
    """The evaluation dtype when trial values are written into params' own arrays: float32 if any
    array is float32 (a trial value must be stored exactly, or the step taken is not the step
    assumed), else float64. A finer eval_dtype cannot be honoured: an error."""
    coarsest = min((a.dtype for a in flat.values()), key=lambda d: d.itemsize)
    if asked is not None and np.dtype(asked).itemsize > coarsest.itemsize:
        raise ValueError(
            f"eval_dtype={np.dtype(asked)} cannot be used when fn reads params itself: its arrays hold {coarsest}"
        )
    return coarsest if asked is None else np.dtype(asked)
