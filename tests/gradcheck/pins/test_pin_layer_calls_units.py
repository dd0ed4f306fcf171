"""Pins of how check_layer calls a layer (layer_calls.LayerCalls) on small layers written here: input names,
differentiable positions and list inputs, fresh arguments, the book style (output and dinputs stored on
the layer), caches, the number of upstream gradients backward takes, reset methods, and the errors."""

import numpy as np
import pytest

from reference_nn.gradcheck.layer_calls import LayerCalls, is_array_list

X = np.array([[0.5, -1.0]])
Y = np.array([[2.0, 0.25]])


class Two:
    def forward(self, x, y, config, *, training=False):
        config["seen"] = True  # written into: a fresh copy each call keeps the caller's clean
        return x * y, (x, y)

    def backward(self, dout, cache):
        x, y = cache
        return dout * y, dout * x


class Book:
    def zero_grad(self):
        self.zeroed = getattr(self, "zeroed", 0) + 1

    def forward(self, inputs):
        self.output = inputs[0] + inputs[1]

    def backward(self, dvalues):
        self.dinputs = [dvalues, dvalues]


def test_names_positions_and_leaves():
    config = {"seen": False}
    calls = LayerCalls(Two(), (X, Y, config), "forward", "backward", {"training": True}, None)
    assert calls.names == ["x", "y", "config"] and calls.positions == [0, 1], (calls.names, calls.positions)
    assert calls.leaves == {"x": (0, None), "y": (1, None)}, calls.leaves
    args = calls.arguments({"x": X * 2, "y": Y})
    assert np.array_equal(args[0], X * 2) and args[2] == {"seen": False} and args[2] is not config, args
    calls.cache = True
    outs, cache = calls.forward_and_cache({"x": X, "y": Y})
    assert np.array_equal(outs[0], X * Y) and len(cache) == 1 and config == {"seen": False}, (outs, cache, config)
    assert calls.accepted_upstream(1) == 1 and calls.accepted_upstream(3) == 1, "dout, cache: one upstream"
    calls.cache = False
    assert calls.accepted_upstream(3) == 2, "without a cache both positional parameters take gradients"
    assert calls.input_point() == {"x": X, "y": Y}, calls.input_point()
    got = calls.input_gradients((X, Y))
    assert set(got) == {"x", "y"} and got["x"] is X and got["y"] is Y, got


def test_a_single_input_is_called_input_and_a_list_input_has_leaves():
    single = LayerCalls(Two(), (X,), "forward", "backward", {}, None)
    assert single.names == ["input"], single.names
    book = Book()
    calls = LayerCalls(book, ([X, Y],), "forward", "backward", {}, None)
    assert is_array_list([X, Y]) and not is_array_list([]) and not is_array_list([X, 1]), "lists of float arrays"
    assert calls.leaves == {"input[0]": (0, 0), "input[1]": (0, 1)} and calls.reset == "zero_grad", calls.leaves
    outs = calls.run_forward({"input[0]": X, "input[1]": Y})
    assert np.array_equal(outs[0], X + Y) and calls.stored["output"] and book.zeroed == 1, "book style, reset"
    calls.douts = [np.ones_like(X)]
    returned = calls.run_backward({"input[0]": X, "input[1]": Y})
    assert calls.stored["dinputs"] and book.zeroed == 2, "dinputs read from the layer; reset before every forward"
    got = calls.input_gradients(returned)
    assert np.array_equal(got["input[0]"], np.ones_like(X)) and np.array_equal(got["input[1]"], np.ones_like(Y))
    with pytest.raises(ValueError, match=r"gradient for the list input 'input' must be a list of 2 arrays"):
        calls.input_gradients([X])


def test_errors_name_what_is_missing():
    class NoForward:
        def backward(self, d):
            return d

    with pytest.raises(TypeError, match=r"layer must have a forward method \(name it: forward=\.\.\.\); NoForward has"):
        LayerCalls(NoForward(), (X,), "forward", "backward", {}, None)
    with pytest.raises(TypeError, match=r"layer must have a backwards method; Two has none"):
        LayerCalls(Two(), (X,), "forward", "backwards", {}, None)

    class Silent:
        def forward(self, x):
            return None

        def backward(self, d):
            return d

    with pytest.raises(ValueError, match=r"Silent.forward returned None and set no layer.output"):
        LayerCalls(Silent(), (X,), "forward", "backward", {}, None).run_forward({"input": X})
