"""Unusable input raises at once with a message naming the argument, the expectation and what was
received; a mismatch never raises (it is reported)."""

import numpy as np
import pytest

from reference_nn.gradcheck import GradientKeyError, check_gradients, numerical_gradient


def f(p):
    return float(np.sum(p["W1"] ** 2) + np.sum(p["b1"]))


def grad(p):
    return {"dW1": 2 * p["W1"], "db1": np.ones_like(p["b1"])}


@pytest.fixture
def params():
    return {"W1": np.arange(6.0).reshape(2, 3) / 7, "b1": np.zeros((2, 1))}


def test_plain_and_d_prefixed_keys_are_both_accepted(params):
    assert check_gradients(f, grad, params).passed
    assert check_gradients(f, lambda p: {"W1": 2 * p["W1"], "b1": np.ones((2, 1))}, params).passed


def test_missing_gradient_key(params):
    with pytest.raises(GradientKeyError, match=r"no gradient for parameter 'b1': expected key 'b1' or 'db1'"):
        check_gradients(f, lambda p: {"dW1": 2 * p["W1"]}, params)


def test_extra_gradient_key(params):
    with pytest.raises(GradientKeyError, match=r"keys that match no parameter: \['dW2'\]"):
        check_gradients(f, lambda p: {**grad(p), "dW2": np.zeros(3)}, params)
    report = check_gradients(f, lambda p: {**grad(p), "dW2": np.zeros(3)}, params, extra_keys="ignore")
    assert report.passed


def test_classic_intermediate_gradients_are_skipped(params):
    report = check_gradients(f, lambda p: {**grad(p), "dA1": np.zeros((2, 4)), "dZ1": np.zeros(1)}, params)
    assert report.passed and "dA1, dZ1" in report.notes[0]


def test_ambiguous_keys(params):
    with pytest.raises(GradientKeyError, match="both 'W1' and 'dW1'"):
        check_gradients(f, lambda p: {**grad(p), "W1": 2 * p["W1"]}, params)


def test_shape_mismatch_names_key_and_both_shapes(params):
    """A truly different shape is an error; one that differs only by singleton dimensions ((2,) for a
    (2, 1) bias) is compared by value, as in every entry point (issue 23's one container rule)."""
    with pytest.raises(ValueError, match=r"gradient 'db1' has shape \(4,\) but parameter 'b1' has shape \(2, 1\)"):
        check_gradients(f, lambda p: {"dW1": 2 * p["W1"], "db1": np.ones(4)}, params)
    report = check_gradients(f, lambda p: {"dW1": 2 * p["W1"], "db1": np.ones(2)}, params)
    assert report.passed and any("b1: gradient of shape (2,) for a parameter of shape (2, 1)" in n
                                 for n in report.notes), str(report)


def test_non_finite_parameter_and_gradient(params):
    params["W1"][1, 2] = np.nan
    with pytest.raises(ValueError, match=r"params\['W1'\] has 1 non-finite value\(s\), first nan at index \(1, 2\)"):
        check_gradients(f, grad, params)
    params["W1"][1, 2] = 0.0
    # a non-finite gradient element is a wrong gradient (issue 21): FAIL naming it, not an input error
    report = check_gradients(f, lambda p: dict(grad(p), db1=np.array([[np.inf], [0.0]])), params)
    assert report.failed and report.failed_parameters == ["b1"], str(report)
    assert report["b1"].worst_index == (0, 0) and report["b1"].analytic == np.inf, str(report)


def test_f_must_return_a_finite_scalar(params):
    with pytest.raises(ValueError, match=r"f must return a scalar loss; got an array of shape \(2, 3\)"):
        check_gradients(lambda p: p["W1"] ** 2, grad, params)
    with pytest.raises(ValueError, match="f returned nan at the given params"):
        check_gradients(lambda p: np.nan, grad, params)
    with pytest.raises(TypeError, match="f must return a real number"):
        check_gradients(lambda p: "loss", grad, params)


def test_size_one_costs_are_accepted(params):
    assert check_gradients(lambda p: np.array([[f(p)]]), grad, params).passed  # classic (1, 1) cost


def test_params_must_be_a_dict_of_float_arrays(params):
    with pytest.raises(TypeError, match=r"params must be a NumPy array \(or a dict, list or tuple of arrays\); got "
                                        r"set"):
        check_gradients(f, grad, {1.0, 2.0})
    with pytest.raises(TypeError, match=r"params\['W1'\] must be a NumPy array; got list"):
        check_gradients(f, grad, {"W1": [[1.0]], "b1": params["b1"]})
    with pytest.raises(TypeError, match=r"params\['W1'\] must be float32 or float64; got dtype int64"):
        check_gradients(f, grad, {"W1": np.ones((2, 3), dtype=np.int64), "b1": params["b1"]})
    with pytest.raises(ValueError, match="params is empty"):
        check_gradients(f, grad, {})


def test_unknown_method(params):
    with pytest.raises(ValueError, match="method must be one of"):
        check_gradients(f, grad, params, method="forward")
    with pytest.raises(ValueError, match="numerical_gradient method must be"):
        numerical_gradient(f, params, method="directional")


def test_explicit_complex_on_a_real_only_f_raises(params):
    with pytest.raises(ValueError, match="f does not support complex input for 'W1'"):
        check_gradients(f, grad, params, method="complex")  # f calls float(): no complex result


def test_a_mismatch_never_raises(params):
    report = check_gradients(f, lambda p: {"dW1": p["W1"], "db1": np.ones((2, 1))}, params)
    assert not report.passed and report.failed_parameters == ["W1"]
