"""``refnn conventions``: where the frameworks' conventions differ, measured now."""

from __future__ import annotations

import argparse
from typing import Any


def command_conventions(args: argparse.Namespace) -> int:
    from equivalence_tests import conventions

    return conventions.main(["--json"] if args.json else [])


def add_parser(commands: Any) -> None:
    conventions = commands.add_parser("conventions", help="the framework conventions table (measured now)")
    conventions.add_argument("--json", action="store_true")
    conventions.set_defaults(handler=command_conventions)
