"""Where the examples write their plots, and the one check for the optional matplotlib."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("refnn-output")  # relative: in the working directory
CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root when run from a source checkout
DOCS_IMAGES = CHECKOUT / "docs" / "images"


class ExampleUsageError(Exception):
    """Bad usage or a missing optional dependency: one line, exit status 2, no traceback."""


INSTALL_PLOTS = 'pip install "reference-nn[plots]"'
# The one line a light (NumPy-only) install prints instead of drawing.
PLOTS_SKIPPED = f"plots skipped: matplotlib is not installed: {INSTALL_PLOTS}"


def add_output_options(parser: argparse.ArgumentParser, files: str) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for {files} (default {DEFAULT_OUT}/ in the working directory)")  # fmt: skip
    parser.add_argument("--update-docs", action="store_true",
                        help=f"write {files} into docs/images/ of the checkout (the README images)")  # fmt: skip
    parser.add_argument("--no-plots", action="store_true",
                        help="train and print, draw nothing (the default when matplotlib is not installed)")


def plots_wanted(args: argparse.Namespace) -> bool:
    """Whether to draw: yes unless --no-plots. Without matplotlib, an explicit --out / --update-docs is an
    error (the user asked for files that cannot be made, before any training); otherwise the example runs,
    prints :data:`PLOTS_SKIPPED` once and draws nothing (the light install runs every example)."""
    if args.no_plots and (args.out is not None or args.update_docs):
        raise ExampleUsageError("--no-plots draws nothing; do not combine it with --out or --update-docs")
    if args.no_plots:
        return False
    if matplotlib_available():
        return True
    if args.out is not None or args.update_docs:
        require_matplotlib()
    print(PLOTS_SKIPPED)
    return False


def matplotlib_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def output_folder(args: argparse.Namespace) -> Path:
    """The folder named by ``--out`` / ``--update-docs`` (created); the default never lies in the repository."""
    if args.update_docs and args.out is not None:
        raise ExampleUsageError(f"--update-docs writes {DOCS_IMAGES}; do not combine it with --out {args.out}")
    if args.update_docs:
        if not (CHECKOUT / "pyproject.toml").is_file() or not DOCS_IMAGES.is_dir():
            raise ExampleUsageError(f"--update-docs needs a source checkout with docs/images/; {CHECKOUT} is not one")
        return DOCS_IMAGES
    folder = args.out if args.out is not None else DEFAULT_OUT
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def require_matplotlib() -> None:
    """Fail before any work starts, in one line naming the extra to install."""
    if not matplotlib_available():
        raise ExampleUsageError(f"the plots need matplotlib, which is not installed: {INSTALL_PLOTS}")


def pyplot() -> Any:
    """matplotlib.pyplot with the non-interactive Agg backend (no display needed)."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_script(main: Any, prog: str) -> int:
    """``raise SystemExit(run_script(main, "two_moons"))``: usage errors as one line, exit status 2."""
    import sys

    try:
        return int(main())
    except ExampleUsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
