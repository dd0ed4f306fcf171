"""The classic from-scratch network with parameters in lists, one sample at a time as a column:
``self.weights[l]`` (n[l+1], n[l]), ``self.biases[l]`` (n[l+1], 1), sigmoid layers, quadratic cost
0.5 * |a - y|^2, and ``backprop(x, y) -> (nabla_b, nabla_w)`` reading the lists itself. Re-typed
from scratch in that style; ``bug`` plants one mistake. ``loss_and_grads()`` pairs the cost with
backprop for check_value_and_grad (no argument: the checker swaps trial arrays into the lists).
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes, rng, bug=None, scale=1.0):
        self.sizes = sizes
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [scale * rng.standard_normal((n, m)) for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
        self.bug = bug

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights, strict=True):
            a = sigmoid(w @ a + b)
        return a

    def cost(self, x, y):
        return 0.5 * np.sum((self.feedforward(x) - y) ** 2)

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights, strict=True):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        if self.bug == "sigmoid_prime_of_activation":  # sigmoid_prime applied to a, not z
            delta = (activations[-1] - y) * sigmoid_prime(activations[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = delta @ activations[-2].T
        for layer in range(2, len(self.sizes)):
            z = zs[-layer]
            delta = (self.weights[-layer + 1].T @ delta) * sigmoid_prime(z)
            nabla_b[-layer] = delta
            nabla_w[-layer] = delta @ activations[-layer - 1].T
            if self.bug == "activation_index_off_by_one" and layer == 2:
                nabla_w[-layer] = delta @ activations[-layer].T[:, : activations[-layer - 1].shape[0]]
        return nabla_b, nabla_w

    def loss_and_grads(self, x, y):
        nabla_b, nabla_w = self.backprop(x, y)
        return self.cost(x, y), {"weights": nabla_w, "biases": nabla_b}
