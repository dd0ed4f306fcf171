"""check_layer: gradient check of an object with forward(*inputs) and backward(*douts).

A layer maps its inputs to one output (or a tuple of outputs). Its backward receives upstream
gradients of the outputs' shapes and returns the gradient of each float input (one array, or a
tuple in input order); parameter gradients are read from wherever the layer keeps them (see
discovery.py: ``.params``/``.grads``, ``.parameters``/``.gradients``, ``W``/``dW`` attribute
pairs). A layer in the book style ("Neural Networks from Scratch") returns nothing: its
forward stores ``self.output`` and its backward ``self.dinputs`` (with ``self.dweights`` /
``self.dbiases``); then the output is read from ``.output`` and the input gradient from
``.dinputs`` (said in the report's notes). With fixed random douts the scalar
L = sum_k sum(out_k * dout_k) has gradient exactly
(d inputs, d params) (a vector-Jacobian product), so every output component is covered by one
ordinary scalar check. A single input is reported as "input"; several by forward's parameter
names (``q``, ``k``, ``v``).
"""

from __future__ import annotations

import numpy as np

from .arguments import (
    argument_names,
    contract,
    contract_scale,
    describe,
    fresh,
    is_differentiable,
    upstream_gradient,
    user_call,
)
from .check import check_gradients
from .containers import conform_gradient
from .determinism import Recorded
from .discovery import STORED_INPUT_GRADIENT, discover, settle
from .report import GradientReport
from .vjp import UPSTREAM_SEED, WARNING, _assign, _driven, _output_names, _upstream_note

INPUT = "input"
# What the determinism check calls the calls check_layer makes before check_gradients' own.
FIRST_PASS = "the first call (check_layer's discovery pass)"
SETTLE_PASS, PREFLIGHT = "the forward that sorts parameters from caches", "the second call"
# Where a book-style layer keeps the output its forward returns None instead of (the input
# gradient its backward does not return: discovery.STORED_INPUT_GRADIENT, ``dinputs``).
STORED_OUTPUT = "output"
# Methods that clear what a layer accumulates between updates (gradients, stored inputs), as
# torch-like and some from-scratch libraries have: called before every forward of the check, so
# each backward reports the gradient of one forward/backward pass.
RESET_METHODS = ("zero_grad", "zero_grads", "zero_gradients", "flush_gradients")


def check_layer(layer, *inputs, params: str | None = None, grads: str | None = None, outputs=None, seed: int = 0,
                **options) -> GradientReport:
    """Check every input gradient and every parameter gradient of ``layer`` at ``inputs``.

    layer: has forward(*inputs) -> out (or a tuple of outputs) and backward(*douts) -> dx (or a
    tuple). Float array inputs are differentiated; ints, integer arrays (token ids) and dicts are
    passed unchanged. params / grads: names of the attributes (or methods) holding the parameter
    and gradient containers when they are not found by the usual names. outputs: index (or
    indices) of the outputs to drive (default every float output). options: check_gradients'
    (method, rtol, atol, ...). The layer's parameters are restored (same objects, same bits) on
    return; its other array attributes (running statistics) too.
    """
    for method in ("forward", "backward"):
        if not callable(getattr(layer, method, None)):
            raise TypeError(f"layer must have a {method} method; {type(layer).__name__} has none")
    if not inputs:
        raise ValueError("check_layer needs the layer's input(s): check_layer(layer, x)")
    inputs = tuple(np.asarray(v) if isinstance(v, list) else v for v in inputs)
    positions = [i for i, v in enumerate(inputs) if is_differentiable(v)]
    names = [INPUT] if len(inputs) == 1 else argument_names(layer.forward, len(inputs))
    snapshot = _snapshot(layer)
    try:
        return _check(layer, inputs, positions, names, params, grads, outputs, seed, options)
    finally:
        _restore(layer, snapshot)


