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
