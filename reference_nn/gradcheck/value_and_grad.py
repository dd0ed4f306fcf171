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
  ``eval_numerical_gradient`` assumes): the checker writes each trial value into params' own
  arrays, in place, and puts the original bits back on return, also when fn raises. Those arrays
  keep their dtype and cannot hold complex numbers, so numerical derivatives are real differences
  (Richardson) in the arrays' own dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .arguments import accepts, argument_names, describe, fresh
from .check import check_gradients
from .containers import flatten, match_gradients, rebuild, slots
from .report import GradientReport


def check_value_and_grad(fn: Callable, params, *args, in_place: bool | None = None, extra_keys: str = "error",
                         seed: int = 0, **options) -> GradientReport:
    """Check the gradients fn returns against numerical derivatives of the loss it returns.

    fn returns (loss, grads): loss a scalar, grads shaped like params (dict keys ``k`` or ``dk``;
    a gradient differing only by singleton dimensions is compared by value, with a note). params:
    dict / list / tuple / nested / one array of float arrays. args: passed to fn unchanged.
    in_place: True when fn reads params itself and is called as fn(*args); default: from fn's
    signature (an error if both ways fit). extra_keys: "ignore" skips gradient keys that match no
    parameter. options: check_gradients' (method, rtol, atol, eval_dtype, ...).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    in_place = _calling_convention(fn, params, len(args), in_place)
    offset = 0 if in_place else 1
    arg_names = argument_names(fn, len(args) + offset)[offset:]
    root = "params" if in_place else argument_names(fn, 1, fallback="params")[0]
    flat, tree = flatten(params, root=root)
    bare = tree.kind == "leaf"
    notes: list[str] = []
    grad_keys: dict[str, str] = {}

    if in_place:
        restore, write, check_slots = _in_place_access(params, tree, flat)

        def call(theta):
            write(theta)
            try:
                return _split(fn(*[fresh(a) for a in args]))
            finally:
                check_slots()
        options["eval_dtype"] = _in_place_dtype(flat, options.get("eval_dtype"))
        if options.get("method", "auto") == "complex":
            raise ValueError("method='complex' is impossible when fn reads params itself: its arrays are real")
        if options.get("method", "auto") == "auto":  # complex step is impossible: say so once, not per tensor
            options["method"] = "richardson"
    else:

        def call(theta):
            mine = {k: np.array(v, copy=True) for k, v in theta.items()}
            return _split(fn(rebuild(tree, mine), *[fresh(a) for a in args]))

    def grad_f(theta):
        grads, shape_notes, labels = match_gradients(call(theta)[1], tree, flat, extra_keys=extra_keys)
        notes.extend(n for n in shape_notes if n not in notes)
        for name, label in labels.items():
            grad_keys[name] = "d" + name if bare or label == "d" + name else name
        return {grad_keys[name]: g for name, g in grads.items()}

    def loss(theta):
        return call(theta)[0]

    try:
        grad_f(flat)  # bad structure or shapes raise here, before any numerical work
        report = check_gradients(loss, grad_f, dict(flat), seed=seed, **options)
    finally:
        if in_place:
            restore()
    if in_place:
        notes.insert(0, f"fn reads params itself: trial values written into params' arrays in place (numerical side "
                        f"in {options['eval_dtype']}, real differences: the arrays cannot hold complex values), "
                        "originals restored bit for bit")
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


def _in_place_access(params, tree, flat):
    """(restore, write, check_slots) for checking through params' own arrays."""
    for name, array in flat.items():
        if not array.flags.writeable:
            raise ValueError(f"params[{name!r}] is read-only; fn reading params itself needs writable arrays")
    originals = {name: np.array(array, copy=True) for name, array in flat.items()}
    holders = slots(params, tree)

    def restore():
        for container, key, name in holders:
            container[key] = flat[name]
        for name, array in flat.items():
            np.copyto(array, originals[name])

    def write(theta):
        for name, array in flat.items():
            value = theta[name]
            if np.iscomplexobj(value):
                raise TypeError("params' own arrays cannot hold complex values (fn reads them in place)")
            np.copyto(array, value, casting="same_kind")

    def check_slots():
        for container, key, name in holders:
            if container[key] is not flat[name]:
                restore()
                raise RuntimeError(
                    f"fn replaced params[{name!r}] with a new array; checking a function that reads its own "
                    "parameters needs it to keep (and update in place) the arrays it was given"
                )

    return restore, write, check_slots


def _split(result):
    """(loss, grads) from fn's return value."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(
            f"fn must return (loss, grads); got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple | list) else "")
        )
    return result[0], result[1]


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
