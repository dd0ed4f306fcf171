"""The batched evaluator's arithmetic (reference_nn/gradcheck/batched.py), tested from the checker's own
folder: every path of perturbed_losses (the rank-one update after an element-wise layer, the output
layer's row replacement, a softmax output that moves every row, the dense layers above), each batched
loss form, the L2 penalty change, chunking, and the three methods, against model_backward's float64
gradient (an independent, analytic computation of the same derivative).

Tolerances, per method, from tolerances.py's error models: central is good to its truncation
allowance eps^(1/3) = 6e-6 relative plus 4 times its rounding bound; Richardson and complex step to
1e-9 relative on these smooth 3-layer models (their own bounds are ~1e-12; 1e-9 leaves room for
model_backward's own rounding). Any wrong sign, index or factor in the batched arithmetic moves a
derivative by O(1) relative.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS
from reference_nn.gradcheck.batched import batched_numerical_gradient, check_model_gradients
from reference_nn.gradcheck.report import FLOOR_TOO_LARGE
from reference_nn.layers import Sigmoid
from reference_nn.losses import MSE
from reference_nn.model import compute_cost, model_backward, model_forward

EPS = np.finfo(np.float64).eps
METHODS = ("central", "richardson", "complex")
# name: (layer sizes, activations, loss, l2, targets kind)
MODELS = {
    "tanh-sigmoid/bce/l2": ((3, 4, 2), ["tanh", "sigmoid"], "bce", 0.3, "binary"),
    "sigmoid-identity/mse": ((3, 4, 2), ["sigmoid", "identity"], "mse", 0.0, "real"),
    "leaky-tanh-softmax/ce/l2": ((3, 4, 3, 3), ["leaky_relu", "tanh", "softmax"], "cross_entropy", 0.1, "onehot"),
    "tanh-identity/softmax_ce": ((3, 5, 3), ["tanh", "identity"], "softmax_cross_entropy", 0.0, "onehot"),
    "tanh-identity/bce_with_logits": ((3, 4, 1), ["tanh", "identity"], "bce_with_logits", 0.05, "binary"),
    "softmax-hidden/mse": ((3, 4, 2), ["softmax", "identity"], "mse", 0.0, "real"),
    # losses after an output they are not fused with: the batched bce and cross_entropy forms themselves
    # (sigmoid + bce and softmax + cross_entropy are computed from the logits)
    "tanh-softmax/bce": ((3, 4, 2), ["tanh", "softmax"], "bce", 0.0, "binary"),
    "tanh-sigmoid/cross_entropy": ((3, 4, 3), ["tanh", "sigmoid"], "cross_entropy", 0.0, "onehot"),
}


def model(name, seed=0):
    sizes, activations, loss, l2, kind = MODELS[name]
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.standard_normal((sizes[layer], sizes[layer - 1])) * 0.8
        params[f"b{layer}"] = rng.standard_normal((sizes[layer], 1)) * 0.3
    m = 5
    X = rng.standard_normal((sizes[0], m))
    if kind == "binary":
        Y = rng.integers(0, 2, size=(sizes[-1], m)).astype(np.float64)
    elif kind == "onehot":
        Y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], size=m)]
    else:
        Y = rng.standard_normal((sizes[-1], m))
    return params, X, Y, activations, loss, l2


def analytic(params, X, Y, activations, loss, l2):
    AL, caches = model_forward(X, params, activations)
    grads = model_backward(AL, Y, caches, loss, l2)
    return {key: grads[f"d{key}"] for key in params}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", MODELS)
def test_batched_derivatives_equal_the_analytic_gradient(name, method):
    params, X, Y, activations, loss, l2 = model(name)
    truth = analytic(params, X, Y, activations, loss, l2)
    # 600 bytes: one or two elements per chunk, so every tensor is split into several passes
    for chunk_bytes in (2**22, 600):
        numeric = batched_numerical_gradient(params, X, Y, activations, loss, l2, method=method,
                                             max_chunk_bytes=chunk_bytes)  # fmt: skip
        for key, exact in truth.items():
            scale = max(float(np.sqrt(np.mean(exact * exact))), 1e-300)
            if method == "central":
                allowed = EPS ** (1 / 3) * np.maximum(np.abs(exact), scale) + 4 * numeric.errors[key]
            else:
                allowed = 1e-9 * np.maximum(np.abs(exact), scale)
            deviation = np.abs(numeric.values[key] - exact)
            assert np.all(deviation <= allowed), (
                f"{name} {method} chunk {chunk_bytes} {key}: worst deviation {deviation.max():.3g} "
                f"(allowed {allowed.max():.3g}) at {np.unravel_index(np.argmax(deviation / allowed), exact.shape)}")


@pytest.mark.parametrize("method", METHODS)
def test_evaluation_counts_and_error_bounds(method):
    """Costs and bounds as documented: central 2n evaluations with the bound 10 eps |f| / h (h =
    2^floor(log2(eps^(1/3) max(1, |x|)))); complex n with 100 eps |value|; Richardson 12n (+2 for each
    element that falls back to a central difference: none on this smooth model)."""
    params, X, Y, activations, loss, l2 = model("tanh-sigmoid/bce/l2")
    n = sum(p.size for p in params.values())
    numeric = batched_numerical_gradient(params, X, Y, activations, loss, l2, method=method)
    cost = float(compute_cost(model_forward(X, params, activations)[0], Y, loss, params, l2))
    if method == "central":
        assert numeric.n_evaluations == 2 * n, f"central: {numeric.n_evaluations} evaluations for n = {n}"
        for key, x in params.items():
            h = np.exp2(np.floor(np.log2(EPS ** (1 / 3) * np.maximum(1.0, np.abs(x)))))
            assert np.array_equal(numeric.steps[key], h), f"{key}: steps {numeric.steps[key]} vs {h}"
            # the bound uses max(|f|, |f(x +- h)|): within h |f'| of |f|, far inside 1%
            assert np.allclose(numeric.errors[key], 10 * EPS * abs(cost) / h, rtol=0.01), f"{key}: rounding bound"
    elif method == "complex":
        assert numeric.n_evaluations == n, f"complex: {numeric.n_evaluations} evaluations for n = {n}"
        for key, x in params.items():
            h = 1e-20 * np.maximum(1.0, np.abs(x))
            # atol=0: steps are ~1e-20, below allclose's default atol (a step 1e-4 times too small passed)
            assert np.allclose(numeric.steps[key], h, rtol=1e-15, atol=0), f"{key}: steps {numeric.steps[key]} vs {h}"
            assert np.allclose(numeric.errors[key], 100 * EPS * np.abs(numeric.values[key]), rtol=1e-12), key
    else:
        # 12n: this model is smooth, no element falls back to a central difference (the fallback's +2 per
        # element: test_richardson_falls_back_to_a_central_difference_near_a_kink_with_its_bound)
        assert numeric.n_evaluations == 12 * n, f"richardson: {numeric.n_evaluations} evaluations for n = {n}"
    assert numeric.n_passes >= 2 * (len(params) // 2), f"{method}: at least one pass per tensor"


@pytest.mark.parametrize("method", METHODS)
def test_check_model_gradients_passes_right_and_fails_a_planted_element(method):
    # a smooth model: with leaky_relu one W1 element has a kink within Richardson's larger steps and is
    # (rightly) left unverified
    params, X, Y, activations, loss, l2 = model("tanh-sigmoid/bce/l2")
    right = check_model_gradients(params, X, Y, activations, loss, l2, method=method)
    assert right.verdict == PASS, f"{method}: right gradients\n{right}"
    grads = analytic(params, X, Y, activations, loss, l2)
    grads = {f"d{k}": v.copy() for k, v in grads.items()}
    grads["dW2"][1, 2] *= 1.001  # 1e-3 relative: above every method's allowance (central's is 6e-6)
    wrong = check_model_gradients(params, X, Y, activations, loss, l2, method=method, grads=grads)
    assert wrong.verdict == FAIL and wrong.failed_parameters == ["W2"] and wrong["W2"].worst_index == (1, 2), (
        f"{method}: planted dW2[1, 2] x 1.001\n{wrong}")


def test_richardson_falls_back_to_a_central_difference_near_a_kink_with_its_bound():
    """Two leaky_relu pre-activations 0.01 from their kinks (units 0 and 3, first sample): the W1 elements
    whose Richardson steps (from 2^-4) cross them (three, measured) are taken by a central difference, 2
    evaluations more each (two or more in one tensor: the count tells 2 x k from 2 / k), with the central
    bound plus its truncation allowance, 10 eps |f| / h + eps^(1/3) |value|, and agree with the analytic
    gradient within that bound."""
    params, X, Y, activations, loss, l2 = model("leaky-tanh-softmax/ce/l2")
    for unit in (0, 3):
        params["b1"][unit, 0] += 0.01 - (params["W1"] @ X + params["b1"])[unit, 0]
    truth = analytic(params, X, Y, activations, loss, l2)
    n = sum(p.size for p in params.values())
    numeric = batched_numerical_gradient(params, X, Y, activations, loss, l2, method="richardson")
    cost = float(compute_cost(model_forward(X, params, activations)[0], Y, loss, params, l2))
    fell_back = 0
    for key, x in params.items():
        h = np.exp2(np.floor(np.log2(EPS ** (1 / 3) * np.maximum(1.0, np.abs(x)))))
        central = numeric.steps[key] == h
        fell_back += int(central.sum())
        expected = 10 * EPS * abs(cost) / h[central] + EPS ** (1 / 3) * np.abs(numeric.values[key][central])
        assert np.allclose(numeric.errors[key][central], expected, rtol=0.01), f"{key}: fallback bound"
        deviation = np.abs(numeric.values[key][central] - truth[key][central])
        assert np.all(deviation <= 4 * numeric.errors[key][central]), (
            f"{key}: fallback values {numeric.values[key][central]} vs analytic {truth[key][central]}")
    assert fell_back >= 2 and numeric.n_evaluations == 12 * n + 2 * fell_back, (
        f"{fell_back} fallback element(s), {numeric.n_evaluations} evaluations for n = {n}")


def test_a_disagreement_only_a_large_atol_covers_is_not_blamed_on_the_loss():
    """dW2[1, 2] 5% off with atol=1: within the floor, beyond the cap a verified element must meet, so
    INCONCLUSIVE (not PASS, not FAIL). The batched model evaluates in float64 and adds no floor of its own
    for the loss's rounding, so the reason is never FLOOR_TOO_LARGE ('its rounding beside gradients this
    small'), which names the loss floor check_gradients adds."""
    params, X, Y, activations, loss, l2 = model("tanh-sigmoid/bce/l2")
    grads = {f"d{k}": v.copy() for k, v in analytic(params, X, Y, activations, loss, l2).items()}
    grads["dW2"][1, 2] *= 1.05
    report = check_model_gradients(params, X, Y, activations, loss, l2, method="complex", grads=grads, atol=1.0)
    reasons = report["W2"].inconclusive_reasons
    assert report.verdict == INCONCLUSIVE and sum(reasons.values()) == 1, f"one element unverified\n{report}"
    assert FLOOR_TOO_LARGE not in reasons, f"the floor is the user's atol, not the loss's rounding: {reasons}"


