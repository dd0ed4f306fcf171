"""cost(params) / grads(params) pairs whose parameters are not a flat dict: a list
[W1, b1, W2, b2], a dict of layers {"hidden": {"W", "b"}, "out": {"W", "b"}}, and a scalar bias of
shape (1, 1) whose gradient comes back as a float. Samples in columns; ``bug`` plants one mistake."""

import numpy as np

RNG = np.random.default_rng(11)
X, Y = RNG.standard_normal((3, 6)), RNG.standard_normal((1, 6))


def _net(W1, b1, W2, b2):
    H = np.tanh(W1 @ X + b1)
    out = W2 @ H + b2
    return H, out


def _backward(W1, b1, W2, b2, bug=None):
    H, out = _net(W1, b1, W2, b2)
    m = X.shape[1]
    dout = 2 * (out - Y) / m
    dW2, db2 = dout @ H.T, dout.sum(axis=1, keepdims=True)
    dZ = (W2.T @ dout) * (1 - H**2)
    dW1, db1 = dZ @ X.T, dZ.sum(axis=1, keepdims=True)
    if bug == "dW1_row":
        dW1[1] *= -1
    return dW1, db1, dW2, db2


def list_cost(params):
    W1, b1, W2, b2 = params
    return float(np.mean((_net(W1, b1, W2, b2)[1] - Y) ** 2))


def list_grads(params, bug=None):
    return list(_backward(*params, bug=bug))


def nested_cost(params):
    h, o = params["hidden"], params["out"]
    return float(np.mean((_net(h["W"], h["b"], o["W"], o["b"])[1] - Y) ** 2))


def nested_grads(params, bug=None):
    h, o = params["hidden"], params["out"]
    dW1, db1, dW2, db2 = _backward(h["W"], h["b"], o["W"], o["b"], bug=bug)
    return {"hidden": {"dW": dW1, "db": db1}, "out": {"dW": dW2, "db": float(db2.item())}}  # db2: a float


def make_params():
    rng = np.random.default_rng(12)
    return [rng.standard_normal((4, 3)), rng.standard_normal((4, 1)), rng.standard_normal((1, 4)),
            rng.standard_normal((1, 1))]


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Returns (out, cache, mean, var): the cache is not last (the batch statistics are for the caller)."""
    mean, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mean) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, np.sqrt(var + eps)), mean, var


def batchnorm_backward(dout, cache, bug=None):
    xhat, gamma, std = cache
    dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    if bug == "dgamma_one":
        dgamma[2] *= 1.1
    return dx, dgamma, dbeta


def grads_then_loss(params, bug=None):
    """Returns (grads, loss): the order some libraries use."""
    grads = dict(zip(("W1", "b1", "W2", "b2"), _backward(params["W1"], params["b1"], params["W2"], params["b2"],
                                                           bug=bug), strict=True))
    return grads, float(np.mean((_net(params["W1"], params["b1"], params["W2"], params["b2"])[1] - Y) ** 2))
