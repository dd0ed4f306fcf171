"""``refnn crosscheck``'s options: the parser, strict validation and the header that shows every
setting in force.

Every option is checked before anything runs, with a one-line usage error that names it, the valid
values and what was given: sizes (``--dims 4-8-x`` is refused, not read as 4-8), names (with the
valid list), numbers (finite, in range), and combinations that would be silently ignored
(``--momentum`` / ``--nesterov`` with adam, optimizer settings with ``--steps 0``, ``--fd-method``
without ``fd`` in ``--oracles``, ``--plain`` with ``--json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

from equivalence_tests.cli.common import UsageError, parse_names

ORACLE_GROUPS = ("fd", "torch", "tensorflow", "jax")  # what --oracles accepts; the reference always runs
FD_METHODS = ("complex", "auto", "richardson", "central")
DEFAULTS = {"loss": "bce", "optimizer": "sgd", "lr": 0.1, "momentum": 0.0, "weight_decay": 0.0, "fd_method": "complex"}
OPTIMIZER_OPTIONS = ("lr", "momentum", "nesterov", "weight_decay")  # given explicitly = not None
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")


def default_oracle_groups() -> tuple[str, ...]:
    """fd, torch and tensorflow (a missing one is reported not run), and jax when it is installed."""
    import importlib.util

    return ("fd", "torch", "tensorflow") + (("jax",) if importlib.util.find_spec("jax") is not None else ())


def loss_help() -> str:
    """--loss's help: every loss the reference accepts (read from ``reference_nn.LOSSES``, which the
    validation below also reads, so the two lists cannot drift apart), the default first."""
    import reference_nn as rn

    others = sorted(name for name in rn.LOSSES if name != DEFAULTS["loss"])
    return f"{DEFAULTS['loss']} (default), " + ", ".join(others)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options; those whose explicit use is checked for combinations default to None."""
    parser.add_argument("--dims", default="4-8-8-1", help="layer sizes n0-n1-...-nL (default 4-8-8-1)")
    parser.add_argument("--activations", help="one per layer, comma-separated (default relu,...,relu and the "
                        "loss's usual output activation, e.g. sigmoid for bce)")  # fmt: skip
    parser.add_argument("--loss", default=DEFAULTS["loss"], help=loss_help())
    parser.add_argument("--l2", type=float, default=0.0, help="penalty 0.5 * l2 * sum(W**2) (default 0)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULTS["optimizer"],
                        help="torch.optim semantics and defaults (adamw: weight decay 0.01 unless --weight-decay)")
    parser.add_argument("--lr", type=float, help=f"learning rate (default {DEFAULTS['lr']})")
    parser.add_argument("--momentum", type=float, help="sgd / rmsprop momentum in [0, 1) (default 0)")
    parser.add_argument("--nesterov", action="store_const", const=True, help="sgd Nesterov momentum (needs --momentum)")
    parser.add_argument("--weight-decay", type=float, help="coupled weight decay, torch's meaning (default 0)")
    parser.add_argument("--steps", type=int, default=1, help="optimizer steps for 'updated' (default 1)")
    parser.add_argument("--normalization", choices=("batch", "layer"),
                        help="BatchNorm / LayerNorm between LINEAR and each hidden activation (torch's eps, momentum)")
    parser.add_argument("--normalization-mode", choices=("train", "eval"),
                        help="batch statistics (train, default) or running statistics after one training pass (eval)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--batch-size", type=int, default=8, help="examples m (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracles", default=",".join(default_oracle_groups()),
                        help=f"comma-separated subset of {','.join(ORACLE_GROUPS)} (default all; jax when "
                             "installed)")  # fmt: skip
    parser.add_argument("--fd-method", choices=FD_METHODS,
                        help="numerical derivative of the fd oracle (default complex: exact to rounding)")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument("--plain", action="store_true",
                        help="plain text table on a terminal too (a pipe or a file always gets plain text)")


