"""reference_nn.gradcheck.batched: the vectorized numerical gradient of the L-layer model.

The expected values are the reference's hand-written gradient (model_backward), itself pinned by
tests/core against published and mpmath-computed numbers; and the generic, one-call-per-element
estimators of reference_nn.gradcheck, which share no code path with the batched forward pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference_nn as rn
from reference_nn.gradcheck import numerical_gradient
from reference_nn.gradcheck.batched import (
    batched_central_difference_for_model,
    batched_numerical_gradient,
    check_model_gradients,
)

# (loss, activations, n_out): every loss, every activation, softmax both hidden (dense path) and last.
MODELS = [
    ("softmax_cross_entropy", ("tanh", "relu", "identity"), 3),
    ("mse", ("leaky_relu", "sigmoid", "identity"), 2),
    ("bce", ("tanh", "tanh", "sigmoid"), 1),
    ("bce_with_logits", ("softmax", "tanh", "identity"), 1),
    ("cross_entropy", ("sigmoid", "tanh", "softmax"), 3),
]

# Relative accuracy (error over the largest gradient entry) each method reaches on these smooth,
# O(1) float64 problems, with a margin of ~100 over what is observed:
# central: truncation h^2 f'''/6 with h = 2^-18 ~ 4e-6 is ~3e-12, rounding eps |f| / h ~ 6e-11;
# richardson: Ridders' extrapolation reaches ~1e-13; complex step: no subtraction, ~1e-16.
ACCURACY = {"central": 1e-8, "richardson": 1e-11, "complex": 1e-14}


def make_problem(loss, activations, n_out, seed=0, m=4):
    rng = np.random.default_rng(seed)
    params = rn.initialize_parameters([5, 7, 6, n_out], init="xavier", seed=seed)
    # Non-zero biases, and ReLU pre-activations kept away from 0 by the xavier draw + offset.
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X = rng.standard_normal((5, m))
    if loss in ("softmax_cross_entropy", "cross_entropy"):
        Y = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    elif loss == "mse":
        Y = rng.standard_normal((n_out, m))
    else:
        Y = rng.integers(0, 2, (n_out, m)).astype(np.float64)
    return params, X, Y


def relative_error(numeric, analytic):
    worst = max(np.max(np.abs(numeric[k] - analytic[f"d{k}"])) for k in numeric)
    return worst / max(np.max(np.abs(g)) for g in analytic.values())


@pytest.mark.parametrize("method", ["central", "richardson", "complex"])
@pytest.mark.parametrize("loss,activations,n_out", MODELS)
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_matches_model_backward(loss, activations, n_out, method, l2):
    params, X, Y = make_problem(loss, activations, n_out)
    AL, caches = rn.model_forward(X, params, activations)
    analytic = rn.model_backward(AL, Y, caches, loss, l2)
    # A tiny chunk budget forces many chunks, so chunk boundaries are exercised too.
    result = batched_numerical_gradient(params, X, Y, activations, loss, l2, method=method, max_chunk_bytes=2000)
    assert relative_error(result.values, analytic) < ACCURACY[method]
    assert result.n_passes > len(params)  # more than one chunk per tensor
    n = sum(v.size for v in params.values())
    assert result.n_evaluations == {"central": 2 * n, "richardson": 12 * n, "complex": n}[method]


def test_agrees_with_the_generic_estimator():
    loss, activations, n_out = MODELS[0]
    params, X, Y = make_problem(loss, activations, n_out, seed=3)

    def cost(p):
        return rn.compute_cost(rn.model_forward(X, p, activations)[0], Y, loss)

    generic = numerical_gradient(cost, params, method="central")
    batched = batched_central_difference_for_model(params, X, Y, activations, loss)
    for key in params:
        # Both are central differences with the same step; they differ only by rounding of f
        # (eps |f| / h ~ 1e-10 relative): 1e-8 of the tensor's largest entry is far above that.
        np.testing.assert_allclose(batched[key], generic[key], rtol=0, atol=1e-8 * np.max(np.abs(generic[key])))


def test_float32_params_are_differentiated_in_float64():
    loss, activations, n_out = MODELS[0]
    params, X, Y = make_problem(loss, activations, n_out)
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    values = batched_central_difference_for_model(
        params32, X.astype(np.float32), Y.astype(np.float32), activations, loss
    )
    assert all(v.dtype == np.float64 for v in values.values())


@pytest.mark.parametrize("method", ["central", "complex"])
def test_check_catches_a_planted_error_and_passes_the_right_gradient(method):
    loss, activations, n_out = MODELS[2]
    params, X, Y = make_problem(loss, activations, n_out)
    AL, caches = rn.model_forward(X, params, activations)
    right = rn.model_backward(AL, Y, caches, loss)
    assert check_model_gradients(params, X, Y, activations, loss, method=method).passed
    wrong = dict(right, dW2=right["dW2"].copy())
    wrong["dW2"][1, 2] *= 1.001  # a 1e-3 relative error: far above both methods' tolerance
    report = check_model_gradients(params, X, Y, activations, loss, method=method, grads=wrong)
    assert report.failed_parameters == ["W2"]
    assert report["W2"].worst_index == (1, 2)


def test_a_custom_loss_falls_back_to_its_own_value():
    class HalfMSE(rn.Loss):
        name = "half_mse"

        def value(self, AL, Y):
            return 0.5 * np.mean((AL - Y) ** 2)

        def gradient(self, AL, Y):
            return (AL - Y) / AL.size

    params, X, Y = make_problem("mse", ("tanh", "tanh", "identity"), 2)
    AL, caches = rn.model_forward(X, params, ("tanh", "tanh", "identity"))
    analytic = rn.model_backward(AL, Y, caches, HalfMSE())
    values = batched_numerical_gradient(params, X, Y, ("tanh", "tanh", "identity"), HalfMSE(), method="complex").values
    assert relative_error(values, analytic) < ACCURACY["complex"]


def test_bad_arguments_are_named():
    params, X, Y = make_problem(*MODELS[0])
    with pytest.raises(ValueError, match="method must be one of"):
        batched_numerical_gradient(params, X, Y, MODELS[0][1], MODELS[0][0], method="forward")
    with pytest.raises(ValueError, match="max_chunk_bytes must be a positive int, got 0"):
        batched_numerical_gradient(params, X, Y, MODELS[0][1], MODELS[0][0], max_chunk_bytes=0)
    with pytest.raises(ValueError, match="X must have shape"):
        batched_numerical_gradient(params, X[:3], Y, MODELS[0][1], MODELS[0][0])
