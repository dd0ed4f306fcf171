"""The reference at saturation: its gradient is the derivative of its own cost wherever the cost is
defined, at probabilities of exactly 0 and 1 and within 1e-17 of them (issue 15).

Expected values are written out from the formulas (softplus, -y/p + (1-y)/(1-p), 0 where the -100
log clamp holds the cost flat), never taken from the code under test; the gradient checker then
confirms the model's backward pass against numerical derivatives of the model's own cost.
"""

import math
import warnings

import numpy as np
import pytest

import reference_nn as rn
from reference_nn.gradcheck import check_gradients
from reference_nn.gradcheck.batched import check_model_gradients
from reference_nn.losses import OutputPairingWarning
from reference_nn.outputs import ActivationOutput

METHODS = ("auto", "complex", "central")
# Richardson starts at a relative step of 2^-4: around a saturated unit its larger steps see another
# regime, and it honestly reports an error bound too large for some elements (INCONCLUSIVE), never FAIL.


# ------------------------------------------------------------------------- the loss on probabilities
# (p, y) -> d bce / d p for N = 1, from -y/p + (1-y)/(1-p) with each term 0 where its log is clamped
# at -100 (p = 0 for the y term, p = 1 for the 1-y term: the cost does not move with p there).
BCE_DERIVATIVES = {
    (0.0, 0.0): 1.0,  # -0 (clamped, y = 0 anyway) + 1 / (1 - 0)
    (0.0, 1.0): 0.0,  # log(0) clamped: flat
    (0.0, 0.25): 0.75,  # y term clamped, 0.75 / 1
    (1.0, 1.0): -1.0,  # -1 / 1, the 1-y term is clamped
    (1.0, 0.0): 0.0,  # log(1 - 1) clamped: flat
    (1e-17, 1.0): -1e17,  # log(1e-17) = -39.1 is not clamped: the derivative has no floor
    (1e-17, 0.0): 1.0 / (1.0 - 1e-17),
    (1.0 - 2.0**-53, 0.0): 2.0**53,  # the float64 just below 1 (within 1.1e-16 of it)
}


@pytest.mark.parametrize(("p", "y"), sorted(BCE_DERIVATIVES))
def test_bce_gradient_on_probabilities_is_the_derivative_of_the_clamped_cost(p, y):
    gradient = rn.get_loss("bce").gradient(np.array([[p]]), np.array([[y]]))
    expected = BCE_DERIVATIVES[(p, y)]
    assert gradient[0, 0] == pytest.approx(expected, rel=1e-15), f"p={p}, y={y}: {gradient[0, 0]} != {expected}"


@pytest.mark.parametrize("p", [2.0**-56, 2.0**-17, 0.5, 1 - 2.0**-30])  # dyadic: p +- h is exact
def test_bce_gradient_matches_a_difference_quotient_where_the_cost_is_smooth(p):
    bce, y, h = rn.get_loss("bce"), np.array([[0.3]]), min(p, 1 - p) * 2.0**-14
    quotient = (bce.value(np.array([[p + h]]), y) - bce.value(np.array([[p - h]]), y)) / (2 * h)
    gradient = bce.gradient(np.array([[p]]), y)[0, 0]
    assert gradient == pytest.approx(quotient, rel=1e-6), f"p={p}: gradient {gradient}, quotient {quotient}"


def test_cross_entropy_gradient_is_zero_where_the_log_is_clamped_and_minus_y_over_p_elsewhere():
    P = np.array([[0.0, 1e-17], [1.0, 1.0 - 1e-17]])
    Y = np.array([[0.5, 1.0], [0.5, 0.0]])
    gradient = rn.get_loss("cross_entropy").gradient(P, Y)
    expected = np.array([[0.0, -1e17], [-0.5, 0.0]]) / 2  # m = 2 columns
    np.testing.assert_allclose(gradient, expected, rtol=1e-15, err_msg="cross_entropy gradient at the edges")


def test_float32_probability_below_3e_39_gives_a_finite_model_gradient():
    """bce after softmax: 1 / p overflows float32 for p < 2.9e-39; the scaled path never forms it."""
    params = {"W1": np.array([[100.0], [-100.0], [0.0]], dtype=np.float32), "b1": np.zeros((3, 1), np.float32)}
    X, Y = np.array([[0.45]], dtype=np.float32), np.array([[0.0], [1.0], [0.0]], dtype=np.float32)
    AL, caches = rn.model_forward(X, params, ["softmax"])
    assert 0 < AL[1, 0] < 2.9e-39, f"the example must reach the overflow range, got p = {AL[1, 0]}"
    grads = rn.model_backward(AL, Y, caches, "bce")
    assert all(np.isfinite(g).all() for g in grads.values()), f"non-finite gradient: {grads}"


