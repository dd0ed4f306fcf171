"""Course-style layers, as in a typical backprop assignment: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``, samples in rows. The README's ``refnn check layers:...``
lines check them from this folder (each gradient here is right: every line exits 0)::

    $ cd examples
    $ refnn check layers:affine_forward layers:affine_backward --input x=4x5 --input w=5x3 --input b=3

Shapes: x (N, D), w (D, M), b (M,); batch norm gamma, beta (D,); word embedding ids x (N, T) into W (V, D).
"""

import numpy as np


def affine_forward(x, w, b):
    """x (N, d1, ..., dk), w (D, M) with D = d1 * ... * dk, b (M,) -> out (N, M)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """dout (N, M) -> dx (like x), dw (D, M), db (M,)."""
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


def batchnorm_forward(x, gamma, beta, bn_param):
    """x (N, D), gamma (D,), beta (D,); bn_param: mode 'train' | 'test', eps, momentum, running stats
    (updated in bn_param, as assignments do)."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        std = np.sqrt(var + eps)
        xhat = (x - mu) / std
        cache = (xhat, gamma, std)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        std = np.sqrt(running_var + eps)
        xhat = (x - running_mean) / std
        cache = (xhat, gamma, std, mode)
    return gamma * xhat + beta, cache


def batchnorm_backward(dout, cache):
    """dout (N, D) -> dx (N, D), dgamma (D,), dbeta (D,)."""
    xhat, gamma, std = cache[:3]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    if len(cache) == 4:  # test mode: a fixed affine map
        return dxhat / std, dgamma, dbeta
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    return dx, dgamma, dbeta


def word_embedding_forward(x, W):
    """x (N, T) integer word ids into W (V, D) -> out (N, T, D)."""
    return W[x], (x, W)


def word_embedding_backward(dout, cache):
    """dout (N, T, D) -> dW (V, D): each id's rows summed (an id used twice gets both)."""
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW
