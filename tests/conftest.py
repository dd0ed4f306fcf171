"""Suite-wide pytest configuration.

* Registers the Hypothesis profiles of :mod:`equivalence_tests.profiles` and loads one:
  ``$HYPOTHESIS_PROFILE`` if set, else ``ci``. Hypothesis' own pytest plugin then applies
  ``--hypothesis-profile=NAME`` if given (its ``pytest_configure`` runs after this module is
  imported), so the option wins over the environment variable. Under pytest-xdist every worker
  imports this module and receives the same option and environment, so all workers run the
  same profile.
* Prints the NumPy / torch / TensorFlow / JAX versions and the active profile in the report header,
  read from the installed distributions' metadata so that the header never imports torch or
  TensorFlow (importing TF takes seconds and prints to stderr).
* Limits BLAS/OpenMP threads per pytest-xdist worker (:func:`limit_threads_per_worker`), so the
  README's test command is as fast as ``.ci/run`` without any environment set by hand: two workers
  on two cores that each start a full-width BLAS/OpenMP pool oversubscribe the cores (measured by
  ``benchmarks/suite_throughput.py``: torch examples/s 86 -> 166 with one thread per worker).
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

from equivalence_tests.profiles import active_profile_name, load_profile

# Libraries that read their pool size from the environment when they are first loaded (torch's
# OpenMP pool, MKL, TensorFlow's intra/inter-op pools).
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")  # fmt: skip


def limit_threads_per_worker() -> int | None:
    """Under pytest-xdist, give each worker ``cores // workers`` (>= 1) BLAS/OpenMP threads.

    Environment variables cover the libraries loaded later (torch, TensorFlow); threadpoolctl
    resizes the pools already loaded (NumPy's OpenBLAS, imported before this conftest). A value the
    user exported is kept. Returns the thread count, or None outside xdist workers."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return None
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    for variable in _THREAD_VARIABLES:
        os.environ.setdefault(variable, str(threads))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # a light install without the test extra: the environment variables still apply
        return threads
    threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]))
    return threads


limit_threads_per_worker()
load_profile()

# Distribution names that provide each module; the first one installed is reported.
_DISTRIBUTIONS = {
    "numpy": ("numpy",),
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly", "tensorflow-macos"),
    "keras": ("keras",),
    "jax": ("jax",),
    "optax": ("optax",),
    "hypothesis": ("hypothesis",),
}


def installed_version(module: str) -> str:
    """The version of the distribution that provides ``module``, or ``"not installed"``."""
    for distribution in _DISTRIBUTIONS.get(module, (module,)):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


# Whole files marked ``slow`` (the quick loop, ``pytest -m "not slow"``, leaves them out): the Hypothesis
# property suite (minutes of torch/TF/JAX oracles) and the benchmark smoke run (a subprocess that
# imports every framework). Single slow tests elsewhere carry @pytest.mark.slow themselves.
_SLOW_PATHS = ("properties", "benchmarks/test_smoke.py")
_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:
    slow_roots = [_TESTS / path for path in _SLOW_PATHS]
    for item in items:
        path = Path(str(item.path))
        if any(path == root or root in path.parents for root in slow_roots):
            item.add_marker(pytest.mark.slow)
    # Slow tests first (a stable sort: each file keeps its order). pytest-xdist's worksteal hands each
    # worker a contiguous share and lets an idle worker steal from the end of the other's queue, so the
    # last tests to run are then the quick ones and neither worker waits on a 10 s property at the end
    # (the README command's tail on 2 cores).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config) -> list[str]:
    versions = ", ".join(f"{module} {installed_version(module)}" for module in _DISTRIBUTIONS)
    return [
        f"reference-nn frameworks: {versions}",
        f"hypothesis profile: {active_profile_name()} "
        "(choose with --hypothesis-profile=NAME or HYPOTHESIS_PROFILE; ci, dev, thorough)",
    ]


@pytest.fixture(autouse=True)
def tensorflow_imported_before_hypothesis(request) -> None:
    """Import TensorFlow (when installed) before a test marked ``tensorflow`` runs. Its import raises
    the interpreter's recursion limit (1000 -> 3000); done inside a Hypothesis test, that is reported
    as a HypothesisWarning ("the recursion limit will not be reset"), an error under this suite's
    warnings-as-errors, on whichever TF test happens to import it first in a worker."""
    if request.node.get_closest_marker("tensorflow") is None:
        return
    import importlib.util

    if importlib.util.find_spec("tensorflow") is not None:
        from equivalence_tests.oracles.base import import_tensorflow

        import_tensorflow()
