"""Issue 23: check_vjp(FunctionClass, *inputs) for ctx-style autograd Functions, and one container
rule for check_gradients too (lists, tuples, nested dicts, one array; a gradient that differs only by
singleton dimensions compared by value with a note). Right code PASS, a planted bug FAIL naming tensor
and element. User code: tests/gradcheck/user_code/ctx_functions.py and container_losses.py."""

import numpy as np
import pytest
from user_code import container_losses as CL
from user_code import ctx_functions as F

from reference_nn.gradcheck import BadReturnValue, check_gradients, check_value_and_grad, check_vjp

RNG = np.random.default_rng(0)
A, B, W = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))

# class -> (inputs, names checked, the planted bug, the tensor and element it breaks)
FUNCTIONS = {
    "Mul": (F.Mul, (A, B), ["x", "y"], "Mul.dy", "y", None),
    "MatMul": (F.MatMul, (A, W), ["input", "weight"], "MatMul.dweight", "weight", (0, 1)),
    "LogSoftmax": (F.LogSoftmax, (A,), ["x"], "LogSoftmax.sum", "x", None),
    "Sigmoid (instance methods)": (F.Sigmoid, (A,), ["x"], "Sigmoid", "x", None),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_ctx_function_class_passes_in_one_call(name):
    cls, inputs, checked, *_ = FUNCTIONS[name]
    report = check_vjp(cls, *inputs)
    assert report.passed and not report.inconclusive and list(report.results) == checked, f"{name}\n{report}"
    assert "forward(ctx, ...) and backward(ctx, grad)" in report.notes[0], report.notes


@pytest.mark.parametrize("name", FUNCTIONS)
def test_ctx_function_class_bug_is_named(name, monkeypatch):
    cls, inputs, _, bug, broken, index = FUNCTIONS[name]
    monkeypatch.setattr(F, "BUG", {bug})
    report = check_vjp(cls, *inputs)
    assert report.failed_parameters == [broken], f"{name}: {bug}\n{report}"
    assert report[broken].worst_index is not None and (index is None or report[broken].worst_index == index), (
        str(report))


def test_list_params_pass_and_a_planted_row_bug_is_named():
    report = check_gradients(CL.list_cost, CL.list_grads, CL.make_params())
    assert report.passed and list(report.results) == ["[0]", "[1]", "[2]", "[3]"], str(report)
    report = check_gradients(CL.list_cost, lambda p: CL.list_grads(p, bug="dW1_row"), CL.make_params())
    assert report.failed_parameters == ["[0]"] and report["[0]"].worst_index[0] == 1, str(report)


def test_tuple_params_are_a_container_too():
    report = check_gradients(CL.list_cost, lambda p: tuple(CL.list_grads(p)), tuple(CL.make_params()))
    assert report.passed, str(report)


def test_nested_dicts_with_a_float_for_a_1x1_bias_compared_by_value_with_a_note():
    W1, b1, W2, b2 = CL.make_params()
    params = {"hidden": {"W": W1, "b": b1}, "out": {"W": W2, "b": b2}}
    report = check_gradients(CL.nested_cost, CL.nested_grads, params)
    assert report.passed and list(report.results) == ["hidden.W", "hidden.b", "out.W", "out.b"], str(report)
    assert any(n.startswith("out.b: gradient of shape () for a parameter of shape (1, 1)") for n in report.notes), (
        report.notes)
    report = check_gradients(CL.nested_cost, lambda p: CL.nested_grads(p, bug="dW1_row"), params)
    assert report.failed_parameters == ["hidden.W"], str(report)


def test_a_truly_different_shape_in_a_container_is_a_one_line_error():
    def grads(params):
        g = CL.list_grads(params)
        g[0] = g[0].T
        return g

    with pytest.raises(BadReturnValue, match=r"grad_f's gradient \[0\] for '\[0\]' has shape \(3, 4\) but '\[0\]' has "
                                             r"shape \(4, 3\)"):
        check_gradients(CL.list_cost, grads, CL.make_params())


def test_one_array_as_params():
    x = RNG.standard_normal(5)
    report = check_gradients(lambda v: float(np.sum(np.sin(v))), lambda v: np.cos(v), x)
    assert report.passed and list(report.results) == ["params"], str(report)


def test_forward_returning_out_cache_mean_var_drives_out_and_finds_the_cache():
    x, gamma, beta = RNG.standard_normal((6, 4)) * 2 + 1, RNG.standard_normal(4), RNG.standard_normal(4)
    report = check_vjp(CL.batchnorm_forward, CL.batchnorm_backward, x, gamma, beta)
    assert report.passed and list(report.results) == ["x", "gamma", "beta"], str(report)
    assert any("cache at position 1" in n for n in report.notes), report.notes
    assert any("not driven (zero upstream gradient): " in n for n in report.notes), report.notes
    report = check_vjp(CL.batchnorm_forward, lambda d, c: CL.batchnorm_backward(d, c, bug="dgamma_one"), x, gamma,
                       beta)
    assert report.failed_parameters == ["gamma"] and report["gamma"].worst_index == (2,), str(report)


def test_two_candidate_caches_is_a_one_line_error_naming_the_option():
    def forward(x):
        return x * 2, {"x": x}, (x,)

    with pytest.raises(ValueError, match=r"forward returned \(array \(3, 4\), dict, tuple\): positions \[1, 2\] could "
                                         r"each be the cache; say which: cache=2"):
        check_vjp(forward, lambda dout, cache: 2 * dout, A)
    report = check_vjp(forward, lambda dout, cache: 2 * dout, A, cache=2)
    assert report.passed, str(report)


def test_fn_returning_grads_then_loss_is_read_with_a_note_and_its_bug_named():
    W1, b1, W2, b2 = CL.make_params()
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    report = check_value_and_grad(CL.grads_then_loss, params)
    assert report.passed and "fn returns (grads, loss): read as such (the scalar is the loss)" in report.notes, (
        str(report))
    report = check_value_and_grad(lambda p: CL.grads_then_loss(p, bug="dW1_row"), params)
    assert report.failed_parameters == ["W1"], str(report)


def test_two_arrays_back_is_a_one_line_error_naming_the_option():
    x = RNG.standard_normal(5)
    with pytest.raises(ValueError, match=r"fn returned \(array \(5,\), array \(5,\)\): neither is a scalar loss; say "
                                         r"which is the loss: returns="):
        check_value_and_grad(lambda v: (np.cos(v), np.sin(v)), x)
