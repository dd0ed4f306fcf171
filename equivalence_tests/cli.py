"""``refnn``: the command line.

``refnn crosscheck``   build a model, run the reference, finite differences, torch and TensorFlow on it
                       and print a side-by-side table of errors (``--json`` for machines).
``refnn check``        check your own loss and gradient functions (or a layer object) against
                       numerical derivatives.
``refnn conventions``  where the frameworks' conventions differ (measured now).
``refnn train``        train the worked examples and save their plots.

Exit status: 0 everything agrees, 1 a gradient or an oracle disagrees, 2 bad usage (one line on
stderr, no traceback). torch and TensorFlow are imported only by the commands that need them,
and a missing framework is reported, not fatal.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2
METHODS = ("auto", "central", "richardson", "complex", "directional")
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
# name -> (file in examples/, whether it takes --out)
EXAMPLES = {
    "two-two-two": ("mazur_2_2_2.py", False),
    "classifier": ("deep_classifier.py", True),
    "moons": ("two_moons.py", True),
    "step-size": ("step_size.py", True),
}


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


# ------------------------------------------------------------------------ argument parsing
def parse_sizes(text: str, what: str, separators: str = ",-x") -> tuple[int, ...]:
    """``"4-8-8-1"``, ``"4,8,8,1"`` or ``"3x5"`` -> ``(4, 8, 8, 1)``; every size must be an int >= 1."""
    normalized = text.strip()
    for separator in separators:
        normalized = normalized.replace(separator, " ")
    parts = normalized.split()
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        raise UsageError(f"{what} must be positive integers like 4-8-8-1 or 3x5, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise UsageError(f"{what} must be positive integers like 4-8-8-1 or 3x5, got {text!r}")
    return sizes


def parse_names(text: str, what: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise UsageError(f"{what} must be a comma-separated list of names, got {text!r}")
    return names


def parse_shape_option(text: str) -> tuple[str, tuple[int, ...]]:
    """``"W1=4x3"`` -> ``("W1", (4, 3))``."""
    name, equals, shape = text.partition("=")
    if not equals or not name.strip():
        raise UsageError(f"--shape must look like NAME=4x3 (e.g. --shape W1=4x3 --shape b1=4x1), got {text!r}")
    return name.strip(), parse_sizes(shape, f"--shape {name.strip()}", separators="x,")


# ------------------------------------------------------------------------ loading user code
def load_object(spec: str, what: str) -> Any:
    """``"module:name"``, ``"package.module:Class.attr"`` or ``"path/to/file.py:name"`` -> the object.

    The current directory is importable (as with ``python -m``)."""
    module_name, colon, attribute = spec.rpartition(":")
    if not colon or not module_name or not attribute:
        raise UsageError(f"{what} must look like MODULE:NAME (e.g. my_layer:loss), got {spec!r}")
    module = _import_user_module(module_name)
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            public = sorted(name for name in vars(module) if not name.startswith("_"))
            raise UsageError(
                f"{what}: module {module_name!r} has no attribute {attribute!r} (it defines: {', '.join(public)})"
            )
        value = getattr(value, part)
    return value


def _import_user_module(module_name: str) -> Any:
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise UsageError(f"module file {module_name!r} does not exist")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        return _run_user_import(module_name, lambda: spec.loader.exec_module(module)) or module
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    return _run_user_import(module_name, lambda: importlib.import_module(module_name))


def _run_user_import(module_name: str, do_import: Callable[[], Any]) -> Any:
    try:
        return do_import()
    except ModuleNotFoundError as error:
        if error.name and module_name.split(".")[0] == error.name.split(".")[0]:
            raise UsageError(
                f"cannot import module {module_name!r}: not found from {os.getcwd()} "
                f"(run refnn from the folder that holds it, or give a file path like path/to/{module_name}.py:NAME)"
            ) from None
        raise UsageError(f"importing {module_name!r} failed: {error}") from None
    except Exception as error:  # the user's module raised while importing: say so in one line
        raise UsageError(f"importing {module_name!r} raised {type(error).__name__}: {error}") from None


# ------------------------------------------------------------------------ progress reporting
@contextlib.contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[str], None]]:
    """Yield ``advance(label)``: call it when one of ``total`` units of work starts.

    A rich progress bar on a terminal when rich is installed, else tqdm, else one line per unit on
    stderr; nothing at all when stderr is not a terminal (pipes, CI logs, ``--json``)."""
    if not sys.stderr.isatty():
        yield lambda label: None
        return
    try:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        Progress = None
    if Progress is not None:
        from rich.console import Console

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(description, total=total)
            started = [False]

            def advance_rich(label: str) -> None:
                if started[0]:
                    bar.advance(task)
                started[0] = True
                bar.update(task, description=f"{description}: {label}")

            yield advance_rich
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        with tqdm(total=total, desc=description, file=sys.stderr, leave=False) as bar:
            started = [False]

            def advance_tqdm(label: str) -> None:
                if started[0]:
                    bar.update(1)
                started[0] = True
                bar.set_postfix_str(label)

            yield advance_tqdm
        return
    counter = [0]

    def advance_plain(label: str) -> None:
        counter[0] += 1
        print(f"[{counter[0]}/{total}] {description}: {label}", file=sys.stderr, flush=True)

    yield advance_plain


# ------------------------------------------------------------------------ refnn crosscheck
ORACLE_GROUPS = ("fd", "torch", "tensorflow")  # what --oracles accepts; the reference always runs
DEFAULT_LOSS = "bce"


def build_config(args: argparse.Namespace) -> Any:
    """The ModelConfig from the crosscheck options, every name and number validated."""
    import reference_nn as rn
    from equivalence_tests import ops
    from equivalence_tests.config import ModelConfig, OptimizerConfig

    dims = parse_sizes(args.dims, "--dims")
    if len(dims) < 2:
        raise UsageError(f"--dims needs at least an input and an output size (e.g. 4-8-8-1), got {args.dims!r}")
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
    for option in ("l2", "lr", "momentum", "weight_decay"):
        value = getattr(args, option)
        if not (np.isfinite(value) and value >= 0):
            raise UsageError(f"--{option.replace('_', '-')} must be a finite number >= 0, got {value}")
    for option in ("batch_size", "steps"):
        if getattr(args, option) < (1 if option == "batch_size" else 0):
            raise UsageError(f"--{option.replace('_', '-')} must be >= {1 if option == 'batch_size' else 0}")
    optimizer = OptimizerConfig(name=args.optimizer, learning_rate=args.lr, momentum=args.momentum,
                                nesterov=args.nesterov, weight_decay=args.weight_decay)  # fmt: skip
    return ModelConfig(dims, activations, args.loss, l2=args.l2, optimizer=optimizer, steps=args.steps,
                       dtype=args.dtype)  # fmt: skip


def select_oracles(names: tuple[str, ...], fd_method: str) -> list[Any]:
    """Oracle objects for ``--oracles``; the reference is not among them (it is what they are compared with)."""
    from equivalence_tests.oracles import FiniteDifferenceOracle, TensorFlowOracle, TorchOracle

    unknown = [name for name in names if name not in ORACLE_GROUPS]
    if unknown:
        raise UsageError(f"--oracles: unknown {unknown}; choose from {', '.join(ORACLE_GROUPS)}")
    oracles: list[Any] = []
    if "fd" in names:
        oracles.append(FiniteDifferenceOracle(fd_method))
    if "torch" in names:
        oracles += [TorchOracle("functional"), TorchOracle("layers")]
    if "tensorflow" in names:
        oracles += [TensorFlowOracle("functional"), TensorFlowOracle("keras")]
    return oracles


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool) -> Iterator[None]:
    """Silence file descriptor 2 while TensorFlow initializes: its C++ runtime logs (oneDNN, absl)
    bypass Python and TF_CPP_MIN_LOG_LEVEL does not catch them all. Python-level errors still surface
    as exceptions, which are reported after the descriptor is restored."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


