"""Small cases whose expected numbers were derived independently of reference_nn.

Sources are named next to each number: a published worked example, a closed form, or a
direct re-computation in exact/high-precision arithmetic (fractions, mpmath) that shares
no code with the package.
"""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import reference_nn as rn

# Matt Mazur, "A Step by Step Backpropagation Example" (2015): a 2-2-2 sigmoid network,
# inputs (0.05, 0.10), targets (0.01, 0.99), biases 0.35 (hidden) and 0.60 (output),
# E = sum 1/2 (target - out)^2, learning rate 0.5. With one example and two outputs the
# reference's mean-over-elements MSE equals Mazur's E and has the same gradient.
MAZUR_W1 = [[0.15, 0.20], [0.25, 0.30]]  # rows: h1 <- (i1, i2), h2 <- (i1, i2)
MAZUR_W2 = [[0.40, 0.45], [0.50, 0.55]]  # rows: o1 <- (h1, h2), o2 <- (h1, h2)
MAZUR_OUTPUTS = [0.75136507, 0.772928465]  # published out_o1, out_o2
MAZUR_TOTAL_ERROR = 0.298371109  # published E_total
MAZUR_W2_AFTER = [[0.35891648, 0.408666186], [0.511301270, 0.561370121]]  # published w5+..w8+
MAZUR_W1_AFTER = [[0.149780716, 0.19956143], [0.24975114, 0.29950229]]  # published w1+..w4+


def mazur_network():
    params = {
        "W1": np.array(MAZUR_W1),
        "b1": np.array([[0.35], [0.35]]),
        "W2": np.array(MAZUR_W2),
        "b2": np.array([[0.60], [0.60]]),
    }
    return params, np.array([[0.05], [0.10]]), np.array([[0.01], [0.99]])


def test_mazur_2_2_2_forward_cost_and_one_sgd_step():
    params, X, Y = mazur_network()
    AL, caches = rn.model_forward(X, params, ["sigmoid", "sigmoid"])
    # Published values carry 9 significant digits: compare to 5e-9 absolute.
    np.testing.assert_allclose(AL[:, 0], MAZUR_OUTPUTS, atol=5e-9)
    assert abs(rn.compute_cost(AL, Y, "mse") - MAZUR_TOTAL_ERROR) < 5e-10
    grads = rn.model_backward(AL, Y, caches, "mse")
    updated = rn.update_parameters(params, grads, learning_rate=0.5)
    np.testing.assert_allclose(updated["W2"], MAZUR_W2_AFTER, atol=5e-9)
    np.testing.assert_allclose(updated["W1"], MAZUR_W1_AFTER, atol=5e-9)


def test_mazur_step_against_50_digit_recomputation():
    """The same step recomputed in 50-digit mpmath arithmetic from the chain rule written out
    by hand (no NumPy, no reference_nn): the float64 reference must agree to a few ulps."""
    mpmath.mp.dps = 50
    sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
    x = [mpmath.mpf("0.05"), mpmath.mpf("0.10")]
    t = [mpmath.mpf("0.01"), mpmath.mpf("0.99")]
    W1 = [[mpmath.mpf(str(v)) for v in row] for row in MAZUR_W1]
    W2 = [[mpmath.mpf(str(v)) for v in row] for row in MAZUR_W2]
    h = [sig(W1[j][0] * x[0] + W1[j][1] * x[1] + mpmath.mpf("0.35")) for j in range(2)]
    o = [sig(W2[k][0] * h[0] + W2[k][1] * h[1] + mpmath.mpf("0.60")) for k in range(2)]
    delta_out = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]  # dE/dnet_o
    delta_hidden = [sum(delta_out[k] * W2[k][j] for k in range(2)) * h[j] * (1 - h[j]) for j in range(2)]
    W2_after = [[W2[k][j] - mpmath.mpf("0.5") * delta_out[k] * h[j] for j in range(2)] for k in range(2)]
    W1_after = [[W1[j][i] - mpmath.mpf("0.5") * delta_hidden[j] * x[i] for i in range(2)] for j in range(2)]

    params, X, Y = mazur_network()
    AL, caches = rn.model_forward(X, params, ["sigmoid", "sigmoid"])
    updated = rn.update_parameters(params, rn.model_backward(AL, Y, caches, "mse"), 0.5)
    # float64 through two layers of 2-term dot products and sigmoids: a handful of roundings
    # of relative size 1.1e-16 each; 1e-14 relative leaves a margin of ~10x.
    np.testing.assert_allclose(updated["W2"], np.array(W2_after, dtype=float), rtol=1e-14)
    np.testing.assert_allclose(updated["W1"], np.array(W1_after, dtype=float), rtol=1e-14)


def test_bce_at_half_is_log_two_and_gradient_is_closed_form():
    # sigmoid(0) = 1/2 exactly, and -log(1/2) = log 2 for either label.
    params = {"W1": np.zeros((1, 3)), "b1": np.zeros((1, 1))}
    X = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    Y = np.array([[1.0, 0.0]])
    AL, caches = rn.model_forward(X, params, ["sigmoid"])
    assert AL.tolist() == [[0.5, 0.5]]
    assert rn.compute_cost(AL, Y) == pytest.approx(math.log(2), rel=1e-15)
    grads = rn.model_backward(AL, Y, caches)
    # dZ = (A - Y) / m = (-1/4, +1/4); dW = dZ X^T; db = sum of dZ = 0. Exact in binary.
    dZ = [Fraction(-1, 4), Fraction(1, 4)]
    expected_dW = [[float(dZ[0] * Fraction(X[i, 0]) + dZ[1] * Fraction(X[i, 1])) for i in range(3)]]
    assert grads["dW1"].tolist() == expected_dW
    assert grads["db1"].tolist() == [[0.0]]


