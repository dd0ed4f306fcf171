"""Pins of layer_step.py's pieces (how check_layer reads a gradient out of a layer that updates itself):
the learning-rate argument, the arrays a layer holds and which a call stepped, the gradient a step took and
its rounding bound, the power-of-two rate, the linearity test, the optimizer recorder and which attributes
are optimizers. Each figure is computed here from its docstring's definition."""

import numpy as np
import pytest

from reference_nn.gradcheck import layer_step as ls
from reference_nn.gradcheck import tolerances as tol


def test_step_argument():
    def backward(dout, learning_rate, cache=None):
        return dout

    def after_douts(lr, dout):  # 'lr' among the upstream gradients' positions: not taken
        return dout

    assert ls.step_argument(backward, 1, None) == "learning_rate", "by name, after the upstream gradients"
    assert ls.step_argument(after_douts, 1, None) is None, "only after the first n_douts parameters"
    assert ls.step_argument(lambda dout, *, eta: dout, 1, None) == "eta", "keyword-only too"
    assert ls.step_argument(backward, 1, "cache") == "cache", "a name given is used as it is"
    with pytest.raises(ValueError, match=r"learning_rate='mu' names no parameter of backward \(its parameters: "):
        ls.step_argument(backward, 1, "mu")
    assert ls.step_argument(max, 1, None) is None, "no signature: none"


class Layer:
    def __init__(self):
        self.W = np.ones((2, 2))
        self.params = {"b": np.zeros(2), "n": 3}
        self.weights = [np.ones(3, np.float32), "x"]
        self.count = np.arange(3)  # an int array: not a parameter


def test_float_arrays_and_what_a_call_stepped():
    layer = Layer()
    found = ls.float_arrays(layer)
    assert sorted(found) == ["W", "params.b", "weights[0]"], sorted(found)
    assert ls.read(*found["params.b"][:2]) is layer.params["b"] and ls.read(layer, "W") is layer.W, "read back"
    before = ls.with_copies(found)
    layer.W[0, 0] = 2.0  # changed in place
    layer.params["b"] = np.ones(2)  # replaced
    assert sorted(ls.stepped(before, layer)) == ["W", "params.b"], ls.stepped(before, layer)
    state = ls.LayerState(layer)
    layer.W[1, 1], layer.weights[0] = 9.0, np.zeros(3)
    layer.extra = 1
    state.restore()
    assert layer.W[1, 1] == 1.0 and layer.weights[0].dtype == np.float32 and layer.weights[0][0] == 1.0, "restored"


def test_recovered_gradient_and_its_rounding_bound():
    before, after = np.array([1.0, -2.0], np.float32), np.array([0.5, -1.0], np.float32)
    assert np.array_equal(ls.recovered(before, after, 0.25), [2.0, -4.0]), "(before - after) / rate"
    bound = ls.recovery_allowance(before, after, 0.25)
    assert np.allclose(bound, tol.eps(np.float32) * np.array([1.0, 2.0]) / 0.25, rtol=1e-15, atol=0), bound
    wide = ls.recovery_allowance(before.astype(np.float64), after.astype(np.float64), 0.5)
    assert np.allclose(wide, tol.eps(np.float64) * np.array([1.0, 2.0]) / 0.5, rtol=1e-15, atol=0), "float64's eps"


def test_choose_rate_is_the_power_of_two_that_steps_past_the_largest_weight():
    params = {"W": np.array([3.0, -5.0]), "b": np.array([0.1])}
    # W: max|W| 5 / RMS(g) = sqrt(0.5) -> 7.07 -> 2^3; b: 0.1 / 1 -> 2^-3; the largest exponent, at least 0
    assert ls.choose_rate(params, {"W": np.array([1.0, 0.0]), "b": np.array([1.0])}) == 8.0, "2^ceil(log2 7.07)"
    assert ls.choose_rate(params, {"b": np.array([4.0])}) == 1.0, "never below 2^0"
    assert ls.choose_rate(params, {"W": np.zeros(2)}) == 1.0, "a zero gradient says nothing"
    assert ls.choose_rate(params, {"W": np.array([1e-40, 0.0])}) == 2.0**ls.MAX_RATE_EXPONENT, "clipped at 2^100"
    assert ls._rms(np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5)) and ls._rms(np.zeros(0)) == 0.0, "rms"


def test_not_linear():
    once = np.array([[1.0, 2.0]])
    assert ls.not_linear("W", once, 2 * once, np.zeros_like(once)) is None, "doubled exactly"
    # 10 ulps of float32 of max(|twice|, RMS) are rounding: 1e-6 of 4 is within 10 x 1.2e-7 x 4 = 4.8e-6
    assert ls.not_linear("W", once, 2 * once + 1e-6, np.zeros_like(once)) is None, "rounding"
    text = ls.not_linear("W", once, np.array([[2.0, 4.5]]), np.zeros_like(once))
    assert text.startswith("backward's update of W is not an SGD step W - learning_rate * dW: doubling the upstream "
                           "gradient gave W[0, 1] a step of 4.5 x learning_rate instead of 2 x 2"), text  # fmt: skip
    assert ls.not_linear("W", once, np.array([[2.0, 4.5]]), np.full_like(once, 0.2)) is None, "4 x allowance covers"


def test_the_optimizer_recorder_pairs_held_arrays_with_gradients():
    W, b = np.ones(3), np.zeros(2)

    class SGD:
        lr = 0.1

        def update(self, param, grad):
            raise AssertionError("the recorder updates nothing")

    recorder = ls.OptimizerRecorder("opt", SGD(), lambda: {id(W): "W", id(b): "b"})
    assert recorder.lr == 0.1, "plain attributes pass through"
    assert recorder.update(W, np.full(3, 2.0)) is W, "returns its first argument"
    recorder.update({"b": b}, {"db": np.array([5.0, 6.0])})
    recorder.update(W, np.ones(4))  # not W's size: no pair
    assert sorted(recorder.captured) == ["W", "b"] and recorder.captured["b"].tolist() == [5.0, 6.0], recorder.captured
    assert recorder.captured["W"].tolist() == [2.0, 2.0, 2.0], "the pair of the matching size"


def test_optimizer_attributes():
    class Adam:
        pass

    class Holder:
        def __init__(self):
            self.optimizer, self.helper, self.opt, self.sub = object(), Adam(), object(), Layer()
            self.lr, self.adam_state = 0.1, {"m": 1}

    class Sub:
        def forward(self, x):
            return x

    holder = Holder()
    holder.momentum_layer = Sub()
    assert ls.optimizer_attributes(holder) == ["optimizer", "helper", "opt"], ls.optimizer_attributes(holder)


def test_a_zero_step_doubled_is_linear():
    zeros = np.zeros((2, 2))
    assert ls.not_linear("W", zeros, zeros, zeros) is None, "0 doubled is 0: excess exactly 0 is no refusal"
