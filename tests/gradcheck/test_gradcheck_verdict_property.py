"""The verdict contract as properties over Hypothesis-drawn networks (gradcheck_nets.ClassicNet):

* a right gradient is never FAIL, in float32, float64 and mixed precision (a float32 first layer
  feeding a float64 second one), with and without an exact ReLU kink, for every method;
* one planted wrong element in a smooth network is never PASS: 10% of the tensor's largest entry,
  and at least 1% of the network's largest gradient RMS (G). Smaller errors in a tensor whose whole
  gradient is ~1e-4 G are below what a float32 backward pass resolves (its rounding is relative to
  intermediates of size G: tolerances.cross_tensor_floor), and are documented as such.

INCONCLUSIVE is allowed in both (a kink, tiny weights whose gradients sit below what f resolves).
"""

import numpy as np
import pytest
from gradcheck_nets import OUTPUTS, make_net
from hypothesis import given
from hypothesis import strategies as st

from equivalence_tests.profiles import property_settings
from reference_nn.gradcheck import FAIL, PASS, check_gradients

METHODS = ("auto", "central", "richardson", "complex", "directional")
PRECISIONS = ("float32", "float64", "mixed")


@st.composite
def networks(draw, precision, hidden=("relu", "sigmoid", "tanh"), kinks=True):
    config = {
        "n_x": draw(st.integers(1, 5)), "n_h": draw(st.integers(1, 5)), "n_y": draw(st.integers(1, 3)),
        "m": draw(st.integers(1, 6)), "hidden": draw(st.sampled_from(hidden)), "output": draw(st.sampled_from(OUTPUTS)),
        "lambd": draw(st.sampled_from([0.0, 0.1])), "weight_scale": draw(st.sampled_from([1e-2, 1e-1, 1.0, 10.0])),
        "dtype": np.float64 if precision == "float64" else np.float32,
    }  # fmt: skip
    net, params = make_net(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), **config)
    if precision == "mixed":  # the first layer in float32 (X too), the second created in float64
        params["W2"], params["b2"] = params["W2"].astype(np.float64), params["b2"].astype(np.float64)
        net.Y = net.Y.astype(np.float64)
    if kinks and draw(st.booleans()):  # an exact kink: Z1[0, 0] = 0 (sample 0 all zeros, b1[0] = 0)
        params["b1"][0] = 0
        net.X[:, 0] = 0
    return net, params


# method and precision are parameters, not drawn: each of the 15 combinations gets its own examples
# (profiles.EXAMPLE_BUDGETS; the thorough profile scales them)
@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("method", METHODS)
@property_settings("gradcheck/verdict_right_never_failed")
@given(data=st.data())
def test_a_right_gradient_is_never_failed(method, precision, data):
    net, params = data.draw(networks(precision), label="network")
    report = check_gradients(net.cost, net.grads, params, method=method)
    assert report.verdict != FAIL, f"{method} {precision}: a right gradient\n{report}"
    assert report.passed == (report.verdict == PASS), f"passed must mean PASS\n{report}"


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("method", METHODS)
@property_settings("gradcheck/verdict_planted_never_passed")
@given(data=st.data())
def test_one_planted_wrong_element_in_a_smooth_network_is_never_passed(method, precision, data):
    net, params = data.draw(networks(precision, hidden=("sigmoid", "tanh"), kinks=False), label="network")
    name = data.draw(st.sampled_from(["W1", "b1", "W2", "b2"]))
    right = net.grads(params)
    index = data.draw(st.integers(0, right["d" + name].size - 1))
    size = float(np.max(np.abs(right["d" + name])))
    largest_rms = max(float(np.sqrt(np.mean(np.square(g, dtype=np.float64)))) for g in right.values())

    def planted(p):
        g = net.grads(p)
        g["d" + name] = g["d" + name].copy()
        g["d" + name].reshape(-1)[index] += max(0.1 * size, 0.01 * largest_rms) or 1.0
        return g

    report = check_gradients(net.cost, planted, params, method=method)
    assert report.verdict != PASS and not report.passed, f"{method} {precision}: d{name}[{index}] planted\n{report}"
    if report.verdict == FAIL:
        assert report.failed_parameters == [name], f"{method} {precision}: the error is in {name}\n{report}"
