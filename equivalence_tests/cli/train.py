"""``refnn train``: train the worked examples and save their plots."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

from equivalence_tests.cli.common import EXIT_OK, UsageError
from equivalence_tests.cli.output import spinner

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
# name -> (file in examples/, whether it takes --out)
EXAMPLES = {
    "two-two-two": ("mazur_2_2_2.py", False),
    "classifier": ("deep_classifier.py", True),
    "moons": ("two_moons.py", True),
    "step-size": ("step_size.py", True),
}


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
        with spinner(f"training {name}"):
            status = max(status, module.main(argv))
    return status


def add_parser(commands: Any) -> None:
    train = commands.add_parser("train", help="train the worked examples and save their plots")
    train.add_argument("--example", choices=(*EXAMPLES, "all"), default="all")
    train.add_argument("--out", type=Path, help="folder for the plots (default: the example's, docs/images)")
    train.add_argument("--quick", action="store_true", help="small, fast versions")
    train.add_argument("--examples-dir", default=str(EXAMPLES_DIR), help=f"default {EXAMPLES_DIR}")
    train.set_defaults(handler=command_train)
