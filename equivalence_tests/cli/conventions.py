"""``refnn conventions``: where the frameworks' conventions differ, measured now: one line per convention
on the terminal by default, the full table with ``--markdown`` (what docs/conventions.md holds), or JSON."""

from __future__ import annotations

import argparse
from typing import Any


def command_conventions(args: argparse.Namespace) -> int:
    from equivalence_tests import conventions

    return conventions.main(["--json"] if args.json else [] if args.markdown else ["--summary"])


def add_parser(commands: Any) -> None:
    conventions = commands.add_parser(
        "conventions", help="where torch, TensorFlow/Keras and JAX differ from the reference (measured now)",
        description="Measure each convention now and print one line per convention: which frameworks differ "
        "from the reference and the values that differ. --markdown prints the full table (setups, every case, "
        "what the harness does, tolerances: docs/conventions.md), --json the same for machines.",
    )  # fmt: skip
    style = conventions.add_mutually_exclusive_group()
    style.add_argument("--markdown", action="store_true", help="the full Markdown table")
    style.add_argument("--json", action="store_true", help="the full report as JSON")
    conventions.set_defaults(handler=command_conventions)