def test_softmax_cross_entropy_of_uniform_logits():
    # softmax of equal logits is 1/n, so the cost is log(n) and dZ = (1/n - Y) / m.
    n_classes, m = 4, 3
    logits = np.full((n_classes, m), 7.25)
    labels = np.array([0, 3, 1])
    assert rn.compute_cost(logits, labels, "softmax_cross_entropy") == pytest.approx(math.log(4), rel=1e-15)
    Y = np.eye(n_classes)[:, labels]
    gradient = rn.get_loss("softmax_cross_entropy").gradient(logits, Y)
    np.testing.assert_array_equal(gradient, (0.25 - Y) / 3)


def test_mse_of_a_one_layer_linear_model_in_exact_arithmetic():
    # Z = w x + b with w = 2, b = -1 on x = (1, 2, 3), y = (1, 2, 2): residuals (0, 1, 3),
    # cost = (0 + 1 + 9) / 3; dw = 2/3 * sum(r x) = 2/3 * 11; db = 2/3 * sum(r) = 2/3 * 4.
    params = {"W1": np.array([[2.0]]), "b1": np.array([[-1.0]])}
    X = np.array([[1.0, 2.0, 3.0]])
    Y = np.array([[1.0, 2.0, 2.0]])
    AL, caches = rn.model_forward(X, params, ["identity"])
    assert rn.compute_cost(AL, Y, "mse") == pytest.approx(float(Fraction(10, 3)), rel=1e-15)
    grads = rn.model_backward(AL, Y, caches, "mse")
    assert grads["dW1"][0, 0] == pytest.approx(float(Fraction(22, 3)), rel=1e-15)
    assert grads["db1"][0, 0] == pytest.approx(float(Fraction(8, 3)), rel=1e-15)


def test_l2_penalty_and_its_gradient_follow_the_documented_formula():
    # 0.5 * lambda * (1 + 4 + 9 + 16): weights only, biases are not penalized.
    params = {
        "W1": np.array([[1.0, 2.0]]),
        "b1": np.array([[100.0]]),
        "W2": np.array([[3.0], [4.0]]),
        "b2": np.zeros((2, 1)),
    }
    assert rn.l2_penalty(params, 0.1) == pytest.approx(0.5 * 0.1 * 30, rel=1e-15)
    np.testing.assert_array_equal(rn.l2_gradient(params["W2"], 0.5), [[1.5], [2.0]])


def _scalar_params(theta):
    return {"W1": np.array([[theta]]), "b1": np.array([[0.0]])}


def _run(optimizer, gradients, theta=1.0):
    params = _scalar_params(theta)
    trajectory = []
    for g in gradients:
        params = optimizer.step(params, {"dW1": np.array([[g]]), "db1": np.array([[0.0]])})
        trajectory.append(params["W1"][0, 0])
    return trajectory


GRADIENTS = [0.5, -0.25, 1.0]


def test_sgd_momentum_by_hand():
    # torch.optim.SGD: buf = g (first), buf = 0.9 buf + g; theta -= 0.1 buf. Worked by hand:
    # buf 0.5 -> theta 0.95; buf 0.2 -> 0.93; buf 1.18 -> 0.812.
    np.testing.assert_allclose(_run(rn.SGD(0.1, momentum=0.9), GRADIENTS), [0.95, 0.93, 0.812], rtol=1e-15)


def test_sgd_nesterov_by_hand():
    # g' = g + 0.9 buf: 0.95 -> theta 0.905; -0.07 -> 0.912; 2.062 -> 0.7058.
    np.testing.assert_allclose(
        _run(rn.SGD(0.1, momentum=0.9, nesterov=True), GRADIENTS), [0.905, 0.912, 0.7058], rtol=1e-15
    )


def test_sgd_weight_decay_by_hand():
    # g' = g + 0.1 theta = 0.5 + 0.1 -> theta = 1 - 0.1 * 0.6 = 0.94.
    assert _run(rn.SGD(0.1, weight_decay=0.1), [0.5])[0] == pytest.approx(0.94, rel=1e-15)


def test_adam_by_hand():
    """Adam written out in plain Python floats from Kingma & Ba (2015), Algorithm 1, with
    torch's epsilon placement (added after the bias-corrected square root)."""
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
    theta, m, v, expected = 1.0, 0.0, 0.0, []
    for t, g in enumerate(GRADIENTS, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta -= lr * (m / (1 - beta1**t)) / (math.sqrt(v / (1 - beta2**t)) + eps)
        expected.append(theta)
    # Same operations, possibly in another order: a few ulps apart at most.
    np.testing.assert_allclose(_run(rn.Adam(lr, beta1, beta2, eps), GRADIENTS), expected, rtol=1e-14)
