"""check_layer: the input gradient and every parameter gradient of a forward/backward object, through
a random upstream gradient (a vector-Jacobian product), so vector outputs are covered."""

import numpy as np
import pytest

from reference_nn.gradcheck import check_layer


class Dense:
    """y = W x + b, samples in columns: x (n_in, m), W (n_out, n_in), b (n_out, 1)."""

    def __init__(self, n_in, n_out, rng, bug=None):
        self.params = {"W": rng.standard_normal((n_out, n_in)), "b": rng.standard_normal((n_out, 1))}
        self.grads = {}
        self.bug = bug

    def forward(self, x):
        self.x = x
        return self.params["W"] @ x + self.params["b"]

    def backward(self, dy):
        W = self.params["W"]
        self.grads["dW"] = (self.x @ dy.T).T if self.bug != "dW_missing_transpose" else dy @ self.x.T * 1.01
        self.grads["db"] = np.sum(dy, axis=1, keepdims=True)
        return W.T @ dy if self.bug != "dx_wrong_sign" else -(W.T @ dy)


class ReLU:
    def forward(self, x):
        self.x = x
        return np.where(x.real > 0, x, 0.0)

    def backward(self, dy):
        return dy * (self.x > 0)


class Softmax:
    """Column-wise softmax: a vector output whose Jacobian is dense."""

    def forward(self, z):
        e = np.exp(z - z.real.max(axis=0, keepdims=True))
        self.y = e / e.sum(axis=0, keepdims=True)
        return self.y

    def backward(self, dy):
        y = self.y
        return y * (dy - np.sum(dy * y, axis=0, keepdims=True))


@pytest.fixture
def rng():
    return np.random.default_rng(4)


def test_right_dense_layer_passes_and_covers_input_and_parameters(rng):
    layer = Dense(3, 4, rng)
    report = check_layer(layer, rng.standard_normal((3, 5)))
    assert report.passed and not report.inconclusive, str(report)
    assert list(report.results) == ["input", "W", "b"]
    assert report["W"].gradient_key == "dW"


@pytest.mark.parametrize("bug, wrong", [("dW_missing_transpose", "W"), ("dx_wrong_sign", "input")])
def test_broken_layer_is_named(rng, bug, wrong):
    layer = Dense(4, 4, rng, bug=bug)  # square W: the buggy dW keeps its shape
    for method in ("auto", "central", "directional"):
        report = check_layer(layer, rng.standard_normal((4, 3)), method=method)
        assert report.failed_parameters == [wrong], str(report)


def test_vector_output_without_parameters(rng):
    report = check_layer(Softmax(), rng.standard_normal((4, 3)))
    assert report.passed and list(report.results) == ["input"]

    class WrongSoftmax(Softmax):
        def backward(self, dy):
            return self.y * (1 - self.y) * dy  # the diagonal only: wrong off-diagonal terms

    assert not check_layer(WrongSoftmax(), rng.standard_normal((4, 3))).passed


def test_relu_exactly_at_its_kink_is_inconclusive_not_failed():
    x = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -1.0]])  # two entries exactly at the kink
    report = check_layer(ReLU(), x)
    assert report.inconclusive
    assert report["input"].n_inconclusive == 2
    assert sorted(report["input"].inconclusive_indices) == [(0, 2), (1, 1)]


def test_layer_parameters_are_restored(rng):
    layer = Dense(3, 2, rng)
    W, b = layer.params["W"], layer.params["b"]
    saved = W.copy()
    check_layer(layer, rng.standard_normal((3, 4)))
    assert layer.params["W"] is W and layer.params["b"] is b
    np.testing.assert_array_equal(W, saved)


def test_a_params_property_that_builds_a_new_dict_is_checked_through_the_arrays(rng):
    """Replacing an entry of a dict built anew on each access would never reach the layer: the
    trial values are written into the layer's own arrays instead, and restored."""

    class Fresh(Dense):
        @property
        def params(self):
            return dict(self._params)

        @params.setter
        def params(self, value):
            self._params = value

    layer = Fresh(4, 4, rng)
    saved = {k: v.copy() for k, v in layer._params.items()}
    report = check_layer(layer, rng.standard_normal((4, 3)))
    assert report.passed and list(report.results) == ["input", "W", "b"], str(report)
    # recognized as built anew at discovery (a property, not one dict), so the trial values go in place from
    # the start: no probe has to find out, and no note says "reads this array through another reference"
    assert not any("another reference" in note for note in report.notes), report.notes
    assert all(np.array_equal(layer._params[k], saved[k]) for k in saved), "parameters restored"
    broken = Fresh(4, 4, rng, bug="dW_missing_transpose")
    assert check_layer(broken, rng.standard_normal((4, 3))).failed_parameters == ["W"]


def test_float32_layer(rng):
    layer = Dense(3, 4, rng)
    layer.params = {k: v.astype(np.float32) for k, v in layer.params.items()}
    report = check_layer(layer, rng.standard_normal((3, 5)).astype(np.float32))
    assert report.passed, str(report)
    assert report["W"].dtype == "float32" and report["W"].eval_dtype == "float64"
