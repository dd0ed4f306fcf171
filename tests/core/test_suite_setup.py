"""The suite's own set-up: one BLAS/OpenMP thread per xdist worker, set by the project (not by the
caller's environment), and the command line's version option."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from equivalence_tests.cli import main

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os, sys
if os.environ.get("PROBE_NUMPY_FIRST"):  # loaded before the conftest: threadpoolctl must resize it
    import numpy
sys.path.insert(0, "tests")
import conftest
import numpy  # loaded after: OPENBLAS_NUM_THREADS applies
from threadpoolctl import threadpool_info
pools = {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}
print(json.dumps({"returned": conftest.limit_threads_per_worker(), "OMP": os.environ.get("OMP_NUM_THREADS"),
                  "pools": pools}))
"""


def _probe(extra_env: dict[str, str]) -> dict:
    import json

    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PYTEST_XDIST") and not key.endswith("_NUM_THREADS")}  # fmt: skip
    env.update(extra_env)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("numpy_first", ["", "1"], ids=["numpy-loaded-after", "numpy-loaded-before"])
def test_an_xdist_worker_gets_cores_divided_by_workers_threads(numpy_first):
    workers = 2
    expected = max(1, (os.cpu_count() or 1) // workers)
    result = _probe({"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": str(workers),
                     "PROBE_NUMPY_FIRST": numpy_first})  # fmt: skip
    assert result["returned"] == expected, result
    assert result["OMP"] == str(expected), f"torch reads OMP_NUM_THREADS at import: {result}"
    assert result["pools"], "threadpoolctl found no BLAS pool to limit (NumPy's OpenBLAS should be one)"
    assert all(threads == expected for threads in result["pools"].values()), result


def test_outside_xdist_nothing_is_limited():
    result = _probe({})
    assert result["returned"] is None, result
    assert result["OMP"] is None, f"a plain pytest run must keep every core: {result}"


def test_a_thread_count_the_user_exported_is_kept():
    result = _probe({"PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "2", "OMP_NUM_THREADS": "3"})
    assert result["OMP"] == "3", result


def test_refnn_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0, "--version exits 0"
    from reference_nn import __version__

    assert capsys.readouterr().out.strip() == f"refnn (reference-nn) {__version__}", "version line"
