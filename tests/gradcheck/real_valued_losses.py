"""A family of real-valued (not complex-safe) float64 losses written the way people write them, each
with its true gradient from torch autograd in float64 (an independent oracle: the same formulas,
differentiated by another program). Used by test_gradcheck_projection_bound.py.

Members: a sigmoid MLP through scipy.special.expit with a float() loss; a tanh MLP with MSE and a
float() loss; a tanh MLP written with in-place updates (np.tanh(Z, out=Z), A *= ...); a batch-norm
MLP (batch statistics) with a float() loss; a loss with a large constant (1e3 + cross-entropy).
Layout: samples in columns, W (n_out, n_in), b (n_out, 1).
"""

from __future__ import annotations

import numpy as np

MEMBERS = ("expit_ce", "tanh_mse", "inplace_tanh", "batchnorm", "offset_ce")


def make(member: str, dims=(30, 24, 10), m: int = 16, seed: int = 0):
    """(params, loss) for one member: loss(params) -> float, params a dict of float64 arrays."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1])) / np.sqrt(dims[layer - 1])
        params[f"b{layer}"] = 0.1 * rng.standard_normal((dims[layer], 1))
    if member == "batchnorm":
        params["gamma1"] = 1.0 + 0.1 * rng.standard_normal((dims[1], 1))
        params["beta1"] = 0.1 * rng.standard_normal((dims[1], 1))
    X = rng.standard_normal((dims[0], m))
    labels = rng.integers(0, dims[-1], m)
    Y = np.eye(dims[-1])[:, labels]
    T = rng.standard_normal((dims[-1], m))
    depth = len(dims) - 1

    def cross_entropy(Z):
        Z = Z - Z.max(axis=0, keepdims=True)
        return -np.sum(Y * (Z - np.log(np.exp(Z).sum(axis=0, keepdims=True)))) / m

    def loss(p):
        from scipy.special import expit

        A = X
        for layer in range(1, depth + 1):
            Z = p[f"W{layer}"] @ A + p[f"b{layer}"]
            if layer == depth:
                break
            if member in ("expit_ce", "offset_ce"):
                A = expit(Z)
            elif member == "inplace_tanh":
                np.tanh(Z, out=Z)
                Z *= 1.0  # a user's in-place touch: the array is reused as the activation
                A = Z
            elif member == "batchnorm":
                mu = Z.mean(axis=1, keepdims=True)
                Z -= mu
                var = (Z * Z).mean(axis=1, keepdims=True)
                Z /= np.sqrt(var + 1e-5)
                A = np.tanh(p["gamma1"] * Z + p["beta1"])
            else:
                A = np.tanh(Z)
        if member == "tanh_mse":
            return float(np.mean((Z - T) ** 2))
        value = cross_entropy(Z)
        return float(1e3 + value) if member == "offset_ce" else float(value)

    def true_gradient(p):
        """d loss / d params by torch autograd in float64 (same formulas)."""
        import torch

        tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
        A = torch.tensor(X, dtype=torch.float64)
        for layer in range(1, depth + 1):
            Z = tp[f"W{layer}"] @ A + tp[f"b{layer}"]
            if layer == depth:
                break
            if member in ("expit_ce", "offset_ce"):
                A = torch.sigmoid(Z)
            elif member == "batchnorm":
                Zc = Z - Z.mean(dim=1, keepdim=True)
                Zn = Zc / torch.sqrt((Zc * Zc).mean(dim=1, keepdim=True) + 1e-5)
                A = torch.tanh(tp["gamma1"] * Zn + tp["beta1"])
            else:
                A = torch.tanh(Z)
        if member == "tanh_mse":
            value = torch.mean((Z - torch.tensor(T)) ** 2)
        else:
            value = -(torch.tensor(Y) * torch.log_softmax(Z, dim=0)).sum() / m
        value.backward()
        return {k: v.grad.numpy().copy() for k, v in tp.items()}

    return params, loss, true_gradient