def test_a_sigmoid_named_at_run_time_is_fused_with_bce_like_the_reference():
    """Sigmoid + BCE is computed from the logits (exact where the output saturates) whenever the output's
    name equals "sigmoid", as compute_cost does: an Activation whose name is built at run time (equal, not
    the same string object) with outputs saturated at logits +-40 passes like the built-in one (the
    unfused form loses log(1 - sigmoid(40)) and calls every right gradient wrong)."""

    class RuntimeNamedSigmoid(Sigmoid):
        pass

    RuntimeNamedSigmoid.name = "".join(["sig", "moid"])
    params, X, Y, _, loss, l2 = model("tanh-sigmoid/bce/l2")
    params["b2"] = params["b2"] + np.array([[40.0], [-40.0]])
    for activations in (["tanh", "sigmoid"], ["tanh", RuntimeNamedSigmoid()]):
        report = check_model_gradients(params, X, Y, activations, loss, l2, method="complex")
        assert report.verdict == PASS, f"saturated sigmoid + bce, output {activations[-1]!r}\n{report}"


def test_a_users_loss_named_like_a_built_in_one_is_evaluated_by_its_own_value():
    """A user's Loss subclass keeps the name "mse" but halves the cost: the batched evaluator calls its
    value() for every perturbed copy (only the built-in classes get the batched formulas), so the check of
    its own gradient (half of MSE's) passes instead of stopping at the unperturbed point's mismatch."""

    class HalfMSE(MSE):
        def value(self, AL, Y):
            return 0.5 * super().value(AL, Y)

        def gradient(self, AL, Y):
            return 0.5 * super().gradient(AL, Y)

    params, X, Y, activations, _, l2 = model("sigmoid-identity/mse")
    report = check_model_gradients(params, X, Y, activations, HalfMSE(), l2, method="complex")
    assert report.verdict == PASS, f"a user's HalfMSE named mse\n{report}"


