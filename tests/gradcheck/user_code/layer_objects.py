"""Layer objects in the shapes public code gives them: forward(x) / backward(dout) with the
parameters kept as attributes, in ``.parameters``/``.gradients`` dicts, in ``.params``/``.grads``
with running statistics beside them, in lists returned by methods, created lazily, or with several
inputs and outputs. ``bug`` plants one mistake where a test asks for it. Samples in rows."""

import numpy as np


class AttrDense:
    """self.W, self.b with self.dW, self.db (the from-scratch tutorial style)."""

    def __init__(self, n_in, n_out, seed=0, bug=None):
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = rng.standard_normal(n_out)
        self.dW = self.db = None
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout * (123 if self.bug == "dW_times_123" else 1)
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class LibraryDense:
    """``self.parameters`` / ``self.gradients`` dicts keyed W, b (as one layer library does)."""

    def __init__(self, n_in, n_out, seed=0, bug=None):
        rng = np.random.default_rng(seed)
        self.parameters = {"W": rng.standard_normal((n_in, n_out)), "b": np.zeros((1, n_out))}
        self.gradients = {"W": np.zeros((n_in, n_out)), "b": np.zeros((1, n_out))}
        self.bug = bug

    def forward(self, X):
        self.X = X
        return X @ self.parameters["W"] + self.parameters["b"]

    def backward(self, dLdy):
        self.gradients["W"] = self.X.T @ dLdy
        self.gradients["b"] = dLdy.sum(axis=0)  # shape (n_out,) for a (1, n_out) bias: compared by value
        if self.bug == "db_mean":
            self.gradients["b"] = dLdy.mean(axis=0)
        return dLdy @ self.parameters["W"].T


class BatchNorm1d:
    """``self.params`` holds gamma, beta and the running statistics; ``self.grads`` only dgamma, dbeta."""

    def __init__(self, D, momentum=0.9, eps=1e-5, bug=None):
        self.params = {"gamma": np.linspace(0.5, 1.5, D), "beta": np.linspace(-1, 1, D),
                       "running_mean": np.zeros(D), "running_var": np.ones(D)}
        self.grads = {}
        self.momentum, self.eps, self.bug = momentum, eps, bug

    def forward(self, x):
        p = self.params
        mu, var = x.mean(axis=0), x.var(axis=0)
        p["running_mean"] = self.momentum * p["running_mean"] + (1 - self.momentum) * mu
        p["running_var"] = self.momentum * p["running_var"] + (1 - self.momentum) * var
        self.std = np.sqrt(var + self.eps)
        self.xhat = (x - mu) / self.std
        return p["gamma"] * self.xhat + p["beta"]

    def backward(self, dout):
        self.grads["dgamma"] = (dout * self.xhat).sum(axis=0)
        self.grads["dbeta"] = dout.sum(axis=0) * (2 if self.bug == "dbeta_doubled" else 1)
        dxhat = dout * self.params["gamma"]
        return (dxhat - dxhat.mean(axis=0) - self.xhat * (dxhat * self.xhat).mean(axis=0)) / self.std


class LazyDense(AttrDense):
    """Creates its weights on the first forward, when it sees the input size."""

    def __init__(self, n_out, seed=0, bug=None):
        self.n_out, self.seed, self.bug = n_out, seed, bug
        self.W = self.b = self.dW = self.db = None

    def forward(self, x):
        if self.W is None:
            rng = np.random.default_rng(self.seed)
            self.W, self.b = rng.standard_normal((x.shape[1], self.n_out)), np.zeros(self.n_out)
        return super().forward(x)


class MethodListDense(AttrDense):
    """parameters() and gradients() return new lists [W, b] / [dW, db] on every call."""

    def parameters(self):
        return [self.W, self.b]

    def gradients(self):
        return [self.dW, self.db]


