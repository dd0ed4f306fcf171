"""``refnn check`` on code as people write it: a forward/backward pair with --input / --static,
a value-and-grad function with --value-and-grad, a layer keeping its parameters as attributes
(found, or a warning printed when none is). The user code is tests/gradcheck/user_code, copied
into a temporary folder that is the current directory."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main

USER_CODE = Path(__file__).resolve().parents[1] / "gradcheck" / "user_code"
AFFINE = ["user_code.layers:affine_forward", "--input", "x=4x5", "--input", "w=5x3", "--input", "b=3"]


@pytest.fixture
def user_code(tmp_path, monkeypatch):
    shutil.copytree(USER_CODE, tmp_path / "user_code")
    (tmp_path / "vag.py").write_text(
        "import numpy as np\n"
        "def loss(params, reg):\n"
        "    W = params['W']\n"
        "    return 0.5 * reg * np.sum(W ** 2) + np.sum(np.tanh(W)), {'dW': reg * W + 1 - np.tanh(W) ** 2}\n"
        "def loss_wrong(params, reg):\n"
        "    W = params['W']\n"
        "    return 0.5 * reg * np.sum(W ** 2) + np.sum(np.tanh(W)), {'dW': W + 1 - np.tanh(W) ** 2}\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [m for m in sys.modules if m == "vag" or m.startswith("user_code")]:
        monkeypatch.delitem(sys.modules, name)
    yield tmp_path
    for name in [m for m in sys.modules if m == "vag" or m.startswith("user_code")]:
        sys.modules.pop(name, None)


def test_forward_backward_pair(user_code, capsys):
    assert main(["check", AFFINE[0], "user_code.layers:affine_backward", *AFFINE[1:]]) == EXIT_OK
    out = capsys.readouterr().out
    assert "PASS: 3 gradient(s) agree" in out and "drove output(s) out (4, 3)" in out, out
    assert main(["check", AFFINE[0], "user_code.buggy:affine_backward", *AFFINE[1:]]) == EXIT_DISAGREE
    assert "WRONG: gradient of 'w' at element" in capsys.readouterr().out


def test_static_config_dict_and_integer_ids(user_code, capsys):
    bn = ["user_code.layers:batchnorm_forward", "--input", "x=4x5", "--input", "gamma=5", "--input", "beta=5",
          "--static", 'bn_param={"mode": "train"}']
    assert main(["check", bn[0], "user_code.layers:batchnorm_backward", *bn[1:]]) == EXIT_OK, capsys.readouterr()
    assert main(["check", bn[0], "user_code.buggy:batchnorm_backward", *bn[1:]]) == EXIT_DISAGREE
    capsys.readouterr()
    emb = ["user_code.layers:word_embedding_forward", "--static", "x=[[0, 2], [2, 1]]", "--input", "W=3x4", "--json"]
    assert main(["check", emb[0], "user_code.layers:word_embedding_backward", *emb[1:]]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert list(report["parameters"]) == ["W"], report
    assert "passed unchanged on every call: x (int64 array (2, 2))" in report["notes"], report["notes"]


def test_value_and_grad(user_code, capsys):
    np.savez(user_code / "p.npz", W=np.random.default_rng(0).standard_normal((3, 2)))
    common = ["--value-and-grad", "--params", "p.npz", "--static", "reg=0.1"]
    assert main(["check", "vag:loss", *common]) == EXIT_OK, capsys.readouterr()
    assert main(["check", "vag:loss_wrong", *common]) == EXIT_DISAGREE
    assert "WRONG: gradient of 'W'" in capsys.readouterr().out


def test_layer_with_attribute_parameters_and_the_no_parameter_warning(user_code, capsys):
    (user_code / "mylayers.py").write_text(
        "from user_code.layer_objects import AttrDense, ReLU\n"
        "def dense(): return AttrDense(4, 3)\n"
        "def dense_wrong(): return AttrDense(4, 3, bug='dW_times_123')\n"
        "relu = ReLU()\n"
    )
    assert main(["check", "mylayers:dense", "--input-shape", "5x4"]) == EXIT_OK
    assert "parameters found in array attributes: W, b" in capsys.readouterr().out
    assert main(["check", "mylayers:dense_wrong", "--input-shape", "5x4"]) == EXIT_DISAGREE
    assert "WRONG: gradient of 'W'" in capsys.readouterr().out
    main(["check", "mylayers:relu", "--input-shape", "5x4"])
    last_lines = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_lines.startswith("WARNING: no parameters found on ReLU"), last_lines


def test_layer_with_several_named_inputs(user_code, capsys):
    (user_code / "att.py").write_text("from user_code.layer_objects import Attention\nattention = Attention()\n")
    assert main(["check", "att:attention", "--input", "q=3x4", "--input", "k=5x4", "--input", "v=5x2"]) == EXIT_OK
    assert "q  " in capsys.readouterr().out


@pytest.mark.parametrize("arguments, message", [
    ([AFFINE[0], "user_code.layers:affine_backward", "--input", "x=4x5", "--input", "w=5x3"],
     "needs 'b': give --input b=SHAPE or --static b=JSON"),
    ([AFFINE[0], "user_code.layers:affine_backward", *AFFINE[1:], "--input", "z=3"],
     "has no parameter 'z' (its parameters: x, w, b)"),
    ([AFFINE[0], "user_code.layers:affine_backward", *AFFINE[1:], "--static", "p={bad"],
     "--static p: '{bad' is not JSON"),
    (["vag:loss", "user_code.layers:affine_backward", "--value-and-grad", "--shape", "W=2x2"],
     "--value-and-grad checks one MODULE:FN; got 2 targets"),
])
def test_bad_usage_is_one_line(user_code, capsys, arguments, message):
    assert main(["check", *arguments]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_value_and_grad_of_a_model_method_on_its_own_params(user_code, capsys):
    (user_code / "mymodel.py").write_text(
        "from user_code.models import TwoLayerNet, TwoLayerNetForgotReg\n"
        "net = TwoLayerNet(4, 5, 3, weight_scale=0.1)\n"
        "broken = TwoLayerNetForgotReg(4, 5, 3, weight_scale=0.1)\n"
    )
    common = ["--value-and-grad", "--input", "X=5x4", "--static", "y=[0, 2, 1, 0, 1]"]
    assert main(["check", "mymodel:net.loss", *common]) == EXIT_OK, capsys.readouterr()
    assert "fn reads params itself" in capsys.readouterr().out
    assert main(["check", "mymodel:broken.loss", *common]) == EXIT_DISAGREE
    assert "WRONG: gradient of 'W1'" in capsys.readouterr().out


def test_user_code_raising_exits_3_naming_the_function(user_code, capsys):
    (user_code / "broken.py").write_text(
        "def affine_backward(dout, cache):\n"
        "    x, w, b = cache\n"
        "    return dout @ w.T, x.T @ dout, dout.sum(axis=0) + undefined_name\n"
    )
    status = main(["check", AFFINE[0], "broken:affine_backward", *AFFINE[1:]])
    err = capsys.readouterr().err
    assert status == 3, err
    assert err.startswith("refnn check: broken:affine_backward raised NameError"), err
    assert "broken.py" in err and "reference_nn" not in err, f"only the user's frames: {err}"
