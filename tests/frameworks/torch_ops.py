"""Hand-written torch rules for the check_torch tests: each op right, and with planted bugs.

Ops: an activation (softplus), a normalization with affine parameters (layer norm over the last axis),
softmax along the last axis, a linear Module built on a custom Function, and a fused op (bias +
tanh-GELU). ``BUGS`` maps a bug name to a Function whose backward has it; each docstring says what
a right check must report.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Softplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.nn.functional.softplus(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(x)


class LayerNorm(torch.autograd.Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis; x (N, D), weight, bias (D,)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps=1e-5):
        mean = x.mean(-1, keepdim=True)
        centred = x - mean
        inv = torch.rsqrt((centred * centred).mean(-1, keepdim=True) + eps)
        xhat = centred * inv
        ctx.save_for_backward(xhat, inv, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, g):
        xhat, inv, weight = ctx.saved_tensors
        gx = g * weight
        dx = inv * (gx - gx.mean(-1, keepdim=True) - xhat * (gx * xhat).mean(-1, keepdim=True))
        return dx, (g * xhat).sum(0), g.sum(0), None


class Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.softmax(x, -1)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(-1, keepdim=True))


class LinearFunction(torch.autograd.Function):
    """x (N, I) @ weight.T (O, I) + bias (O,)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        return g @ weight, g.T @ x, g.sum(0)


class Linear(nn.Module):
    def __init__(self, n_in: int, n_out: int, function=LinearFunction, dtype=torch.float64):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.weight = nn.Parameter(torch.randn(n_out, n_in, generator=generator, dtype=dtype) / math.sqrt(n_in))
        self.bias = nn.Parameter(torch.randn(n_out, generator=generator, dtype=dtype))
        self.function = function

    def forward(self, x):
        return self.function.apply(x, self.weight, self.bias)


_C = math.sqrt(2.0 / math.pi)


class BiasGelu(torch.autograd.Function):
    """Fused bias + tanh-GELU: y = gelu(x + b); x (N, D), b (D,)."""

    @staticmethod
    def forward(ctx, x, b):
        z = x + b
        ctx.save_for_backward(z)
        return 0.5 * z * (1 + torch.tanh(_C * (z + 0.044715 * z**3)))

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        t = torch.tanh(_C * (z + 0.044715 * z**3))
        d = 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _C * (1 + 3 * 0.044715 * z * z)
        return g * d, (g * d).sum(0)


# -- planted bugs -----------------------------------------------------------------------------------


class SoftplusOneElement(Softplus):
    """FAIL naming x and element (1, 2) (its gradient x 1.5)."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = torch.sigmoid(x).clone()
        d[1, 2] *= 1.5
        return g * d


class SoftplusSignBranch(Softplus):
    """A backward that branches on the sign of the upstream gradient: right for g > 0, x 1.2 for g < 0."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return torch.where(g > 0, g, 1.2 * g) * torch.sigmoid(x)


class LayerNormMissingTerm(LayerNorm):
    """dx without the xhat * mean(gx * xhat) term: FAIL on x; weight and bias right."""

    @staticmethod
    def backward(ctx, g):
        xhat, inv, weight = ctx.saved_tensors
        gx = g * weight
        return inv * (gx - gx.mean(-1, keepdim=True)), (g * xhat).sum(0), g.sum(0), None


class SoftmaxMissingTerm(Softmax):
    """y * g (the subtraction forgotten): FAIL."""

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * g


class LinearTransposeWeight(LinearFunction):
    """dW without x's contribution: g.T @ x replaced by the sign-flipped product: FAIL on weight only."""

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        return g @ weight, -(g.T @ x), g.sum(0)


class BiasGeluMissingBias(BiasGelu):
    """The bias gradient forgotten (returns zeros): FAIL on b only."""

    @staticmethod
    def backward(ctx, g):
        grads = BiasGelu.backward(ctx, g)
        return grads[0], torch.zeros_like(grads[1])
