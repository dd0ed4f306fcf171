"""Helpers shared by the benchmarks: thread pinning, interleaved timing, peak memory, the machine
description and the result files (Markdown, JSON, PNG).

Timing rule: contenders are timed *interleaved* (A, B, C, A, B, C, ... with the order rotated each
round) and summarized by the median, so a burst of noise from a neighbour on the shared machine hits
every contender alike and the ratios stay meaningful even when absolute times drift.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"  # committed: written only with --update-docs
DEFAULT_OUT = Path("refnn-output") / "benchmarks"  # relative: in the working directory
DEFAULT_THREADS = 2  # the CI / developer machine has 2 cores; every contender gets the same count

_thread_limiter: Any = None  # keeps the threadpoolctl limit alive for the whole process
_frameworks: dict[str, Any] = {}


# ----------------------------------------------------------------------------- threads
def pin_threads(threads: int) -> dict[str, Any]:
    """Limit NumPy's BLAS (via threadpoolctl, if installed) to ``threads`` and remember the count
    for torch and TF, which are pinned when they are imported (:func:`import_torch`,
    :func:`import_tensorflow`). Returns what was set, for the report."""
    global _thread_limiter
    # OpenMP runtimes (torch's, TF's oneDNN) read this at load time; set it before they load.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    _frameworks["threads"] = threads
    if _frameworks.get("torch") is not None:
        _frameworks["torch"].set_num_threads(threads)
    try:
        import threadpoolctl
    except ImportError:
        return {"threads": threads, "numpy_blas_limited": False, "note": "threadpoolctl not installed"}
    _thread_limiter = threadpoolctl.threadpool_limits(limits=threads)
    return {"threads": threads, "numpy_blas_limited": True}


def import_torch() -> Any | None:
    """torch with ``set_num_threads(threads)``, or None when torch is not installed."""
    if "torch" not in _frameworks:
        try:
            import torch
        except ImportError:
            _frameworks["torch"] = None
        else:
            torch.set_num_threads(_frameworks.get("threads", DEFAULT_THREADS))
            _frameworks["torch"] = torch
    return _frameworks["torch"]


def import_tensorflow() -> Any | None:
    """TensorFlow (imported once per process, quietly) with intra-op threads = ``threads`` and
    inter-op threads = 1, or None when it is not installed.

    Inter-op is 1 because every step benchmarked here is a chain of dependent ops: a second
    inter-op pool would only oversubscribe the 2 cores the intra-op pool already uses."""
    if "tensorflow" not in _frameworks:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            with warnings.catch_warnings():
                # TF/keras import emits DeprecationWarnings from their own dependencies; not ours to fix.
                warnings.simplefilter("ignore", DeprecationWarning)
                import tensorflow as tf
        except ImportError:
            _frameworks["tensorflow"] = None
        else:
            threads = _frameworks.get("threads", DEFAULT_THREADS)
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:  # the runtime was already initialized by an earlier import
                pass
            _frameworks["tensorflow"] = tf
    return _frameworks["tensorflow"]


# ------------------------------------------------------------------------------ timing
@dataclass
class Timing:
    """Seconds per call of one contender: median and quartiles over ``samples`` rounds, each round
    timing ``inner`` back-to-back calls (so that a round is long enough for the clock)."""

    median_s: float
    q1_s: float
    q3_s: float
    samples: int
    inner: int
    best_s: float  # the fastest round: what the code does when no neighbour stalls a BLAS thread


def interleaved_timings(
    contenders: dict[str, Callable[[], Any]],
    repeats: int = 15,
    round_seconds: float = 0.02,
    warmup: int = 3,
) -> dict[str, Timing]:
    """Time every contender ``repeats`` rounds, interleaved, rotating the order each round.

    Each contender first runs ``warmup`` calls (first-call tracing, allocator warm-up), then its
    ``inner`` count is chosen so one round lasts about ``round_seconds``."""
    inner: dict[str, int] = {}
    for name, call in contenders.items():
        for _ in range(warmup):
            call()
        start = time.perf_counter()
        call()
        once = max(time.perf_counter() - start, 1e-7)
        inner[name] = max(1, int(round_seconds / once))
    per_call: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            call, count = contenders[name], inner[name]
            start = time.perf_counter()
            for _ in range(count):
                call()
            per_call[name].append((time.perf_counter() - start) / count)
    result = {}
    for name, values in per_call.items():
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
        result[name] = Timing(
            statistics.median(values), quartiles[0], quartiles[2], len(values), inner[name], min(values)
        )
    return result


# ------------------------------------------------------------------------------ memory
def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Peak resident memory added while the ``with`` block ran, in MiB (Linux: ``VmHWM`` after
    resetting it through ``/proc/self/clear_refs``). It sees every allocator (NumPy, torch, TF),
    unlike tracemalloc, and costs nothing while the block runs. ``mib`` is None where unsupported."""

    def __enter__(self) -> PeakMemory:
        self.mib: float | None = None
        self._before = _status_kib("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")  # "5" resets the peak RSS counter (Linux >= 4.0)
            self._supported = self._before is not None
        except OSError:
            self._supported = False
        return self

    def __exit__(self, *exc_info: object) -> None:
        peak = _status_kib("VmHWM")
        if self._supported and peak is not None and self._before is not None:
            self.mib = max(peak - self._before, 0) / 1024