ROW_PREFIX = {"forward": "forward", "cost": "cost", "gradient": "grad", "updated_params": "updated"}


def comparison_row(comparison: Any) -> tuple[str, dict[str, Any]]:
    """``("grad W1", {...})``: one row of the report from a ``tolerances.Comparison``."""
    label = ROW_PREFIX[comparison.quantity]
    if comparison.quantity in ("gradient", "updated_params"):
        label += f" {comparison.name}"
    return label, {
        "quantity": comparison.quantity, "max_abs": comparison.max_abs_error, "max_rel": comparison.max_rel_error,
        "worst_index": list(comparison.worst_index), "reference_value": comparison.reference_value,
        "oracle_value": comparison.oracle_value, "rtol": comparison.tolerance.rtol,
        "atol": comparison.tolerance.atol, "reason": comparison.tolerance.reason, "passed": comparison.passed,
    }  # fmt: skip


def run_crosscheck(config: Any, seed: int, batch_size: int, oracles: list[Any]) -> dict[str, Any]:
    """Run the reference and every oracle; compare each quantity with equivalence_tests.tolerances
    (normalized errors, the tolerance table). Returns the JSON-ready report."""
    from equivalence_tests import ops, tolerances
    from equivalence_tests.oracles import ReferenceOracle

    params, X, Y = ops.example_inputs(config, seed=seed, m=batch_size)
    reference = ReferenceOracle().run(config, params, X, Y)
    report: dict[str, Any] = {
        "config": config.to_dict(), "description": config.describe(), "seed": seed, "batch_size": batch_size,
        "versions": {"numpy": np.__version__, "reference_nn": reference.framework_version},
        "oracles": {}, "unavailable": {}, "errors": {},
    }  # fmt: skip
    with progress(len(oracles), "cross-checking") as advance:
        for oracle in oracles:
            advance(oracle.name)
            with quiet_native_stderr(oracle.framework == "tensorflow"):
                available = oracle.available
            if not available:
                report["unavailable"][oracle.name] = oracle.unavailable_reason
                continue
            try:
                with quiet_native_stderr(oracle.framework == "tensorflow"):
                    result = oracle.run(config, params, X, Y)
            except NotImplementedError as error:  # a path that cannot express this model: say so, not fail
                report["unavailable"][oracle.name] = f"{oracle.name} cannot run this model: {error}"
                continue
            except Exception as error:  # an oracle crash is a disagreement to report, not a traceback
                report["errors"][oracle.name] = f"{type(error).__name__}: {error}"
                continue
            report["versions"][oracle.framework] = result.framework_version
            comparisons = tolerances.compare_results(reference, result, config, initial_params=params)
            rows = dict(comparison_row(comparison) for comparison in comparisons)
            if not config.steps:
                rows = {label: row for label, row in rows.items() if row["quantity"] != "updated_params"}
            report["oracles"][oracle.name] = {"rows": rows, "notes": list(result.notes),
                                              "passed": all(row["passed"] for row in rows.values())}  # fmt: skip
    report["passed"] = not report["errors"] and all(entry["passed"] for entry in report["oracles"].values())
    return report


