"""The README's "Which function do I call" table and its shell lines run as written: every
one-liner on the course-style code of tests/gradcheck/user_code, each giving a verified PASS, and
each `refnn check` line exiting 0 when run, as the README says, from examples/ (which ships the modules
the lines name: layers.py, model.py, mylayers.py, params.npz)."""

import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
from user_code import container_losses as CL
from user_code import ctx_functions as F
from user_code import layer_objects as LO
from user_code import layers as L
from user_code import models as M
from user_code import self_updating as S

import reference_nn.gradcheck as gradcheck
from equivalence_tests.cli import EXIT_OK, main

ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "README.md").read_text().split("### Which function do I call", 1)[1].split("\n### ", 1)[0]
ROWS = [row.split("|") for row in SECTION.splitlines() if row.startswith("| ")]
CALLS = [cells[2].strip().strip("`") for cells in ROWS if "`check_" in cells[2]]
SHELL = re.search(r"```bash\n(.*?)```", SECTION, re.S).group(1).strip().splitlines()


def data(function: str) -> dict:
    """The arguments a row's call names, for the function it checks (each row has its own)."""
    rng = np.random.default_rng(0)
    common = {"x": rng.standard_normal((4, 5))}
    if function == "cost":
        X = rng.standard_normal((3, 6))
        return {"cost": lambda p: np.sum(np.tanh(p["W"] @ X) ** 2),
                "grads": lambda p: {"dW": (2 * np.tanh(p["W"] @ X) * (1 - np.tanh(p["W"] @ X) ** 2)) @ X.T},
                "params": {"W": rng.standard_normal((2, 3))}}
    if function == "affine_forward":
        return {**common, "w": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}
    if function == "batchnorm_forward":
        return {**common, "gamma": rng.standard_normal(5), "beta": rng.standard_normal(5)}
    if function == "dropout_forward":
        return common
    if function == "conv_forward_naive":
        return {"x": rng.standard_normal((2, 2, 4, 4)), "w": rng.standard_normal((3, 2, 3, 3)),
                "b": rng.standard_normal(3)}
    if function == "lstm_step_forward":
        return {"x": rng.standard_normal((3, 4)), "prev_h": rng.standard_normal((3, 2)),
                "prev_c": rng.standard_normal((3, 2)), "Wx": 0.5 * rng.standard_normal((4, 8)),
                "Wh": 0.5 * rng.standard_normal((2, 8)), "b": rng.standard_normal(8)}
    if function == "word_embedding_forward":
        return {"ids": np.array([[0, 3, 1], [3, 2, 3]]), "W": rng.standard_normal((5, 4))}
    if function == "softmax_loss":
        return {"x": rng.standard_normal((4, 5)), "y": np.array([0, 3, 1, 4])}
    if function == "loss_and_grads":
        X, Y = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
        return {"loss_and_grads": lambda p: M.mlp_loss(p, X, Y),
                "params": {"weights": [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))],
                           "biases": [rng.standard_normal((4, 1)), rng.standard_normal((2, 1))]}}
    if function == "model.loss":
        rng = np.random.default_rng(0)
        X = rng.standard_normal((6, 4))
        model = M.TwoLayerNet(4, 5, 3)
        assert np.min(np.abs(X @ model.params["W1"] + model.params["b1"])) > 0.05, "data away from ReLU's kink"
        return {"model": model, "X": X, "y": rng.integers(0, 3, 6)}
    if function == "mlp_loss":
        return {"X": rng.standard_normal((3, 5)), "Y": rng.standard_normal((2, 5)),
                "weights": [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))],
                "biases": [rng.standard_normal((4, 1)), rng.standard_normal((2, 1))]}
    if function == "layer":
        return {**common, "layer": LO.AttrDense(5, 3)}
    rows = rng.standard_normal((5, 4))
    W1, b1, W2, b2 = CL.make_params()
    new_styles = {
        "list_cost": {"list_cost": CL.list_cost, "list_grads": CL.list_grads, "params": [W1, b1, W2, b2]},
        "bn_forward": {"bn_forward": CL.batchnorm_forward, "bn_backward": CL.batchnorm_backward,
                       "x": 2 * rows + 1, "gamma": rng.standard_normal(4), "beta": rng.standard_normal(4)},
        "grads_then_loss": {"grads_then_loss": CL.grads_then_loss,
                            "params": {"W1": W1, "b1": b1, "W2": W2, "b2": b2}},
        "MatMul": {"MatMul": F.MatMul, "x": rows, "w": rng.standard_normal((4, 3))},
        "sgd_layer": {"sgd_layer": S.Dense(4, 3), "x": rng.standard_normal((4, 2))},
        "pass_layer": {"pass_layer": S.PassDense(4, 3), "x": rows},
        "optimizer_layer": {"optimizer_layer": S.OptimizerDense(4, 3), "x": rows},
        "attention": {"attention": S.SelfAttention(4), "x": rows},
        "weighted_sum": {"weighted_sum": S.WeightedSum(3), **{k: rng.standard_normal((2, 3)) for k in "abc"}},
        "dropout": {"dropout": S.Dropout(), "x": rows},
    }
    if function in new_styles:
        return new_styles[function]
    raise AssertionError(f"the README calls {function!r}: add its data here")


def test_the_table_has_one_line_per_code_style():
    assert len(CALLS) == 22 and all(re.match(r"check_\w+\(", c) for c in CALLS), CALLS


@pytest.mark.parametrize("call", CALLS)
def test_each_readme_one_liner_passes(call):
    function = re.match(r"check_\w+\(([\w.]+)", call).group(1)
    namespace = {**vars(gradcheck), **vars(L), "mlp_loss": M.mlp_loss, **data(function)}
    report = eval(call, namespace)  # noqa: S307 - the README's own line, run as a user would
    assert report.passed and not report.inconclusive, f"{call}\n{report}"


@pytest.fixture
def shell_folder(monkeypatch):
    """examples/ of the checkout, where the README says to run these lines: the modules they name
    (layers.py, model.py, mylayers.py, sgdlayers.py, params.npz) ship there, so a user can paste them as they are."""
    examples = ROOT / "examples"
    monkeypatch.chdir(examples)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("layers", "model", "mylayers", "sgdlayers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield examples
    for name in ("layers", "model", "mylayers", "sgdlayers"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize("line", SHELL)
def test_each_readme_shell_line_exits_0(shell_folder, capsys, line):
    words = shlex.split(line, comments=True)
    assert words[:2] == ["refnn", "check"], line
    status = main(words[1:])
    assert status == EXIT_OK, f"{line}\n{capsys.readouterr()}"