# ------------------------------------------------------------------------------ machine
def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def machine_description() -> dict[str, Any]:
    """CPU model, core count, BLAS (kernel, threads), library versions and the UTC date."""
    import numpy as np

    info: dict[str, Any] = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "threads": _frameworks.get("threads"),
        # Other processes on a 2-core box distort everything (multi-threaded BLAS stalls when a core
        # is taken): the 1-minute load average when the description was taken tells the reader.
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    try:
        import threadpoolctl

        info["blas"] = [
            {key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for pool in threadpoolctl.threadpool_info()
            if pool.get("user_api") == "blas"
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    for name in ("torch", "tensorflow"):
        module = _frameworks.get(name)
        if module is not None:
            info[name] = module.__version__
    return info


def numpy_blas_kernel() -> str:
    """The OpenBLAS kernel NumPy runs (e.g. 'Haswell', 'SkylakeX'), or what threadpoolctl says."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for pool in threadpoolctl.threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in str(pool.get("filepath", "")):
            return f"{pool.get('internal_api')} {pool.get('version')} {pool.get('architecture')}"
    return "unknown"


def describe_machine_markdown(info: dict[str, Any]) -> str:
    blas = info.get("blas")
    if isinstance(blas, list):
        blas = "; ".join(f"{b['internal_api']} {b['version']} kernel {b['architecture']}" for b in blas)
    versions = ", ".join(f"{k} {info[k]}" for k in ("python", "numpy", "torch", "tensorflow") if k in info)
    return (
        f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, {info['threads']} threads per "
        f"framework; NumPy BLAS: {blas} (OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}); {versions}; "
        f"{info['date_utc']} UTC; 1-min load average {info.get('load_average_1min')} when written."
    )


# ------------------------------------------------------------------------------ output
def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_outputs(stem: str, markdown: str, payload: dict[str, Any], figure: Any, out_dir: Path) -> list[Path]:
    """Write ``<stem>.md``, ``<stem>.json`` and (if ``figure``) ``<stem>.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.md", out_dir / f"{stem}.json"]
    paths[0].write_text(markdown.rstrip() + "\n")
    paths[1].write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    if figure is not None:
        paths.append(out_dir / f"{stem}.png")
        figure.savefig(paths[-1], dpi=110, bbox_inches="tight")
    return paths


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return str(value)


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (the smoke test)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for the .md/.json/.png results (default {DEFAULT_OUT}/ in the working directory)",
    )
    parser.add_argument("--update-docs", action="store_true",
                        help="write into benchmarks/results/ (the committed results the README quotes); "
                        "refused with --quick and with --out")  # fmt: skip
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads for every framework")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse, then refuse what would fail later before any timing starts: a missing matplotlib (one line
    naming the extra) and an output choice that is not allowed (``--update-docs`` with ``--quick``)."""
    import importlib.util

    args = parser.parse_args(argv)
    if importlib.util.find_spec("matplotlib") is None:
        raise SystemExit('error: the benchmarks draw plots with matplotlib, which is not installed: '
                         'pip install "reference-nn[benchmarks]"')  # fmt: skip
    output_dir(args)
    return args


def output_dir(args: argparse.Namespace) -> Path:
    """Where results go: ``--out``, else refnn-output/benchmarks; benchmarks/results only with --update-docs,
    and never for a --quick smoke run (its numbers would replace the real ones)."""
    if args.update_docs and args.out is not None:
        raise SystemExit(f"error: --update-docs writes {RESULTS_DIR}; do not combine it with --out {args.out}")
    if args.update_docs and args.quick:
        raise SystemExit("error: --update-docs with --quick would replace the committed results with smoke-run data")
    if args.update_docs:
        return RESULTS_DIR
    return args.out if args.out is not None else DEFAULT_OUT


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