# ------------------------------------------------------------------------- the model at saturation
def _saturated_sigmoid_model(dtype=np.float64):
    """One sigmoid unit, logits chosen so that p is exactly 0, exactly 1, within 1e-17 of 0 (Z = -39.5:
    p = 6.9e-18) and 1 - p within 1e-17 of 0 (Z = 39.5: p rounds to exactly 1.0), plus an ordinary one."""
    Z = np.array([[-800.0, 800.0, -39.5, 39.5, 0.7]])
    params = {"W1": np.array([[1.0]], dtype=dtype), "b1": np.zeros((1, 1), dtype=dtype)}
    Y = np.array([[1.0, 0.0, 1.0, 0.0, 1.0]], dtype=dtype)
    return params, Z.astype(dtype), Y


def test_sigmoid_bce_cost_comes_from_the_logits_exactly():
    params, X, Y = _saturated_sigmoid_model()
    AL, _ = rn.model_forward(X, params, ["sigmoid"])
    assert AL[0, 0] == 0.0 and AL[0, 1] == 1.0 and AL[0, 3] == 1.0 and 0 < AL[0, 2] < 1e-17, f"setup: {AL}"
    # -log(sigmoid(z)) = softplus(-z) for y = 1, -log(1 - sigmoid(z)) = softplus(z) for y = 0
    def softplus(z):
        return max(z, 0.0) + math.log1p(math.exp(-abs(z)))

    terms = [softplus(800.0), softplus(800.0), softplus(39.5), softplus(39.5), softplus(-0.7)]
    expected = math.fsum(terms) / 5
    assert rn.compute_cost(AL, Y, "bce") == pytest.approx(expected, rel=1e-15), "cost from the logits"
    # the same probabilities without their logits: the clamped probability form (100 per sample at
    # p = 0 or 1, where the true terms are 800 and 39.5), a function the fused gradient is NOT the
    # derivative of
    clamped = math.fsum([100.0, 100.0, softplus(39.5), 100.0, softplus(-0.7)]) / 5
    assert rn.compute_cost(np.array(AL), Y, "bce") == pytest.approx(clamped, rel=1e-15), "probability form"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_bce_fused_gradient_is_sigmoid_minus_y(dtype):
    params, X, Y = _saturated_sigmoid_model(dtype)
    AL, caches = rn.model_forward(X, params, ["sigmoid"])
    grads = rn.model_backward(AL, Y, caches, "bce")
    sigmoid = [0.0, 1.0, 1 / (1 + math.exp(39.5)), 1.0, 1 / (1 + math.exp(-0.7))]
    dZ = [(s - y) / 5 for s, y in zip(sigmoid, Y[0].tolist(), strict=True)]
    expected = sum(d * z for d, z in zip(dZ, X[0].tolist(), strict=True))
    assert grads["dW1"][0, 0] == pytest.approx(expected, rel=1e-6 if dtype == np.float32 else 1e-13), "dW1"
    assert grads["db1"][0, 0] == pytest.approx(sum(dZ), rel=1e-6 if dtype == np.float32 else 1e-13), "db1"


def _objective(X, Y, activations, loss):
    def f(p):
        AL, _ = rn.model_forward(X.astype(p["W1"].dtype), p, activations)
        return rn.compute_cost(AL, Y.astype(AL.real.dtype), loss)

    def grad(p):
        AL, caches = rn.model_forward(X, p, activations)
        return rn.model_backward(AL, Y, caches, loss)

    return f, grad


def _saturating_network(last: str, n_out: int, seed: int = 0):
    """tanh hidden layer, output logits scaled to +-1e3: several probabilities exactly 0 or 1."""
    rng = np.random.default_rng(seed)
    params = rn.initialize_parameters([3, 4, n_out], seed=seed)
    params["W2"] = params["W2"] * 400
    X = rng.standard_normal((3, 6))
    if last == "sigmoid":
        Y = rng.integers(0, 2, (n_out, 6)).astype(float)
    else:
        Y = np.eye(n_out)[:, rng.integers(0, n_out, 6)]
    return params, X, Y


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("last", "loss", "n_out"), [("sigmoid", "bce", 1), ("softmax", "cross_entropy", 3)])
def test_gradcheck_passes_model_backward_at_saturation(method, last, loss, n_out):
    params, X, Y = _saturating_network(last, n_out)
    AL, _ = rn.model_forward(X, params, ["tanh", last])
    saturated = int(((np.asarray(AL) == 0) | (np.asarray(AL) == 1)).sum())
    assert saturated >= 2, f"the example must saturate, got AL = {AL}"
    report = check_gradients(*_objective(X, Y, ["tanh", last], loss), params, method=method)
    assert report.passed, str(report)


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize(("last", "loss", "n_out"), [("sigmoid", "bce", 1), ("softmax", "cross_entropy", 3),
                                                     ("softmax", "kl_div", 3)])
def test_the_batched_model_check_differentiates_the_same_cost_at_saturation(method, last, loss, n_out):
    params, X, Y = _saturating_network(last, n_out)
    report = check_model_gradients(params, X, Y, ["tanh", last], loss, method=method)
    assert report.passed, str(report)


