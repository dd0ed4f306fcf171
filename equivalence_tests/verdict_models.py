"""The models the verdict fuzzer draws, each written twice: user-style NumPy and a torch twin.

The NumPy side is written the way course assignments and from-scratch libraries write it
(CS231n layout: ``x (N, D) @ w (D, M) + b (M,)``; forward returns ``(out, cache)``, backward takes
``(dout, cache)``): the gradient under test. The torch twin computes the same function with
``torch`` built-ins in float64 and its autograd gives the *true* gradient, so whether a gradient is
right, and by how much it is wrong, is known without asking the checker (see verdict_fuzz.py).

Blocks (``Block.forward / backward / twin``), chained by :class:`Chain`:

    affine      out = x @ W + b
    relu        max(z, 0); the derivative at z == 0 is 0 ("gt", mask z > 0) or 1 ("ge", z >= 0):
                both are subgradients, and the twin uses the same choice (torch.relu / a where)
    tanh, sigmoid  sigmoid: overflow-free exp(-|z|) form, or (style "staged") 1 / (1 + exp(-z))
    maxpairs    out[:, j] = max(z[:, 2j], z[:, 2j+1]) (maxout, a 1-D max pool of width 2). At a tie
                "first" gives the gradient to the first entry, "split" half to each (both
                subgradients; twins: torch.where / torch.amax, which splits evenly), "all" gives it
                to both (``(window == max) * dout``, the common pooling code): no subgradient, its
                twin is "first" so it measures wrong wherever there is a tie
    batchnorm   train-mode batch normalization over the batch (gamma, beta): centering makes the
                gradient of a bias before it exactly zero; style "staged" is the step-by-step
                computational-graph version (mean, x - mu, var, sqrt, 1/sqrt, ... and back)

Heads (a scalar loss of the chain's output, times a loss scale ``c``): softmax cross-entropy (int
labels), binary cross-entropy from logits (0/1 targets), mean squared error.

Precision modes (``Chain.mode``): "float64"; "float32" (arrays are float32, NumPy computes in
float32); "float32-inside" (float64 arrays are cast to float32 inside, a loss is returned as a Python
float, gradients as float32 arrays: the float32 training script); "mixed" (the first block's
parameters and x in float32, the rest float64: NumPy promotes from the second block on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BN_EPS = 1e-5
HEADS = ("softmax", "bce", "mse")


def _sigmoid(z):
    """Overflow-free logistic: exp of -|z| only (no RuntimeWarning for |z| of 1e3)."""
    s = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + s), s / (1.0 + s)).astype(z.dtype, copy=False)


@dataclass
class Block:
    """One layer: ``kind`` (see the module docstring), its parameter names, and the tie / kink convention."""

    kind: str
    names: tuple = ()  # parameter names in the chain's dict, e.g. ("W1", "b1")
    convention: str = ""  # relu: "gt" / "ge"; maxpairs: "first" / "split" / "all"
    style: str = "vectorized"  # "staged": sigmoid as 1 / (1 + exp(-z)), batch norm step by step (module docstring)

    def forward(self, x, p: dict):
        if self.kind == "affine":
            w, b = (p[n] for n in self.names)
            return x @ w + b, (x, w)
        if self.kind == "relu":
            mask = (x >= 0) if self.convention == "ge" else (x > 0)
            return x * mask, mask
        if self.kind == "tanh":
            out = np.tanh(x)
            return out, out
        if self.kind == "sigmoid":
            out = 1 / (1 + np.exp(-x)) if self.style == "staged" else _sigmoid(x)
            return out, out
        if self.kind == "maxpairs":
            a, b = x[:, 0::2], x[:, 1::2]
            out = np.maximum(a, b)
            return out, (a, b, out)
        if self.kind == "batchnorm" and self.style == "staged":  # the computational-graph version
            gamma, beta = (p[n] for n in self.names)
            xmu = x - x.mean(axis=0)
            var = (xmu**2).mean(axis=0)
            sqrtvar = np.sqrt(var + BN_EPS)
            ivar = 1 / sqrtvar
            xhat = xmu * ivar
            return gamma * xhat + beta, (xhat, gamma, xmu, ivar, sqrtvar, var)
        if self.kind == "batchnorm":
            gamma, beta = (p[n] for n in self.names)
            mu = x.mean(axis=0)
            xc = x - mu
            std = np.sqrt((xc**2).mean(axis=0) + BN_EPS)
            xhat = xc / std
            return gamma * xhat + beta, (xhat, std, gamma)
        raise ValueError(f"unknown block kind {self.kind!r}")

    def backward(self, dout, cache) -> tuple:
        """(dx, {name: gradient}) for this block."""
        if self.kind == "affine":
            x, w = cache
            return dout @ w.T, {self.names[0]: x.T @ dout, self.names[1]: dout.sum(axis=0)}
        if self.kind == "relu":
            return dout * cache, {}
        if self.kind == "tanh":
            return dout * (1 - cache**2), {}
        if self.kind == "sigmoid":
            return dout * cache * (1 - cache), {}
        if self.kind == "maxpairs":
            a, b, out = cache
            if self.convention == "first":
                first = a >= b
                da, db = dout * first, dout * ~first
            elif self.convention == "split":
                tie = (a == b) * 0.5
                da, db = dout * ((a > b) + tie), dout * ((b > a) + tie)
            else:  # "all": dx[window] = (window == max) * dout
                da, db = dout * (a == out), dout * (b == out)
            dx = np.empty((dout.shape[0], 2 * dout.shape[1]), dtype=np.result_type(da, db))
            dx[:, 0::2], dx[:, 1::2] = da, db
            return dx, {}
        if self.kind == "batchnorm" and self.style == "staged":  # each step of the graph backwards
            xhat, gamma, xmu, ivar, sqrtvar, var = cache
            n = dout.shape[0]
            dxhat = dout * gamma
            divar = (dxhat * xmu).sum(axis=0)
            dxmu1 = dxhat * ivar
            dsqrtvar = -1 / sqrtvar**2 * divar
            dvar = 0.5 / np.sqrt(var + BN_EPS) * dsqrtvar
            dxmu2 = 2 * xmu * (np.ones_like(dout) / n * dvar)
            dx1 = dxmu1 + dxmu2
            dx = dx1 + np.ones_like(dout) / n * -dx1.sum(axis=0)
            return dx, {self.names[0]: (dout * xhat).sum(axis=0), self.names[1]: dout.sum(axis=0)}
        if self.kind == "batchnorm":
            xhat, std, gamma = cache
            n = dout.shape[0]
            dxhat = dout * gamma
            dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
            return dx, {self.names[0]: (dout * xhat).sum(axis=0), self.names[1]: dout.sum(axis=0)}
        raise ValueError(f"unknown block kind {self.kind!r}")

    def twin(self, x, p: dict):
        """The same function in torch (float64 tensors); autograd gives the true gradient."""
        import torch
        import torch.nn.functional as F

        if self.kind == "affine":
            return x @ p[self.names[0]] + p[self.names[1]]
        if self.kind == "relu":
            return torch.relu(x) if self.convention == "gt" else torch.where(x >= 0, x, torch.zeros_like(x))
        if self.kind == "tanh":
            return torch.tanh(x)
        if self.kind == "sigmoid":
            return torch.sigmoid(x)
        if self.kind == "maxpairs":
            a, b = x[:, 0::2], x[:, 1::2]
            if self.convention == "split":  # amax "evenly distributes gradient between equal values"
                return torch.amax(torch.stack([a, b]), dim=0)
            return torch.where(a >= b, a, b)  # "first"; also the truth for "all" (which is no subgradient)
        if self.kind == "batchnorm":
            return F.batch_norm(x, None, None, p[self.names[0]], p[self.names[1]], training=True, eps=BN_EPS)
        raise ValueError(f"unknown block kind {self.kind!r}")


@dataclass
class Chain:
    """Blocks applied in order to x, then (``head`` set) a scalar loss times ``scale``, else the output
    times ``scale``. ``mode`` is the precision mode (module docstring); ``target`` the head's y."""

    blocks: list
    head: str | None = None
    target: np.ndarray | None = None
    scale: float = 1.0
    mode: str = "float64"
    first_block_params: tuple = field(default=())  # names kept in float32 in "mixed" mode

    # ---- NumPy, the user's code -------------------------------------------------------------
    def _cast(self, x, p: dict):
        if self.mode == "float32-inside":
            return x.astype(np.float32), {k: v.astype(np.float32) for k, v in p.items()}
        return x, p

    def forward(self, x, p: dict):
        """(out or loss, cache). x (N, D); p the parameter dict; a loss is a NumPy scalar."""
        x, p = self._cast(x, p)
        caches, h = [], x
        for block in self.blocks:
            h, cache = block.forward(h, p)
            caches.append(cache)
        if self.head is None:
            return h * h.dtype.type(self.scale), caches
        loss, dlogits = head_loss(self.head, h, self.target)
        return loss * loss.dtype.type(self.scale), (caches, dlogits)

    def backward(self, dout, caches) -> dict:
        """Gradients of every input: {"x": dx, name: d name}; dout is the upstream gradient (1 for a loss)."""
        if self.head is not None:
            caches, dlogits = caches
            dh = dlogits * dlogits.dtype.type(self.scale) * dlogits.dtype.type(np.asarray(dout).real)
        else:
            dh = dout * np.asarray(dout).dtype.type(self.scale)
        grads: dict = {}
        for block, cache in zip(reversed(self.blocks), reversed(caches), strict=True):
            dh, own = block.backward(dh, cache)
            grads.update(own)
        grads["x"] = dh
        return grads

    # ---- torch, the truth -------------------------------------------------------------------
    def true_value(self, x, p: dict, dout=None) -> float:
        """The float64 twin's scalar: sum(out * dout) (no head) or the loss (head)."""
        import torch

        with torch.no_grad():
            h = torch.tensor(np.asarray(x, dtype=np.float64))
            leaves = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in p.items()}
            for block in self.blocks:
                h = block.twin(h, leaves)
            if self.head is None:
                return float(torch.sum(h * torch.tensor(np.asarray(dout, dtype=np.float64))) * self.scale)
            return float(twin_loss(self.head, h, self.target) * self.scale)

    def true_gradient(self, x, p: dict, dout=None) -> dict:
        """float64 gradients of sum(out * dout) (no head) or of the loss (head), at float64 copies of x, p."""
        import torch

        leaves = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in p.items()}
        xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
        h = xt
        for block in self.blocks:
            h = block.twin(h, leaves)
        if self.head is None:
            value = torch.sum(h * torch.tensor(np.asarray(dout, dtype=np.float64))) * self.scale
        else:
            value = twin_loss(self.head, h, self.target) * self.scale
        value.backward()
        out = {k: t.grad.numpy().copy() for k, t in leaves.items()}
        out["x"] = xt.grad.numpy().copy()
        return out


def head_loss(head: str, z, y):
    """(loss, dloss/dz) of a user-style loss head: z (N, K) logits or predictions, y its target."""
    n = z.shape[0]
    if head == "softmax":  # y: int labels (N,)
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(n), y].mean()
        dz = np.exp(log_probs)
        dz[np.arange(n), y] -= 1
        return loss, dz / dz.dtype.type(n)
    if head == "bce":  # y: 0/1 targets (N, K), from logits (the stable form)
        y = y.astype(z.dtype)
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        return loss, (_sigmoid(z) - y) / z.dtype.type(z.size)
    if head == "mse":  # y: targets (N, K)
        y = y.astype(z.dtype)
        return np.mean((z - y) ** 2), z.dtype.type(2) * (z - y) / z.dtype.type(z.size)
    raise ValueError(f"unknown head {head!r}; expected one of {HEADS}")


def twin_loss(head: str, z, y):
    import torch
    import torch.nn.functional as F

    if head == "softmax":
        return F.cross_entropy(z, torch.tensor(y, dtype=torch.long))
    target = torch.tensor(np.asarray(y, dtype=np.float64))
    if head == "bce":
        return F.binary_cross_entropy_with_logits(z, target)
    return F.mse_loss(z, target)