def _check(layer, inputs, positions, names, params, grads, outputs, seed, options) -> GradientReport:
    notes, warnings = [], []
    reset = next((m for m in RESET_METHODS if callable(getattr(layer, m, None))), None)
    if reset:
        notes.append(f"layer.{reset}() called before every forward (what the layer accumulates is cleared)")

    style = {"cache": False}  # forward returns (out, ..., cache) and backward takes (dout, ..., cache)
    stored = {"output": False, "dinputs": False}  # read from layer.output / layer.dinputs (book style)

    def forward_and_cache(theta):
        if reset:
            user_call(getattr(layer, reset), "f")
        args = [np.array(theta[names[i]], copy=True) if i in positions else fresh(v) for i, v in enumerate(inputs)]
        result = user_call(layer.forward, "f", *args)
        if result is None:
            result, stored["output"] = _stored_output(layer), True
        if not isinstance(result, tuple):
            return [result], ()
        return (list(result[:-1]), (result[-1],)) if style["cache"] else (list(result), ())

    def run_forward(theta):
        return forward_and_cache(theta)[0]

    def run_backward(theta):
        _, cache = forward_and_cache(theta)
        if stored["dinputs"]:  # cleared, so that a backward that stops setting it is seen, not a stale one read
            setattr(layer, STORED_INPUT_GRADIENT, None)
        returned = user_call(layer.backward, "grad_f", *[fresh(d) for d in douts_given], *cache)
        if returned is None and getattr(layer, STORED_INPUT_GRADIENT, None) is not None:
            returned, stored["dinputs"] = getattr(layer, STORED_INPUT_GRADIENT), True
        return returned

    input_point = {names[i]: inputs[i] for i in positions}
    outs = run_forward(input_point)  # a lazy layer creates its parameters here
    if len(outs) >= 2 and not isinstance(outs[-1], np.ndarray | np.generic | float | int):
        style["cache"] = True  # the last value is a cache (a tuple, dict, object), not an output
        notes.append("forward returns (out, cache): backward is called as backward(dout, cache)")
        outs = outs[:-1]
    driven = _driven(outputs, outs)
    rng = np.random.default_rng([seed, UPSTREAM_SEED])
    douts_given, douts = [], []
    for i, out in enumerate(outs):
        given, as_float = upstream_gradient(out, rng) if i in driven else (np.zeros_like(out), 0.0)
        douts_given.append(given)
        douts.append(as_float)
    if stored["output"]:
        notes.append(f"forward returned None: its output was read from layer.{STORED_OUTPUT}")
    stale = _zero_gradients(layer, params, grads)  # an accumulating backward's first call must start from 0 too
    try:
        returned = run_backward(input_point)  # the first backward: part of the determinism check (FIRST_PASS)
        found = discover(layer, params, grads)
        first_param_grads = {p.name: _copy(p.gradient()) for p in found.parameters}
    finally:
        for array, saved in stale:
            np.copyto(array, saved)
    if stored["dinputs"]:
        notes.append(f"backward returned None: the input gradient was read from layer.{STORED_INPUT_GRADIENT}")
    if returned is None and positions:
        warnings.append(f"backward returned None: the gradient of {', '.join(names[i] for i in positions)} was not "
                        "checked")
        positions = []
        input_point = {}

    clash = [p.name for p in found.parameters if p.name in input_point]
    if clash:
        raise ValueError(f"layer parameter(s) {clash} have the name of an input; pass the inputs under other names")
    settled_outputs = []

    def flat_forward():
        out = run_forward(input_point)
        settled_outputs.append(out)
        return np.concatenate([np.ravel(o) for o in out])

    parameters, caches, settle_notes = settle(found.parameters, flat_forward)
    notes += settle_notes
    slots = {p.name: p.slot for p in parameters}
    point = {**input_point, **{p.name: p.slot.original for p in parameters}}
    if not point:
        raise ValueError("nothing to check: the layer has no float input and no parameter was found "
                         f"(looked for {found.looked})")
    in_place = [s.original.dtype for s in slots.values() if s.kind == "inplace"]
    if in_place and "eval_dtype" not in options:  # a trial value must be stored exactly in the layer's own array
        options["eval_dtype"] = min(in_place, key=lambda d: d.itemsize)
    gradient_keys = {name: name for name in point}

    def put(theta):
        for name, slot in slots.items():
            slot.put(np.array(theta[name], copy=True))

    def loss(theta):
        put(theta)
        return contract(run_forward(theta), douts, driven)

    def gradients(back, read):
        """backward's return value and the parameter gradients (read(p)) as the dict check_gradients takes."""
        out = {}
        if positions:
            for i, g in _assign(back, positions, len(inputs), names).items():
                out[names[i]], note = conform_gradient(g, inputs[i], "backward's gradient", names[i])
                notes.extend([note] if note and note not in notes else [])
        for p in parameters:
            key = gradient_keys[p.name] = _gradient_key(p)
            out[key], note = conform_gradient(read(p), p.slot.original, "the layer's gradient", p.name)
            notes.extend([note] if note and note not in notes else [])
        return out

    def grad_f(theta):
        put(theta)
        for p in parameters:  # a backward that accumulates (self.dW += ...) must start from 0
            g = p.gradient()
            if isinstance(g, np.ndarray) and g.flags.writeable:
                g[...] = 0
        return gradients(run_backward(theta), lambda p: p.gradient())

    try:
        first = gradients(returned, lambda p: first_param_grads[p.name])  # bad shapes raise here, before any
        earlier_grads = [(FIRST_PASS, first), (PREFLIGHT, grad_f(point))]  # numerical work
        earlier_values = [(FIRST_PASS, contract(outs, douts, driven))]
        earlier_values += [(SETTLE_PASS, contract(o, douts, driven)) for o in settled_outputs[:1]]
        report = check_gradients(Recorded(loss, earlier_values), Recorded(grad_f, earlier_grads), point, seed=seed,
                                 f_scale=contract_scale(outs, douts, driven), **options)
    finally:
        for slot in slots.values():
            slot.restore()
    if parameters:
        notes.insert(0, f"parameters found in {found.source}: {', '.join(p.name for p in parameters)}")
    else:
        skipped = f"; {', '.join(caches)} skipped as caches" if caches else ""
        warnings.append(f"no parameters found on {type(layer).__name__} (looked for {found.looked}{skipped}): only "
                        "the input gradient was checked; right for a layer without parameters (ReLU, pooling), else "
                        "pass params= and grads=")
    if found.buffers:
        notes.append(f"not checked, no gradient found (buffers, cached values): {', '.join(found.buffers)}")
    static = [f"{names[i]} ({describe(v)})" for i, v in enumerate(inputs) if i not in positions]
    if static:
        notes.append(f"passed unchanged on every call: {', '.join(static)}")
    upstream = _upstream_note(outs, driven, _output_names(layer.backward, len(outs)), seed)
    report.notes[:0] = [WARNING + w for w in warnings] + [upstream] + notes
    return report


