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
names (``q``, ``k``, ``v``). How the layer is called (method names, list inputs, keyword
arguments, which outputs backward takes): layer_calls.py; layers that update themselves (an SGD
step in backward, an optimizer attribute): layer_step.py and layer_self_update.py. Caches the
layer keeps (``self.x``, ``self.dx``) are sorted from parameters by discovery.settle.
"""

from __future__ import annotations

import inspect

import numpy as np

from .arguments import contract, contract_scale, describe, upstream_gradient
from .by_precision import no_split
from .check import check_gradients
from .containers import conform_gradient
from .determinism import Recorded
from .discovery import STORED_INPUT_GRADIENT, Discovery, discover, settle
from .layer_calls import STORED_OUTPUT, LayerCalls
from .layer_self_update import captured_parameters, run_step, stepped_parameters
from .layer_step import LayerState
from .report import GradientReport
from .vjp import UPSTREAM_SEED, WARNING, _driven, _output_names, _upstream_note

# What the determinism check calls the calls check_layer makes before check_gradients' own.
FIRST_PASS = "the first call (check_layer's discovery pass)"
SETTLE_PASS, PREFLIGHT = "the forward that sorts parameters from caches", "the second call"
CHECK_OPTIONS = set(inspect.signature(check_gradients).parameters) - {"f", "grad_f", "params"}


def check_layer(layer, *inputs, params: str | None = None, grads: str | None = None, outputs=None, seed: int = 0,
                forward: str = "forward", backward: str = "backward", learning_rate: str | None = None,
                **options) -> GradientReport:
    """Check every input gradient and every parameter gradient of ``layer`` at ``inputs``.

    layer: has forward(*inputs) -> out (or a tuple of outputs) and backward(*douts) -> dx (or a
    tuple); other method names by ``forward=`` / ``backward=``. Float array inputs (and lists of
    them) are differentiated; ints, integer arrays (token ids) and dicts are passed unchanged.
    params / grads: names of the attributes (or methods) holding the parameter and gradient
    containers when they are not found by the usual names. outputs: index (or indices) of the
    outputs to drive (default every float output backward takes an upstream gradient for).
    learning_rate: the name of backward's learning-rate parameter when it is none of the usual
    (layer_step.LEARNING_RATE_NAMES): the parameter gradients are then recovered from the SGD step.
    options: check_gradients' (method, rtol, atol, ...); any other keyword is a keyword argument of
    forward, passed on every call (``training=True``). The layer is restored on return (every
    attribute, same objects, same bits), also when it raises.
    """
    if not inputs:
        raise ValueError("check_layer needs the layer's input(s): check_layer(layer, x)")
    forward_kwargs = {k: options.pop(k) for k in list(options) if k not in CHECK_OPTIONS}
    calls = LayerCalls(layer, tuple(inputs), forward, backward, forward_kwargs, learning_rate)
    if forward_kwargs:
        _require_keywords(calls.forward, forward_kwargs)
    state = LayerState(layer)
    try:
        return _check(calls, params, grads, outputs, seed, options)
    finally:
        state.restore()


def _require_keywords(method, kwargs: dict) -> None:
    """A keyword that is neither a check option nor a parameter of forward is an error naming both."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return
    unknown = [k for k in kwargs if k not in parameters]
    if unknown:
        raise TypeError(f"check_layer got {unknown[0]}=..., which is neither a check option ({sorted(CHECK_OPTIONS)}) "
                        f"nor a parameter of the layer's forward ({list(parameters)})")


