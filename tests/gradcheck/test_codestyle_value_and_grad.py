"""check_value_and_grad on code that returns (loss, grads) together: loss functions of arrays,
a model reading its own self.params (perturbed in place, restored bit for bit), parameters kept
in lists. Each written from scratch (tests/gradcheck/user_code), right and with a planted bug."""

import numpy as np
import pytest
from user_code import buggy
from user_code import layers as L
from user_code import models as M

from reference_nn.gradcheck import check_value_and_grad


def bits(params):
    """Every array's exact bytes, by name: equality means bit-identical."""
    if isinstance(params, dict):
        return {k: bits(v) for k, v in params.items()}
    if isinstance(params, list | tuple):
        return [bits(v) for v in params]
    return (params.dtype.str, params.shape, params.tobytes())


def classification_data(seed, N=6, D=4, C=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def test_model_reading_its_own_params_passes_and_is_restored_bit_for_bit():
    model = M.TwoLayerNet(4, 5, 3)
    X, y = classification_data(0)
    margin = np.min(np.abs(X @ model.params["W1"] + model.params["b1"]))
    assert margin > 0.05, f"test data: no ReLU input within 0.05 of its kink (got {margin})"
    model.params["b2"][1] = -0.0  # a negative zero must come back as -0.0
    objects, before = dict(model.params), bits(model.params)
    report = check_value_and_grad(model.loss, model.params, X, y)
    assert report.passed and not report.inconclusive, str(report)
    assert list(report.results) == ["W1", "b1", "W2", "b2"], str(report)
    assert bits(model.params) == before, "params must be bit-identical after the check"
    assert all(model.params[k] is objects[k] for k in objects), "params must hold the same array objects"
    assert report.notes[0].startswith("fn reads params itself: trial values put into params' containers"), (
        report.notes
    )
    assert "X (float64 array (6, 4)), y (int64 array (6,))" in report.notes[1], report.notes


def test_model_with_planted_bug_fails_on_W1():
    model = M.TwoLayerNetForgotReg(4, 5, 3)
    X, y = classification_data(0)
    report = check_value_and_grad(model.loss, model.params, X, y)
    assert report.failed_parameters == ["W1"], str(report)
    w1 = report["W1"]
    expected = model.reg * model.params["W1"][w1.worst_index]  # the missing term at the named element
    assert abs((w1.numeric - w1.analytic) - expected) < 1e-6 * max(1.0, abs(expected)), str(report)


def test_function_with_no_argument_reading_its_dict():
    model = M.TwoLayerNet(4, 5, 3, seed=1)
    X, y = classification_data(0)
    report = check_value_and_grad(lambda: model.loss(X, y), model.params)
    assert report.passed and not report.inconclusive, str(report)
    broken = M.TwoLayerNetForgotReg(4, 5, 3, seed=1)
    assert check_value_and_grad(lambda: broken.loss(X, y), broken.params).failed_parameters == ["W1"]


def test_params_restored_after_the_function_raises_midway():
    model = M.TwoLayerNet(4, 5, 3)
    X, y = classification_data(0)
    model.params["W2"][0, 0] = -0.0
    before = bits(model.params)
    calls = []

    def flaky_loss():
        calls.append(1)
        if len(calls) == 7:  # after several trial values have been written
            raise FloatingPointError("overflow in the user's loss")
        return model.loss(X, y)

    with pytest.raises(Exception, match="overflow in the user's loss"):  # the user's error, maybe wrapped
        check_value_and_grad(flaky_loss, model.params)
    assert len(calls) == 7, f"the loss was called {len(calls)} times"
    assert bits(model.params) == before, "params must be bit-identical after an exception"


def test_function_replacing_its_arrays_is_refused_and_restored():
    params = {"w": np.array([1.0, 2.0])}
    original = params["w"]

    def replaces():
        params["w"] = params["w"] * 1.0  # a new array: later trial values would not reach it
        return float(np.sum(params["w"] ** 2)), {"w": 2 * params["w"]}

    with pytest.raises(RuntimeError, match=r"fn replaced params\['w'\] with a new array"):
        check_value_and_grad(replaces, params)
    assert params["w"] is original and original.tolist() == [1.0, 2.0], "params restored"


def test_lists_of_arrays_are_named_by_position():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    params = {"weights": [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))],
              "biases": [rng.standard_normal((4, 1)), rng.standard_normal((2, 1))]}
    report = check_value_and_grad(M.mlp_loss, params, X, Y)
    assert report.passed and not report.inconclusive, str(report)
    assert list(report.results) == ["weights[0]", "weights[1]", "biases[0]", "biases[1]"], str(report)
    wrong = check_value_and_grad(M.mlp_loss_bias_mean, params, X, Y)
    assert wrong.failed_parameters == ["biases[1]"], str(wrong)
    assert wrong["biases[1]"].worst_index in {(0, 0), (1, 0)}, str(wrong)


def test_list_net_reading_its_own_lists_in_place():
    net = M.ListNet([3, 4, 2])
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    before = bits(net.weights), bits(net.biases)
    report = check_value_and_grad(net.loss_and_grads, {"weights": net.weights, "biases": net.biases}, X, Y)
    assert report.passed and not report.inconclusive, str(report)
    assert (bits(net.weights), bits(net.biases)) == before, "lists' arrays restored bit for bit"


