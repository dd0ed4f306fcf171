"""``refnn``: the command line, one module per command.

``refnn crosscheck``   (crosscheck.py) build a model, run the reference, finite differences, torch,
                       TensorFlow and JAX on it and print a side-by-side table of errors (``--json`` for machines).
``refnn check``        (check.py) check your own loss and gradient functions (or a layer object)
                       against numerical derivatives.
``refnn conventions``  (conventions.py) where the frameworks' conventions differ (measured now).
``refnn train``        (train.py) train the worked examples and save their plots.

Shared pieces: common.py (exit statuses, the usage error, option parsing, loading user modules) and
output.py (progress, tables, JSON). Exit status: 0 everything agrees, 1 a gradient or an oracle
disagrees, 2 bad usage (one line on stderr, no traceback), 3 (check) the user's code raised, 4
(crosscheck) nothing was compared, 5 (check) INCONCLUSIVE. torch, TensorFlow and JAX are imported
only by the commands that need them, and a missing framework is reported, not fatal.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from equivalence_tests.cli import check, conventions, crosscheck, train
from equivalence_tests.cli.check import verdict_lines
from equivalence_tests.cli.common import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, UsageError
from equivalence_tests.cli.output import progress, quiet_native_stderr
from equivalence_tests.cli.threads import limited_threads
from equivalence_tests.cli.train import EXAMPLES, EXAMPLES_DIR

__all__ = [
    "EXAMPLES", "EXAMPLES_DIR", "EXIT_DISAGREE", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main",
    "progress", "quiet_native_stderr", "verdict_lines",
]  # fmt: skip


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reference-nn")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from reference_nn import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refnn",
        description="Check hand-written gradients, and cross-check a NumPy reference network against finite "
        "differences, torch, TensorFlow and JAX."
    )
    parser.add_argument("--version", action="version", version=f"refnn (reference-nn) {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (crosscheck, check, conventions, train):
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in ("crosscheck", "check"):  # BLAS threads fighting other processes: 5-40x slower
            with limited_threads():
                return args.handler(args)
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
