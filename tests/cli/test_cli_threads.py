"""refnn crosscheck / check choose their own BLAS / OpenMP thread count (equivalence_tests/cli/threads.py):
the cores the load average leaves free, one on a loaded machine; a user's explicit setting kept;
everything restored after the command (tests call refnn's main in-process)."""

import os

import pytest

from equivalence_tests.cli import threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def no_user_setting(monkeypatch):
    for name in threads.LATER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("load", "expected"), [(0.0, 2), (0.3, 2), (1.0, 1), (7.5, 1)])
def test_a_loaded_machine_gets_one_thread_a_quiet_one_every_core(monkeypatch, no_user_setting, load, expected):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    before = blas_threads()
    with threads.limited_threads() as chosen:
        assert chosen["threads"] == expected, chosen
        assert os.environ["OMP_NUM_THREADS"] == str(expected), os.environ.get("OMP_NUM_THREADS")
        assert all(n == expected for n in blas_threads()) or not before, blas_threads()
    assert "OMP_NUM_THREADS" not in os.environ, "the environment was not restored"
    assert blas_threads() == before, f"NumPy's BLAS pools not restored: {blas_threads()} vs {before}"


def test_a_users_explicit_setting_is_kept(monkeypatch, no_user_setting):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    before = blas_threads()
    with threads.limited_threads() as chosen:
        assert chosen["threads"] is None and "OPENBLAS_NUM_THREADS=3" in chosen["source"], chosen
        assert blas_threads() == before and "OMP_NUM_THREADS" not in os.environ, "the user's choice was overridden"