def test_complex_parameters_are_refused():
    params, X, Y, activations, loss, l2 = model("tanh-sigmoid/bce/l2")
    params = {k: v.astype(np.complex128) for k, v in params.items()}
    expected = r"params\['W1'\] must have dtype in \(float32, float64\), got dtype complex128"  # the argument named
    with pytest.raises(TypeError, match=expected):
        check_model_gradients(params, X, Y, activations, loss, l2)


@pytest.mark.parametrize("loss", ["huber", "l1"])
def test_a_loss_without_a_batched_form_is_evaluated_copy_by_copy(loss):
    """Huber and L1 have no batched formula: each perturbed copy goes through loss.value (the same
    derivatives, evaluated one copy at a time). Central differences (their |d| and branch points refuse
    complex step), the allowance of test_batched_derivatives_equal_the_analytic_gradient."""
    params, X, Y, activations, _, l2 = model("sigmoid-identity/mse")
    truth = analytic(params, X, Y, activations, loss, l2)
    numeric = batched_numerical_gradient(params, X, Y, activations, loss, l2, method="central")
    for key, exact in truth.items():
        scale = max(float(np.sqrt(np.mean(exact * exact))), 1e-300)
        allowed = EPS ** (1 / 3) * np.maximum(np.abs(exact), scale) + 4 * numeric.errors[key]
        deviation = np.abs(numeric.values[key] - exact)
        assert np.all(deviation <= allowed), f"{loss} {key}: worst deviation {deviation.max():.3g}"


@pytest.mark.parametrize("name", MODELS)
def test_a_built_in_loss_is_evaluated_in_one_batch(name, monkeypatch):
    """The point of batched.py: the five losses with a batched formula never go through loss.value
    per copy (compute_cost's own calls at the unperturbed point are a handful)."""
    from reference_nn import losses

    calls = []
    for cls in losses.LOSSES.values():
        original = cls.value
        monkeypatch.setattr(cls, "value", lambda self, *a, _o=original, **k: calls.append(1) or _o(self, *a, **k))
    params, X, Y, activations, loss, l2 = model(name)
    n = sum(p.size for p in params.values())
    batched_numerical_gradient(params, X, Y, activations, loss, l2, method="central")
    assert len(calls) <= 4, f"{name}: loss.value called {len(calls)} times for {2 * n} perturbed copies"
