"""Run all three benchmarks: ``python -m benchmarks [--quick] [--out DIR | --update-docs] [--threads N]``.

Each runs as its own documented command (``python -m benchmarks.training_step`` and so on) in a
fresh interpreter, because thread counts (TensorFlow's especially) are fixed at a framework's first
use and the benchmarks differ there. Results go to ``refnn-output/benchmarks/`` in the working
directory (or ``--out``); only ``--update-docs`` writes the committed ``benchmarks/results/``
(refused with ``--quick``): training_step, gradcheck_cost and suite_throughput, each as .md, .json
and .png.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks import _common as common

MODULES = ("benchmarks.training_step", "benchmarks.gradcheck_cost", "benchmarks.suite_throughput")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    common.parse_args(common.base_parser(__doc__.splitlines()[0]), argv)  # --help; refuse bad flags early
    for module in MODULES:
        common.log(f"== python -m {module} {' '.join(argv)}")
        subprocess.run([sys.executable, "-m", module, *argv], check=True)


if __name__ == "__main__":
    main()