@pytest.mark.parametrize("right, wrong", [(L.softmax_loss, buggy.softmax_loss), (L.svm_loss, buggy.svm_loss)])
def test_loss_of_scores_and_labels(right, wrong):
    rng = np.random.default_rng(4)
    # scores on a 0.35 grid with distinct per-row values: every hinge margin x_j - x_y + 1 is >= 0.05 from 0
    x = np.stack([rng.permutation(5) * 0.35 for _ in range(4)]) + rng.uniform(0, 0.01, (4, 5))
    y = np.array([0, 3, 1, 4])
    report = check_value_and_grad(right, x, y)
    assert report.passed and not report.inconclusive, str(report)
    assert list(report.results) == ["x"] and report["x"].gradient_key == "dx", str(report)
    failed = check_value_and_grad(wrong, x, y)
    assert failed.failed_parameters == ["x"], str(failed)
    assert failed["x"].worst_index is not None and len(failed["x"].worst_index) == 2, str(failed)


def test_gradient_keys_with_d_prefix_and_nested_dicts():
    rng = np.random.default_rng(5)
    params = {"layer1": {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}, "scale": np.array(1.5)}

    def fn(p):
        z = p["layer1"]["W"] @ np.ones(3) + p["layer1"]["b"]
        loss = p["scale"] * np.sum(z**2)
        return loss, {"layer1": {"dW": np.outer(2 * p["scale"] * z, np.ones(3)), "db": 2 * p["scale"] * z},
                      "dscale": np.sum(z**2)}

    report = check_value_and_grad(fn, params)
    assert report.passed and list(report.results) == ["layer1.W", "layer1.b", "scale"], str(report)
    assert report["scale"].gradient_key == "dscale", str(report)


def test_ambiguous_calling_convention_asks_which():
    def fn(p, extra=None):
        return float(np.sum(p["w"] ** 2)), {"w": 2 * p["w"]}

    params = {"w": np.array([1.0, -2.0])}
    with pytest.raises(ValueError, match=r"say which: in_place=False"):
        check_value_and_grad(fn, params, 3)
    assert check_value_and_grad(fn, params, 3, in_place=False).passed


def test_wrong_return_value_is_a_clear_error():
    with pytest.raises(TypeError, match=r"fn must return \(loss, grads\); got float"):
        check_value_and_grad(lambda p: float(np.sum(p["w"])), {"w": np.ones(2)})


def test_float32_model_reading_its_dict_is_differentiated_in_float64():
    """Its dict entries are replaced by the checker's float64 arrays during the check, so the
    numerical side is float64 (judged at float32 tolerance); the float32 arrays come back."""
    model = M.TwoLayerNet(4, 5, 3)
    model.params = {k: v.astype(np.float32) for k, v in model.params.items()}
    X, y = classification_data(0)
    X = X.astype(np.float32)
    before = bits(model.params)
    report = check_value_and_grad(model.loss, model.params, X, y)
    assert report.passed and not report.inconclusive, str(report)
    assert report["W1"].dtype == "float32" and report["W1"].eval_dtype == "float64", str(report)
    assert bits(model.params) == before, "float32 arrays restored bit for bit"
    broken = M.TwoLayerNetForgotReg(4, 5, 3)
    broken.params = {k: v.astype(np.float32) for k, v in broken.params.items()}
    assert check_value_and_grad(broken.loss, broken.params, X, y).failed_parameters == ["W1"]


class AliasingNet:
    """Keeps ``self.params`` but reads ``self.W``, the same array (set once in __init__)."""

    def __init__(self):
        self.params = {"W": np.random.default_rng(6).standard_normal((3, 2))}
        self.W = self.params["W"]

    def loss(self, x):
        z = np.tanh(x @ self.W)
        return float(np.sum(z**2)), {"W": x.T @ (2 * z * (1 - z**2))}


def test_array_read_through_another_reference_is_written_in_place():
    """Replacing params['W'] would not reach self.W (a false failure): the probe sees the loss
    ignore the replacement and respond to an in-place write, and switches to writing in place."""
    net, x = AliasingNet(), np.random.default_rng(7).standard_normal((4, 3))
    before = bits(net.params)
    report = check_value_and_grad(net.loss, net.params, x)
    assert report.passed and not report.inconclusive, str(report)
    assert "W: fn reads these arrays through another reference" in " ".join(report.notes), report.notes
    assert "written into params' arrays in place" in report.notes[0], report.notes
    assert bits(net.params) == before and net.W is net.params["W"], "restored, still the same array"


def test_arrays_in_a_tuple_are_written_in_place():
    weights = (np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([0.1, -0.2]))

    def loss():
        z = np.tanh(weights[0] @ np.array([1.0, 2.0]) + weights[1])
        dz = 2 * z * (1 - z**2)
        return np.sum(z**2), (np.outer(dz, [1.0, 2.0]), dz)

    before = bits(weights)
    report = check_value_and_grad(loss, weights)
    assert report.passed and list(report.results) == ["[0]", "[1]"], str(report)
    assert bits(weights) == before, "tuple arrays restored bit for bit"
