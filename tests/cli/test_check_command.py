"""``refnn check``: a user's loss/gradient pair or layer, through the entry function main(argv)."""

import json

import numpy as np
import pytest

from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main
from equivalence_tests.cli.check import EXIT_USER_CODE

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
    "bad shape text": (["check", "user_model:loss", "user_model:grad", "--shape", "W=2by3"], "--shape W"),
    "shape without name": (["check", "user_model:loss", "user_model:grad", "--shape", "2x3"], "NAME=4x3"),
    "no parameters": (["check", "user_model:loss", "user_model:grad"], "--params FILE.npz"),
    "missing npz": (["check", "user_model:loss", "user_model:grad", "--params", "absent.npz"], "does not exist"),
    "layer without input shape": (["check", "user_model:Scale"], "--input-shape"),
    "three targets": (["check", "user_model:loss", "user_model:grad", "user_model:grad", *SHAPES], "got 3 targets"),
    "shape given twice": (["check", "user_model:loss", "user_model:grad", *SHAPES, "--shape", "W=3x3"],
                          "--shape W is given twice"),
    "input shape for a loss": (["check", "user_model:loss", "user_model:grad", *SHAPES, "--input-shape", "2x3"],
                               "--input-shape is the input of a layer"),
    "input shape text": (["check", "user_model:Scale", "--input-shape", "3-4"],
                         "--input-shape must be an array shape like 4x5"),
    "extra keys for a layer": (["check", "user_model:Scale", "--input-shape", "3x4", "--extra-keys", "ignore"],
                               "--extra-keys goes with MODULE:LOSS MODULE:GRAD or --value-and-grad"),
    "params attribute not a container": (["check", "user_model:loss", "user_model:grad", "--params", "user_model:loss"],
                                         "expected the parameters themselves"),
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


def test_npz_missing_key_found_by_the_loss_is_the_users_exception_exit_3(user_project, capsys):
    np.savez(user_project / "params.npz", W=np.zeros((2, 3)))  # the loss reads params["b"]
    assert main(["check", "user_model:loss", "user_model:grad", "--params", "params.npz"]) == EXIT_USER_CODE
    err = capsys.readouterr().err
    assert err.startswith("refnn check: user_model:loss raised KeyError: 'b' (looked up a key the parameters do not "
                          "have; they have: W (2, 3))"), err
    assert 'user_model.py", line' in err, f"the user's frame is shown\n{err}"


@pytest.mark.parametrize("arguments, message", [
    (["check", "user_model:loss", "user_model:grad", "--shape", "W=2x4", "--shape", "b=2x1"],
     "at the given params: W (2, 4), b (2, 1)"),
    (["check", "user_model:loss_needs_w2", "user_model:grad", *SHAPES], "KeyError: 'W2'"),
])
def test_exceptions_in_the_users_loss_exit_3_with_their_frames(user_project, capsys, arguments, message):
    """A ValueError or KeyError raised by the user's code is theirs: exit 3 and their frames (it exited 2
    with no frames before issue 23)."""
    assert main(arguments) == EXIT_USER_CODE
    err = capsys.readouterr().err
    assert message in err.splitlines()[0] and 'user_model.py", line' in err, err
    assert "reference_nn" not in err and "Traceback" not in err, err


def test_npz_with_pickled_objects_is_refused(user_project, capsys):
    np.savez(user_project / "params.npz", W=np.array([{"evil": 1}], dtype=object))
    assert main(["check", "user_model:loss", "user_model:grad", "--params", "params.npz"]) == EXIT_USAGE
    assert "without pickle" in capsys.readouterr().err


def test_negative_seed_is_a_one_line_usage_error(user_project, capsys):
    """--seed -3 was a NumPy traceback with exit 1; argparse now refuses it: exit 2, one line."""
    with pytest.raises(SystemExit) as stop:
        main(["check", "user_model:loss", "user_model:grad", *SHAPES, "--seed", "-3"])
    assert stop.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "refnn check: error: argument --seed: expected an integer >= 0, got '-3'", err
    assert "Traceback" not in err
