"""Run all three benchmarks in one process: ``python -m benchmarks [--quick] [--out DIR] [--threads N]``.

Frameworks are imported once and shared. Results go to ``benchmarks/results/`` (or ``--out``):
training_step, gradcheck_cost and suite_throughput, each as .md, .json and .png.
"""

from __future__ import annotations

import sys

from benchmarks import _common as common
from benchmarks import gradcheck_cost, suite_throughput, training_step


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    common.base_parser(__doc__.splitlines()[0]).parse_args(argv)  # --help, and refuse unknown flags early
    for module in (training_step, gradcheck_cost, suite_throughput):
        common.log(f"== {module.__name__}")
        paths = module.main(list(argv))
        common.log("   wrote " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