def _check(calls: LayerCalls, params, grads, outputs, seed, options) -> GradientReport:
    layer, names, inputs = calls.layer, calls.names, calls.inputs
    notes, warnings = [], []
    if calls.reset:
        notes.append(f"layer.{calls.reset}() called before every forward (what the layer accumulates is cleared)")
    input_point = calls.input_point()
    outs = calls.run_forward(input_point)  # a lazy layer creates its parameters here
    if len(outs) >= 2 and not isinstance(outs[-1], np.ndarray | np.generic | float | int):
        calls.cache = True  # the last value is a cache (a tuple, dict, object), not an output
        notes.append("forward returns (out, cache): backward is called as backward(dout, cache)")
        outs = outs[:-1]
    taken = calls.accepted_upstream(len(outs))
    if outputs is None and taken < len(outs):
        outputs = [i for i in range(taken) if np.asarray(outs[i]).dtype.kind == "f"]
        rest = ", ".join(map(str, range(taken, len(outs))))
        notes.append(f"backward takes {taken} upstream gradient(s): output(s) {rest} of forward's return value not "
                     "driven (returned for inspection, e.g. an attention map)")
    driven = _driven(outputs, outs)
    if max(driven) >= taken:
        raise ValueError(f"outputs={outputs!r} drives output {max(driven)}, but backward takes {taken} upstream "
                         f"gradient(s) (outputs 0..{taken - 1})")
    rng = np.random.default_rng([seed, UPSTREAM_SEED])
    douts_given, douts = [], []
    for i, out in enumerate(outs):
        given, as_float = upstream_gradient(out, rng) if i in driven else (np.zeros_like(out), 0.0)
        douts_given.append(given)
        douts.append(as_float)
    calls.douts = douts_given[:taken]
    if calls.stored["output"]:
        notes.append(f"forward returned None: its output was read from layer.{STORED_OUTPUT}")
    if (calls.forward.__name__, calls.backward.__name__) != ("forward", "backward"):
        notes.append(f"called layer.{calls.forward.__name__} and layer.{calls.backward.__name__}")
    stale = _zero_gradients(layer, params, grads)  # an accumulating backward's first call must start from 0 too
    try:
        if calls.rate_name:
            found, returned, first_param_grads, allowance, step_notes = stepped_parameters(calls, input_point)
            notes += step_notes
        else:
            returned = calls.run_backward(input_point)  # the first backward: part of the determinism check
            try:
                found = discover(layer, params, grads)
            except ValueError:  # .params without .grads: fine where backward hands the gradients to an optimizer
                if not calls.captured:
                    raise
                found = Discovery([], [], "", "")
            found.parameters += captured_parameters(calls, found)
            first_param_grads = {p.name: _copy(p.gradient()) for p in found.parameters}
            allowance = {}
    finally:
        for array, saved in stale:
            np.copyto(array, saved)
    if calls.stored["dinputs"]:
        notes.append(f"backward returned None: the input gradient was read from layer.{STORED_INPUT_GRADIENT}")
    if returned is None and calls.positions:
        warnings.append(f"backward returned None: the gradient of {', '.join(calls.leaves)} was not checked")
        calls.positions, calls.leaves = [], {}
        input_point = {}

    clash = [p.name for p in found.parameters if p.name in input_point]
    if clash:
        raise ValueError(f"layer parameter(s) {clash} have the name of an input; pass the inputs under other names")
    settled_outputs = []

    def flat_forward():
        out = calls.run_forward(input_point)
        settled_outputs.append(out)
        return np.concatenate([np.ravel(o) for o in out])

    parameters, caches, settle_notes, unread = settle(found.parameters, flat_forward)
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
        if calls.state is not None:
            calls.state.restore()
        put(theta)
        return contract(calls.forward_and_cache(theta)[0], douts, driven)

    def gradients(back, read):
        """backward's return value and the parameter gradients (read(p)) as the dict check_gradients takes."""
        out = {}
        for key, g in (calls.input_gradients(back) if calls.leaves else {}).items():
            out[key], note = conform_gradient(g, input_point[key], "backward's gradient", key)
            notes.extend([note] if note and note not in notes else [])
        for p in parameters:
            key = gradient_keys[p.name] = _gradient_key(p)
            out[key], note = conform_gradient(read(p), p.slot.original, "the layer's gradient", p.name)
            notes.extend([note] if note and note not in notes else [])
        return out

    def grad_f(theta):
        if calls.state is not None:
            calls.state.restore()
        put(theta)
        for p in parameters:  # a backward that accumulates (self.dW += ...) must start from 0
            g = p.gradient() if not calls.rate_name else None
            if isinstance(g, np.ndarray) and g.flags.writeable:
                g[...] = 0
        if calls.rate_name:
            return gradients(run_step(calls, theta, slots), lambda p: p.gradient())
        return gradients(calls.run_backward(theta), lambda p: p.gradient())

    try:
        first = gradients(returned, lambda p: first_param_grads[p.name])  # bad shapes raise here, before any
        earlier_grads = [(FIRST_PASS, first, allowance), (PREFLIGHT, grad_f(point))]  # numerical work
        earlier_values = [(FIRST_PASS, contract(outs, douts, driven))]
        earlier_values += [(SETTLE_PASS, contract(o, douts, driven)) for o in settled_outputs[:1]]
        with no_split():
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
    # a dead unit's weights do not move the output either: their gradient must be 0, unverified here;
    # an unread array equal to an input or output of forward is a cache (self.x = x keeps the very input)
    seen = [np.asarray(v) for v in input_point.values()] + [np.asarray(o) for o in outs]
    unverified = [p.name for p in unread if _nonzero(p.gradient()) and not _equal_to_any(p.slot.original, seen)]
    if unverified:
        report.problems.append(
            f"{', '.join(unverified)}: the output did not move when they moved by 1e-3 (weights whose units are all "
            "inactive at this input, such as dead ReLU units, or arrays forward does not read), yet their gradients "
            "are not 0: not verified (a point where the units are active checks them)")
    static = [f"{names[i]} ({describe(v)})" for i, v in enumerate(inputs) if i not in calls.positions]
    static += [f"{k}={v!r}" for k, v in calls.kwargs.items()]
    if static:
        notes.append(f"passed unchanged on every call: {', '.join(static)}")
    upstream = _upstream_note(outs, driven, _output_names(calls.backward, len(outs)), seed)
    report.notes[:0] = [WARNING + w for w in warnings] + [upstream] + notes
    return report


def _nonzero(gradient) -> bool:
    """Whether a gradient read from the layer holds anything but exact zeros (non-arrays: no)."""
    return isinstance(gradient, np.ndarray | np.generic) and bool(np.any(np.asarray(gradient) != 0))


def _equal_to_any(array, arrays) -> bool:
    a = np.asarray(array)
    return any(b.shape == a.shape and np.array_equal(a, b) for b in arrays)


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


def _gradient_key(p) -> str:
    """``dW`` when the layer keeps W's gradient under that name, else the parameter's name."""
    return p.gradient_name if p.gradient_name == "d" + p.name else p.name
