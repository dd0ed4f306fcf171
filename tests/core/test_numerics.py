"""Stability at the edges, dtype preservation, and the no-heavy-import promise."""

import subprocess
import sys

import numpy as np
import pytest

import reference_nn as rn

# pyproject.toml turns every warning into an error, so each test here also proves that no
# overflow / divide-by-zero / invalid RuntimeWarning was raised.


def test_sigmoid_at_plus_minus_1000_is_exact():
    assert rn.Sigmoid().evaluate(np.array([[-1000.0, 0.0, 1000.0]])).tolist() == [[0.0, 0.5, 1.0]]
    assert rn.Sigmoid().evaluate(np.array([[-1000.0, 1000.0]], dtype=np.float32)).tolist() == [[0.0, 1.0]]


def test_softmax_of_large_logits_is_exact():
    P = rn.Softmax().evaluate(np.array([[1e4, 0.0], [1e4, -1e4], [0.0, 1e4]]))
    # Shifting by the column max makes exp(0) = 1 for the winners and exp(-1e4) = 0 for the rest.
    np.testing.assert_array_equal(P, [[0.5, 0.0], [0.5, 0.0], [0.0, 1.0]])


def test_bce_at_probabilities_zero_and_one():
    # Right and certain: cost 0. Wrong and certain: log clamped at -100 (torch BCELoss), cost 100/2.
    assert rn.compute_cost(np.array([[0.0, 1.0]]), np.array([[0, 1]]), "bce") == 0.0
    assert rn.compute_cost(np.array([[0.0, 1.0]]), np.array([[1, 1]]), "bce") == 50.0
    gradient = rn.get_loss("bce").gradient(np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]]))
    assert np.isfinite(gradient).all()


def test_saturated_sigmoid_with_bce_has_exact_fused_gradient():
    # z = +-40 saturates sigmoid to 1 - 4e-18 -> rounds to 1.0; the fused dZ = (A - Y) / m is
    # still exact: (1 - 0) / 2 and (0 - 1) / 2 ... within the rounding of A itself.
    params = {"W1": np.array([[40.0]]), "b1": np.zeros((1, 1))}
    X = np.array([[1.0, -1.0]])
    AL, caches = rn.model_forward(X, params, ["sigmoid"])
    grads = rn.model_backward(AL, np.array([[0.0, 1.0]]), caches, "bce")
    assert grads["dW1"][0, 0] == pytest.approx(1.0, rel=1e-15)  # (1/2)(1) + (-1/2)(-1)


def test_bce_with_logits_is_exact_far_from_zero():
    # log(1 + e^-1000) = 0 in float64; cost for (z=1000, y=0) is 1000, for (z=-1000, y=0) is 0.
    assert rn.compute_cost(np.array([[1000.0, -1000.0]]), np.array([[0, 0]]), "bce_with_logits") == 500.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("activations", "loss", "n_out"),
    [
        (["relu", "sigmoid"], "bce", 1),
        (["tanh", "identity"], "bce_with_logits", 1),
        (["leaky_relu", "softmax"], "cross_entropy", 3),
        (["sigmoid", "identity"], "softmax_cross_entropy", 3),
        (["relu", "identity"], "mse", 2),
    ],
)
def test_dtype_in_is_dtype_out(dtype, activations, loss, n_out):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 6)).astype(dtype)
    Y = (
        np.eye(n_out)[:, rng.integers(0, n_out, 6)]
        if loss in ("cross_entropy", "softmax_cross_entropy")
        else rng.random((n_out, 6)) > 0.5
    )
    params = rn.initialize_parameters([4, 5, n_out], dtype=dtype)
    AL, caches = rn.model_forward(X, params, activations)
    assert AL.dtype == dtype
    assert np.asarray(rn.compute_cost(AL, Y.astype(dtype), loss, params, l2=0.1)).dtype == dtype
    grads = rn.model_backward(AL, Y.astype(dtype), caches, loss, l2=0.1)
    assert {g.dtype for g in grads.values()} == {np.dtype(dtype)}
    for optimizer in (rn.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01), rn.Adam(0.01, weight_decay=0.01)):
        assert {p.dtype for p in optimizer.step(params, grads).values()} == {np.dtype(dtype)}
    assert {p.dtype for p in rn.update_parameters(params, grads, 0.1).values()} == {np.dtype(dtype)}
    trained, costs = rn.fit(X, Y.astype(dtype), [4, 5, n_out], activations, loss, rn.SGD(0.1), num_iterations=3)
    assert {p.dtype for p in trained.values()} == {np.dtype(dtype)}


def test_inputs_are_never_modified():
    params = rn.initialize_parameters([3, 2, 1], seed=2)
    X = np.random.default_rng(1).standard_normal((3, 4))
    Y = np.array([[0.0, 1.0, 0.0, 1.0]])
    snapshot = {k: v.copy() for k, v in params.items()}
    AL, caches = rn.model_forward(X, params)
    grads = rn.model_backward(AL, Y, caches)
    rn.update_parameters(params, grads, 0.5)
    rn.Adam(0.1).step(params, grads)
    for name in params:
        np.testing.assert_array_equal(params[name], snapshot[name])


def test_importing_reference_nn_never_imports_a_framework():
    code = (
        "import reference_nn, reference_nn.gradcheck, sys; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_object_form_gives_the_functional_gradients():
    rng = np.random.default_rng(5)
    params = rn.initialize_parameters([4, 6, 3, 1], seed=5)
    X, Y = rng.standard_normal((4, 7)), (rng.random((1, 7)) > 0.5).astype(float)
    AL, caches = rn.model_forward(X, params, ["relu", "tanh", "sigmoid"])
    functional = rn.model_backward(AL, Y, caches, "bce", l2=0.3)
    network = rn.Sequential(
        [
            rn.Linear(params["W1"], params["b1"]),
            rn.ReLU(),
            rn.Linear(params["W2"], params["b2"]),
            rn.Tanh(),
            rn.Linear(params["W3"], params["b3"]),
            rn.Sigmoid(),
        ],
        loss="bce",
        l2=0.3,
    )
    objects = network.gradient(X, Y)
    # The same functions in the same order: bit-for-bit equal.
    for key in functional:
        np.testing.assert_array_equal(objects[key], functional[key])
    assert network.cost(X, Y) == rn.compute_cost(AL, Y, "bce", params, l2=0.3)


def test_fit_lowers_the_cost_and_predicts_a_separable_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 200))
    Y = (X[0:1] + X[1:2] > 0).astype(float)
    params, costs = rn.fit(X, Y, [2, 8, 1], optimizer=rn.Adam(0.05), num_iterations=300, seed=0)
    assert costs[-1] < 0.2 * costs[0]
    assert (rn.predict(X, params) == Y).mean() > 0.95
