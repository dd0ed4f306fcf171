"""``refnn crosscheck`` on issue 17's op set: the new activations, losses and optimizers by name,
``--normalization batch|layer`` (train and eval), and the usage errors of the new options."""

import json

import pytest

from equivalence_tests.cli import EXIT_OK, EXIT_USAGE, main

FD_ONLY = ["crosscheck", "--oracles", "fd"]


@pytest.mark.parametrize("optimizer", ["adamw", "rmsprop", "adagrad"])
def test_new_activations_losses_optimizers_against_finite_differences(capsys, optimizer):
    arguments = [*FD_ONLY, "--json", "--dims", "3-5-4-2", "--activations", "gelu,elu,identity", "--loss", "huber",
                 "--optimizer", optimizer, "--lr", "0.01", "--steps", "2"]  # fmt: skip
    assert main(arguments) == EXIT_OK, capsys.readouterr().out
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["optimizer"]["name"] == optimizer and report["passed"], report["description"]
    rows = report["oracles"]["finite_difference/complex"]["rows"]
    assert {"grad W1", "updated W3"} <= set(rows), sorted(rows)


@pytest.mark.parametrize(("normalization", "mode"), [("batch", "train"), ("batch", "eval"), ("layer", "train")])
def test_normalized_model(capsys, normalization, mode):
    arguments = [*FD_ONLY, "--plain", "--dims", "4-6-5-3", "--activations", "silu,softplus,softmax", "--loss",
                 "kl_div", "--normalization", normalization, "--normalization-mode", mode, "--steps", "2"]  # fmt: skip
    assert main(arguments) == EXIT_OK
    out = capsys.readouterr().out
    assert f"{normalization}norm({mode})" in out, out[:300]
    for row in ("grad gamma1", "grad beta2", "grad W3", "grad b3", "updated gamma2"):
        assert f"\n{row} " in out, f"row {row!r} missing"
    assert "grad b1" not in out, "a normalized layer has no bias"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--normalization-mode", "eval"], "--normalization-mode eval needs --normalization"),
    (["--normalization", "batch", "--dims", "4-1"], "needs a hidden layer"),
    (["--normalization", "batch", "--batch-size", "1"], "--normalization batch needs --batch-size >= 2"),
    (["--optimizer", "adagrad", "--momentum", "0.5"], "--momentum applies to --optimizer sgd / rmsprop only"),
    (["--optimizer", "rmsprop", "--momentum", "0.5", "--nesterov"], "--nesterov applies to --optimizer sgd only"),
])
def test_usage_errors_name_the_option(capsys, arguments, message):
    assert main([*FD_ONLY, *arguments]) == EXIT_USAGE
    assert message in capsys.readouterr().err
