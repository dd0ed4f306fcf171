"""``refnn check``: check the user's own loss and gradient functions, or a layer object, against
numerical derivatives (``reference_nn.gradcheck``).

Exit status: 0 every gradient verified (PASS); 1 a gradient is wrong (FAIL); 2 bad usage, or a
function returned something unusable (a NaN loss, a gradient of the wrong shape: one line naming
the function); 3 the user's own code raised (one line naming the function and the exception, then
the user's frames only); 5 INCONCLUSIVE: no wrong element found, but some were not verified (f not
deterministic, elements at a kink, an error bound too large for this loss). (4 is crosscheck's.)
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from equivalence_tests.cli import check_framework, check_options, check_styles
from equivalence_tests.cli.check_options import load_object
from equivalence_tests.cli.common import (
    EXIT_DISAGREE,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
)
from equivalence_tests.cli.output import json_default, spinner
from reference_nn.gradcheck.check import METHODS  # the API's methods: auto, elementwise, projection, central, ...

EXIT_USER_CODE, EXIT_INCONCLUSIVE = 3, 5  # 4 is crosscheck's "nothing compared"


def load_npz_params(path: str) -> dict[str, np.ndarray]:
    """Parameters from an ``.npz`` file, without pickle (object arrays are refused)."""
    if not Path(path).is_file():
        raise UsageError(f"--params: file {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:  # pickled object arrays, or not an npz at all
        raise UsageError(f"--params: cannot load {path!r} without pickle: {error}") from None
    except OSError as error:
        raise UsageError(f"--params: {path!r} is not a NumPy .npz file: {error}") from None


def build_params(args: argparse.Namespace) -> Any:
    """From ``--params FILE.npz`` or ``--params MODULE:ATTR`` (the user's own container) and/or
    ``--shape NAME=AxB`` (seeded standard normal, ``--dtype``)."""
    shapes = check_options.named_shapes(args.shape, "--shape")
    if args.params:
        if check_options.is_module_spec(args.params):
            params = check_options.module_params(args.params)
            if shapes and not isinstance(params, dict):
                raise UsageError(f"--shape names entries of a dict; --params {args.params} is a "
                                 f"{type(params).__name__}")
        else:
            params = load_npz_params(args.params)
        for name, shape in shapes.items():  # --shape with --params: a statement about the parameters given
            if name not in params:
                raise UsageError(f"--params {args.params} has no key {name!r} (keys: {', '.join(sorted(params))})")
            if np.shape(params[name]) != shape:
                raise UsageError(
                    f"--params {args.params}: {name!r} has shape {np.shape(params[name])}, --shape says {shape}"
                )
        return params
    if not shapes:
        raise UsageError("give the parameters: --params FILE.npz or MODULE:ATTR, or shapes like --shape W1=4x3 "
                         "--shape b1=4x1")
    rng = np.random.default_rng(args.seed)
    return {name: rng.standard_normal(shape).astype(args.dtype) for name, shape in shapes.items()}


def _describe_params(params: Any) -> str:
    from reference_nn.gradcheck.containers import flatten

    try:
        flat, _ = flatten(params)
    except (TypeError, ValueError):
        return type(params).__name__
    return ", ".join(f"{name} {value.shape}" for name, value in flat.items())


def preflight(loss: Callable, gradient: Callable, params: Any) -> None:
    """Call ``loss(params)`` and ``gradient(params)`` once: an exception in the user's code exits 3 with
    the user's frames, its line saying what the parameters are (a missing key, a shape the code did
    not expect)."""
    from reference_nn.gradcheck import UserCodeError

    for function in (loss, gradient):
        try:
            function(copy.deepcopy(params))
        except Exception as error:  # noqa: BLE001 - whatever the user's code raised is theirs: exit 3
            where = (f"looked up a key the parameters do not have; they have: {_describe_params(params)}"
                     if isinstance(error, KeyError) else f"at the given params: {_describe_params(params)}")
            raise UserCodeError("f" if function is loss else "grad_f", error, where) from error


def make_layer(obj: Any, spec: str, forward: str = "forward", backward: str = "backward") -> Any:
    """A layer instance from ``obj``: an object with forward/backward (or the methods named), or a
    class/factory taking no arguments."""
    if hasattr(obj, forward) and hasattr(obj, backward) and not isinstance(obj, type):
        return obj
    if callable(obj):
        try:
            made = obj()
        except TypeError as error:
            raise UsageError(f"{spec} must be a layer object or a class/function of no arguments: {error}") from None
        if hasattr(made, forward) and hasattr(made, backward):
            return made
    raise UsageError(f"{spec} is not a layer: expected an object with {forward}(x) and {backward}(dy) (other names: "
                     f"--forward / --backward), got {obj!r:.80}")


def command_check(args: argparse.Namespace) -> int:
    from reference_nn.gradcheck import BadReturnValue, UserCodeError

    for option, value in (("--rtol", args.rtol), ("--atol", args.atol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{option} must be a finite number >= 0, got {value!r}")
    try:
        report = _run_check(args)
    except UserCodeError as error:
        print(user_code_message(error, _function_names(args)), file=sys.stderr)
        return EXIT_USER_CODE
    except BadReturnValue as error:
        raise UsageError(f"{_function_names(args)[error.function]}: {error}") from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=json_default))
    else:
        print(report)
        print(verdict_lines(report))
        if check_styles.warning_lines(report):
            print(check_styles.warning_lines(report))
    return EXIT_OK if report.passed else EXIT_DISAGREE if report.failed else EXIT_INCONCLUSIVE


def _function_names(args: argparse.Namespace) -> dict[str, str]:
    """What the user calls the check's f and grad_f: their MODULE:NAME targets."""
    if len(args.targets) == 2:
        return {"f": args.targets[0], "grad_f": args.targets[1]}
    return {"f": f"{args.targets[0]} (forward / loss)", "grad_f": f"{args.targets[0]} (backward / gradient)"}


