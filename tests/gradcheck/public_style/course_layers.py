"""Course-assignment style layers, samples in rows: ``out, cache = f_forward(...)`` and
``grads = f_backward(dout, cache)``. Written from scratch in the style of the public cs231n-like
solutions (affine, relu, batch/layer norm, dropout with a mask, naive conv and max-pool, RNN and
LSTM steps, word embedding, softmax and SVM losses). ``bug`` names one planted mistake.

Shapes: x (N, D), w (D, M), b (M,); conv x (N, C, H, W), w (F, C, HH, WW); rnn x (N, D),
h (N, H), Wx (D, H) / (D, 4H), Wh (H, H) / (H, 4H).
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache, bug=None):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.sum(axis=0)
    if bug == "sign_flip_dw":
        dw = -dw
    elif bug == "factor2_db":
        db = 2 * db
    elif bug == "db_wrong_axis":  # sums over features instead of the batch; broadcast back to (M,)
        db = np.full_like(b, dout.sum(axis=1).mean())
    elif bug == "one_element_dw":
        dw = dw.copy()
        dw[1, 0] += 0.5
    elif bug == "rel1e-4_dw":
        dw = dw.copy()
        dw[0, 1] *= 1 + 1e-4
    elif bug == "transpose_dw":  # only possible for a square w
        dw = dw.T
    elif bug == "dw_zeros":  # dw left at its np.zeros_like initialisation
        dw = np.zeros_like(w)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache, bug=None):
    x = cache
    if bug == "mask_from_output_ge":  # x >= 0 lets the gradient through at exact zeros too
        return dout * (x >= 0)
    return dout * (x > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc**2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def batchnorm_backward(dout, cache, bug=None):
    """The compact form of the batch-norm input gradient."""
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    if bug == "missing_mean_term":  # forgets that the mean depends on x
        dx = inv_std / n * (n * dxhat - xhat * (dxhat * xhat).sum(axis=0))
    elif bug == "dgamma_wrong_cache":  # multiplies by gamma, the next cache entry, as well
        dgamma = (dout * xhat * gamma).sum(axis=0)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def layernorm_backward(dout, cache, bug=None):
    xhat, gamma, inv_std = cache
    d = dout.shape[1]
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std / d * (d * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))
    if bug == "batchnorm_axis":  # the batch-norm formula pasted in: sums over the batch axis
        dx = inv_std / d * (d * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """x (N, C, H, W), gamma / beta (1, C, 1, 1), G groups of C // G channels each."""
    eps = gn_param.get("eps", 1e-5)
    N = x.shape[0]
    xg = x.reshape(N, G, -1)
    inv_std = 1.0 / np.sqrt(xg.var(axis=2, keepdims=True) + eps)
    xhat = ((xg - xg.mean(axis=2, keepdims=True)) * inv_std).reshape(x.shape)
    return gamma * xhat + beta, (xhat, gamma, inv_std, G)


def spatial_groupnorm_backward(dout, cache, bug=None):
    xhat, gamma, inv_std, G = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N, G, -1)
    xh = xhat.reshape(N, G, -1)
    M = dxhat.shape[2]
    dx = inv_std / M * (M * dxhat - dxhat.sum(axis=2, keepdims=True) - xh * (dxhat * xh).sum(axis=2, keepdims=True))
    if bug == "variance_term_missing":
        dx = inv_std / M * (M * dxhat - dxhat.sum(axis=2, keepdims=True))
    return dx.reshape(dout.shape), dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout; ``p`` is the keep probability. A 'seed' key makes it deterministic; without
    it a fresh mask is drawn every call (the common public code, which seeds only in tests)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode != "train":
        return x, (dropout_param, None)
    rng = np.random.default_rng(dropout_param["seed"]) if "seed" in dropout_param else np.random.default_rng()
    mask = (rng.random(x.shape) < p) / p
    return x * mask, (dropout_param, mask)