def _tolerance_summary(report: dict[str, Any]) -> list[str]:
    """One line per oracle family: the rtol of each quantity (the reasons are in --json)."""
    lines = {}
    for name, entry in report["oracles"].items():
        family = name.split("/")[0]
        by_quantity = {row["quantity"]: row["rtol"] for row in entry["rows"].values()}
        lines[family] = f"  {family}: " + ", ".join(f"{quantity} {rtol:g}" for quantity, rtol in by_quantity.items())
    return ["tolerances (rtol on the normalized error; reasons in --json):", *lines.values()] if lines else []


def format_crosscheck(report: dict[str, Any], use_rich: bool) -> str:
    """The side-by-side table (one column per oracle: max abs / max rel error and the verdict)."""
    oracle_names = list(report["oracles"])
    labels = list(next(iter(report["oracles"].values()))["rows"]) if oracle_names else []
    header = ["quantity", *[f"{name}\nabs / rel" for name in oracle_names]]
    body = []
    for label in labels:
        cells = [label]
        for name in oracle_names:
            row = report["oracles"][name]["rows"][label]
            verdict = "ok" if row["passed"] else "FAIL"
            cells.append(f"{row['max_abs']:.1e} / {row['max_rel']:.1e} {verdict}")
        body.append(cells)
    title = f"refnn crosscheck: {report['description']}, batch {report['batch_size']}, seed {report['seed']}"
    footer = [
        "versions: " + ", ".join(f"{name} {version}" for name, version in report["versions"].items()),
        *[f"not run: {reason}" for reason in report["unavailable"].values()],
        *[f"ERROR {name}: {message}" for name, message in report["errors"].items()],
        *[f"note {name}: {'; '.join(entry['notes'])}" for name, entry in report["oracles"].items() if entry["notes"]],
        *_tolerance_summary(report),
        "RESULT: " + ("all oracles agree with the reference" if report["passed"] else "DISAGREEMENT (see FAIL/ERROR)"),
    ]
    if use_rich:
        return _rich_table(title, header, body, footer)
    return "\n".join([title, _plain_table(header, body), *footer])


