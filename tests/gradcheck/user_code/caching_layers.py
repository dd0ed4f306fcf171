"""Layers that keep what their forward and backward passes computed, as from-scratch code does:
``self.x`` / ``self.out`` with ``self.dx`` / ``self.dout`` (or ``X`` / ``Y`` / ``dX`` / ``dY``,
``y`` / ``dy``), which pair by name exactly like a parameter and its gradient. ``bug`` plants one
mistake: ``"dW_one_element"`` (dW[1, 0] doubled), ``"db_halved"``, ``"dx_one_element"`` (the input
gradient of a parameter-free layer, element [2, 1], times 1.5) or ``"first_call_dW"`` (dW doubled
on the first backward only). Samples in rows."""

import numpy as np


def _plant(array, bug, wanted, index=(1, 0), factor=2.0):
    if bug == wanted:
        array = array.copy()
        array[index] *= factor
    return array


class Affine:
    """Caches x and out in forward, dout and dx in backward (every one of them paired by name)."""

    def __init__(self, n_in, n_out, seed=0, dtype=np.float64, bug=None):
        rng = np.random.default_rng(seed)
        self.W = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
        self.b = rng.standard_normal(n_out).astype(dtype)
        self.x = self.out = self.dx = self.dout = self.dW = self.db = None
        self.bug, self.calls = bug, 0

    def forward(self, x):
        self.x = x
        self.out = np.dot(x, self.W) + self.b
        return self.out

    def backward(self, dout):
        self.calls += 1
        self.dout = dout
        self.dW = _plant(np.dot(self.x.T, dout), self.bug, "dW_one_element")
        if self.bug == "first_call_dW" and self.calls == 1:
            self.dW = self.dW * 2
        self.db = np.sum(dout, axis=0) * (0.5 if self.bug == "db_halved" else 1)
        self.dx = np.dot(dout, self.W.T)
        return self.dx


class AffineCapitals:
    """The same with capital names: X, Y, dX, dY, and a (1, n_out) bias whose gradient keeps dims."""

    def __init__(self, n_in, n_out, seed=1, bug=None):
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        self.b = np.zeros((1, n_out))
        self.bug = bug

    def forward(self, X):
        self.X = X
        self.Y = X @ self.W + self.b
        return self.Y

    def backward(self, dY):
        self.dY = dY
        self.dW = _plant(self.X.T @ dY, self.bug, "dW_one_element")
        self.db = np.sum(dY, axis=0, keepdims=True)
        self.dX = dY @ self.W.T
        return self.dX


class ReLU:
    """Parameter-free: keeps x and dx."""

    def __init__(self, bug=None):
        self.x = self.dx = None
        self.bug = bug

    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, dout):
        self.dx = _plant(dout * (self.x > 0), self.bug, "dx_one_element", (2, 1), 1.5)
        return self.dx


class Sigmoid:
    """Parameter-free: keeps out and dout."""

    def __init__(self, bug=None):
        self.out = None
        self.bug = bug

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        self.dout = dout
        return _plant(dout * (1.0 - self.out) * self.out, self.bug, "dx_one_element", (2, 1), 1.5)


class Softmax:
    """Parameter-free, float32 as trained: keeps y and dy (the upstream gradient)."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return self.y

    def backward(self, dy):
        self.dy = dy
        dx = self.y * (dy - np.sum(dy * self.y, axis=1, keepdims=True))
        return _plant(dx, self.bug, "dx_one_element", (2, 1), 1.5)
