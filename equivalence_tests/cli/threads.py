"""How many BLAS / OpenMP threads a ``refnn`` command uses: its own choice, unless the user chose.

    with limited_threads() as chosen:   # {"threads": 1, "source": "load average 3.2 on 2 cores"}
        run the command

A crosscheck is mostly small matrix products; with as many BLAS threads as cores on a machine that
other processes keep busy, the threads wait on each other (OpenBLAS spins, then yields) and the
784-256-128-10 crosscheck went from 20-36 s quiet to 168-282 s (issue 24; 928 s measured here under
load 7-11). So a command takes the cores the load average leaves free (a core counts as free while
less than 0.75 of it is in use; at least one): all of them on a quiet machine, one on a loaded one.
A user's explicit OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS is kept as it is (the
libraries read it themselves).

Environment variables cover the libraries loaded later (torch's OpenMP pool, TensorFlow's pools,
MKL); threadpoolctl resizes the pools already loaded (NumPy's OpenBLAS).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

USER_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
LATER_VARIABLES = (*USER_VARIABLES, "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def free_cores() -> tuple[int, str]:
    """(cores the 1-minute load average leaves free, at least 1; why)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # not available (Windows): assume a quiet machine
        return cores, f"{cores} cores, load average unknown"
    return max(1, min(cores, int(cores - load + 0.75))), f"load average {load:.1f} on {cores} cores"


@contextmanager
def limited_threads() -> Iterator[dict]:
    """Within the block, this process's thread count (see the module docstring); the environment
    and NumPy's pools are restored afterwards (``refnn.main`` is also called in-process by tests)."""
    explicit = {name: os.environ[name] for name in USER_VARIABLES if os.environ.get(name)}
    if explicit:
        yield {"threads": None, "source": "kept the user's " + ", ".join(f"{k}={v}" for k, v in explicit.items())}
        return
    threads, why = free_cores()
    saved = {name: os.environ.get(name) for name in LATER_VARIABLES}
    for name in LATER_VARIABLES:
        os.environ.setdefault(name, str(threads))
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # the environment variables still apply to what loads later
            yield {"threads": threads, "source": why + " (threadpoolctl not installed: NumPy's BLAS not limited)"}
        else:
            with threadpool_limits(limits=threads):
                yield {"threads": threads, "source": why}
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