@pytest.mark.parametrize(("last", "loss", "n_out"), [("sigmoid", "bce", 1), ("softmax", "cross_entropy", 3)])
def test_richardson_finds_no_wrong_element_at_saturation(last, loss, n_out):
    params, X, Y = _saturating_network(last, n_out)
    report = check_gradients(*_objective(X, Y, ["tanh", last], loss), params, method="richardson")
    assert report.verdict in ("PASS", "INCONCLUSIVE") and not report.failed_parameters, str(report)


@pytest.mark.parametrize(("last", "loss", "n_out"), [("sigmoid", "bce", 1), ("softmax", "cross_entropy", 3)])
def test_a_gradient_that_is_zero_at_saturated_samples_is_caught(last, loss, n_out):
    """The planted bug is the old behaviour: torch's BCELoss gives 0 for a sample whose output is
    exactly 1, though the cost still falls as its logit falls."""
    params, X, Y = _saturating_network(last, n_out)
    f, right = _objective(X, Y, ["tanh", last], loss)

    def wrong(p):
        AL, caches = rn.model_forward(X, p, ["tanh", last])
        dead = ((np.asarray(AL) == 0) | (np.asarray(AL) == 1)).any(axis=0)
        broken_Y = np.where(dead, np.asarray(AL), Y)  # makes (AL - Y) zero for saturated samples
        return rn.model_backward(AL, broken_Y, caches, loss)

    assert check_gradients(f, right, params, method="complex").passed, "the right gradient must pass"
    report = check_gradients(f, wrong, params, method="complex")
    assert report.verdict == "FAIL" and "W2" in report.failed_parameters, str(report)


def test_gradcheck_finds_no_wrong_element_of_bce_after_softmax_at_saturation():
    """bce after softmax has no logits form: its cost is the clamped probability one, which jumps where
    an output rounds to exactly 1 (log(1 - p) from -36.7 to the clamp's -100). The checker sees those
    points as kinks (INCONCLUSIVE); every element it can verify agrees, and none FAILs."""
    params, X, Y = _saturating_network("softmax", 3)
    f, grad = _objective(X, Y, ["tanh", "softmax"], "bce")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutputPairingWarning)  # multi-label bce on softmax: on purpose
        for method in ("complex", "central"):
            report = check_gradients(f, grad, params, method=method)
            assert not report.failed_parameters, f"{method}: {report}"
    mild = {name: value / 40 if name == "W2" else value for name, value in params.items()}  # 10 times the logits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutputPairingWarning)
        AL, _ = rn.model_forward(X, mild, ["tanh", "softmax"])
        assert np.asarray(AL).min() < 1e-6, f"still nearly saturated: {AL}"
        report = check_gradients(f, grad, mild, method="complex")
    assert report.passed, str(report)


# ------------------------------------------------------------------------- pairings
def _softmax_output():
    params = rn.initialize_parameters([2, 3], seed=1)
    X = np.random.default_rng(1).standard_normal((2, 4))
    AL, caches = rn.model_forward(X, params, ["softmax"])
    return AL, caches, np.eye(3)[:, [0, 1, 2, 0]]


def test_softmax_cross_entropy_after_softmax_is_refused_naming_cross_entropy():
    AL, caches, Y = _softmax_output()
    with pytest.raises(ValueError, match=r"applied twice\. Use loss='cross_entropy'"):
        rn.compute_cost(AL, Y, "softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"loss='cross_entropy'"):
        rn.model_backward(AL, Y, caches, "softmax_cross_entropy")


def test_bce_with_logits_after_sigmoid_is_refused_naming_bce():
    params = rn.initialize_parameters([2, 1], seed=1)
    AL, _ = rn.model_forward(np.ones((2, 3)), params, ["sigmoid"])
    with pytest.raises(ValueError, match=r"Use loss='bce'"):
        rn.compute_cost(AL, np.ones((1, 3)), "bce_with_logits")


def test_bce_after_softmax_warns_and_still_computes():
    AL, caches, Y = _softmax_output()
    with pytest.warns(OutputPairingWarning, match="cross_entropy"):
        cost = rn.compute_cost(AL, Y, "bce")
    expected = rn.compute_cost(np.array(AL), Y, "bce")  # a plain array: no pairing known, no warning
    assert cost == expected, f"{cost} != {expected}"


def test_only_the_returned_output_carries_its_logits():
    AL, _, Y = _softmax_output()
    assert isinstance(AL, ActivationOutput) and AL.logits is not None, "model_forward's AL carries its logits"
    for derived in (AL[:, :2], AL.copy(), AL * 1.0, AL - Y, AL.T):
        assert getattr(derived, "logits", None) is None, f"{type(derived)} must not carry logits"
    assert repr(AL).startswith("array("), repr(AL)


def test_an_output_modified_in_place_falls_back_to_the_probability_form():
    params, X, Y = _saturated_sigmoid_model()
    AL, _ = rn.model_forward(X, params, ["sigmoid"])
    AL[0, 4] = 0.5
    assert rn.compute_cost(AL, Y, "bce") == rn.compute_cost(np.array(AL), Y, "bce"), "stale logits were used"
