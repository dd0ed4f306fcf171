"""``refnn train``, ``refnn conventions``, progress reporting, and the installed ``refnn`` script."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from equivalence_tests import cli
from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_train_two_two_two_prints_mazur_step(capsys):
    assert main(["train", "--example", "two-two-two"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "== two-two-two" in out
    row = re.search(r"^\s+w5\s+(\S+)\s+\S+\s+(\S+)", out, flags=re.MULTILINE)
    assert row, f"no w5 row in:\n{out}"
    # Mazur's w5 = 0.40 before, 0.35891648 after one step (published to 8 decimals: 5e-9 is half a unit of
    # its last digit; the float64 computation rounds far below that).
    assert float(row.group(1)) == 0.4 and abs(float(row.group(2)) - 0.35891648) <= 5e-9, row.group(0)


def test_train_moons_quick_saves_both_plots(tmp_path, capsys):
    assert main(["train", "--example", "moons", "--quick", "--out", str(tmp_path)]) == EXIT_OK
    for name in ("moons_loss.png", "moons_boundary.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_SIGNATURE


def test_train_without_out_writes_refnn_output_in_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--example", "step-size", "--quick"]) == EXIT_OK
    assert (tmp_path / "refnn-output" / "step_size.png").read_bytes()[:8] == PNG_SIGNATURE, "default output folder"


def test_train_without_matplotlib_trains_everything_and_says_plots_were_skipped(monkeypatch, capsys, tmp_path):
    import sys

    from reference_nn.examples._output import PLOTS_SKIPPED

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # importlib.util.find_spec then reports it missing
    assert main(["train", "--quick"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("== ") == 4, f"every example ran:\n{out}"
    assert out.splitlines().count(PLOTS_SKIPPED) == 1, f"one line says the plots were skipped:\n{out}"
    assert out.rstrip().endswith(PLOTS_SKIPPED), "said once, at the end, after every result"
    assert not (tmp_path / "refnn-output").exists(), "no folder for plots that were not drawn"


def test_train_without_matplotlib_but_with_out_is_one_line_naming_the_extra(monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["train", "--example", "moons", "--quick", "--out", str(tmp_path)]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        'refnn train: error: the plots need matplotlib, which is not installed: pip install "reference-nn[plots]"'
    ), captured.err
    assert "==" not in captured.out, "nothing was trained before the error"


def test_conventions_delegates(monkeypatch):
    """The table itself is equivalence_tests.conventions' job (and its tests'; a real run takes ~15 s)."""
    from equivalence_tests import conventions

    calls = []
    monkeypatch.setattr(conventions, "main", lambda argv: calls.append(argv) or 0)
    assert main(["conventions"]) == EXIT_OK
    assert main(["conventions", "--json"]) == EXIT_OK
    assert main(["conventions", "--markdown"]) == EXIT_OK
    assert calls == [["--summary"], ["--json"], []], f"terminal summary by default, the table with --markdown: {calls}"


def test_unknown_command_is_argparse_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == EXIT_USAGE


def test_progress_is_silent_off_a_terminal(capsys):
    with cli.progress(2, "work") as advance:
        advance("one")
        advance("two")
    assert capsys.readouterr().err == ""


def test_progress_degrades_to_plain_lines_without_rich_or_tqdm(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setitem(sys.modules, "rich.progress", None)  # makes `from rich.progress import ...` fail
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with cli.progress(2, "cross-checking") as advance:
        advance("torch/functional")
        advance("tensorflow/keras")
    assert capsys.readouterr().err.splitlines() == [
        "[1/2] cross-checking: torch/functional",
        "[2/2] cross-checking: tensorflow/keras",
    ]


@pytest.fixture
def refnn_script():
    path = shutil.which("refnn", path=str(Path(sys.executable).parent))  # the venv's own script
    if path is None:
        pytest.skip("the refnn script is not installed (pip install --no-deps -e .)")
    return path


def test_installed_script_catches_the_example_layer_bug(refnn_script, tmp_path):
    examples = cli.EXAMPLES_DIR
    done = subprocess.run([refnn_script, "check", "my_layer:layer", "--input-shape", "3x5"], cwd=examples,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == EXIT_DISAGREE
    assert "WRONG: gradient of 'input' at element" in done.stdout


def test_installed_script_bad_module_one_line_no_traceback(refnn_script, tmp_path):
    done = subprocess.run([refnn_script, "check", "nowhere:loss", "nowhere:grad", "--shape", "W=2x2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert done.stderr.startswith("refnn check: error: cannot import module 'nowhere'")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
