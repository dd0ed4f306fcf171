"""``refnn check`` options of issue 23, each run on user code copied into a temporary project:
--params MODULE:ATTR (the container the user's module holds), --method elementwise|projection,
--extra-keys ignore, --static honoured with --input-shape, --input-shape as the array's shape as
passed, a layer whose backward takes an SGD step."""

import shutil
import sys
from pathlib import Path

import pytest

from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main
from equivalence_tests.cli.check import EXIT_USER_CODE

USER_CODE = Path(__file__).resolve().parents[1] / "gradcheck" / "user_code"
MODULES = ("self_updating", "container_losses")


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name in MODULES:
        shutil.copy(USER_CODE / f"{name}.py", tmp_path / f"{name}.py")
    (tmp_path / "listnet.py").write_text(
        "from container_losses import list_cost, list_grads, make_params\n"
        "params = make_params()\n"
        "def grads_with_loss(params):\n"
        "    return {'W': list_grads([params['W'], params['b'], params['V'], params['c']])[0], 'loss': 0.0}\n"
        "def cost_dict(params):\n"
        "    return list_cost([params['W'], params['b'], params['V'], params['c']])\n"
        "def grads_dict(params):\n"
        "    g = list_grads([params['W'], params['b'], params['V'], params['c']])\n"
        "    return {'W': g[0], 'b': g[1], 'V': g[2], 'c': g[3], 'loss': 0.0}\n"
        "named = dict(zip('W b V c'.split(), make_params()))\n"
        "def wrong_grads(params):\n"
        "    return list_grads(params, bug='dW1_row')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in (*MODULES, "listnet"):
        sys.modules.pop(name, None)


def test_params_from_the_users_module(project, capsys):
    """The list [W1, b1, W2, b2] the module holds, checked as it is (names [0] ... [3])."""
    assert main(["check", "container_losses:list_cost", "container_losses:list_grads", "--params",
                 "listnet:params"]) == EXIT_OK, capsys.readouterr()
    assert main(["check", "container_losses:list_cost", "listnet:wrong_grads", "--params", "listnet:params"]) == (
        EXIT_DISAGREE)
    assert "WRONG: gradient of '[0]' at element (1, " in capsys.readouterr().out


@pytest.mark.parametrize("method", ["elementwise", "projection"])
def test_method_elementwise_and_projection_like_the_api(project, capsys, method):
    arguments = ["check", "container_losses:list_cost", "container_losses:list_grads", "--params", "listnet:params",
                 "--method", method]
    assert main(arguments) == EXIT_OK, capsys.readouterr()
    arguments[2] = "listnet:wrong_grads"
    assert main(arguments) == EXIT_DISAGREE
    assert "WRONG: gradient of '[0]'" in capsys.readouterr().out


def test_extra_keys_ignore(project, capsys):
    arguments = ["check", "listnet:cost_dict", "listnet:grads_dict", "--params", "listnet:named"]
    assert main(arguments) == EXIT_USAGE
    assert "keys that match no parameter: ['loss']" in capsys.readouterr().err
    assert main([*arguments, "--extra-keys", "ignore"]) == EXIT_OK
    assert "skipped gradient keys that are not parameters: loss" in capsys.readouterr().out


def test_static_is_honoured_with_input_shape(project, capsys):
    """Dropout's missing 1/(1-p) shows only in training mode: --static training=true reaches forward."""
    assert main(["check", "self_updating:Dropout", "--input-shape", "5x4"]) == EXIT_OK
    layer = "self_updating:buggy_dropout"
    (project / "self_updating.py").write_text((project / "self_updating.py").read_text()
                                              + "\n\ndef buggy_dropout():\n    return Dropout(bug='no_scale')\n")
    sys.modules.pop("self_updating", None)
    assert main(["check", layer, "--input-shape", "5x4"]) == EXIT_OK  # eval mode: nothing to see
    assert main(["check", layer, "--input-shape", "5x4", "--static", "training=true"]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "WRONG: gradient of 'input'" in out and "training=True" in out


def test_input_shape_is_the_shape_forward_gets_and_an_sgd_step_layer_is_checked(project, capsys):
    """Dense(4, 3) keeps samples in columns: its input is 4 x m, given as --input-shape 4x2."""
    (project / "dense.py").write_text("from self_updating import Dense\nlayer = Dense(4, 3)\n"
                                      "wrong = Dense(4, 3, bug='weights_one_element')\n")
    assert main(["check", "dense:layer", "--input-shape", "4x2"]) == EXIT_OK, capsys.readouterr()
    out = capsys.readouterr().out
    assert "driven as an SGD step" in out and "PASS: 3 gradient(s)" in out, out
    assert main(["check", "dense:wrong", "--input-shape", "4x2"]) == EXIT_DISAGREE
    assert "WRONG: gradient of 'weights' at element (1, 0)" in capsys.readouterr().out
    # 2x4 is not a shape this forward takes: its own matmul raises, which is the user's code: exit 3
    assert main(["check", "dense:layer", "--input-shape", "2x4"]) == EXIT_USER_CODE
    assert "self_updating.py\", line" in capsys.readouterr().err
    sys.modules.pop("dense", None)


def test_method_names_and_learning_rate_name_for_a_layer(project, capsys):
    (project / "named.py").write_text(
        "from self_updating import DenseRows32, PassDense\n"
        "passing, wrong = PassDense(4, 3), PassDense(4, 3, bug='weights_one_element')\n"
        "class Mu(DenseRows32):\n"
        "    def backprop(self, d, mu):\n"
        "        return super().backprop(d, mu)\n"
        "mu = Mu(4, 3)\n")
    names = ["--forward", "forward_pass", "--backward", "backward_pass"]
    assert main(["check", "named:passing", "--input-shape", "5x4", *names]) == EXIT_OK, capsys.readouterr()
    assert main(["check", "named:wrong", "--input-shape", "5x4", *names]) == EXIT_DISAGREE
    assert "WRONG: gradient of 'W' at element (1, 0)" in capsys.readouterr().out
    assert main(["check", "named:passing", "--input-shape", "5x4"]) == EXIT_USAGE
    assert "--forward / --backward" in capsys.readouterr().err
    arguments = ["check", "named:mu", "--input-shape", "5x4", "--backward", "backprop", "--learning-rate", "mu",
                 "--dtype", "float32"]
    assert main(arguments) == EXIT_OK, capsys.readouterr()
    assert "driven as an SGD step with mu=2**" in capsys.readouterr().out
    sys.modules.pop("named", None)


def test_an_exception_while_importing_the_users_module_exits_3_with_its_frames(project, capsys):
    (project / "broken.py").write_text("import numpy as np\nscale = 1 / 0\ndef loss(p):\n    return 0.0\n")
    assert main(["check", "broken:loss", "broken:loss", "--shape", "W=2x3"]) == EXIT_USER_CODE
    err = capsys.readouterr().err
    assert "raised ZeroDivisionError: division by zero (while importing broken)" in err.splitlines()[0], err
    assert 'broken.py", line 2' in err, err
    sys.modules.pop("broken", None)
