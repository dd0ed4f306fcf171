"""Pins of which path a tensor takes: method="directional" projects tensors of PROJECTION_MIN_ELEMENTS (16)
elements or more and checks smaller ones element by element (the boundary tensor has exactly 16); and
check_layer refuses to drive an output beyond those its backward takes gradients for, however far beyond."""

import numpy as np
import pytest

from reference_nn.gradcheck import PASS, check_gradients, check_layer
from reference_nn.gradcheck.check import PROJECTION_MIN_ELEMENTS

rng = np.random.default_rng(0)
PARAMS = {"b": rng.normal(size=3), "c": rng.normal(size=PROJECTION_MIN_ELEMENTS), "W": rng.normal(size=(5, 8))}


def f(p):
    return np.sum(np.sin(p["b"])) + np.sum(np.cos(p["c"])) + np.sum(p["W"] ** 2)  # complex-safe


def grad_f(p):
    return {"b": np.cos(p["b"]), "c": -np.sin(p["c"]), "W": 2 * p["W"]}


def test_directional_projects_tensors_from_the_minimum_size_on():
    assert PROJECTION_MIN_ELEMENTS == 16, "the size this test is built around"
    report = check_gradients(f, grad_f, PARAMS, method="directional")
    assert report.verdict == PASS, str(report)
    methods = {k: r.method for k, r in report.results.items()}
    assert methods == {"b": "directional->complex", "c": "directional(complex)", "W": "directional(complex)"}, methods
    assert report["b"].worst_index is not None and report["c"].worst_index is None, "element-wise names an element"


class ThreeOutputs:
    """forward returns three outputs; backward takes one upstream gradient (the first output's)."""

    def forward(self, x):
        self.x = x
        return 2.0 * x, x.sum(), x**2

    def backward(self, dout):
        return 2.0 * dout


@pytest.mark.parametrize("outputs", [1, 2])
def test_driving_an_output_beyond_what_backward_takes_is_an_error(outputs):
    with pytest.raises(ValueError, match=rf"outputs={outputs} drives output {outputs}, but backward takes 1 upstream"):
        check_layer(ThreeOutputs(), np.array([[0.5, -1.0]]), outputs=outputs)
