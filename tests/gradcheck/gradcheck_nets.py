"""Small classic two-layer networks written by hand for the gradcheck tests, with right and broken
backward passes. Independent of reference_nn on purpose: the checker must work on anyone's code.

Layout: samples in columns, X (n_x, m), W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1).
Hidden activation relu / sigmoid / tanh; output bce (sigmoid, from logits), softmax cross-entropy,
or mse (mean over all elements); L2 penalty 0.5 * lambd * sum(W**2).
The forward pass accepts complex parameters (complex-step differentiation): branches test the real
part, and the stable softplus / softmax forms are analytic in Z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HIDDEN = ("relu", "sigmoid", "tanh")
OUTPUTS = ("bce", "softmax", "mse")


def sigmoid(z):
    s = np.where(z.real > 0, 1.0, -1.0)
    e = np.exp(-s * z)  # |e| <= 1: no overflow for any real part
    return np.where(s > 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z):
    """log(1 + e^z), stable: max(z, 0) + log1p(e^-|z|), written so it stays analytic in z."""
    s = np.where(z.real > 0, 1.0, -1.0)
    return np.where(s > 0, z, 0.0) + np.log1p(np.exp(-s * z))


def log_softmax(z):
    shifted = z - z.real.max(axis=0, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))


def activate(z, kind):
    if kind == "relu":
        return np.where(z.real > 0, z, 0.0)
    if kind == "sigmoid":
        return sigmoid(z)
    return np.tanh(z)


@dataclass
class ClassicNet:
    X: np.ndarray
    Y: np.ndarray
    hidden: str = "tanh"
    output: str = "softmax"
    lambd: float = 0.0

    def forward(self, p):
        Z1 = p["W1"] @ self.X + p["b1"]
        A1 = activate(Z1, self.hidden)
        Z2 = p["W2"] @ A1 + p["b2"]
        return Z1, A1, Z2

    def cost(self, p):
        _, _, Z2 = self.forward(p)
        m = self.X.shape[1]
        if self.output == "bce":
            data = np.sum(softplus(Z2) - self.Y * Z2) / m
        elif self.output == "softmax":
            data = -np.sum(self.Y * log_softmax(Z2)) / m
        else:
            data = np.mean((Z2 - self.Y) ** 2)
        return data + 0.5 * self.lambd * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))

    def grads(self, p, bug: str | None = None):
        """The classic backward pass; ``bug`` plants one of BUGS."""
        X, Y, lambd = self.X, self.Y, self.lambd
        m = X.shape[1]
        W1, W2 = p["W1"], p["W2"]
        Z1, A1, Z2 = self.forward(p)
        if self.output == "bce":
            dZ2 = sigmoid(Z2) - Y
        elif self.output == "softmax":
            A2 = np.exp(log_softmax(Z2))
            dZ2 = A2 if bug == "softmax_ce_without_subtracting_Y" else A2 - Y
        else:
            dZ2 = (1.0 if bug == "mse_missing_factor_2" else 2.0) * (Z2 - Y) / Y.shape[0]
        dW2 = dZ2 @ A1.T if bug == "missing_1_over_m" else (1 / m) * dZ2 @ A1.T
        dW2 = dW2 + (2 * lambd * W2 if bug == "l2_term_doubled" else lambd * W2)
        db2 = (
            np.sum(dZ2, axis=1, keepdims=True)
            if bug == "db_not_averaged"
            else (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
        )
        dA1 = W2 @ dZ2 if bug == "W_instead_of_W_T" else W2.T @ dZ2
        if self.hidden == "relu":
            dZ1 = dA1 * (dA1 > 0) if bug == "relu_mask_from_wrong_tensor" else dA1 * (Z1 > 0)
        elif self.hidden == "sigmoid":
            dZ1 = dA1 * (Z1 * (1 - Z1) if bug == "sigmoid_derivative_from_Z" else A1 * (1 - A1))
        else:
            dZ1 = dA1 * (1 - Z1**2 if bug == "tanh_derivative_from_Z" else 1 - A1**2)
        dW1 = (1 / m) * (X @ dZ1.T if bug == "dW_transposed" else dZ1 @ X.T)
        if bug != "forgotten_L2":
            dW1 = dW1 + lambd * W1
        if bug == "db_summed_over_wrong_axis":  # reshaped to silence the shape error (m == n_h)
            db1 = (1 / m) * np.sum(dZ1, axis=0, keepdims=True).reshape(p["b1"].shape)
        else:
            db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
        g = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        if bug == "wrong_sign":
            g["dW2"] = -g["dW2"]
        if bug == "error_in_one_element":
            g["dW1"] = g["dW1"].copy()
            g["dW1"][1, 2] += 1e-3 * np.max(np.abs(g["dW1"]))
        if bug == "relative_1e-4_in_one_layer":
            g["dW2"] = g["dW2"] * (1 + 1e-4)
        if bug == "momentum_bias_correction_slip":
            g = momentum_implied_gradient(p, g)
        return g


def momentum_implied_gradient(p, g, beta=0.9, lr=0.1):
    """The gradient a training loop actually applied, recovered from one bias-corrected momentum step
    (theta1 = theta - lr * v1 / (1 - beta), v1 = beta * 0 + (1 - beta) * g): (theta - theta1) / lr.
    The slip: the velocity update written v1 = beta * v0 + beta * g (beta and 1 - beta swapped)."""
    out = {}
    for name, grad in g.items():
        theta = p[name[1:]]
        v1 = beta * np.zeros_like(grad) + beta * grad  # slip: should be (1 - beta) * grad
        theta1 = theta - lr * v1 / (1 - beta)
        out[name] = (theta - theta1) / lr
    return out


# bug -> (network configuration, parameters whose gradient it breaks)
ALL = {"W1", "b1", "W2", "b2"}
BUGS = {
    "missing_1_over_m": ({}, {"W2"}),
    "dW_transposed": ({}, {"W1"}),
    "sigmoid_derivative_from_Z": ({"hidden": "sigmoid"}, {"W1", "b1"}),
    "tanh_derivative_from_Z": ({"hidden": "tanh"}, {"W1", "b1"}),
    "wrong_sign": ({}, {"W2"}),
    "db_summed_over_wrong_axis": ({}, {"b1"}),
    "db_not_averaged": ({}, {"b2"}),
    "W_instead_of_W_T": ({}, {"W1", "b1"}),
    "forgotten_L2": ({"lambd": 0.3}, {"W1"}),
    "l2_term_doubled": ({"lambd": 0.3}, {"W2"}),
    "softmax_ce_without_subtracting_Y": ({"output": "softmax"}, ALL),
    "mse_missing_factor_2": ({"output": "mse"}, ALL),
    "relu_mask_from_wrong_tensor": ({"hidden": "relu"}, {"W1", "b1"}),
    "error_in_one_element": ({}, {"W1"}),
    "relative_1e-4_in_one_layer": ({}, {"W2"}),
    "momentum_bias_correction_slip": ({}, ALL),
}


def make_net(
    rng, *, n_x=4, n_h=4, n_y=4, m=4, hidden="tanh", output="softmax", lambd=0.0, weight_scale=1.0, dtype=np.float64
):
    """A ClassicNet with random data and its params (weights ~ N(0, weight_scale^2 / n_in))."""
    if output == "bce":
        n_y = 1
    X = rng.standard_normal((n_x, m))
    if output == "bce":
        Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    elif output == "softmax":
        Y = np.eye(n_y)[:, rng.integers(0, n_y, size=m)]
    else:
        Y = rng.standard_normal((n_y, m))
    params = {
        "W1": rng.standard_normal((n_h, n_x)) * weight_scale / np.sqrt(n_x),
        "b1": rng.standard_normal((n_h, 1)) * 0.1 * weight_scale,
        "W2": rng.standard_normal((n_y, n_h)) * weight_scale / np.sqrt(n_h),
        "b2": rng.standard_normal((n_y, 1)) * 0.1 * weight_scale,
    }
    net = ClassicNet(X.astype(dtype), Y.astype(dtype), hidden, output, lambd)
    return net, {k: v.astype(dtype) for k, v in params.items()}
