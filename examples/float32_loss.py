"""A float32 training script's loss, written the way such scripts are: the parameters (float64 here,
as ``refnn check --shape`` draws them) are cast to float32 inside, and the loss comes back through
``float()``. The checker measures that ``f`` computes in float32 and differentiates it with float32's
steps and rounding model (README, "float32 losses").

* ``loss`` / ``grad``: a tanh layer and a mean squared error on a fixed batch, the gradient right;
* ``grad_5pct``: the same gradient 5% too large in one element of ``W`` (FAIL, that element named);
* ``grad_1pct``: every element 1% too large (never PASS).

    $ cd examples
    $ refnn check float32_loss:loss float32_loss:grad --shape W=4x3 --shape b=1x3
"""

import numpy as np

_rng = np.random.default_rng(7)
X = _rng.standard_normal((16, 4)).astype(np.float32)  # samples in rows
Y = _rng.standard_normal((16, 3)).astype(np.float32)


def _forward(params):
    W, b = params["W"].astype(np.float32), params["b"].astype(np.float32)
    return np.tanh(X @ W + b)


def loss(params):
    A = _forward(params)
    return float(0.5 * np.mean(np.sum((A - Y) ** 2, axis=1)))


def grad(params):
    A = _forward(params)
    dZ = (A - Y) * (1 - A * A) / len(X)
    return {"W": X.T @ dZ, "b": dZ.sum(axis=0, keepdims=True)}


def grad_5pct(params):
    g = grad(params)
    g["W"][1, 2] *= 1.05
    return g


def grad_1pct(params):
    return {k: 1.01 * v for k, v in grad(params).items()}