def parse_dims(text: str) -> tuple[int, ...]:
    """``"4-8-8-1"`` (or ``"4,8,8,1"``) -> ``(4, 8, 8, 1)``; every part must be an integer >= 1."""
    parts = [part.strip() for part in text.replace(",", "-").split("-")]
    bad = [part for part in parts if not (part.isdigit() and int(part) >= 1)]
    if bad:
        raise UsageError(f"--dims must be positive integers separated by '-' like 4-8-8-1, got {text!r} "
                         f"({bad[0]!r} is not a positive integer)")
    dims = tuple(int(part) for part in parts)
    if len(dims) < 2:
        raise UsageError(f"--dims needs at least an input and an output size (e.g. 4-8-8-1), got {text!r}")
    return dims


def _number(args: argparse.Namespace, option: str, low: float = 0.0, high: float = math.inf,
            high_open: bool = False) -> None:
    value = getattr(args, option)
    flag = "--" + option.replace("_", "-")
    if value is None:
        return
    in_range = math.isfinite(value) and low <= value and (value < high if high_open else value <= high)
    if not in_range:
        upper = f" and < {high:g}" if high_open else (f" and <= {high:g}" if math.isfinite(high) else "")
        raise UsageError(f"{flag} must be a finite number >= {low:g}{upper}, got {value!r}")


def check_combinations(args: argparse.Namespace, oracle_names: tuple[str, ...]) -> None:
    """Refuse options that the chosen optimizer, step count or oracles would ignore."""
    for option in ("momentum", "nesterov"):
        takes = MOMENTUM_OPTIMIZERS if option == "momentum" else ("sgd",)
        if getattr(args, option) is not None and args.optimizer not in takes:
            raise UsageError(f"--{option} applies to --optimizer {' / '.join(takes)} only; {args.optimizer} "
                             "ignores it")
    if args.normalization_mode is not None and args.normalization is None:
        raise UsageError(f"--normalization-mode {args.normalization_mode} needs --normalization batch or layer")
    if args.nesterov and not args.momentum:
        raise UsageError("--nesterov needs --momentum > 0 (Nesterov momentum with momentum 0 is plain sgd)")
    if args.steps == 0:
        given = [option for option in OPTIMIZER_OPTIONS if getattr(args, option) is not None]
        if given or args.optimizer != DEFAULTS["optimizer"]:
            flag = "--" + (given[0].replace("_", "-") if given else "optimizer")
            raise UsageError(f"{flag} has no effect with --steps 0 (no optimizer step is taken): drop it or set "
                             "--steps >= 1")
    if args.fd_method is not None and "fd" not in oracle_names:
        raise UsageError(f"--fd-method {args.fd_method} applies to the fd oracle, which --oracles "
                         f"{','.join(oracle_names)} does not include")
    if args.plain and args.json:
        raise UsageError("--plain chooses the text table's style; --json prints JSON: give one of them")


