"""Pins of check_layer's discovery and notes (discovery.py, layer_calls.py), by what the report says
(mutation-testing survivors of issue 26): large weights are still found read by the forward pass, a
sub-layer's buffers are named with their path, and the "read from layer.dinputs" note appears only
when backward returned None."""

import numpy as np

from reference_nn.gradcheck import PASS, check_layer
from tests.gradcheck.user_code import layer_objects as LO
from tests.gradcheck.user_code import self_updating

X = np.random.default_rng(0).standard_normal((5, 4)) * 2 + 1


def test_weights_of_magnitude_twenty_are_found_read_by_forward():
    """Discovery moves each parameter by 1e-3 (|w| + 1) relative with random signs to see that forward
    reads it; for |w| = 20 that is a move of 0.021 per element, which the output shows. A move that
    vanished for large weights would call W and b caches and check neither."""
    layer = LO.AttrDense(4, 3)
    signs = np.random.default_rng(1).choice([-1.0, 1.0], size=layer.W.shape)
    layer.W, layer.b = 20.0 * signs, np.full(3, 20.0)
    report = check_layer(layer, X)
    assert list(report.results) == ["input", "W", "b"] and report.verdict == PASS, f"weights of 20\n{report}"


def test_buffers_of_sub_layers_are_named_with_their_path():
    report = check_layer(LO.Sequential([LO.AttrDense(4, 4, seed=1), LO.BatchNorm1d(4)]), X)
    expected = "not checked, no gradient found (buffers, cached values): layers[0].x, layers[1].running_mean, " \
               "layers[1].running_var"  # fmt: skip
    assert expected in report.notes, f"notes {report.notes}"


def test_the_stored_input_gradient_note_only_when_backward_returns_none():
    """A layer whose backward returns dx: no note about layer.dinputs (it was not read)."""
    report = check_layer(LO.AttrDense(4, 3), X)
    assert report.verdict == PASS, f"a right layer\n{report}"
    assert not any("layer.dinputs" in n for n in report.notes), f"backward returned dx: notes {report.notes}"


def test_a_read_only_stale_gradient_is_left_alone():
    """Before the first call the checker zeroes a layer's stale float gradients (a layer that accumulates,
    dW += ..., must report one pass) and puts them back; a read-only one (a broadcast placeholder) cannot
    be written and is left as it is: the check runs and passes."""
    layer = LO.AttrDense(4, 3)
    layer.dW = np.broadcast_to(1.0, layer.W.shape)  # read-only, nonzero
    report = check_layer(layer, X)
    assert report.verdict == PASS and "W" in report.results, f"a read-only placeholder dW\n{report}"


def test_a_parameter_dict_may_hold_other_values_before_the_arrays():
    """``self.params = {"name": "dense", "W": ..., "b": ...}``: entries that are not arrays are skipped while
    looking for arrays (the first entry is a string), and W, b are found and checked."""

    class NamedDense:
        def __init__(self):
            rng = np.random.default_rng(3)
            self.params = {"name": "dense", "W": rng.standard_normal((4, 3)), "b": np.zeros(3)}
            self.grads = {}

        def forward(self, x):
            self.x = x
            return x @ self.params["W"] + self.params["b"]

        def backward(self, dout):
            self.grads = {"W": self.x.T @ dout, "b": dout.sum(axis=0)}
            return dout @ self.params["W"].T

    report = check_layer(NamedDense(), X)
    assert report.verdict == PASS and list(report.results) == ["input", "W", "b"], f"params with a name\n{report}"


def test_parameters_an_optimizer_receives_are_named_with_their_source():
    """backward hands (W, dW) to self.optimizer.update: W and b are checked, the note says where they were
    found, and they are not listed among the arrays left unchecked."""
    report = check_layer(self_updating.OptimizerDense(4, 3), X)
    assert report.verdict == PASS and list(report.results) == ["input", "W", "b"], f"optimizer layer\n{report}"
    assert "parameters found in the calls backward makes to layer.optimizer: W, b" in report.notes, report.notes
    assert "not checked, no gradient found (buffers, cached values): x" in report.notes, report.notes


def _nnfs_style_dense(names_from_json: bool):
    """A dense tanh layer in the nnfs style (self.inputs / self.dinputs), its attribute names either written
    in the class or set from a mapping built at run time (as from a JSON config: keys not interned)."""
    import json

    class Dense:
        def __init__(self):
            if names_from_json:
                self.__dict__.update(json.loads('{"inputs": null, "dinputs": null}'))
            else:
                self.inputs = self.dinputs = None
            rng = np.random.default_rng(0)
            self.W, self.b = rng.standard_normal((3, 2)), np.zeros(2)

        def forward(self, inputs):
            self.inputs = inputs
            return np.tanh(inputs @ self.W + self.b)

        def backward(self, dout):
            dz = dout * (1 - np.tanh(self.inputs @ self.W + self.b) ** 2)
            self.dW, self.db = self.inputs.T @ dz, dz.sum(axis=0)
            self.dinputs = dz @ self.W.T
            return self.dinputs

    return Dense()


def test_the_stored_input_is_recognized_by_its_name_however_the_name_was_made():
    from reference_nn.gradcheck import check_layer

    x = np.random.default_rng(1).standard_normal((4, 3))
    written, from_json = (check_layer(_nnfs_style_dense(flag), x) for flag in (False, True))
    assert written.passed and from_json.passed, f"{written}\n{from_json}"
    assert from_json.notes == written.notes, (
        f"names from a mapping change discovery:\n{from_json.notes}\n{written.notes}")
