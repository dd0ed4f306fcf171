"""Smoke test: ``python -m benchmarks --quick`` runs every benchmark at a tiny size and writes its
Markdown table, JSON and PNG. Timings are never asserted (they are machine noise here); what is
checked is that each benchmark ran every contender it could and reported in the promised form.

One subprocess per benchmark (``python -m benchmarks.NAME --quick``, what ``python -m benchmarks --quick``
runs in turn), each run once per worker that needs it: under pytest-xdist the three can run on
different workers instead of one ~30 s fixture (100-120 s on a loaded machine) holding one worker at
the end of the suite. In a subprocess the suite's warnings-as-errors setting does not apply to
torch/TF import-time warnings.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ("training_step", "gradcheck_cost", "suite_throughput")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@functools.cache
def _quick_run(name: str, out: Path) -> Path:
    """``python -m benchmarks.NAME --quick --out OUT`` once per process (per xdist worker); OUT holds its files."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    completed = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return out


@pytest.fixture(scope="session")
def benchmark_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("benchmark_results")


@pytest.fixture
def quick_results(benchmark_folder):
    """``quick_results("training_step")`` -> the folder with that benchmark's quick-run files."""
    return lambda name: _quick_run(name, benchmark_folder)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_writes_table_json_and_plot(quick_results, name):
    folder = quick_results(name)
    markdown = (folder / f"{name}.md").read_text()
    assert markdown.startswith("## ") and "\n|---|" in markdown
    assert "Machine: " in markdown and f"python -m benchmarks.{name}" in markdown
    json.loads((folder / f"{name}.json").read_text())
    assert (folder / f"{name}.png").read_bytes()[:8] == PNG_SIGNATURE


def test_training_step_times_every_contender_and_agrees_on_the_update(quick_results):
    runs = json.loads((quick_results("training_step") / "training_step.json").read_text())["runs"]
    for run in runs.values():
        contenders = {row["contender"] for row in run["rows"]}
        assert "reference" in contenders
        assert all(row["median_s"] > 0 for row in run["rows"])
        for dtype, differences in run["same_update_max_abs_diff"].items():
            # One SGD step from the same weights: float64 agrees to rounding (~1e-16 of O(1) weights);
            # float32 to a few float32 ulps of the update (eps32 ~ 1.2e-7).
            bound = 1e-12 if dtype == "float64" else 1e-6
            assert all(value < bound for value in differences.values()), (dtype, differences)


def test_training_step_reports_a_measured_peak_or_none_and_a_jax_row(quick_results):
    """A peak that is a ceiling (no contender's best round above it) or no peak; never over 100% of it."""
    import importlib.util

    for label, run in json.loads((quick_results("training_step") / "training_step.json").read_text())["runs"].items():
        for dtype, peak in run["matmul_peak_gflops"].items():
            assert peak is None or peak > 0, f"{label} {dtype}: peak {peak}"
        for row in run["rows"]:
            fraction = row["fraction_of_peak"]
            assert fraction is None or 0 < fraction <= 1, f"{label}: {row['contender']} at {fraction:.0%} of peak"
        if importlib.util.find_spec("jax") is not None:
            assert any(row["contender"] == "JAX jit" for row in run["rows"]), f"{label}: no JAX row"


def test_gradcheck_benchmark_checks_every_parameter(quick_results):
    rows = json.loads((quick_results("gradcheck_cost") / "gradcheck_cost.json").read_text())["rows"]
    measured = [row for row in rows if row["seconds"] is not None]
    assert {"reference central", "batched central", "batched complex"} <= {row["contender"] for row in measured}
    for row in measured:
        assert row["note"] != "FAILED", row
        # Every method, even the crudest (TF's delta 1/1024), is within 1e-4 of the analytic gradient
        # on this smooth tanh network; a larger error would mean the contender checked something else.
        assert row["max_rel_error"] < 1e-4, row


def test_suite_throughput_reports_each_available_oracle(quick_results):
    rows = json.loads((quick_results("suite_throughput") / "suite_throughput.json").read_text())["rows"]
    oracles = {row["oracle"] for row in rows}
    assert {"reference", "finite_difference/complex"} <= oracles
    assert all(row["examples"] > 0 and row["examples_per_s"] > 0 for row in rows)
    assert all(row["first_call_extra_s"] >= 0 for row in rows), "a negative first-call time is noise, shown as 0"


def test_results_go_to_refnn_output_unless_update_docs(monkeypatch, tmp_path):
    """A benchmark never writes the committed benchmarks/results/ unless asked to with --update-docs,
    and never with smoke-run (--quick) data."""
    from benchmarks import _common as common

    parser = common.base_parser("test")
    assert common.output_dir(parser.parse_args([])) == Path("refnn-output") / "benchmarks", "default folder"
    assert common.output_dir(parser.parse_args(["--out", str(tmp_path)])) == tmp_path, "--out"
    assert common.output_dir(parser.parse_args(["--update-docs"])) == ROOT / "benchmarks" / "results"
    with pytest.raises(SystemExit, match="smoke-run data"):
        common.output_dir(parser.parse_args(["--update-docs", "--quick"]))
    with pytest.raises(SystemExit, match="do not combine it with --out"):
        common.output_dir(parser.parse_args(["--update-docs", "--out", str(tmp_path)]))


def test_missing_matplotlib_is_one_line_before_any_timing(monkeypatch):
    import sys

    from benchmarks import _common as common

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # importlib.util.find_spec then reports it missing
    with pytest.raises(SystemExit, match=r'pip install "reference-nn\[benchmarks\]"'):
        common.parse_args(common.base_parser("test"), [])