def _plain_table(header: list[str], body: list[list[str]]) -> str:
    header = [cell.replace("\n", " ") for cell in header]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *body]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _rich_table(title: str, header: list[str], body: list[list[str]], footer: list[str]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for position, column in enumerate(header):
        table.add_column(column, justify="left" if position == 0 else "right", no_wrap=True)
    for row in body:
        table.add_row(*[cell.replace("FAIL", "[bold red]FAIL[/]") for cell in row])
    console = Console(record=True, width=200 if not sys.stdout.isatty() else None, file=io.StringIO())
    console.print(table)
    for line in footer:
        console.print(line, markup=False, highlight=False)
    text = console.export_text(styles=sys.stdout.isatty())
    return "\n".join(line.rstrip() for line in text.splitlines())  # the fixed width pads every line


def _rich_available() -> bool:
    return importlib.util.find_spec("rich") is not None


def command_crosscheck(args: argparse.Namespace) -> int:
    config = build_config(args)
    oracles = select_oracles(parse_names(args.oracles, "--oracles"), args.fd_method)
    try:
        report = run_crosscheck(config, args.seed, args.batch_size, oracles)
    except ValueError as error:  # the config itself is invalid for the reference (e.g. softmax over 1 unit)
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(report, indent=2, default=_json_default))
    else:
        print(format_crosscheck(report, use_rich=_rich_available() and not args.plain))
    return EXIT_OK if report["passed"] else EXIT_DISAGREE


# ------------------------------------------------------------------------ refnn check
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


def build_params(args: argparse.Namespace) -> dict[str, np.ndarray]:
    """From ``--params FILE.npz`` and/or ``--shape NAME=AxB`` (seeded standard normal, ``--dtype``)."""
    shapes = dict(parse_shape_option(text) for text in args.shape)
    if args.params:
        params = load_npz_params(args.params)
        for name, shape in shapes.items():  # --shape with --params: a statement about the file
            if name not in params:
                raise UsageError(f"--params {args.params} has no key {name!r} (keys: {', '.join(sorted(params))})")
            if params[name].shape != shape:
                raise UsageError(
                    f"--params {args.params}: {name!r} has shape {params[name].shape}, --shape says {shape}"
                )
        return params
    if not shapes:
        raise UsageError("give the parameters: --params FILE.npz, or shapes like --shape W1=4x3 --shape b1=4x1")
    rng = np.random.default_rng(args.seed)
    return {name: rng.standard_normal(shape).astype(args.dtype) for name, shape in shapes.items()}


def _describe_params(params: dict[str, np.ndarray]) -> str:
    return ", ".join(f"{name} {value.shape}" for name, value in params.items())


def preflight(loss: Callable, gradient: Callable, params: dict[str, np.ndarray], names: tuple[str, str]) -> None:
    """Call ``loss(params)`` and ``gradient(params)`` once, turning a missing key or a shape error in the
    user's code into one clear line (the check itself would bury it under a traceback)."""
    for function, name in zip((loss, gradient), names, strict=True):
        try:
            function({key: value.copy() for key, value in params.items()})
        except KeyError as error:
            raise UsageError(
                f"{name}(params) looked up key {error} that the parameters do not have "
                f"(they have: {_describe_params(params)})"
            ) from None
        except (ValueError, TypeError, IndexError) as error:
            raise UsageError(
                f"{name}(params) raised {type(error).__name__}: {error} (wrong shapes? parameters: "
                f"{_describe_params(params)})"
            ) from None


def make_layer(obj: Any, spec: str) -> Any:
    """A layer instance from ``obj``: an object with forward/backward, or a class/factory taking no arguments."""
    if hasattr(obj, "forward") and hasattr(obj, "backward") and not isinstance(obj, type):
        return obj
    if callable(obj):
        try:
            made = obj()
        except TypeError as error:
            raise UsageError(f"{spec} must be a layer object or a class/function of no arguments: {error}") from None
        if hasattr(made, "forward") and hasattr(made, "backward"):
            return made
    raise UsageError(f"{spec} is not a layer: expected an object with forward(x) and backward(dy), got {obj!r:.80}")


