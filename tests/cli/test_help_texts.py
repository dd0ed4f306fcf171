"""The command line's help says what is true: every framework it runs (JAX included), every loss
``--loss`` accepts (read from the reference, not a second list), and ``refnn check``'s exit statuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import reference_nn as rn
from equivalence_tests.cli import build_parser
from equivalence_tests.cli.check import EXIT_INCONCLUSIVE, EXIT_USER_CODE
from equivalence_tests.cli.common import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """argparse wraps help to $COLUMNS and splits words longer than a line: not the caller's terminal."""
    monkeypatch.setenv("COLUMNS", "200")


def _help(*command: str, capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0, f"refnn {' '.join(command)} --help exited {exited.value.code}"
    return " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal: compare unwrapped


@pytest.mark.parametrize("command", [(), ("crosscheck",)], ids=["refnn", "crosscheck"])
def test_help_names_every_framework(command, capsys):
    text = _help(*command, capsys=capsys)
    for framework in ("finite differences", "torch", "TensorFlow", "JAX"):
        assert framework in text, f"refnn {' '.join(command)} --help does not name {framework}: {text[:400]}"


def test_pyproject_description_names_every_framework():
    description = re.search(r'^description = "(.*)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    for framework in ("PyTorch", "TensorFlow", "JAX"):
        assert framework in description, f"pyproject's description does not name {framework}: {description}"


def test_loss_help_lists_every_accepted_loss(capsys):
    text = _help("crosscheck", capsys=capsys)
    loss_help = re.search(r"--loss LOSS (.*?) --l2", text).group(1)
    listed = set(re.findall(r"\w+", loss_help)) - {"default"}
    assert listed == set(rn.LOSSES), f"--loss help lists {sorted(listed)}, refnn accepts {sorted(rn.LOSSES)}"


def test_check_help_gives_every_exit_status(capsys):
    text = _help("check", capsys=capsys)
    statuses = {int(status) for status in re.findall(r"(?:Exit status:|;) (\d) ", text)}
    expected = {EXIT_OK, EXIT_DISAGREE, EXIT_USAGE, EXIT_USER_CODE, EXIT_INCONCLUSIVE}
    assert statuses == expected, f"refnn check --help gives exit statuses {sorted(statuses)}, not {sorted(expected)}"
    for word in ("PASS", "FAIL", "INCONCLUSIVE"):
        assert word in text, f"refnn check --help does not say which status is {word}"
