"""One planted bug per backward / loss of layers.py, each a mistake people make."""

import numpy as np


def affine_backward(dout, cache):  # averages dw over the batch although the loss sums
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout / x.shape[0]
    return dx, dw, np.sum(dout, axis=0)


def relu_backward(dout, cache):  # forgot to multiply by dout
    x = cache
    return (x > 0).astype(dout.dtype)


def batchnorm_backward(dout, cache):  # drops the term through the variance
    xhat, gamma, std = cache[:3]
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0)) / std
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layernorm_backward(dout, cache):  # normalizes over the batch axis in backward (copied from batch norm)
    xhat, gamma, std = cache
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=0, keepdims=True)) / std
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def dropout_backward(dout, cache):  # uses the 0/1 mask, forgetting the 1 / p scale
    dropout_param, mask = cache
    return dout * (mask > 0)


def conv_backward_naive(dout, cache):  # db from the first sample only
    from .layers import conv_backward_naive as right

    dx, dw, _ = right(dout, cache)
    return dx, dw, dout[0].sum(axis=(1, 2))


def max_pool_backward_naive(dout, cache):  # routes to the window's top-left element, not its max
    x, pool_param = cache
    stride = pool_param["stride"]
    dx = np.zeros_like(x)
    Ho, Wo = dout.shape[2:]
    for i in range(Ho):
        for j in range(Wo):
            dx[:, :, i * stride, j * stride] += dout[:, :, i, j]
    return dx


def rnn_step_backward(dnext_h, cache):  # dWh from next_h instead of prev_h
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, next_h.T @ da, da.sum(axis=0)


def lstm_step_backward(dnext_h, dnext_c, cache):  # dprev_c forgets the forget gate
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc**2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tc, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)])
    return da @ Wx.T, da @ Wh.T, dc, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def word_embedding_backward(dout, cache):  # assignment instead of accumulation: repeated words lose terms
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] = dout
    return dW


def softmax_loss(x, y):  # dx not divided by N
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return -np.sum(log_probs[np.arange(N), y]) / N, dx


def svm_loss(x, y):  # forgets the correct class's gradient
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, None] + 1.0)
    margins[np.arange(N), y] = 0
    return np.sum(margins) / N, (margins > 0).astype(x.dtype) / N