def _copy(value):
    """A copy of a gradient read from the layer (None and non-arrays as they are: conform_gradient names them)."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray | np.generic) else value


def _zero_gradients(layer, params, grads) -> list[tuple[np.ndarray, np.ndarray]]:
    """Zero the gradient arrays the layer already holds (before the first backward: one that
    accumulates, ``self.dW += ...``, must report one pass on its first call as on every other);
    returns (array, saved bits) to put back. Nothing is zeroed where discovery cannot run yet."""
    try:
        found = discover(layer, params, grads)
    except Exception:  # noqa: BLE001 - a lazy layer whose containers do not exist yet: nothing to zero
        return []
    stale = []
    for p in found.parameters:
        try:
            g = p.gradient()
        except Exception:  # noqa: BLE001 - read again after the first backward
            continue
        if isinstance(g, np.ndarray) and g.flags.writeable and g.dtype.kind == "f" and np.any(g):
            stale.append((g, np.array(g, copy=True)))
            g[...] = 0
    return stale


def _stored_output(layer):
    """The output a book-style forward stored in ``layer.output`` (it returned None)."""
    if not hasattr(layer, STORED_OUTPUT):
        raise ValueError(f"{type(layer).__name__}.forward returned None and set no layer.{STORED_OUTPUT}: expected it "
                         "to return its output, or to store it in self.output (the book style)")
    return getattr(layer, STORED_OUTPUT)


def _gradient_key(p) -> str:
    """``dW`` when the layer keeps W's gradient under that name, else the parameter's name."""
    return p.gradient_name if p.gradient_name == "d" + p.name else p.name


def _snapshot(layer) -> dict:
    """Copies of the layer's array attributes and of the arrays in its dict attributes, before the
    check's first forward: a forward that updates running statistics changes them on every call."""
    state: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for key, value in (vars(layer).items() if hasattr(layer, "__dict__") else ()):
        if isinstance(value, np.ndarray):
            state[(key,)] = (value, np.array(value, copy=True))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, np.ndarray):
                    state[(key, k)] = (v, np.array(v, copy=True))
    return state


def _restore(layer, state: dict) -> None:
    for path, (original, saved) in state.items():
        if len(path) == 1:
            setattr(layer, path[0], original)
        else:
            container = getattr(layer, path[0], None)
            if isinstance(container, dict):
                container[path[1]] = original
        if original.flags.writeable:
            np.copyto(original, saved)
