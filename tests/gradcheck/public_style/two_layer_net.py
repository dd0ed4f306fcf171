"""Value-and-grad style: a two-layer softmax classifier whose ``loss(X, y)`` returns (loss, grads)
and reads ``self.params`` (the classic course model), plus a plain ``loss_and_grads(params, X, y)``.
Samples in rows: X (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,). Hidden ReLU, mean softmax
cross-entropy plus 0.5 * reg * (|W1|^2 + |W2|^2). ``bug`` plants one mistake.
"""

import numpy as np


def loss_and_grads(params, X, y, reg=0.1, bug=None, offset=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    h_pre = X @ W1 + b1
    h = np.maximum(0, h_pre)
    scores = h @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean() + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2)) + offset
    dscores = np.exp(log_p)
    dscores[np.arange(N), y] -= 1
    dscores /= N
    dW2 = h.T @ dscores + reg * W2
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dh[h_pre <= 0] = 0
    dW1 = X.T @ dh + reg * W1
    db1 = dh.sum(axis=0)
    if bug == "forgot_reg_W1":
        dW1 = X.T @ dh
    elif bug == "factor2_reg_W2":  # the derivative of reg * W**2 with the 0.5 in the loss
        dW2 = h.T @ dscores + 2 * reg * W2
    elif bug == "one_element_b2":
        db2 = db2.copy()
        db2[-1] -= 5e-3
    elif bug == "relu_mask_from_post":  # dh[h < 0] = 0 never masks anything
        dh = dscores @ W2.T
        dh[h < 0] = 0
        dW1, db1 = X.T @ dh + reg * W1, dh.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


class TwoLayerNet:
    def __init__(self, D, H, C, rng, std=1e-1, reg=0.1, bug=None, dtype=np.float64):
        self.params = {"W1": (std * rng.standard_normal((D, H))).astype(dtype), "b1": np.zeros(H, dtype=dtype),
                       "W2": (std * rng.standard_normal((H, C))).astype(dtype), "b2": np.zeros(C, dtype=dtype)}
        self.reg, self.bug = reg, bug

    def loss(self, X, y):
        return loss_and_grads(self.params, X, y, self.reg, self.bug)


def float32_only_loss_and_grads(params, X, y, bug=None):
    """A tanh/softmax two-layer net that casts everything to float32 first (as code written for
    a float32 framework does): f cannot be evaluated in float64, so the numerical side is float32."""
    p = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    X = X.astype(np.float32)
    N = X.shape[0]
    h = np.tanh(X @ p["W1"] + p["b1"])
    s = h @ p["W2"] + p["b2"]
    s = s - s.max(axis=1, keepdims=True)
    prob = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(prob[np.arange(N), y]))
    d = prob.copy()
    d[np.arange(N), y] -= 1
    d /= N
    dh = d @ p["W2"].T * (1 - h**2)
    grads = {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ d, "b2": d.sum(axis=0)}
    if bug == "one_element_5pct":
        grads["W1"][2, 3] *= 1.05
    elif bug == "db2_times_2":
        grads["b2"] = 2 * grads["b2"]
    return loss, grads
