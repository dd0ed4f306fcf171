"""check_vjp: check a forward/backward function pair with a cache, in one call.

    out, cache = affine_forward(x, w, b)           dx, dw, db = affine_backward(dout, cache)
    report = check_vjp(affine_forward, affine_backward, x, w, b)

forward(*inputs) returns ``(out, cache)``, or ``(out1, ..., outK, cache)`` for several outputs;
backward(dout, cache) (or backward(dout1, ..., doutK, cache)) returns the gradients of the
differentiable inputs (the float arrays) in input order: one array, or a tuple. The tool draws
the upstream gradients dout itself (seeded; 1 for a scalar output such as a loss), so the scalar

    L(inputs) = sum_k sum(out_k(inputs) * dout_k)

has gradient exactly what backward returns (a vector-Jacobian product): every input gradient,
``x`` included, is checked by check_gradients on L, and reported under forward's own parameter
names (``x``, ``w``, ``b``, ``prev_h``). Config dicts, ints, integer arrays (token ids, labels)
and None are passed unchanged (a fresh copy each call, see arguments.py), so a dropout seeded by
its ``dropout_param`` gives the same mask on every call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from . import by_precision
from .arguments import (
    argument_names,
    contract,
    contract_scale,
    describe,
    fresh,
    is_differentiable,
    upstream_count,
    upstream_gradient,
    user_call,
)
from .by_precision import no_split
from .check import check_gradients
from .containers import conform_gradient
from .determinism import Recorded
from .discovery import discover
from .frameworks import float64_rule as rule
from .report import GradientReport
from .validation import UserCodeError
from .vjp_function import adapt, is_function_class

UPSTREAM_SEED = 2**31 - 1  # second seed word for the upstream gradients (check_layer uses the same)
FLOAT64_NOTES = by_precision.step_notes("float32 inputs", "forward and backward")
FLOAT64_FAIL_NOTE, FLOAT64_PROBLEM_NOTE = FLOAT64_NOTES.fail, FLOAT64_NOTES.problem
WARNING = "WARNING: "  # prefix of a report note that must not be missed (printed by refnn check)


def check_vjp(forward: Callable, backward: Callable | None = None, *inputs, outputs: int | Sequence[int] | None = None,
              wrt: str | int | Sequence[str | int] | None = None, cache: int | None = None, seed: int = 0,
              **options) -> GradientReport:
    """Check ``backward`` against numerical derivatives of ``forward``; the report of check_gradients.

    inputs: forward's positional arguments, e.g. ``x (N, D), w (D, M), b (M,)``; float arrays are
    differentiated, anything else is passed unchanged. outputs: index (or indices) of the outputs
    to drive (default: every float output); the others get a zero upstream gradient. wrt: the
    names or positions of the inputs backward returns gradients for, when that is not every float
    input (e.g. a float mask passed in). seed: for the upstream gradients and check_gradients.
    options: passed to check_gradients (method, rtol, atol, ...). The report's notes say which
    outputs were driven and which inputs were passed unchanged. A ctx-style Function class
    (forward(ctx, *inputs) / backward(ctx, grad), ctx.save_for_backward) is checked as
    ``check_vjp(FunctionClass, *inputs)`` (vjp_function.py).
    """
    function_note = ""
    if is_function_class(forward):  # check_vjp(Mul, a, b): a ctx-style Function class (vjp_function.py)
        inputs = inputs if backward is None else (backward, *inputs)
        forward, backward, function_note = adapt(forward, len(inputs))
    if not callable(forward):
        raise TypeError(f"forward must be callable; got {type(forward).__name__}")
    if not callable(backward):
        raise TypeError(
            f"backward must be callable; got {type(backward).__name__} (for loss(x, y) -> (loss, dx) use "
            "check_value_and_grad(loss, x, y))"
        )
    if not inputs:
        raise ValueError("check_vjp needs forward's inputs: check_vjp(forward, backward, x, w, b)")
    report = _by_precision(forward, backward, inputs, outputs, wrt, cache, seed, options)
    if function_note:
        report.notes.insert(0, function_note)
    return report


def _by_precision(forward, backward, inputs, outputs, wrt, cache, seed, options) -> GradientReport:
    """float32 inputs: in two steps where forward and backward also run in float64 on float64 copies
    (frameworks/float64_rule.py, as check_torch does): the backward's math verified in float64 (to
    RULE_SHARE), then the float32 backward against it element by element (within the cap less
    RULE_SHARE; the float64 results are named "x (rule in float64)"). A FAIL in float64 is the
    report, at the inputs' own names (the float32 run is not judged: FLOAT64_FAIL_NOTE).
    Why: a float32 gradient judged directly against numerical derivatives of L carries floors sized
    by all of L's terms (f_scale = sum |out * dout|, thousands of outputs for a layer's batch) where
    one input element sees a row of them: beside a small input's gradients they are 1-5%, so a 5%
    error there was INCONCLUSIVE. Otherwise (all float64, code that casts down, raises on float64,
    or returns another structure there): the direct check."""
    low = [i for i, v in enumerate(inputs) if is_differentiable(v) and v.dtype != np.float64]
    if not low:
        return _check_vjp_at(forward, backward, inputs, outputs, wrt, cache, seed, options)[0]
    wide = tuple(np.asarray(v, dtype=np.float64) if i in low else v for i, v in enumerate(inputs))
    why_not, probed = _runs_in_float64(forward, backward, wide, outputs, wrt, cache, seed)
    if why_not:
        report = _check_vjp_at(forward, backward, inputs, outputs, wrt, cache, seed, options)[0]
        report.notes.append(f"checked at the inputs' own dtypes: {why_not}")
        return report
    # the probe's call is part of step 1's determinism check (a backward wrong on its first call only)
    first_report, first = _check_vjp_at(forward, backward, wide, outputs, wrt, cache, seed, rule.rule_options(options),
                                        earlier=[("the float64 probe", probed)])[:2]

    def direct() -> GradientReport:
        return _check_vjp_at(forward, backward, inputs, outputs, wrt, cache, seed, options)[0]

    def compare() -> GradientReport:
        narrow, dtypes = _check_vjp_at(forward, backward, inputs, outputs, wrt, cache, seed, None)[1:]
        again = _check_vjp_at(forward, backward, inputs, outputs, wrt, cache, seed, None)[1]
        if any(not np.array_equal(narrow[name], again[name], equal_nan=True) for name in narrow):
            return direct()  # two float32 calls at one point disagree: the direct check reports it (determinism.py)
        precisions = by_precision.coarsest_precisions(dtypes, [inputs[i].dtype for i in low])
        shapes = {name: np.shape(g) for name, g in first.items()}
        return rule.compare_gradients(narrow, first, shapes, precisions, options.get("verified_share"), seed,
                                      "backward")

    return by_precision.split(first_report, compare, direct, FLOAT64_NOTES, options)


def _runs_in_float64(forward, backward, wide, outputs, wrt, cache, seed) -> tuple[str, dict]:
    """('', the gradients) where backward, given float64 copies, returns float64 gradients; else (why
    not: the reason the direct check is used, {})."""
    try:
        grads, dtypes = _check_vjp_at(forward, backward, wide, outputs, wrt, cache, seed, None)[1:]
    except UserCodeError as error:
        return f"forward/backward raised on float64 copies of the inputs ({error})", {}
    except (TypeError, ValueError) as error:
        return f"forward/backward on float64 copies of the inputs: {error}", {}
    narrow = [f"{name} {np.dtype(dtypes[name]).name}" for name in grads if np.dtype(dtypes[name]) != np.float64]
    return (f"backward computes below float64 on float64 copies: {', '.join(narrow)}" if narrow else ""), grads


def _check_vjp_at(forward, backward, inputs, outputs, wrt, cache, seed, options, earlier=()):
    """(report, gradients, dtypes): check_vjp at these inputs; gradients: backward's first return
    value by input name (float64 copies); dtypes: the dtype each gradient came back in. options
    None: only the gradients (no check, report None). earlier: (label, gradients by input name) of
    calls at this point made before, compared by the determinism check too."""
    names = argument_names(forward, len(inputs))
    positions = _differentiable_positions(inputs, names, wrt)
    keys = {i: names[i] for i in positions}
    grad_keys = {i: ("d" + names[i]) if ("d" + names[i]) not in names else names[i] for i in positions}
    point = {keys[i]: inputs[i] for i in positions}

    where = {"cache": cache}  # the position of the cache in forward's return value (found on the first call)

    def run_forward(theta):
        args = [np.array(theta[keys[i]], copy=True) if i in keys else fresh(v) for i, v in enumerate(inputs)]
        result = user_call(forward, "f", *args)
        if where["cache"] is None:
            where["cache"] = _cache_position(result)
        return _split(result, where["cache"])

    outs, _ = run_forward(point)
    return_notes = []
    if where["cache"] not in (-1, len(outs)):
        return_notes.append(f"forward returns its cache at position {where['cache']} (the one value that is no array): "
                            "backward is called as backward(dout, cache)")
    taken = upstream_count(backward, len(outs), others=1)
    if outputs is None and taken < len(outs):
        outputs = [i for i in range(taken) if np.asarray(outs[i]).dtype.kind == "f"]
    driven = _driven(outputs, outs)
    if max(driven) >= taken:
        raise ValueError(f"outputs={outputs!r} drives output {max(driven)}, but backward takes {taken} upstream "
                         f"gradient(s) besides the cache (outputs 0..{taken - 1})")
    rng = np.random.default_rng([seed, UPSTREAM_SEED])
    douts_given, douts = [], []
    for i, out in enumerate(outs):
        if i in driven:
            given, as_float = upstream_gradient(out, rng)
        else:
            given = np.zeros_like(out) if isinstance(out, np.ndarray) else 0.0 if np.isscalar(out) else None
            as_float = 0.0
        douts_given.append(given)
        douts.append(as_float)
    shape_notes: list[str] = []
    # An entry None (``return dpred, None`` for a float target) means "no gradient for this input":
    # it is passed unchanged like a static input, and the report warns that it was not checked.
    douts_given = douts_given[:taken]  # backward(dout, cache) for forward -> (out, cache, mean, var): out only
    first_grads = user_call(backward, "grad_f", *[fresh(d) for d in douts_given], run_forward(point)[1])
    first = _assign(first_grads, positions, len(inputs), names)
    unanswered = [i for i, g in first.items() if g is None]
    if len(unanswered) == len(positions):
        raise ValueError("backward returned None for every differentiable input: nothing to check")
    for i in unanswered:
        del keys[i], point[names[i]]

    def as_dict(returned):
        out = {}
        for i, grad in _assign(returned, positions, len(inputs), names).items():
            if i in unanswered:
                continue
            out[grad_keys[i]], note = conform_gradient(grad, point[keys[i]], "backward's gradient", keys[i])
            if note and note not in shape_notes:
                shape_notes.append(note)
        return out

    def grad_f(theta):
        _, cache = run_forward(theta)
        return as_dict(user_call(backward, "grad_f", *[fresh(d) for d in douts_given], cache))

    def loss(theta):
        return contract(run_forward(theta)[0], douts, driven)

    # bad counts or shapes raise here, before any numerical work; every call so far is part of the
    # determinism check (a backward wrong on its first call only is not skipped)
    returned = _assign(first_grads, positions, len(inputs), names)
    gradients = {names[i]: np.asarray(returned[i], dtype=np.float64) for i in keys}
    dtypes = {names[i]: np.asarray(returned[i]).dtype for i in keys}
    if options is None:
        return None, gradients, dtypes
    earlier_grads = [(label, {grad_keys[i]: grads[names[i]] for i in keys}) for label, grads in earlier]
    earlier_grads += [("the first call", as_dict(first_grads)), ("the second call", grad_f(point))]
    earlier_values = [("the first call", contract(outs, douts, driven))]
    with no_split():
        report = check_gradients(Recorded(loss, earlier_values), Recorded(grad_f, earlier_grads), point, seed=seed,
                                 f_scale=contract_scale(outs, douts, driven), **options)
    output_names = _output_names(backward, len(outs))
    report.notes[:0] = [_upstream_note(outs, driven, output_names, seed)] + return_notes + shape_notes
    static = [f"{names[i]} ({describe(v)})" for i, v in enumerate(inputs) if i not in keys]
    if static:
        report.notes.insert(1, f"passed unchanged on every call: {', '.join(static)}")
    owner, unchecked = _owner_parameters(forward)
    if unchecked:
        report.notes.insert(0, f"{WARNING}forward is a method of a {owner} that keeps parameters "
                               f"({', '.join(unchecked)}) check_vjp does not perturb: check_layer(obj, *inputs) checks "
                               "them too")
    if unanswered:
        report.notes.insert(0, f"{WARNING}backward returned None for {', '.join(names[i] for i in unanswered)}: "
                               "not checked")
    return report, gradients, dtypes


def _owner_parameters(forward) -> tuple[str, list[str]]:
    """(class name, parameters) of the object forward is a method of: its parameters are not
    inputs, so check_vjp does not check them."""
    owner = getattr(forward, "__self__", None)
    if owner is None or isinstance(owner, type) or not hasattr(owner, "__dict__"):
        return "", []
    try:
        return type(owner).__name__, [p.name for p in discover(owner).parameters]
    except Exception:  # noqa: BLE001 - an object discovery cannot read: nothing to warn about
        return "", []


def _differentiable_positions(inputs, names, wrt) -> list[int]:
    """Positions of the inputs to differentiate: every float array, or those ``wrt`` names."""
    if wrt is None:
        positions = [i for i, v in enumerate(inputs) if is_differentiable(v)]
        if not positions:
            given = ", ".join(f"{n} ({describe(v)})" for n, v in zip(names, inputs, strict=True))
            raise ValueError(
                f"none of forward's inputs is a float32/float64 array, nothing to differentiate; got {given}"
            )
        return positions
    positions = []
    for item in [wrt] if isinstance(wrt, str | int) else list(wrt):
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"wrt names {item!r}, which is not one of forward's inputs {names}")
            index = names.index(item)
        elif isinstance(item, int) and 0 <= item < len(inputs):
            index = item
        else:
            raise ValueError(f"wrt must hold input names or positions 0..{len(inputs) - 1}; got {item!r}")
        if not is_differentiable(inputs[index]):
            raise TypeError(
                f"wrt names {names[index]!r}, a {describe(inputs[index])}: only float arrays have gradients"
            )
        positions.append(index)
    return sorted(set(positions))


def _cache_position(result) -> int:
    """Where the cache is in forward's return value: the one value that is no array or number
    (``(out, cache, mean, var)``), else the last (``(out, x)`` caching one array). Several candidates
    are an error naming what came back and the option that says which."""
    if not isinstance(result, tuple | list) or len(result) < 2:
        return -1  # _split names the problem
    candidates = [i for i, v in enumerate(result) if not isinstance(v, np.ndarray | np.generic | float | int)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else len(result) - 1
    got = ", ".join(type(v).__name__ if not isinstance(v, np.ndarray) else f"array {v.shape}" for v in result)
    raise ValueError(f"forward returned ({got}): positions {candidates} could each be the cache; say which: "
                     f"cache={candidates[-1]}")


def _split(result, cache_at: int = -1) -> tuple[list, object]:
    """(outputs, cache) from forward's return value (out, cache), (out1, ..., cache) or with the cache
    at ``cache_at``."""
    if not isinstance(result, tuple | list) or len(result) < 2:
        raise TypeError(
            f"forward must return (out, cache), or (out1, ..., outK, cache) for several outputs; got "
            f"{type(result).__name__}" + (f" of length {len(result)}" if isinstance(result, tuple | list) else "")
        )
    if not -len(result) <= cache_at < len(result):
        raise ValueError(f"cache={cache_at} but forward returned {len(result)} values")
    index = cache_at % len(result)
    return [v for i, v in enumerate(result) if i != index], result[index]


def _driven(outputs, outs) -> list[int]:
    """Indices of the outputs that get a random upstream gradient."""
    floats = [i for i, out in enumerate(outs) if np.asarray(out).dtype.kind == "f"]
    if outputs is None:
        if not floats:
            raise ValueError("forward returned no float output to differentiate")
        return floats
    chosen = [outputs] if isinstance(outputs, int) else list(outputs)
    for i in chosen:
        if not isinstance(i, int) or i not in floats:
            raise ValueError(f"outputs must name float outputs among positions {floats}; got {outputs!r}")
    return sorted(set(chosen))


def _assign(returned, positions, n_inputs, names) -> dict[int, object]:
    """Map backward's return value to input positions: one per differentiable input, or one per
    input (the entries for static inputs, e.g. None for an index array, are ignored)."""
    grads = list(returned) if isinstance(returned, tuple | list) else [returned]
    if len(grads) == len(positions):
        return dict(zip(positions, grads, strict=True))
    if len(grads) == n_inputs:
        return {i: grads[i] for i in positions}
    expected = ", ".join(names[i] for i in positions)
    hint = " (if it returns fewer on purpose, name them: wrt=[...])" if len(grads) < len(positions) else ""
    raise ValueError(
        f"backward returned {len(grads)} gradient(s) but forward has {len(positions)} differentiable input(s) "
        f"({expected}): expected one per float input, in input order{hint}"
    )


def _output_names(backward, count: int) -> list[str]:
    """Outputs named after backward's upstream parameters: ``dnext_h`` -> ``next_h``, ``dout`` ->
    ``out``, ``dLdy`` -> ``y``; ``output0``, ... where the signature says nothing."""
    names = argument_names(backward, count + 1, fallback="output")[:count]
    out = []
    for i, n in enumerate(names):
        ratio = re.fullmatch(r"d[A-Z]\w*?d(\w+)", n)  # dLdy: the derivative of L with respect to y
        worded = re.fullmatch(r"grad_(\w+)|(\w+?)_grad(?:ient)?", n)  # grad_output, output_gradient, out_grad
        if "[" in n:  # *args: no name to go by
            out.append(f"output{i}")
        elif ratio:
            out.append(ratio.group(1))
        elif worded:
            out.append(worded.group(1) or worded.group(2))
        elif n.startswith("d") and len(n) > 1:
            out.append(n[1:])
        else:
            out.append(n)
    return out


def _upstream_note(outs, driven, output_names, seed) -> str:
    """Which outputs were driven, with what; and which were not."""
    parts = [
        f"{output_names[i]} (a scalar: upstream gradient 1)" if np.shape(outs[i]) == ()
        else f"{output_names[i]} {np.shape(outs[i])}"
        for i in driven
    ]
    random = any(np.shape(outs[i]) != () for i in driven)
    note = f"drove output(s) {', '.join(parts)}" + (f" with upstream gradients N(0, 1), seed {seed}" if random else "")
    skipped = [output_names[i] for i in range(len(outs)) if i not in driven]
    return note + (f"; not driven (zero upstream gradient): {', '.join(skipped)}" if skipped else "")