class AliasedDense(AttrDense):
    """Keeps ``self.params = [self.W, self.b]`` (the same arrays) but forward reads self.W."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params = [self.W, self.b]

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads = [self.dW, self.db]
        return dx


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class Attention:
    """Single-head scaled dot-product attention: forward(q, k, v) -> softmax(q k^T / sqrt(d)) v."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, q, k, v):
        scores = q @ k.T / np.sqrt(q.shape[1])
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        self.p, self.q, self.k, self.v = e / e.sum(axis=1, keepdims=True), q, k, v
        return self.p @ v

    def backward(self, dout):
        dp = dout @ self.v.T
        dscores = self.p * (dp - (dp * self.p).sum(axis=1, keepdims=True)) / np.sqrt(self.q.shape[1])
        dk = dscores.T @ self.q
        if self.bug == "dk_unscaled":  # the 1 / sqrt(d) of the scores forgotten in dk only
            dk = dk * np.sqrt(self.q.shape[1])
        return dscores @ self.k, dk, self.p.T @ dout


class GatedTwoOutputs:
    """forward(x) -> (x W, tanh(x W) * g): two outputs sharing W (n, n) and a gate vector g."""

    def __init__(self, n, seed=0, bug=None):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.standard_normal((n, n)) / np.sqrt(n), "g": rng.standard_normal(n)}
        self.grads, self.bug = {}, bug

    def forward(self, x):
        self.x, self.z = x, x @ self.params["W"]
        self.t = np.tanh(self.z)
        return self.z, self.t * self.params["g"]

    def backward(self, dz_out, dgated):
        dz = dz_out + dgated * self.params["g"] * (1 - self.t**2)
        if self.bug == "ignores_second_output":
            dz = dz_out
        self.grads = {"dW": self.x.T @ dz, "dg": (dgated * self.t).sum(axis=0)}
        return dz @ self.params["W"].T


class Embedding:
    """forward(ids) -> W[ids]; the integer input has no gradient, backward returns None."""

    def __init__(self, V, D, seed=0):
        self.params = {"W": np.random.default_rng(seed).standard_normal((V, D))}
        self.grads = {}

    def forward(self, ids):
        self.ids = ids
        return self.params["W"][ids]

    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        np.add.at(dW, self.ids, dout)
        self.grads["W"] = dW


class Sequential:
    """A model made of layers: ``self.layers``; forward chains them, backward runs them in reverse."""

    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout


class AccumulatingDense:
    """Gradients accumulate (``self.gradients["W"] += ...``) over the inputs stored by each forward
    until ``flush_gradients()``, as in a layer library that supports several forwards per update."""

    def __init__(self, n_in, n_out, seed=0, bug=None):
        rng = np.random.default_rng(seed)
        self.parameters = {"W": rng.standard_normal((n_in, n_out)), "b": rng.standard_normal(n_out)}
        self.bug = bug
        self.flush_gradients()

    def flush_gradients(self):
        self.X = []
        self.gradients = {k: np.zeros_like(v) for k, v in self.parameters.items()}

    def forward(self, X):
        self.X.append(X)
        return X @ self.parameters["W"] + self.parameters["b"]

    def backward(self, dLdy):
        X = self.X[-1]
        self.gradients["W"] += X.T @ dLdy * (2 if self.bug == "dW_doubled" else 1)
        self.gradients["b"] += dLdy.sum(axis=0)
        return dLdy @ self.parameters["W"].T


class AccumulatingAttrDense(AttrDense):
    """``self.dW += ...`` with no method to clear it: the checker zeroes dW before each backward."""

    def backward(self, dout):
        if self.dW is None:
            self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        self.dW += self.x.T @ dout
        self.db += dout.sum(axis=0) * (3 if self.bug == "db_tripled" else 1)
        return dout @ self.W.T


class CacheDense:
    """Methods in the function-pair style: forward(x) -> (out, cache), backward(dout, cache) -> dx,
    parameter gradients kept as self.dW, self.db."""

    def __init__(self, n_in, n_out, seed=0, bug=None):
        rng = np.random.default_rng(seed)
        self.W, self.b, self.bug = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out), bug

    def forward(self, x):
        return x @ self.W + self.b, (x,)

    def backward(self, dout, cache):
        (x,) = cache
        self.dW = x.T @ dout
        self.db = dout.sum(axis=0) if self.bug != "db_first_row" else dout[0]
        return dout @ self.W.T
