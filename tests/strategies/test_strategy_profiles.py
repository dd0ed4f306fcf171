"""The Hypothesis profiles: registered, selectable, with per-property budgets and no deadline."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import settings

from equivalence_tests import profiles


def test_every_profile_is_registered_without_deadline_and_with_the_blob():
    profiles.register_profiles()
    for name in profiles.PROFILE_NAMES:
        profile = settings.get_profile(name)
        assert profile.deadline is None and profile.print_blob is True
    assert settings.get_profile("ci").derandomize is True


def test_every_property_has_a_budget_that_grows_from_dev_to_thorough():
    for name, (ci, dev, thorough) in profiles.EXAMPLE_BUDGETS.items():
        assert 0 < dev <= ci < thorough, name
        assert profiles.examples_for(name, "thorough") == thorough


def test_unknown_property_or_profile_is_a_clear_error():
    with pytest.raises(KeyError, match="EXAMPLE_BUDGETS"):
        profiles.examples_for("no/such/property", "ci")
    with pytest.raises(ValueError, match="HYPOTHESIS_PROFILE"):
        subprocess_load("no-such-profile", raises=True)


def subprocess_load(env_value: str, raises: bool = False) -> str:
    """Load the profile from the environment variable in a fresh interpreter (the test process's
    profile must not change); return the loaded name, or raise the child's error."""
    code = ("from equivalence_tests.profiles import load_profile, active_profile_name; "
            "load_profile(); print(active_profile_name())")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env={"HYPOTHESIS_PROFILE": env_value, "PATH": ""}, check=False)
    if completed.returncode:
        if raises:
            raise ValueError(completed.stderr)
        raise AssertionError(completed.stderr)
    return completed.stdout.strip()


def test_environment_variable_selects_the_profile():
    assert subprocess_load("dev") == "dev"
    assert subprocess_load("") == "ci"  # empty or unset: the ci default


def test_the_suite_runs_under_a_known_profile():
    assert profiles.active_profile_name() in profiles.PROFILE_NAMES


FAILING_PROPERTY = """
from equivalence_tests.profiles import load_profile, active_profile_name
load_profile()
from hypothesis import given, settings, strategies as st
print(active_profile_name(), type(settings.default.database).__name__)

@given(st.integers(0, 10**6))
@settings(max_examples=200)
def property_that_fails(x):
    assert x < 1000

try:
    property_that_fails()
except AssertionError:
    print("failed as planted")
"""


@pytest.mark.parametrize("profile", ["thorough", "dev"])
def test_a_shared_database_folder_collects_failures_from_every_host(profile, tmp_path):
    """REFNN_HYPOTHESIS_DATABASE: several machines (here: two processes) share one example database."""
    import os
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    shared = tmp_path / "shared-db"
    env = {"HYPOTHESIS_PROFILE": profile, "REFNN_HYPOTHESIS_DATABASE": str(shared), "PATH": "",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    for host in ("first", "second"):
        completed = subprocess.run([sys.executable, "-c", FAILING_PROPERTY], capture_output=True, text=True,
                                   env=env, check=False)  # fmt: skip
        assert completed.returncode == 0, f"{host}: {completed.stderr[-2000:]}"
        lines = completed.stdout.splitlines()
        assert lines[0] == f"{profile} DirectoryBasedExampleDatabase", f"{host}: {lines}"
        assert "failed as planted" in lines, f"{host}: the planted failure was not found: {lines}"
        assert any(shared.rglob("*")), f"{host}: nothing was saved in the shared folder {shared}"


def test_ci_never_uses_a_database_even_when_one_is_shared(tmp_path):
    code = ("from equivalence_tests.profiles import load_profile; load_profile(); "
            "from hypothesis import settings; print(settings.default.database)")  # fmt: skip
    import os
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    env = {"REFNN_HYPOTHESIS_DATABASE": str(tmp_path), "PATH": "", "PYTHONPATH": root}
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "None", "ci is derandomized and database-free: reproducible from the commit"
    assert os.listdir(tmp_path) == [], "ci wrote into the shared folder"
