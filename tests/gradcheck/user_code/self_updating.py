"""Layers in the shapes tutorials give them when the layer updates itself: ``backward(output_gradient,
learning_rate)`` taking an SGD step and returning only the input gradient (samples in columns, the
"neural network from scratch" video style, and samples in rows in float32), other method names
(``forward_pass`` / ``backward_pass``, ``backprop(d, learn_rate)``), an optimizer object the layer
calls, a forward returning ``(out, attention_map)``, a layer taking a list of arrays, a forward with a
``training`` flag. ``bug`` plants one mistake where a test asks for it."""

import numpy as np


def _plant(array, bug, wanted, index=(1, 0), factor=2.0):
    if bug == wanted:
        array = array.copy()
        array[index] *= factor
    return array


class Dense:
    """Samples in columns: weights (out, in), bias (out, 1), input (in, m)."""

    def __init__(self, input_size, output_size, seed=0, bug=None):
        rng = np.random.default_rng(seed)
        self.weights = rng.standard_normal((output_size, input_size))
        self.bias = rng.standard_normal((output_size, 1))
        self.bug = bug

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = _plant(np.dot(output_gradient, self.input.T), self.bug, "weights_one_element")
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
        bias_gradient = np.sum(output_gradient, axis=1, keepdims=True)
        if self.bug == "bias_sign":
            bias_gradient = -bias_gradient
        self.bias = self.bias - learning_rate * bias_gradient  # a new array: the step replaces it
        return input_gradient


class Tanh:
    """The activation layer of the same tutorials: takes the rate, has nothing to update."""

    def forward(self, input):
        self.input = input
        return np.tanh(input)

    def backward(self, output_gradient, learning_rate):
        return output_gradient * (1 - np.tanh(self.input) ** 2)


class DenseRows32:
    """Samples in rows, float32 weights, backprop(d, learn_rate): the update in float32."""

    def __init__(self, n_in, n_out, seed=1, bug=None):
        rng = np.random.default_rng(seed)
        self.W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        self.b = np.zeros((1, n_out), dtype=np.float32)
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backprop(self, d, learn_rate):
        dx = d @ self.W.T
        dW = _plant(self.x.T @ d, self.bug, "weights_one_element")
        self.W -= learn_rate * dW
        self.b -= learn_rate * d.sum(axis=0, keepdims=True)
        return dx


class MomentumDense(Dense):
    """Momentum kept inside backward: its update is no SGD step after the first (refused)."""

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        self.velocity = 0.9 * getattr(self, "velocity", 0.0) - learning_rate * weights_gradient
        self.weights += self.velocity + 0.5 * learning_rate * self.weights * 0.01  # with weight decay
        return np.dot(self.weights.T, output_gradient)


class PassDense:
    """forward_pass / backward_pass with self.dW, self.db (method names from one course)."""

    def __init__(self, n_in, n_out, seed=2, bug=None):
        rng = np.random.default_rng(seed)
        self.W, self.b = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
        self.bug = bug

    def forward_pass(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward_pass(self, grad):
        self.dW = _plant(self.x.T @ grad, self.bug, "weights_one_element")
        self.db = grad.sum(axis=0)
        return grad @ self.W.T


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, param, grad):
        param -= self.lr * grad


class Adam:
    """Kept by name in ``self.opt``; its state is per parameter id."""

    def __init__(self, lr=1e-3):
        self.lr, self.m, self.v, self.t = lr, {}, {}, 0

    def step(self, params, grads):
        self.t += 1
        for k in params:
            m = self.m[k] = 0.9 * self.m.get(k, 0) + 0.1 * grads[k]
            v = self.v[k] = 0.999 * self.v.get(k, 0) + 0.001 * grads[k] ** 2
            params[k] -= self.lr * (m / (1 - 0.9**self.t)) / (np.sqrt(v / (1 - 0.999**self.t)) + 1e-8)


class OptimizerDense:
    """backward hands (W, dW) to ``self.optimizer.update`` and keeps no gradient itself."""

    def __init__(self, n_in, n_out, optimizer=None, seed=3, bug=None):
        rng = np.random.default_rng(seed)
        self.W, self.b = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
        self.optimizer = optimizer or SGD()
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.optimizer.update(self.W, _plant(self.x.T @ dout, self.bug, "weights_one_element"))
        self.optimizer.update(self.b, dout.sum(axis=0))
        return dout @ self.W.T


class AdamDense(OptimizerDense):
    """The optimizer gets dicts: ``self.opt.step(self.params, grads)``."""

    def __init__(self, n_in, n_out, seed=4, bug=None):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.standard_normal((n_in, n_out)), "b": np.zeros(n_out)}
        self.opt, self.bug = Adam(), bug

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        grads = {"W": _plant(self.x.T @ dout, self.bug, "weights_one_element"), "b": dout.sum(axis=0)}
        self.opt.step(self.params, grads)
        return dout @ self.params["W"].T


class SelfAttention:
    """forward(x) -> (out, attention_map); backward(dout) takes the output's gradient only."""

    def __init__(self, d, seed=5, bug=None):
        rng = np.random.default_rng(seed)
        self.Wq, self.Wk, self.Wv = (rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(3))
        self.bug = bug

    def forward(self, x):
        self.x = x
        self.q, self.k, self.v = x @ self.Wq, x @ self.Wk, x @ self.Wv
        s = self.q @ self.k.T / np.sqrt(x.shape[1])
        e = np.exp(s - s.max(axis=1, keepdims=True))
        self.a = e / e.sum(axis=1, keepdims=True)
        return self.a @ self.v, self.a

    def backward(self, dout):
        dv = self.a.T @ dout
        da = dout @ self.v.T
        ds = self.a * (da - (da * self.a).sum(axis=1, keepdims=True)) / np.sqrt(self.x.shape[1])
        dq, dk = ds @ self.k, ds.T @ self.q
        self.dWq = _plant(self.x.T @ dq, self.bug, "weights_one_element")
        self.dWk, self.dWv = self.x.T @ dk, self.x.T @ dv
        return dq @ self.Wq.T + dk @ self.Wk.T + dv @ self.Wv.T


class WeightedSum:
    """forward(inputs: list of arrays) -> sum_i w_i * inputs[i]; backward returns a list."""

    def __init__(self, n, seed=6, bug=None):
        self.w = np.random.default_rng(seed).standard_normal(n)
        self.bug = bug

    def forward(self, inputs):
        self.inputs_ = inputs
        return sum(w * x for w, x in zip(self.w, inputs, strict=True))

    def backward(self, dout):
        self.dw = np.array([np.sum(dout * x) for x in self.inputs_])
        grads = [w * dout for w in self.w]
        if self.bug == "second_input":
            grads[1] = _plant(grads[1], "x", "x", (0, 1), 1.5)
        return grads


class Dropout:
    """forward(x, training=True), a mask seeded per layer (the same on every call)."""

    def __init__(self, p=0.5, seed=7, bug=None):
        self.p, self.seed, self.bug = p, seed, bug

    def forward(self, x, training=False):
        if not training:
            self.mask = np.ones_like(x)
            return x
        self.mask = (np.random.default_rng(self.seed).uniform(size=x.shape) > self.p) / (1 - self.p)
        return x * self.mask

    def backward(self, dout):
        return dout * (self.mask if self.bug != "no_scale" else self.mask > 0)