def dropout_backward(dout, cache, bug=None):
    dropout_param, mask = cache
    if dropout_param["mode"] != "train" or bug == "forgot_mask":
        return dout
    return dout * mask


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = _pad(x, pad)
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w, b))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache, bug=None):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp, dtype=np.result_type(dout, w))
    dw = np.zeros_like(w, dtype=np.result_type(dout, x))
    for i in range(Ho):
        for j in range(Wo):
            sl = (slice(None), slice(None), slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW))
            dw += np.tensordot(dout[:, :, i, j], xp[sl], axes=([0], [0]))
            dxp[sl] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3))
    H, W = x.shape[2], x.shape[3]
    dx = dxp[:, :, pad:pad + H, pad:pad + W].copy()
    if bug == "pad_off_by_one":  # crops the padded gradient one row short: the last row stays 0
        dx[:, :, H - 1, :] = 0
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache, bug=None):
    """Routes each upstream value to the first maximal element of its window (np.argmax order)."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, _, _ = x.shape
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
            k = win.argmin(axis=2) if bug == "argmin" else win.argmax(axis=2)
            for n in range(N):
                for c in range(C):
                    di, dj = divmod(int(k[n, c]), pw)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    if bug == "tanh_grad_wrong_cache":  # 1 - x**2 of the input instead of the output
        da = dnext_h * (1 - np.tanh(x @ Wx) ** 2)
    dWh = prev_h.T @ da
    if bug == "dWh_transposed":
        dWh = dWh.T
    return da @ Wx.T, da @ Wh.T, x.T @ da, dWh, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H) -> h (N, T, H): rnn_step_forward over time."""
    N, T, _ = x.shape
    h, caches, prev = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx)), [], h0
    for t in range(T):
        prev, cache = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(cache)
    return h, caches


def rnn_backward(dh, caches, bug=None):
    """dh (N, T, H) upstream gradient of every hidden state -> dx, dh0, dWx, dWh, db."""
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = caches[0]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    dprev = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        upstream = dh[:, t] if bug == "forgot_dprev" else dh[:, t] + dprev
        dx[:, t], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(upstream, caches[t])
        if bug == "overwrite_dWh":  # dWh = ... instead of dWh += ...
            dWh = dWh_t
        else:
            dWh += dWh_t
        dWx += dWx_t
        db += db_t
    return dx, dprev, dWx, dWh, db


def temporal_softmax_loss(x, y, mask, bug=None):
    """x (N, T, V) scores, y (N, T) labels, mask (N, T) bool: sum over kept steps / N -> (loss, dx)."""
    N, T, V = x.shape
    flat_x, flat_y, flat_mask = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    shifted = flat_x - flat_x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.sum(flat_mask * log_p[np.arange(N * T), flat_y]) / N
    dx = np.exp(log_p)
    dx[np.arange(N * T), flat_y] -= 1
    dx /= N
    if bug != "forgot_mask":
        dx *= flat_mask[:, None]
    return loss, dx.reshape(N, T, V)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc**2)
    if bug == "forgot_dnext_c":
        dc = dnext_h * o * (1 - tc**2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tc, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache, bug=None):
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    if bug == "assign_not_add":  # dW[x] = dout loses repeated words
        dW[x] = dout
    else:
        np.add.at(dW, x, dout)
    return dW


def softmax_loss(x, y, bug=None):
    """Mean cross-entropy of logits x (N, C) with integer labels y (N,); returns (loss, dx)."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    dx = np.exp(log_p)
    dx[np.arange(n), y] -= 1
    if bug != "missing_1_over_m":
        dx /= n
    if bug == "one_element":
        dx[2, 3] += 1e-3
    return loss, dx


def svm_loss(x, y, bug=None):
    """Mean multiclass hinge loss (margin 1) of scores x (N, C); returns (loss, dx)."""
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(n), y] = 0
    loss = margins.sum() / n
    positive = (margins > 0).astype(x.dtype)
    dx = positive.copy()
    dx[np.arange(n), y] -= positive.sum(axis=1)
    if bug == "sign_flip":
        dx = -dx
    return loss, dx / n
