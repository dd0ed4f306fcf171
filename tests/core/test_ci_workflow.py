"""The GitHub workflow: valid against the published workflow schema, and running the same test
command as the README and .ci/run."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def test_workflow_is_valid_against_the_github_workflow_schema():
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (it comes with the test extra)")
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_runs_the_readme_test_command_on_every_supported_python():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    test_command = re.findall(r"```bash\n(.*?)\n```", setup, re.S)[1]
    text = WORKFLOW.read_text()
    assert f"run: {test_command}" in text, "the workflow must run the README's test command verbatim"
    pyproject = (ROOT / "pyproject.toml").read_text()
    minimum = re.search(r'requires-python = ">=3\.(\d+)"', pyproject).group(1)
    versions = re.search(r"python-version: \[(.*?)\]", text).group(1)
    assert f'"3.{minimum}"' in versions, f"the oldest supported Python 3.{minimum} must be in the matrix: {versions}"
    assert "nox -s matrix" in text and "schedule:" in text, "the scheduled nox matrix job"
