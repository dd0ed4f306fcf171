"""Pins by effect of behaviours the fresh mutation sample of seed 20261209 found unpinned: the default chunk
size (one batched pass per tensor), the batched complex step's error bound, check_model_gradients' default
l2, the hint for a single element off by an integer factor, empty notes never added, the count of elements
a projection verified, complex step refused when f returns a non-finite value for complex input, a layer
whose forward returns (out, aux, cache), a list of more than 256 parameters, and the message naming a
missing nested gradient."""

import numpy as np
import pytest

from reference_nn.gradcheck import PASS, check_gradients, check_layer
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.batched import batched_numerical_gradient, check_model_gradients
from reference_nn.gradcheck.containers import flatten, match_gradients
from reference_nn.gradcheck.diagnosis import diagnose
from reference_nn.gradcheck.taylor import taylor_test
from reference_nn.gradcheck.validation import BadReturnValue
from reference_nn.model import model_backward, model_forward

rng = np.random.default_rng(5)
PARAMS = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4, 1)), "W2": rng.normal(size=(1, 4)),
          "b2": rng.normal(size=(1, 1))}  # fmt: skip
X, Y = rng.normal(size=(3, 5)), rng.uniform(0.1, 0.9, (1, 5))
ACTS = ["tanh", "sigmoid"]


def test_the_default_chunk_holds_a_small_tensor_in_one_pass():
    # 4 MiB per chunk: every tensor of this model in one batched pass, 4 tensors, 4 passes
    numeric = batched_numerical_gradient(PARAMS, X, Y, ACTS, "mse", method="central")
    assert numeric.n_passes == 4 and numeric.n_evaluations == 2 * sum(p.size for p in PARAMS.values()), numeric


def test_the_batched_complex_step_bound_is_100_eps_of_the_value():
    numeric = batched_numerical_gradient(PARAMS, X, Y, ACTS, "mse", method="complex")
    for key, values in numeric.values.items():
        assert np.allclose(numeric.errors[key], 100 * tol.eps(np.float64) * np.abs(values), rtol=1e-12, atol=0), key


def test_check_model_gradients_defaults_to_no_l2():
    AL, caches = model_forward(X, PARAMS, ACTS)
    grads = model_backward(AL, Y, caches, "mse", 0.0)
    report = check_model_gradients(PARAMS, X, Y, ACTS, "mse", grads=grads, method="complex")
    assert report.verdict == PASS, f"l2 defaults to 0: the l2 = 0 gradient is right\n{report}"


def test_a_single_element_off_by_an_integer_factor_is_named():
    # one nonzero element, ratio 400.005: within min(FIT k, INTEGER_SLACK) = 0.01 of 400
    hint = diagnose(np.array([0.0, 400.005]), np.array([0.0, 1.0]), np.array([False, True]))
    assert hint == "the element x 400: 400 = the batch size? a missing 1/m", hint


def test_no_empty_note_is_added():
    report = taylor_test(lambda p: float(np.sum(np.sin(p["w"]))), lambda p: {"w": np.cos(p["w"])},
                         {"w": np.array([0.3, -0.2])})  # fmt: skip
    assert report.notes == [], report.notes

    class Dense:
        def __init__(self):
            self.W = np.array([[0.5, -1.0], [2.0, 0.25]])

        def forward(self, x):
            self.x = x
            return x @ self.W

        def backward(self, dout):
            self.dW = self.x.T @ dout
            return dout @ self.W.T

    layer_report = check_layer(Dense(), np.array([[1.0, 2.0]]))
    assert layer_report.verdict == PASS and "" not in layer_report.notes, layer_report.notes


def test_a_projection_verified_tensor_counts_its_elements():
    w = np.linspace(-1.0, 1.0, 64)
    report = check_gradients(lambda p: np.sum(np.sin(p["w"])), lambda p: {"w": np.cos(p["w"])}, {"w": w})
    assert report.verdict == PASS and "64 element(s) verified by 8 random projections" in report["w"].note, str(report)


def test_complex_step_is_refused_where_f_returns_a_non_finite_value_for_complex_input():
    def f(p):
        return np.sum(p["w"] ** 2) + (np.inf if np.iscomplexobj(p["w"]) else 0.0)

    with pytest.raises(ValueError, match=r"method='complex' but f does not support complex input for 'w'"):
        check_gradients(f, lambda p: {"w": 2 * p["w"]}, {"w": np.array([0.5, -1.0])}, method="complex")


