"""Autograd Functions in the ctx style of micrograd-like NumPy libraries: ``forward(ctx, *inputs)``
and ``backward(ctx, grad)`` as static methods with ``ctx.save_for_backward``, or as instance methods
of a Function whose instance is the context. ``BUG`` holds the planted bugs a test switches on."""

import numpy as np

BUG = set()


class Function:
    """The library's base class: the instance is the context."""

    def __init__(self, *parents):
        self.parents = parents
        self.saved_tensors = []

    def save_for_backward(self, *x):
        self.saved_tensors.extend(x)


class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        return grad_output * y, grad_output * x * (2 if "Mul.dy" in BUG else 1)


class MatMul(Function):
    @staticmethod
    def forward(ctx, input, weight):
        ctx.save_for_backward(input, weight)
        return input @ weight

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_weight = input.T @ grad_output
        if "MatMul.dweight" in BUG:
            grad_weight[0, 1] += 0.5
        return grad_output @ weight.T, grad_weight


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x):
        shifted = x - x.max(axis=1, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        if "LogSoftmax.sum" in BUG:  # the row sum forgotten
            return grad_output - np.exp(out)
        return grad_output - np.exp(out) * grad_output.sum(axis=1, keepdims=True)


class Sigmoid(Function):
    """Instance methods: self is the context; the output kept as an attribute."""

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out) * (1.5 if "Sigmoid" in BUG else 1)
