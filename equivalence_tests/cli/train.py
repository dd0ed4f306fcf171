"""``refnn train``: train the worked examples (``reference_nn.examples``) and save their plots.

Plots go to ``--out`` (default ``refnn-output/`` in the working directory); ``--update-docs``
refreshes the committed images in ``docs/images/`` of a source checkout. The examples ship inside
the package, so a wheel install runs them. Without matplotlib (the ``plots`` extra: a NumPy-only
install) every example still trains and prints, and one line says the plots were skipped; an
explicit ``--out`` / ``--update-docs`` then is an error, before any training starts."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from equivalence_tests.cli.common import EXIT_OK, UsageError
from equivalence_tests.cli.output import spinner

# command-line name -> (module in reference_nn.examples, whether it draws plots)
EXAMPLES = {
    "two-two-two": ("mazur_2_2_2", False),
    "classifier": ("deep_classifier", True),
    "moons": ("two_moons", True),
    "step-size": ("step_size", True),
}
# The folder of my_layer.py, the user-style layer that `refnn check` examples use (source checkout only).
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def command_train(args: argparse.Namespace) -> int:
    from reference_nn.examples._output import (
        DEFAULT_OUT,
        PLOTS_SKIPPED,
        ExampleUsageError,
        matplotlib_available,
        require_matplotlib,
    )

    names = list(EXAMPLES) if args.example == "all" else [args.example]
    if args.update_docs and args.out is not None:
        raise UsageError(f"--update-docs writes docs/images/ of the checkout; do not combine it with --out {args.out}")
    plots_asked = args.update_docs or args.out is not None
    skip_plots = any(EXAMPLES[name][1] for name in names) and not matplotlib_available()
    if skip_plots and plots_asked:
        try:
            require_matplotlib()  # the user asked for files that cannot be drawn: say so before training
        except ExampleUsageError as error:
            raise UsageError(str(error)) from None
    if skip_plots:
        out = ["--no-plots"]
    elif args.update_docs:
        out = ["--update-docs"]
    else:
        out = ["--out", str(args.out if args.out is not None else DEFAULT_OUT)]
    status = EXIT_OK
    for name in names:
        module_name, plots = EXAMPLES[name]
        module = importlib.import_module(f"reference_nn.examples.{module_name}")
        argv = (["--quick"] if args.quick else []) + (out if plots else [])
        print(f"== {name} (python -m reference_nn.examples.{module_name} {' '.join(argv)})".replace(" )", ")"))
        try:
            with spinner(f"training {name}"):
                status = max(status, module.main(argv))
        except ExampleUsageError as error:
            raise UsageError(str(error)) from None
    if skip_plots:
        print(PLOTS_SKIPPED)
    return status


def add_parser(commands: Any) -> None:
    train = commands.add_parser(
        "train", help="train the worked examples and save their plots (skipped, in one line, without matplotlib)"
    )
    train.add_argument("--example", choices=(*EXAMPLES, "all"), default="all")
    train.add_argument("--out", type=Path, help="folder for the plots (default refnn-output/ in the working directory)")
    train.add_argument("--update-docs", action="store_true",
                       help="write the plots into docs/images/ of the checkout (the README images)")  # fmt: skip
    train.add_argument("--quick", action="store_true", help="small, fast versions")
    train.set_defaults(handler=command_train)
