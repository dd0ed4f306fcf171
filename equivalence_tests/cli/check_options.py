"""``refnn check``'s options read and checked together: shapes, parameters from an ``.npz`` file or
from the user's module (``--params MODULE:ATTR``), the seed, and the combinations that make no sense
(a repeated ``--shape``, ``--input-shape`` for MODULE:LOSS MODULE:GRAD), each a one-line usage error
in refnn check's own words."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from equivalence_tests.cli.common import UsageError
from equivalence_tests.cli.common import load_object as _load_object

SHAPE_EXAMPLE = "4x5"


def load_object(spec: str, what: str) -> Any:
    """common.load_object, except that an exception the user's module raises while it is imported is
    theirs: a UserCodeError (exit 3, with their frames), not a usage error (a module that is not found
    or lacks the name still is one)."""
    from reference_nn.gradcheck import UserCodeError

    try:
        return _load_object(spec, what)
    except UsageError as usage:
        raised = usage.__context__  # common.py raises ``from None``: the import's exception is the context
        if raised is None or isinstance(raised, ImportError | UsageError) or "raised" not in str(usage):
            raise
        module = spec.rpartition(":")[0]
        raise UserCodeError("f", raised, f"while importing {module}") from raised


def parse_shape(text: str, what: str) -> tuple[int, ...]:
    """``"4x5"`` -> ``(4, 5)``: the array's shape as passed, sizes >= 1 joined by x."""
    parts = text.strip().replace(",", "x").split("x")
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise UsageError(f"{what} must be an array shape like {SHAPE_EXAMPLE} (sizes >= 1 joined by x), got {text!r}")
    return sizes


def named_shapes(texts: list[str], option: str) -> dict[str, tuple[int, ...]]:
    """``["W=4x3", "b=4x1"]`` -> {"W": (4, 3), "b": (4, 1)}; a name given twice is an error."""
    shapes: dict[str, tuple[int, ...]] = {}
    for text in texts:
        name, equals, shape = text.partition("=")
        name = name.strip()
        if not equals or not name:
            raise UsageError(f"{option} must look like NAME=4x3 (e.g. {option} W1=4x3 {option} b1=4x1), got {text!r}")
        if name in shapes:
            raise UsageError(f"{option} {name} is given twice ({option} {name}=... appears more than once)")
        shapes[name] = parse_shape(shape, f"{option} {name}")
    return shapes


def seed(text: str) -> int:
    """--seed: an integer >= 0 (NumPy's generators take no negative seed)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def module_params(spec: str) -> Any:
    """``--params MODULE:ATTR``: the parameters as the user's module holds them (a dict, list or tuple
    of arrays, nested, or one array), not copied: the checks never modify what they are given."""
    value = load_object(spec, "--params")  # the module's import may raise: the user's code
    if callable(value) and not isinstance(value, np.ndarray):
        raise UsageError(f"--params {spec} is a {type(value).__name__}; expected the parameters themselves (a dict, "
                         "list or tuple of arrays, or one array)")
    if not isinstance(value, Mapping | list | tuple | np.ndarray):
        raise UsageError(f"--params {spec} is a {type(value).__name__}; expected a dict, list or tuple of arrays, or "
                         "one array")
    return value


def is_module_spec(text: str) -> bool:
    """``model:params`` (a module attribute) rather than a file (``params.npz``, ``dir/p.npz``)."""
    return ":" in text and not text.endswith(".npz") and not Path(text).is_file()


def check_combinations(args: argparse.Namespace) -> None:
    """Options that do not fit the targets given: one-line usage errors (no silently ignored option)."""
    loss_grad = len(args.targets) == 2 and not args.input and not args.value_and_grad
    if args.input_shape is not None and (loss_grad or args.value_and_grad or len(args.targets) != 1):
        raise UsageError("--input-shape is the input of a layer (one MODULE:LAYER); for MODULE:LOSS MODULE:GRAD give "
                         "the parameters with --shape NAME=AxB or --params")
    if args.input_shape is not None and args.input:
        raise UsageError("--input-shape and --input both give the layer's input: use one of them")
    if args.extra_keys != "error" and not (loss_grad or args.value_and_grad):
        raise UsageError("--extra-keys goes with MODULE:LOSS MODULE:GRAD or --value-and-grad (a gradient dict whose "
                         "extra keys are skipped)")
    named_shapes(args.input, "--input")  # a name twice is an error here too
    for option in ("forward", "backward", "learning_rate"):
        if getattr(args, option) is not None and (len(args.targets) != 1 or args.value_and_grad):
            raise UsageError(f"--{option.replace('_', '-')} names a method or argument of a layer (one MODULE:LAYER)")
