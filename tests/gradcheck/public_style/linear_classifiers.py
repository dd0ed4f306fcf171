"""Linear classifiers in the first-assignment style, value-and-grad over a bare weight matrix:
``loss, dW = svm_loss_vectorized(W, X, y, reg)`` and ``softmax_loss_naive(W, X, y, reg)`` (explicit
loops). Samples in rows: X (N, D), W (D, C), y (N,) integer labels; the regulariser is
``reg * sum(W * W)`` (no 1/2), so its gradient is ``2 * reg * W``. ``bug`` plants one mistake.
"""

import numpy as np


def svm_loss_vectorized(W, X, y, reg, bug=None):
    n = X.shape[0]
    scores = X @ W
    correct = scores[np.arange(n), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(n), y] = 0
    loss = margins.sum() / n + reg * np.sum(W * W)
    coeff = (margins > 0).astype(W.dtype)
    coeff[np.arange(n), y] = -coeff.sum(axis=1)
    dW = X.T @ coeff / n + 2 * reg * W
    if bug == "reg_without_2":  # the derivative of reg * W**2 written as reg * W
        dW = X.T @ coeff / n + reg * W
    elif bug == "forgot_divide":
        dW = X.T @ coeff + 2 * reg * W
    elif bug == "one_element":
        dW[1, 2] += 1e-3
    return loss, dW


def softmax_loss_naive(W, X, y, reg, bug=None):
    loss = 0.0
    dW = np.zeros_like(W)
    n, c = X.shape[0], W.shape[1]
    for i in range(n):
        scores = X[i] @ W
        scores = scores - np.max(scores)  # numeric stability
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(p[y[i]])
        for j in range(c):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
            if bug == "wrong_sign_correct_class" and j == y[i]:
                dW[:, j] += 2 * X[i]  # p - 1 written as p + 1 for the correct class
    loss = loss / n + reg * np.sum(W * W)
    dW = dW / n + 2 * reg * W
    return loss, dW
