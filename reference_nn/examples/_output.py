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


def add_output_options(parser: argparse.ArgumentParser, files: str) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for {files} (default {DEFAULT_OUT}/ in the working directory)")  # fmt: skip
    parser.add_argument("--update-docs", action="store_true",
                        help=f"write {files} into docs/images/ of the checkout (the README images)")  # fmt: skip


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
    if importlib.util.find_spec("matplotlib") is None:
        raise ExampleUsageError('the plots need matplotlib, which is not installed: pip install "reference-nn[plots]"')


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
