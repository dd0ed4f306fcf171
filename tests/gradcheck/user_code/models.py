"""Value-and-grad code: loss functions and models returning (loss, grads) together."""

import numpy as np


def relu(z):
    return np.maximum(0, z)


class TwoLayerNet:
    """affine - relu - affine - softmax, L2 on the weights; reads its own ``self.params``.

    X (N, D), y (N,) labels; W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    """

    def __init__(self, D, H, C, reg=0.1, seed=0, weight_scale=0.5):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {"W1": weight_scale * rng.standard_normal((D, H)), "b1": rng.uniform(0.5, 1.0, H),
                       "W2": weight_scale * rng.standard_normal((H, C)), "b2": np.zeros(C)}

    def loss(self, X, y):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h_in = X @ W1 + b1
        h = relu(h_in)
        scores = h @ W2 + b2
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        N = X.shape[0]
        loss = -log_probs[np.arange(N), y].mean() + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = np.exp(log_probs)
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W2": h.T @ dscores + self.reg * W2, "b2": dscores.sum(axis=0)}
        dh = (dscores @ W2.T) * (h_in > 0)
        grads["W1"] = X.T @ dh + self.reg * W1
        grads["b1"] = dh.sum(axis=0)
        return loss, grads


class TwoLayerNetForgotReg(TwoLayerNet):
    """Planted bug: the L2 term's gradient is left out of dW1."""

    def loss(self, X, y):
        loss, grads = super().loss(X, y)
        grads["W1"] = grads["W1"] - self.reg * self.params["W1"]
        return loss, grads


def mlp_loss(params, X, Y):
    """Functional MLP, samples in columns: params = {"weights": [W0, W1], "biases": [b0, b1]}.

    X (n0, m), Y (n2, m); W_l (n_{l+1}, n_l), b_l (n_{l+1}, 1); tanh hidden layer, mean squared
    error / 2. Returns (loss, grads) with grads shaped like params.
    """
    (W0, W1), (b0, b1) = params["weights"], params["biases"]
    m = X.shape[1]
    A1 = np.tanh(W0 @ X + b0)
    out = W1 @ A1 + b1
    loss = 0.5 * np.sum((out - Y) ** 2) / m
    d_out = (out - Y) / m
    dA1 = W1.T @ d_out
    dZ1 = dA1 * (1 - A1**2)
    return loss, {"weights": [dZ1 @ X.T, d_out @ A1.T],
                  "biases": [dZ1.sum(axis=1, keepdims=True), d_out.sum(axis=1, keepdims=True)]}


def mlp_loss_bias_mean(params, X, Y):
    """Planted bug: the output bias gradient averages over the batch a second time."""
    loss, grads = mlp_loss(params, X, Y)
    grads["biases"][1] = grads["biases"][1] / X.shape[1]
    return loss, grads


class ListNet:
    """A from-scratch net keeping ``self.weights`` and ``self.biases`` as lists; its
    ``loss_and_grads(X, Y)`` reads them (the style of many tutorials)."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = [rng.standard_normal((n, k)) / np.sqrt(k) for k, n in zip(sizes[:-1], sizes[1:], strict=True)]
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]

    def loss_and_grads(self, X, Y):
        return mlp_loss({"weights": self.weights, "biases": self.biases}, X, Y)
