"""The report: a short table a person reads in five seconds, JSON for machines, a reproducer, and
assert_gradients raising with the report as its message."""

import json

import numpy as np
import pytest
from gradcheck_nets import make_net

from reference_nn.gradcheck import assert_gradients, check_gradients


@pytest.fixture
def broken():
    net, params = make_net(np.random.default_rng(1))
    return net, params, lambda p: net.grads(p, "error_in_one_element")


def test_failure_names_parameter_index_values_errors_method_step_dtype(broken):
    net, params, grads = broken
    report = check_gradients(net.cost, grads, params, method="complex")
    w1 = report["W1"]
    assert (w1.status, w1.worst_index, w1.method, w1.dtype) == ("FAIL", (1, 2), "complex", "float64")
    exact = net.grads(params)["dW1"][1, 2]
    assert w1.numeric == pytest.approx(exact, rel=1e-12)  # complex step: exact to a few ulps
    assert w1.analytic == pytest.approx(exact + 1e-3 * np.max(np.abs(net.grads(params)["dW1"])), rel=1e-12)
    assert w1.max_abs_error == pytest.approx(abs(w1.analytic - w1.numeric))
    assert 0 < w1.max_rel_error < 1 and 0 < w1.step < 1e-18


def test_str_is_a_short_table(broken):
    net, params, grads = broken
    text = str(check_gradients(net.cost, grads, params))
    lines = text.splitlines()
    assert lines[0].startswith("Gradient check FAIL (W1)")
    assert len(lines) <= 2 + len(params) + 4  # head, column names, a row per parameter, a few notes
    row = next(line for line in lines if line.startswith("W1"))
    assert "FAIL" in row and "(1,2)" in row and "auto->complex" in row and "float64" in row


def test_to_dict_is_strict_json(broken):
    net, params, grads = broken
    report = check_gradients(net.cost, grads, params, method="directional")
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["passed"] is False and data["failed_parameters"] == ["W1"]
    assert data["parameters"]["W1"]["worst_index"] == [1, 2]
    assert data["parameters"]["W2"]["worst_index"] is None  # a passing projection names no element


def test_reproducer_points_at_the_failing_element(broken):
    net, params, grads = broken
    report = check_gradients(net.cost, grads, params, seed=3)
    assert "seed=3" in report.reproducer
    assert "['W1'][(1, 2)]" in report.reproducer


def test_assert_gradients_raises_with_the_report(broken):
    net, params, grads = broken
    with pytest.raises(AssertionError, match=r"(?s)FAIL \(W1\).*\(1,2\)"):
        assert_gradients(net.cost, grads, params)
    assert assert_gradients(net.cost, net.grads, params).passed


def test_auto_says_which_method_was_used_and_why():
    net, params = make_net(np.random.default_rng(1))
    supported = check_gradients(net.cost, net.grads, params)
    assert all(r.method == "auto->complex" for r in supported.results.values())

    def real_only(p):  # float() drops the imaginary part: complex step impossible
        return float(net.cost(p).real) if np.iscomplexobj(net.cost(p)) else net.cost(p)

    report = check_gradients(real_only, net.grads, params)
    assert report.passed
    assert all(r.method == "auto->richardson" for r in report.results.values())
    assert "complex step not used" in report["W1"].note


def test_complex_step_that_silently_goes_wrong_is_detected():
    """abs(z) on complex input keeps a complex result but breaks the derivative: caught by the probe."""
    rng = np.random.default_rng(0)
    params = {"w": rng.uniform(-1, 1, 5)}

    def f(p):
        return np.sum(np.abs(p["w"] - 2.0) ** 3)  # |.| of a complex number is real: Im part lost

    def grad(p):
        return {"w": -3 * (2.0 - p["w"]) ** 2}

    report = check_gradients(f, grad, params)
    assert report.passed and report["w"].method == "auto->richardson", str(report)
