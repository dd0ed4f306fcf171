"""``refnn check``: a user's loss/gradient pair or layer, through the entry function main(argv)."""

import json

import numpy as np
import pytest

from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main

SHAPES = ["--shape", "W=2x3", "--shape", "b=2x1"]


def test_right_gradient_passes(user_project, capsys):
    assert main(["check", "user_model:loss", "user_model:grad", *SHAPES]) == EXIT_OK
    out = capsys.readouterr().out
    assert "PASS: 2 gradient(s) agree" in out


def test_missing_factor_names_the_parameter(user_project, capsys):
    assert main(["check", "user_model:loss", "user_model:grad_missing_two", *SHAPES]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "WRONG: gradient of 'W'" in out
    assert "gradient of 'b'" not in out  # b's gradient is right and must not be flagged


def test_one_wrong_element_is_located(user_project, capsys):
    assert main(["check", "user_model:loss", "user_model:grad_wrong_element", *SHAPES]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "WRONG: gradient of 'W' at element (1, 2)" in out
    assert "(1 of 6 elements outside tolerance)" in out


@pytest.mark.parametrize("method", ["central", "richardson", "complex", "directional"])
def test_every_method_catches_the_planted_element(user_project, capsys, method):
    arguments = ["check", "user_model:loss", "user_model:grad_wrong_element", *SHAPES, "--method", method]
    assert main(arguments) == EXIT_DISAGREE
    assert "gradient of 'W' at element (1, 2)" in capsys.readouterr().out


def test_params_from_npz(user_project, capsys):
    rng = np.random.default_rng(3)
    np.savez(user_project / "params.npz", W=rng.normal(size=(2, 3)), b=rng.normal(size=(2, 1)))
    assert main(["check", "user_model:loss", "user_model:grad", "--params", "params.npz"]) == EXIT_OK
    assert main(["check", "user_model:loss", "user_model:grad_missing_two", "--params", "params.npz"]) == EXIT_DISAGREE


def test_json_report(user_project, capsys):
    assert main(["check", "user_model:loss", "user_model:grad_wrong_element", *SHAPES, "--json"]) == EXIT_DISAGREE
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    assert report["failed_parameters"] == ["W"]
    assert report["parameters"]["W"]["worst_index"] == [1, 2]


def test_file_path_spec(user_project, capsys, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "other_model.py").write_text((user_project / "user_model.py").read_text())
    path = elsewhere / "other_model.py"
    assert main(["check", f"{path}:loss", f"{path}:grad", *SHAPES]) == EXIT_OK


def test_layer_object(user_project, capsys):
    assert main(["check", "user_model:Scale", "--input-shape", "3x4"]) == EXIT_OK
    assert "PASS: 2 gradient(s) agree" in capsys.readouterr().out  # input and s


def test_examples_layer_with_planted_bug(monkeypatch, capsys, examples_dir):
    """The documented example: examples/my_layer.py's layer forgets a transpose in dx."""
    monkeypatch.chdir(examples_dir)
    assert main(["check", "my_layer:layer", "--input-shape", "3x5"]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "WRONG: gradient of 'input'" in out
    assert "gradient of 'W'" not in out and "gradient of 'b'" not in out
    assert main(["check", "my_layer:fixed_layer", "--input-shape", "3x5"]) == EXIT_OK


def test_examples_loss_forgetting_one_over_m(monkeypatch, capsys, examples_dir):
    monkeypatch.chdir(examples_dir)
    shapes = ["--shape", "W=1x3", "--shape", "b=1x1"]
    assert main(["check", "my_layer:loss", "my_layer:grad", *shapes]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "WRONG: gradient of 'W'" in out and "WRONG: gradient of 'b'" in out
    assert main(["check", "my_layer:loss", "my_layer:grad_fixed", *shapes]) == EXIT_OK


# ------------------------------------------------------------------------- bad input: exit 2, one line
BAD_INPUT = {
    "no colon": (["check", "user_model", "user_model:grad", *SHAPES], "must look like MODULE:NAME"),
    "unknown module": (["check", "nowhere:loss", "nowhere:grad", *SHAPES], "cannot import module 'nowhere'"),
    "missing function": (["check", "user_model:loss", "user_model:gradient", *SHAPES],
                         "has no attribute 'gradient'"),
    "not callable": (["check", "user_model:loss", "user_model:not_a_function", *SHAPES], "must be a function"),
    "wrong shapes": (["check", "user_model:loss", "user_model:grad", "--shape", "W=2x4", "--shape", "b=2x1"],
                     "wrong shapes?"),
    "key the params lack": (["check", "user_model:loss_needs_w2", "user_model:grad", *SHAPES], "'W2'"),
    "bad shape text": (["check", "user_model:loss", "user_model:grad", "--shape", "W=2by3"], "--shape W"),
    "shape without name": (["check", "user_model:loss", "user_model:grad", "--shape", "2x3"], "NAME=4x3"),
    "no parameters": (["check", "user_model:loss", "user_model:grad"], "--params FILE.npz"),
    "missing npz": (["check", "user_model:loss", "user_model:grad", "--params", "absent.npz"], "does not exist"),
    "layer without input shape": (["check", "user_model:Scale"], "--input-shape"),
    "three targets": (["check", "user_model:loss", "user_model:grad", "user_model:grad", *SHAPES], "got 3 targets"),
}  # fmt: skip


@pytest.mark.parametrize("arguments, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_exit_2(user_project, capsys, arguments, message):
    assert main(arguments) == EXIT_USAGE
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("refnn check: error: ")
    assert "Traceback" not in captured.err + captured.out


def test_npz_missing_key_named_against_shape(user_project, capsys):
    np.savez(user_project / "params.npz", W=np.zeros((2, 3)))
    arguments = ["check", "user_model:loss", "user_model:grad", "--params", "params.npz", "--shape", "b=2x1"]
    assert main(arguments) == EXIT_USAGE
    assert "has no key 'b' (keys: W)" in capsys.readouterr().err


def test_npz_missing_key_found_by_the_loss(user_project, capsys):
    np.savez(user_project / "params.npz", W=np.zeros((2, 3)))  # the loss reads params["b"]
    assert main(["check", "user_model:loss", "user_model:grad", "--params", "params.npz"]) == EXIT_USAGE
    assert "looked up key 'b' that the parameters do not have (they have: W (2, 3))" in capsys.readouterr().err


def test_npz_with_pickled_objects_is_refused(user_project, capsys):
    np.savez(user_project / "params.npz", W=np.array([{"evil": 1}], dtype=object))
    assert main(["check", "user_model:loss", "user_model:grad", "--params", "params.npz"]) == EXIT_USAGE
    assert "without pickle" in capsys.readouterr().err
