"""A user's own hand-written code with planted bugs, and how ``refnn check`` catches them.

Two things a user typically writes by hand, each with the bug people really make:

* ``layer``: a square Dense layer (``MyDense``, 3 -> 3) whose ``backward`` forgets the transpose,
  ``dx = W @ dy`` instead of ``W.T @ dy``. With a square ``W`` the shapes still fit, so nothing
  crashes: only a gradient check can see it. ``fixed_layer`` is the same layer done right.
* ``loss`` / ``grad``: logistic regression on a small fixed data set in this file,
  ``loss(params) = mean BCE``, whose hand-written gradient forgets the ``1/m`` of the mean.
  ``grad_fixed`` is the right one.

Check them from this folder (the current directory is importable, as with ``python -m``)::

    $ cd examples
    $ refnn check my_layer:layer --input-shape 3x5
    Gradient check FAIL (input): method=auto, 97 evaluations of f, seed=0
    param  verdict  verified  err/tol  worst index  analytic  numeric   method         dtype
    input  FAIL     0/15      4.8e+07  (1,2)        0.019707  1.01622   auto->complex  float64
    W      PASS     9/9       2.7e-08  (2,2)        -2.23966  -2.23966  auto->complex  float64
    b      PASS     3/3       1.3e-08  (1,0)        4.61865   4.61865   auto->complex  float64
      note: drove output(s) y (3, 5) with upstream gradients N(0, 1), seed 0
      note: parameters found in layer.params / layer.grads: W, b
    WRONG: gradient of 'input' at element (1, 2): hand-written 0.019707, numerical 1.01622 (15 of 15 elements outside tolerance)
    $ echo $?
    1

    $ refnn check my_layer:loss my_layer:grad --shape W=1x3 --shape b=1x1
    Gradient check FAIL (W, b): method=auto, 60 evaluations of f, seed=0
    param  verdict  verified  err/tol  worst index  analytic  numeric    method         dtype
    W      FAIL     0/3       5.9e+07  (0,2)        1.18816   0.14852    auto->complex  float64
    b      FAIL     0/1       5.9e+07  (0,0)        0.140271  0.0175339  auto->complex  float64
    ...
    WRONG: gradient of 'W' at element (0, 2): hand-written 1.18816, numerical 0.14852 (3 of 3 elements outside tolerance)
    WRONG: gradient of 'b' at element (0, 0): hand-written 0.140271, numerical 0.0175339 (1 of 1 elements outside tolerance)

    $ refnn check my_layer:loss my_layer:grad_fixed --shape W=1x3 --shape b=1x1
    Gradient check PASS (every element verified): method=auto, 48 evaluations of f, seed=0
    ...
    PASS: 2 gradient(s) agree with numerical derivatives (every element verified)

(tests/core/test_readme_blocks.py reruns these transcripts.) Every element of ``dW`` and ``db`` is
8 times the numerical value: the hint names the forgotten ``1/m`` for a batch of m = 8. The parameters
are seeded standard normal draws (``--seed``), or your own with ``--params params.npz``.
Run this file directly to see the same verdicts from Python: ``python examples/my_layer.py``.

Layout: samples in columns, ``x (n_in, m)``, ``W (n_out, n_in)``, ``b (n_out, 1)``.
"""  # noqa: E501 (the transcripts above are the command's own lines)

from __future__ import annotations

import numpy as np


class MyDense:
    """``y = W x + b``, with the layer contract of ``reference_nn.Linear``: ``params`` and ``grads``
    dicts, ``forward(x) -> y`` and ``backward(dy) -> dx`` (which also fills ``grads``).

    ``backward`` has a planted bug: it forgets the transpose in ``dx``."""

    def __init__(self, n_in: int = 3, n_out: int = 3, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.normal(size=(n_out, n_in)), "b": rng.normal(size=(n_out, 1))}
        self.grads: dict[str, np.ndarray] = {}
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return self.params["W"] @ x + self.params["b"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.grads["W"] = dy @ self._x.T
        self.grads["b"] = dy.sum(axis=1, keepdims=True)
        return self.params["W"] @ dy  # BUG: must be W.T @ dy (invisible while W is square)


class MyDenseFixed(MyDense):
    """The same layer with the transpose in place."""

    def backward(self, dy: np.ndarray) -> np.ndarray:
        super().backward(dy)
        return self.params["W"].T @ dy


layer = MyDense()
fixed_layer = MyDenseFixed()

# A fixed little data set for the logistic regression: X (3, 8), Y (1, 8) in {0, 1}.
_rng = np.random.default_rng(42)
X = _rng.normal(size=(3, 8))
Y = (_rng.uniform(size=(1, 8)) < 0.5).astype(float)


def _probabilities(params: dict[str, np.ndarray]) -> np.ndarray:
    """``sigmoid(W X + b)``, shape (1, m)."""
    return 1.0 / (1.0 + np.exp(-(params["W"] @ X + params["b"])))


def loss(params: dict[str, np.ndarray]) -> float:
    """Mean binary cross-entropy of the logistic regression ``params = {"W": (1, 3), "b": (1, 1)}``."""
    P = _probabilities(params)
    # No float(): a NumPy scalar lets the checker push complex numbers through (complex step, exact to ~1e-16).
    return -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))


def grad(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Hand-written gradient of :func:`loss`, with a planted bug: the ``1/m`` of the mean is missing."""
    dZ = _probabilities(params) - Y  # BUG: must be divided by m = X.shape[1]
    return {"W": dZ @ X.T, "b": dZ.sum(axis=1, keepdims=True)}


def grad_fixed(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The right gradient of :func:`loss`."""
    dZ = (_probabilities(params) - Y) / X.shape[1]
    return {"W": dZ @ X.T, "b": dZ.sum(axis=1, keepdims=True)}


def main(argv: list[str] | None = None) -> int:
    """Run the same checks as the ``refnn check`` commands above, from Python."""
    from reference_nn.gradcheck import check_gradients, check_layer

    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(1, 3)), "b": rng.normal(size=(1, 1))}
    x = rng.normal(size=(3, 5))
    for title, report in (
        ("layer (forgot the transpose)", check_layer(MyDense(), x)),
        ("layer, fixed", check_layer(MyDenseFixed(), x)),
        ("loss/grad (forgot 1/m)", check_gradients(loss, grad, params)),
        ("loss/grad_fixed", check_gradients(loss, grad_fixed, params)),
    ):
        print(f"== {title}: {'PASS' if report.passed else 'FAIL'}")
        print(report)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
