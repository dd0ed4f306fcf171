"""``refnn crosscheck``: the reference against finite differences (fast, always), torch and TensorFlow."""

import json
import sys

import pytest

import reference_nn as rn
from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main

FD_ONLY = ["crosscheck", "--oracles", "fd"]
ROWS = ["forward", "cost", "grad W1", "grad b1", "grad W2", "grad b2", "grad W3", "grad b3",
        "updated W1", "updated b1", "updated W2", "updated b2", "updated W3", "updated b3"]  # fmt: skip


def test_default_model_against_finite_differences_plain(capsys):
    assert main([*FD_ONLY, "--plain"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "4-8-8-1 relu,relu,sigmoid bce" in out  # the documented default model
    for row in ROWS:
        assert f"\n{row} " in out
    assert "finite_difference/complex" in out  # the default method: exact to rounding
    # fd's forward and cost are the reference's own values: identical by construction, not compared
    assert "RESULT: all oracles agree with the reference (12 quantities compared on 1 oracle path(s); 2 identical by " \
        "construction)" in out, out


def test_rich_table_on_a_terminal(capsys, monkeypatch):
    pytest.importorskip("rich")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")  # rich sizes a terminal table from COLUMNS: not the caller's terminal
    assert main(FD_ONLY) == EXIT_OK
    out = capsys.readouterr().out
    assert "quantity" in out and "│ grad W1" in out, f"a terminal gets the box-drawn table:\n{out}"


def test_plain_text_into_a_pipe_or_file_without_plain(capsys):
    assert main(FD_ONLY) == EXIT_OK  # capsys' stdout is not a terminal, as a pipe or a file
    out = capsys.readouterr().out
    assert not set("┃│━─┏┡") & set(out), f"box-drawing characters went into a pipe:\n{out}"
    assert "\x1b[" not in out, "terminal escape codes went into a pipe"
    assert "\ngrad W1 " in out, f"the plain table's rows start with the quantity:\n{out}"


def test_relu_output_with_mse(capsys):
    """A kink at the output: the reference's ReLU'(0) = 0 convention, checked against finite differences."""
    arguments = [*FD_ONLY, "--plain", "--loss", "mse", "--activations", "relu,relu,relu", "--dims", "3-5-4-2"]
    assert main(arguments) == EXIT_OK


def test_json_report(capsys):
    arguments = [*FD_ONLY, "--json", "--dims", "3-4-2", "--loss", "softmax_cross_entropy", "--dtype", "float32",
                 "--optimizer", "adam", "--steps", "2", "--l2", "0.01", "--batch-size", "1"]  # fmt: skip
    assert main(arguments) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    assert report["config"]["activations"] == ["relu", "identity"]  # the loss takes logits
    assert report["config"]["dtype"] == "float32" and report["batch_size"] == 1
    rows = report["oracles"]["finite_difference/complex"]["rows"]
    assert set(rows) == {"forward", "cost", "grad W1", "grad b1", "grad W2", "grad b2",
                         "updated W1", "updated b1", "updated W2", "updated b2"}  # fmt: skip
    assert all(row["passed"] and row["max_abs"] >= 0 for row in rows.values())


def test_wrong_reference_gradient_is_a_disagreement(capsys, monkeypatch):
    """Plant a bug in the reference's sigmoid backward (used with mse; bce fuses it away):
    finite differences must disagree on every gradient below the output and the exit status is 1."""
    monkeypatch.setattr(rn.Sigmoid, "backpropagate", lambda self, dA, Z, A: dA * A)  # drops the (1 - A)
    assert main([*FD_ONLY, "--plain", "--loss", "mse", "--activations", "tanh,tanh,sigmoid"]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "DISAGREEMENT" in out
    grad_lines = [line for line in out.splitlines() if line.startswith("grad ")]
    assert grad_lines and all("FAIL" in line for line in grad_lines)
    assert not any("FAIL" in line for line in out.splitlines() if line.startswith(("forward", "cost")))


def test_missing_framework_is_reported_not_fatal(capsys, monkeypatch):
    from equivalence_tests.oracles import TorchOracle

    def refuse(self):
        raise ImportError("No module named 'torch'")

    monkeypatch.setattr(TorchOracle, "_load", refuse)
    assert main(["crosscheck", "--oracles", "fd,torch", "--plain"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "not run: torch/functional unavailable: cannot import torch" in out
    assert "RESULT: all oracles agree with the reference (12 quantities compared on 1 oracle path(s); 2 identical by " \
        "construction, 2 not run)" in out, out


BAD_OPTIONS = {
    "dims text": (["--dims", "4-a-1"], "--dims must be positive integers"),
    "dims trailing letter": (["--dims", "4-8-x"], "--dims must be positive integers separated by '-' like 4-8-8-1, "
                             "got '4-8-x' ('x' is not a positive integer)"),
    "one size": (["--dims", "4"], "at least an input and an output size"),
    "zero width": (["--dims", "4-0-1"], "--dims must be positive integers"),
    "activation count": (["--dims", "4-3-1", "--activations", "relu"], "one name per layer"),
    "unknown activation": (["--activations", "relu,swish,sigmoid"], "unknown ['swish']"),
    "unknown loss": (["--loss", "hinge"], "--loss must be one of"),
    "negative l2": (["--l2", "-1"], "--l2 must be a finite number >= 0"),
    "batch size": (["--batch-size", "0"], "--batch-size must be >= 1"),
    "unknown oracle": (["--oracles", "fd,mxnet"], "unknown ['mxnet']"),
    "output not a probability": (["--activations", "relu,relu,relu"], "needs the last activation in"),
    "softmax over one unit": (["--dims", "4-1", "--loss", "cross_entropy"], "needs >= 2 outputs"),
}


@pytest.mark.parametrize("options, message", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_options_exit_2_one_line(capsys, options, message):
    assert main(["crosscheck", *options]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.torch
def test_torch_paths_agree(capsys):
    pytest.importorskip("torch")
    assert main(["crosscheck", "--oracles", "torch", "--json", "--optimizer", "adam", "--steps", "2"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert set(report["oracles"]) == {"torch/functional", "torch/layers"}
    assert report["versions"]["torch"]


@pytest.mark.tensorflow
def test_tensorflow_paths_agree(capsys):
    pytest.importorskip("tensorflow")
    assert main(["crosscheck", "--oracles", "tensorflow", "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert set(report["oracles"]) == {"tensorflow/functional", "tensorflow/keras"}
    assert "keras" in report["versions"]["tensorflow"]


@pytest.mark.jax
def test_jax_path_agrees_and_reports_its_versions(capsys):
    pytest.importorskip("jax")
    assert main(["crosscheck", "--oracles", "jax", "--json", "--optimizer", "adam", "--steps", "2",
                 "--dtype", "float32"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert set(report["oracles"]) == {"jax/functional"}, report["oracles"].keys()
    assert "jaxlib" in report["versions"]["jax"] and "optax" in report["versions"]["jax"], report["versions"]


def test_jax_is_in_the_default_oracles_only_when_installed(monkeypatch):
    import importlib.util

    from equivalence_tests.cli import crosscheck

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name))
    assert crosscheck.default_oracle_groups() == ("fd", "torch", "tensorflow"), "JAX absent: not in the default"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "jax" else None)
    assert crosscheck.default_oracle_groups() == ("fd", "torch", "tensorflow", "jax"), "JAX installed: default"