def command_check(args: argparse.Namespace) -> int:
    from reference_nn import gradcheck

    tolerances = {key: value for key, value in (("rtol", args.rtol), ("atol", args.atol)) if value is not None}
    if len(args.targets) == 1:
        if args.input_shape is None:
            raise UsageError("checking a layer needs --input-shape N_INxM (e.g. --input-shape 3x5)")
        input_shape = parse_sizes(args.input_shape, "--input-shape", separators="x,")
        layer = make_layer(load_object(args.targets[0], "LAYER"), args.targets[0])
        x = np.random.default_rng(args.seed).standard_normal(input_shape).astype(args.dtype)
        try:
            with _spinner(f"checking {args.targets[0]}"):
                report = gradcheck.check_layer(layer, x, method=args.method, seed=args.seed, **tolerances)
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{args.targets[0]} with input of shape {input_shape}: {error}") from None
    elif len(args.targets) == 2:
        loss = load_object(args.targets[0], "LOSS")
        gradient = load_object(args.targets[1], "GRAD")
        for function, spec in zip((loss, gradient), args.targets, strict=True):
            if not callable(function):
                raise UsageError(f"{spec} must be a function of params, got {type(function).__name__}")
        params = build_params(args)
        names = tuple(spec.rpartition(":")[2] for spec in args.targets)
        preflight(loss, gradient, params, names)  # type: ignore[arg-type]
        try:
            with _spinner(f"checking {args.targets[1]} against {args.method} differences of {args.targets[0]}"):
                report = gradcheck.check_gradients(
                    loss, gradient, params, method=args.method, seed=args.seed, **tolerances
                )
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{args.targets[1]}: {error}") from None
    else:
        raise UsageError(f"give MODULE:LOSS MODULE:GRAD, or one MODULE:LAYER; got {len(args.targets)} targets")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=_json_default))
    else:
        print(report)
        print(verdict_lines(report))
    return EXIT_OK if report.passed else EXIT_DISAGREE