def user_code_message(error: Any, names: dict[str, str]) -> str:
    """One line naming the function and the exception, then the user's own frames (the checker's,
    NumPy's and the standard library's are left out)."""
    ours = [str(Path(__file__).resolve().parents[2] / package) for package in ("reference_nn", "equivalence_tests")]
    theirs = [sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    frames = [frame for frame in traceback.extract_tb(error.error.__traceback__)
              if not str(Path(frame.filename).resolve()).startswith(tuple(ours + theirs))]  # fmt: skip
    head = f"refnn check: {names[error.function]} raised {type(error.error).__name__}: {error.error} ({error.where})"
    return "\n".join([head, *("".join(traceback.format_list(frames)).rstrip().splitlines())])


def _run_check(args: argparse.Namespace) -> Any:
    from reference_nn import gradcheck

    tolerances = {key: value for key, value in (("rtol", args.rtol), ("atol", args.atol)) if value is not None}
    options = {"method": args.method, "seed": args.seed, **tolerances}
    if args.framework:  # check_framework.py: a rule written inside torch / JAX / TensorFlow
        budget = {"max_evaluations": args.max_evaluations, "time_budget": args.time_budget,
                  "progress": not args.no_progress, "order": args.order}  # fmt: skip
        return check_framework.run_framework(args, {**options, **budget})
    if args.dtype == "bfloat16":
        raise UsageError("--dtype bfloat16 goes with --framework (NumPy has no bfloat16)")
    check_options.check_combinations(args)
    if args.value_and_grad:
        if len(args.targets) != 1:
            raise UsageError(f"--value-and-grad checks one MODULE:FN; got {len(args.targets)} targets")
        with spinner(f"checking {args.targets[0]} (value and gradient)"):
            report = check_styles.run_value_and_grad(args, build_params, {**options, "extra_keys": args.extra_keys})
    elif len(args.targets) == 1:
        if args.input_shape is None and not args.input:
            raise UsageError("checking a layer needs --input-shape AxB (the input's shape as passed to forward, e.g. "
                             "--input-shape 3x5) or --input NAME=AxB")
        layer = make_layer(load_object(args.targets[0], "LAYER"), args.targets[0], args.forward or "forward",
                           args.backward or "backward")
        keywords: dict[str, Any] = {}
        if args.input:
            inputs, described = check_styles.layer_arguments(layer, args), "the --input arrays"
        else:
            input_shape = check_options.parse_shape(args.input_shape, "--input-shape")
            inputs = [np.random.default_rng(args.seed).standard_normal(input_shape).astype(args.dtype)]
            described = f"input of shape {input_shape}"
            keywords = check_styles.parse_statics(args.static)  # forward's other arguments: training=true
            clash = sorted(set(keywords) & set(options))
            if clash:
                raise UsageError(f"--static {clash[0]}=... has the name of a check option; rename the argument")
        try:
            with spinner(f"checking {args.targets[0]}"):
                report = gradcheck.check_layer(layer, *inputs, **keywords, **options, **_method_names(args))
        except (gradcheck.BadReturnValue, gradcheck.UserCodeError):
            raise
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{args.targets[0]} with {described}: {error}") from None
    elif len(args.targets) == 2 and args.input:
        with spinner(f"checking {args.targets[1]} against {args.method} differences of {args.targets[0]}"):
            report = check_styles.run_vjp(args, options)
    elif len(args.targets) == 2:
        if args.static:
            raise UsageError("--static goes with --input (MODULE:FORWARD MODULE:BACKWARD) or --value-and-grad")
        loss = load_object(args.targets[0], "LOSS")
        gradient = load_object(args.targets[1], "GRAD")
        for function, spec in zip((loss, gradient), args.targets, strict=True):
            if not callable(function):
                raise UsageError(f"{spec} must be a function of params, got {type(function).__name__}")
        params = build_params(args)
        preflight(loss, gradient, params)
        try:  # a progress bar (after 2 s, on a terminal) instead of a spinner: the check can take minutes
            report = gradcheck.check_gradients(
                loss, gradient, params, method=args.method, seed=args.seed, **tolerances, extra_keys=args.extra_keys,
                max_evaluations=args.max_evaluations, time_budget=args.time_budget, progress=not args.no_progress,
            )
        except (gradcheck.BadReturnValue, gradcheck.UserCodeError):
            raise
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{args.targets[1]}: {error}") from None
    else:
        raise UsageError(f"give MODULE:LOSS MODULE:GRAD, or one MODULE:LAYER; got {len(args.targets)} targets")
    return report


def _method_names(args: argparse.Namespace) -> dict[str, str]:
    """--forward / --backward / --learning-rate for check_layer (given only)."""
    names = {"forward": args.forward, "backward": args.backward, "learning_rate": args.learning_rate}
    return {key: value for key, value in names.items() if value is not None}


def verdict_lines(report: Any) -> str:
    """One line per wrong parameter naming the element, one PASS line, or the INCONCLUSIVE reasons."""
    if report.passed:
        return f"PASS: {len(report.results)} gradient(s) agree with numerical derivatives (every element verified)"
    if report.inconclusive:
        unverified = sum(result.n_inconclusive for result in report.results.values())
        return (f"INCONCLUSIVE: no wrong element found, but {unverified} element(s) not verified "
                f"({'; '.join(report.reasons)})")  # fmt: skip
    lines = []
    for name in report.failed_parameters:
        result = report[name]
        where = "along a random direction" if result.worst_index is None else f"at element {result.worst_index}"
        lines.append(
            f"WRONG: gradient of {name!r} {where}: hand-written {result.analytic:.6g}, numerical "
            f"{result.numeric:.6g} ({result.n_failed} of {result.n_elements} elements outside tolerance)"
        )
    return "\n".join(lines)


def add_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check", help="check your own loss/gradient functions, forward/backward pair, or layer object",
        description="MODULE:LOSS MODULE:GRAD checks grad(params) -> dict against numerical derivatives of "
        "loss(params) -> float; with --input, MODULE:FORWARD MODULE:BACKWARD checks a pair forward(...) -> "
        "(out, cache), backward(dout, cache); MODULE:FN --value-and-grad checks fn(params) -> (loss, grads); a "
        "single MODULE:LAYER checks a layer's backward (forward(x), backward(dy)) and every parameter it keeps.",
        epilog=f"Exit status: {EXIT_OK} PASS (every gradient verified); {EXIT_DISAGREE} FAIL (a gradient is wrong); "
        f"{EXIT_USAGE} bad usage, or your function returned something unusable (one line naming it); "
        f"{EXIT_USER_CODE} your own code raised (one line naming the function, then your frames); "
        f"{EXIT_INCONCLUSIVE} INCONCLUSIVE (nothing wrong found, not everything verified: the reasons are printed).",
    )  # fmt: skip
    check.add_argument("targets", nargs="+", metavar="MODULE:NAME",
                       help="MODULE:LOSS MODULE:GRAD, MODULE:FORWARD MODULE:BACKWARD (with --input), "
                       "MODULE:FN (with --value-and-grad), or MODULE:LAYER")  # fmt: skip
    check.add_argument("--params", metavar="FILE.npz|MODULE:ATTR",
                       help="parameters: an .npz file (loaded without pickle), or the dict/list the user's module "
                       "holds (e.g. model:params)")
    check.add_argument("--shape", action="append", default=[], metavar="NAME=AxB",
                       help="generate a parameter of this shape (seeded standard normal); repeatable")  # fmt: skip
    check.add_argument("--input-shape", metavar="AxB", help="the layer input's shape as passed to forward, e.g. 3x5")
    check.add_argument("--input", action="append", default=[], metavar="NAME=AxB",
                       help="a differentiable argument of FORWARD or of the layer (seeded standard normal); "
                       "repeatable")  # fmt: skip
    check.add_argument("--static", action="append", default=[], metavar="NAME=JSON",
                       help="an argument passed unchanged, e.g. 'bn_param={\"mode\": \"train\"}' or 'y=[0, 2, 1]'")
    check.add_argument("--value-and-grad", action="store_true",
                       help="MODULE:FN returns (loss, grads) from fn(params, ...): one function, not two")
    check.add_argument("--method", choices=METHODS, default="auto", help="numerical derivative (default auto)")
    check.add_argument("--rtol", type=float, help="relative tolerance (default: derived from dtype and method)")
    check.add_argument("--atol", type=float, help="absolute tolerance (default: derived from dtype and method)")
    check.add_argument("--seed", type=check_options.seed, default=0, help="seed of generated arrays (an integer >= 0)")
    check.add_argument("--forward", metavar="METHOD", help="a layer's forward method, when not 'forward' (e.g. "
                       "forward_pass)")
    check.add_argument("--backward", metavar="METHOD", help="a layer's backward method, when not 'backward' (e.g. "
                       "backward_pass, backprop)")
    check.add_argument("--learning-rate", metavar="NAME", help="the name of backward's learning-rate parameter when "
                       "it is not learning_rate, lr, learn_rate, eta, ...: the update is driven as an SGD step")
    check.add_argument("--extra-keys", choices=("error", "ignore"), default="error",
                       help="gradient keys that match no parameter: an error (default) or skipped with a note")
    check.add_argument("--max-evaluations", type=_positive_int, help="stop after this many evaluations of the loss: "
                       "what is not verified by then is INCONCLUSIVE (MODULE:LOSS MODULE:GRAD)")
    check.add_argument("--time-budget", type=_positive_seconds, help="stop after this many seconds, likewise")
    check.add_argument("--no-progress", action="store_true", help="no progress bar (shown on a terminal for a "
                       "check longer than 2 s)")
    check.add_argument("--dtype", choices=("float64", "float32", "bfloat16"), default="float64",
                       help="of generated arrays (bfloat16 with --framework)")
    check_framework.add_arguments(check)
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=command_check)


def _positive_int(text: str) -> int:
    value = int(text) if text.strip().lstrip("+").isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value
