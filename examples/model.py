"""Value-and-grad code as people write it, for the README's ``refnn check model:...`` lines (run from
this folder; both gradients are right, so both lines exit 0)::

    $ cd examples
    $ refnn check model:loss_and_grads --value-and-grad --params params.npz
    $ refnn check model:net.loss --value-and-grad --input X=5x4 --static 'y=[0, 2, 1, 0, 1]'
    $ refnn check model:list_cost model:list_grads --params model:params

* ``loss_and_grads(params) -> (loss, grads)``: sum of squares of a tanh layer on a fixed input;
  params ``W (2, 3)``, ``b (2,)`` (``params.npz`` here holds such a pair).
* ``net``: a ``TwoLayerNet`` whose ``loss(X, y) -> (loss, grads)`` reads its own ``self.params``
  (affine - relu - affine - softmax, L2 on the weights); refnn puts the trial values into ``net.params``
  in place and restores them afterwards.
* ``list_cost(params)`` / ``list_grads(params)``: a tanh network whose parameters are the list
  ``params = [W1, b1, W2, b2]`` this module holds (``--params model:params`` checks that list itself).
"""

import numpy as np

INPUT = np.arange(3.0)  # the fixed input of loss_and_grads, (3,)


def loss_and_grads(params):
    """``sum(tanh(W @ INPUT + b) ** 2)`` and its gradient, written by hand."""
    z = np.tanh(params["W"] @ INPUT + params["b"])
    dz = 2 * z * (1 - z**2)
    return np.sum(z**2), {"dW": np.outer(dz, INPUT), "db": dz}


class TwoLayerNet:
    """affine - relu - affine - softmax cross-entropy, L2 ``0.5 * reg * sum(W**2)`` on the weights.

    X (N, D), y (N,) labels in [0, C); W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)."""

    def __init__(self, D, H, C, reg=0.1, seed=0, weight_scale=0.1):
        rng = np.random.default_rng(seed)
        self.reg = reg
        # b1 in [0.5, 1): hidden units away from ReLU's kink at this scale, so every element is checkable.
        self.params = {"W1": weight_scale * rng.standard_normal((D, H)), "b1": rng.uniform(0.5, 1.0, H),
                       "W2": weight_scale * rng.standard_normal((H, C)), "b2": np.zeros(C)}  # fmt: skip

    def loss(self, X, y):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h_in = X @ W1 + b1
        h = np.maximum(0, h_in)
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


net = TwoLayerNet(4, 5, 3)


_rng = np.random.default_rng(11)
X_LIST, Y_LIST = _rng.standard_normal((3, 6)), _rng.standard_normal((1, 6))  # samples in columns
params = [_rng.standard_normal((4, 3)), _rng.standard_normal((4, 1)), _rng.standard_normal((1, 4)), np.zeros((1, 1))]


def list_cost(params):
    """Mean squared error of W2 tanh(W1 X + b1) + b2 against Y."""
    W1, b1, W2, b2 = params
    return float(np.mean((W2 @ np.tanh(W1 @ X_LIST + b1) + b2 - Y_LIST) ** 2))


def list_grads(params):
    W1, b1, W2, b2 = params
    H = np.tanh(W1 @ X_LIST + b1)
    dout = 2 * (W2 @ H + b2 - Y_LIST) / Y_LIST.size
    dZ = (W2.T @ dout) * (1 - H**2)
    return [dZ @ X_LIST.T, dZ.sum(axis=1, keepdims=True), dout @ H.T, dout.sum(axis=1, keepdims=True)]