def verdict_lines(report: Any) -> str:
    """One line per wrong parameter naming the element, or one PASS line."""
    if report.passed:
        extra = " (some elements inconclusive at a kink; see the table)" if report.inconclusive else ""
        return f"PASS: {len(report.results)} gradient(s) agree with numerical derivatives{extra}"
    lines = []
    for name in report.failed_parameters:
        result = report[name]
        where = "along a random direction" if result.worst_index is None else f"at element {result.worst_index}"
        lines.append(
            f"WRONG: gradient of {name!r} {where}: hand-written {result.analytic:.6g}, numerical "
            f"{result.numeric:.6g} ({result.n_failed} of {result.n_elements} elements outside tolerance)"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def _spinner(message: str) -> Iterator[None]:
    """A rich status spinner on a terminal; nothing otherwise."""
    if sys.stderr.isatty():
        try:
            from rich.console import Console
        except ImportError:
            print(f"{message} ...", file=sys.stderr, flush=True)
        else:
            with Console(stderr=True).status(message):
                yield
            return
    yield


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# ------------------------------------------------------------------------ refnn conventions / train
def command_conventions(args: argparse.Namespace) -> int:
    from equivalence_tests import conventions

    return conventions.main(["--json"] if args.json else [])


def _load_example(file_name: str, examples_dir: Path) -> Any:
    path = examples_dir / file_name
    if not path.is_file():
        raise UsageError(
            f"example {file_name} not found in {examples_dir} (refnn train needs the examples/ folder of a "
            "source checkout; pass --examples-dir)"
        )
    spec = importlib.util.spec_from_file_location(f"refnn_example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command_train(args: argparse.Namespace) -> int:
    names = list(EXAMPLES) if args.example == "all" else [args.example]
    status = EXIT_OK
    for name in names:
        file_name, takes_out = EXAMPLES[name]
        module = _load_example(file_name, Path(args.examples_dir))
        argv = (["--quick"] if args.quick else []) + (["--out", str(args.out)] if takes_out and args.out else [])
        print(f"== {name} (examples/{file_name} {' '.join(argv)})".rstrip())
        with _spinner(f"training {name}"):
            status = max(status, module.main(argv))
    return status


# ------------------------------------------------------------------------ the parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refnn", description="Cross-check hand-written gradients against finite differences, torch and TensorFlow."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    crosscheck = commands.add_parser(
        "crosscheck", help="the reference vs finite differences, torch and TensorFlow on one model",
        description="Build a model, run the reference and every available oracle on it, and print the max abs / "
        "rel error of the forward output, cost, each gradient and each updated parameter.",
    )  # fmt: skip
    crosscheck.add_argument("--dims", default="4-8-8-1", help="layer sizes n0-n1-...-nL (default 4-8-8-1)")
    crosscheck.add_argument("--activations", help="one per layer, comma-separated (default relu,...,relu and the "
                            "loss's usual output activation, e.g. sigmoid for bce)")  # fmt: skip
    crosscheck.add_argument("--loss", default=DEFAULT_LOSS, help="bce (default), bce_with_logits, mse, "
                            "cross_entropy, softmax_cross_entropy")  # fmt: skip
    crosscheck.add_argument("--l2", type=float, default=0.0, help="penalty 0.5 * l2 * sum(W**2) (default 0)")
    crosscheck.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    crosscheck.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    crosscheck.add_argument("--momentum", type=float, default=0.0)
    crosscheck.add_argument("--nesterov", action="store_true")
    crosscheck.add_argument("--weight-decay", type=float, default=0.0)
    crosscheck.add_argument("--steps", type=int, default=1, help="optimizer steps for 'updated' (default 1)")
    crosscheck.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    crosscheck.add_argument("--batch-size", type=int, default=8, help="examples m (default 8)")
    crosscheck.add_argument("--seed", type=int, default=0)
    crosscheck.add_argument("--oracles", default=",".join(ORACLE_GROUPS),
                            help=f"comma-separated subset of {','.join(ORACLE_GROUPS)} (default all)")  # fmt: skip
    crosscheck.add_argument("--fd-method", choices=("auto", "complex", "richardson", "central"), default="auto")
    crosscheck.add_argument("--json", action="store_true", help="print a JSON report")
    crosscheck.add_argument("--plain", action="store_true", help="plain text table even if rich is installed")
    crosscheck.set_defaults(handler=command_crosscheck)

    check = commands.add_parser(
        "check", help="check your own loss/gradient functions or a layer object",
        description="MODULE:LOSS MODULE:GRAD checks grad(params) -> dict against numerical derivatives of "
        "loss(params) -> float; a single MODULE:LAYER checks a layer's backward (forward(x), backward(dy)).",
    )  # fmt: skip
    check.add_argument("targets", nargs="+", metavar="MODULE:NAME", help="MODULE:LOSS MODULE:GRAD, or MODULE:LAYER")
    check.add_argument("--params", metavar="FILE.npz", help="parameters (loaded without pickle)")
    check.add_argument("--shape", action="append", default=[], metavar="NAME=AxB",
                       help="generate a parameter of this shape (seeded standard normal); repeatable")  # fmt: skip
    check.add_argument("--input-shape", metavar="N_INxM", help="input shape for a layer check, e.g. 3x5")
    check.add_argument("--method", choices=METHODS, default="auto", help="numerical derivative (default auto)")
    check.add_argument("--rtol", type=float, help="relative tolerance (default: derived from dtype and method)")
    check.add_argument("--atol", type=float, help="absolute tolerance (default: derived from dtype and method)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="of generated arrays")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=command_check)

    conventions = commands.add_parser("conventions", help="the framework conventions table (measured now)")
    conventions.add_argument("--json", action="store_true")
    conventions.set_defaults(handler=command_conventions)

    train = commands.add_parser("train", help="train the worked examples and save their plots")
    train.add_argument("--example", choices=(*EXAMPLES, "all"), default="all")
    train.add_argument("--out", type=Path, help="folder for the plots (default: the example's, docs/images)")
    train.add_argument("--quick", action="store_true", help="small, fast versions")
    train.add_argument("--examples-dir", default=str(EXAMPLES_DIR), help=f"default {EXAMPLES_DIR}")
    train.set_defaults(handler=command_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except UsageError as error:
        print(f"refnn {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("refnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