def test_a_layer_returning_out_aux_and_cache():
    class WithAux:
        def forward(self, x):
            return 2.0 * x, x * x, {"x": x}  # out, an auxiliary array, the cache (the last value)

        def backward(self, dout, cache):
            return 2.0 * dout

    report = check_layer(WithAux(), np.array([[0.5, -1.5]]))
    assert report.verdict == PASS, str(report)
    assert any("backward is called as backward(dout, cache)" in n for n in report.notes), report.notes


def test_a_list_of_more_than_256_parameters_is_matched():
    params = [np.full(1, float(i)) for i in range(300)]  # lengths beyond Python's small-int cache
    flat, tree = flatten(params)
    grads, _, _ = match_gradients([np.ones(1)] * 300, tree, flat)
    assert len(grads) == 300, len(grads)
    with pytest.raises(ValueError, match="has 299 entries but the parameters have 300"):
        match_gradients([np.ones(1)] * 299, tree, flat)
    with pytest.raises(ValueError, match="has 301 entries but the parameters have 300"):
        match_gradients([np.ones(1)] * 301, tree, flat)


def test_a_missing_nested_gradient_is_named():
    params = {"layer": {"W": np.ones((2, 2))}}
    with pytest.raises(BadReturnValue, match=r"has no gradient for parameter 'layer.W': expected key 'W' or 'dW'"):
        check_gradients(lambda p: np.sum(p["layer"]["W"]), lambda p: {"layer": {}}, params)


def _affine_forward(x, w):
    return x @ w, (x, w)


def _affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout


def test_check_vjp_puts_its_upstream_note_first_and_keeps_the_checks_notes():
    from reference_nn.gradcheck import check_vjp

    report = check_vjp(_affine_forward, _affine_backward, np.ones((2, 3)), np.ones((3, 2)), method="directional")
    assert report.notes == [
        "drove output(s) out (2, 2) with upstream gradients N(0, 1), seed 0",
        "directional: a passing tensor is verified by one projection g.v (no element named)",
    ]


def test_check_vjp_refuses_to_drive_the_output_after_the_last_one_backward_takes():
    from reference_nn.gradcheck import check_vjp

    def forward(x):
        return 2.0 * x, x * x, {"x": x}  # out, aux, cache

    def backward(dout, cache):
        return 2.0 * dout

    with pytest.raises(ValueError, match=r"outputs=1 drives output 1, but backward takes 1 upstream gradient"):
        check_vjp(forward, backward, np.array([0.5, -1.0]), outputs=1)


def test_a_backward_whose_signature_cannot_be_read_takes_every_output():
    from reference_nn.gradcheck.layer_calls import LayerCalls

    class Opaque:
        __signature__ = "unreadable"  # inspect.signature raises TypeError

        def __call__(self, *douts):
            return douts[0]

    class Layer:
        def __init__(self):
            self.backward = Opaque()

        def forward(self, x):
            return x, x

    calls = LayerCalls(Layer(), (np.ones(2),), "forward", "backward", {}, None)
    assert calls.accepted_upstream(2) == 2, "unknown: every output"


def test_check_vjp_of_a_method_whose_object_discovery_cannot_read():
    from reference_nn.gradcheck import check_vjp

    class Odd:
        @property
        def params(self):  # reading it raises: discovery of the owner fails, and check_vjp goes on without it
            raise RuntimeError("not readable")

        def forward(self, x):
            return 2.0 * x, x

        def backward(self, dout, cache):
            return 2.0 * dout

    odd = Odd()
    assert check_vjp(odd.forward, odd.backward, np.array([0.5, -1.0])).verdict == PASS


def test_a_tensor_cast_to_float32_inside_f_is_named():
    def f(p):
        return float(np.sum(np.sin(p["w"].astype(np.float32)).astype(np.float64)) + np.sum(p["b"] ** 2))

    report = check_gradients(f, lambda p: {"w": np.cos(p["w"]), "b": 2 * p["b"]},
                             {"w": np.array([0.3, -1.2, 2.5]), "b": np.array([0.5])})  # fmt: skip
    assert report.verdict == PASS and report.notes == [
        "measured: f casts w to float32 (moves within float32's rounding leave f unchanged): steps, rounding model "
        "and tolerances of float32 for it"], report.notes  # fmt: skip


def test_a_single_element_off_by_one_over_an_integer_is_named():
    # ratio 1/400: 1 / k within min(FIT / k, INTEGER_SLACK) = 0.01 of 400
    hint = diagnose(np.array([0.0, 1.0 / 400.0]), np.array([0.0, 1.0]), np.array([False, True]))
    assert hint == "the element x 1/400: 400 = the batch size? 1/m applied twice (in dZ and again in dW)?", hint
