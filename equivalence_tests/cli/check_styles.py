"""``refnn check`` for code as people write it: forward/backward pairs, value-and-grad functions
and layers with several inputs (``reference_nn.gradcheck.check_vjp`` / ``check_value_and_grad`` /
``check_layer``).

    refnn check layers:affine_forward layers:affine_backward --input x=4x5 --input w=5x3 --input b=3
    refnn check layers:batchnorm_forward layers:batchnorm_backward --input x=4x5 --input gamma=5 \\
        --input beta=5 --static 'bn_param={"mode": "train"}'
    refnn check model:loss --value-and-grad --params params.npz --static 'reg=0.1'
    refnn check model:net.loss --value-and-grad --input X=5x4 --static 'y=[0, 2, 1, 0, 1]'   # net.params
    refnn check layers:softmax_loss --value-and-grad --shape x=4x5 --static 'y=[0, 1, 2, 3]'  # bare array
    refnn check cls:svm_loss_vectorized --value-and-grad --shape W=5x3 --shape X=4x5 --static 'y=[0, 2, 1, 0]' \
        --static reg=0.1

``--input NAME=SHAPE`` makes a differentiable argument (seeded standard normal, ``--dtype``);
``--static NAME=JSON`` one passed unchanged (a dict, a number, or a list, which becomes an array:
integer ids stay integers). Arguments are matched to the function's parameters by name and
passed positionally in its order. With --value-and-grad, a --shape (or --params key) named like
the function's first parameter is that parameter itself, one bare array, as in
``check_value_and_grad(softmax_loss, x, y)``: it is differentiated, the other arrays are passed
unchanged; otherwise the --shape / --params arrays are one dict, the function's first argument.
"""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from equivalence_tests.cli.check_options import load_object, parse_shape
from equivalence_tests.cli.common import UsageError

WARNING = "WARNING: "  # the prefix reference_nn.gradcheck gives a note that must not be missed


def parse_inputs(args: argparse.Namespace) -> dict[str, np.ndarray]:
    """``--input x=4x5`` -> {"x": seeded standard normal (4, 5) array of --dtype}, in the order given."""
    rng = np.random.default_rng(args.seed)
    inputs = {}
    for text in args.input:
        name, equals, shape = text.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--input must look like NAME=4x5 (e.g. --input x=4x5 --input b=3), got {text!r}")
        sizes = parse_shape(shape, f"--input {name.strip()}")
        inputs[name.strip()] = rng.standard_normal(sizes).astype(args.dtype)
    return inputs


def parse_statics(texts: list[str]) -> dict[str, Any]:
    """``--static 'bn_param={"mode": "train"}'`` -> {"bn_param": {"mode": "train"}}; JSON lists become arrays."""
    statics = {}
    for text in texts:
        name, equals, value = text.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--static must look like NAME=JSON (e.g. --static 'bn_param={{\"mode\": \"train\"}}'), "
                             f"got {text!r}")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise UsageError(f"--static {name.strip()}: {value!r} is not JSON ({error})") from None
        statics[name.strip()] = np.asarray(parsed) if isinstance(parsed, list) else parsed
    return statics


def arrange(fn: Callable, given: dict[str, Any], spec: str, skip: int = 0) -> list[Any]:
    """The values in ``given`` as fn's positional arguments, in its parameter order (after the
    first ``skip`` parameters); unknown or missing names are usage errors naming both."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):
        raise UsageError(f"{spec}: its parameters cannot be read, so --input/--static cannot be matched") from None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in positional]
    unknown = [name for name in given if name not in names]
    if unknown:
        raise UsageError(f"{spec} has no parameter {unknown[0]!r} (its parameters: {', '.join(names) or 'none'})")
    arranged = []
    for p in positional:
        if p.name in given:
            arranged.append(given[p.name])
            continue
        later = [q.name for q in positional[len(arranged):] if q.name in given]
        if p.default is p.empty or later:
            raise UsageError(f"{spec} needs {p.name!r}: give --input {p.name}=SHAPE or --static {p.name}=JSON")
        break
    return arranged


def run_vjp(args: argparse.Namespace, options: dict[str, Any]) -> Any:
    """``MODULE:FORWARD MODULE:BACKWARD --input ...``: check_vjp, differentiating the --input arrays."""
    from reference_nn import gradcheck

    forward, backward = (load_object(spec, what) for spec, what in zip(args.targets, ("FORWARD", "BACKWARD"),
                                                                         strict=True))
    for function, spec in zip((forward, backward), args.targets, strict=True):
        if not callable(function):
            raise UsageError(f"{spec} must be a function, got {type(function).__name__}")
    inputs = parse_inputs(args)
    arguments = arrange(forward, {**inputs, **parse_statics(args.static)}, args.targets[0])
    try:
        return gradcheck.check_vjp(forward, backward, *arguments, wrt=list(inputs), **options)
    except (ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{args.targets[0]} / {args.targets[1]}: {error}") from None


def run_value_and_grad(args: argparse.Namespace, build_params: Callable, options: dict[str, Any]) -> Any:
    """``MODULE:FN --value-and-grad --params F.npz``: fn(params, *args) -> (loss, grads). Without
    --params / --shape, ``MODULE:model.loss`` (a method of an object with a ``params`` dict) is
    checked on the object's own parameters: fn(*args), reading them itself."""
    from reference_nn import gradcheck

    fn = load_object(args.targets[0], "FN")
    if not callable(fn):
        raise UsageError(f"{args.targets[0]} must be a function of params, got {type(fn).__name__}")
    owner = getattr(fn, "__self__", None)
    own = not args.params and not args.shape and isinstance(getattr(owner, "params", None), dict)
    params = owner.params if own else build_params(args)
    given = {**parse_inputs(args), **parse_statics(args.static)}
    first = None if own else _first_parameter(fn)
    if first in params:  # loss, dx = softmax_loss(x, y): the bare array x, not {"x": x}
        return _value_and_grad_of_bare_array(fn, first, params, given, args.targets[0], options)
    arguments = arrange(fn, given, args.targets[0], skip=0 if own else 1)
    try:
        return gradcheck.check_value_and_grad(fn, params, *arguments, in_place=own, **options)
    except (ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{args.targets[0]}: {error}") from None


def _first_parameter(fn: Callable) -> str | None:
    """The name of fn's first positional parameter (None if it has none or it cannot be read)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    return next((p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)), None)


def _value_and_grad_of_bare_array(fn: Callable, first: str, params: dict[str, np.ndarray], given: dict[str, Any],
                                  spec: str, options: dict[str, Any]) -> Any:
    """check_value_and_grad(fn, params[first], *the rest by fn's parameter names): fn(W, X, y, reg)."""
    from reference_nn import gradcheck

    twice = sorted(set(params) & set(given))
    if twice:
        raise UsageError(f"{spec}: {twice[0]!r} is given twice (--shape/--params and --input/--static)")
    arguments = arrange(fn, {**params, **given}, spec)[1:]  # position 0 is ``first``
    try:  # the report's notes list the arrays passed unchanged (X made by --shape X=... too)
        return gradcheck.check_value_and_grad(fn, params[first], *arguments, in_place=False, **options)
    except (ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{spec}: {error}") from None


def layer_arguments(layer: Any, args: argparse.Namespace) -> list[Any]:
    """A layer's inputs from --input / --static, matched to forward's parameters."""
    return arrange(layer.forward, {**parse_inputs(args), **parse_statics(args.static)}, args.targets[0])


def warning_lines(report: Any) -> str:
    """The report's warnings (a layer where no parameter was found, ...), one line each."""
    return "\n".join(note for note in report.notes if note.startswith(WARNING))