def build_config(args: argparse.Namespace) -> Any:
    """The ModelConfig from the crosscheck options, every name, number and combination validated;
    fills in the defaults of the options that default to None."""
    import reference_nn as rn
    from equivalence_tests import ops
    from equivalence_tests.config import ModelConfig, OptimizerConfig

    dims = parse_dims(args.dims)
    if args.loss not in rn.LOSSES:
        raise UsageError(f"--loss must be one of {', '.join(sorted(rn.LOSSES))}, got {args.loss!r}")
    if args.activations is None:  # relu between layers, the loss's canonical output activation last
        activations = ("relu",) * (len(dims) - 2) + (ops.valid_output_activations(args.loss)[0],)
    else:
        activations = parse_names(args.activations, "--activations")
    unknown = [name for name in activations if name not in rn.ACTIVATIONS]
    if unknown:
        raise UsageError(f"--activations: unknown {unknown}; known: {', '.join(sorted(rn.ACTIVATIONS))}")
    if len(activations) != len(dims) - 1:
        raise UsageError(
            f"--activations needs one name per layer: --dims {args.dims} has {len(dims) - 1} layers, "
            f"got {len(activations)} ({','.join(activations)})"
        )
    valid_last = ops.valid_output_activations(args.loss)
    if activations[-1] not in valid_last:  # e.g. relu before bce: outputs are not probabilities
        raise UsageError(f"--loss {args.loss} needs the last activation in {valid_last}, got {activations[-1]!r}")
    smallest = max(ops.op(args.loss).min_outputs, 2 if activations[-1] == "softmax" else 1)
    if dims[-1] < smallest:  # a softmax over one unit is the constant 1: every gradient would be 0
        raise UsageError(f"--loss {args.loss} with a {activations[-1]} output needs >= {smallest} outputs, "
                         f"got {dims[-1]} (the last of --dims)")  # fmt: skip
    for option in ("l2", "lr", "weight_decay"):
        _number(args, option)
    _number(args, "momentum", high=1.0, high_open=True)
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.steps < 0:
        raise UsageError(f"--steps must be >= 0, got {args.steps}")
    if args.seed < 0:  # numpy.random.default_rng refuses negative seeds
        raise UsageError(f"--seed must be an integer >= 0, got {args.seed}")
    oracle_names = parse_names(args.oracles, "--oracles")
    unknown = [name for name in oracle_names if name not in ORACLE_GROUPS]
    if unknown:
        raise UsageError(f"--oracles: unknown {unknown}; choose from {', '.join(ORACLE_GROUPS)}")
    check_combinations(args, oracle_names)
    settings = {option: DEFAULTS[option] if getattr(args, option) is None else getattr(args, option)
                for option in ("lr", "momentum", "weight_decay", "fd_method")}
    optimizer = OptimizerConfig(name=args.optimizer, learning_rate=settings["lr"], momentum=settings["momentum"],
                                nesterov=bool(args.nesterov), weight_decay=settings["weight_decay"])  # fmt: skip
    if args.optimizer in ("adamw", "rmsprop", "adagrad"):  # torch.optim's defaults for what has no option here
        defaults = {"adamw": {"weight_decay": 0.01 if args.weight_decay is None else settings["weight_decay"]},
                    "rmsprop": {"alpha": 0.99, "eps": 1e-8}, "adagrad": {"eps": 1e-10}}[args.optimizer]
        optimizer = dataclasses.replace(optimizer, **defaults)
    args.fd_method = settings["fd_method"]
    if args.normalization is not None:
        if len(dims) < 3:
            raise UsageError(f"--normalization {args.normalization} needs a hidden layer (it goes between LINEAR "
                             f"and each hidden activation), but --dims {args.dims} has none")
        if args.normalization == "batch" and args.batch_size < 2:
            raise UsageError(f"--normalization batch needs --batch-size >= 2 (batch statistics), got {args.batch_size}")
    return ModelConfig(dims, activations, args.loss, l2=args.l2, optimizer=optimizer, steps=args.steps,
                       dtype=args.dtype, normalization=args.normalization,
                       normalization_mode=args.normalization_mode or "train")  # fmt: skip


def describe_optimizer(config: Any) -> str:
    """``sgd(lr=0.1)``, ``sgd(lr=0.1, momentum=0.9, nesterov, weight_decay=0.01)``,
    ``adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08)``: every hyper-parameter in force."""
    opt = config.optimizer
    parts = [f"lr={opt.learning_rate:g}"]
    if opt.name in ("adam", "adamw"):
        parts += [f"betas=({opt.beta1:g}, {opt.beta2:g})", f"eps={opt.eps:g}"]
    elif opt.name in ("rmsprop", "adagrad"):
        parts += [f"alpha={opt.alpha:g}" if opt.name == "rmsprop" else f"lr_decay={opt.lr_decay:g}", f"eps={opt.eps:g}"]
        parts += [f"momentum={opt.momentum:g}"] if opt.momentum else []
    elif opt.momentum:
        parts.append(f"momentum={opt.momentum:g}" + (", nesterov" if opt.nesterov else ""))
    if opt.weight_decay:
        parts.append(f"weight_decay={opt.weight_decay:g}")
    return f"{opt.name}({', '.join(parts)})"


def describe_settings(config: Any) -> str:
    """The model and training settings in one line, every one in force (the header of the report)."""
    dims = "-".join(str(n) for n in config.layer_dims)
    training = f"{describe_optimizer(config)} x{config.steps}" if config.steps else "no optimizer step"
    norm = f" {config.normalization}norm({config.normalization_mode})" if config.normalization else ""
    return f"{dims} {','.join(config.activations)}{norm} {config.loss} l2={config.l2:g} {training} {config.dtype}"
