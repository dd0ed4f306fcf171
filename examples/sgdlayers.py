"""Layers that update themselves, as tutorials write them, for the README's ``refnn check sgdlayers:...``
lines (run from this folder; the gradients are right, so both lines exit 0)::

    $ cd examples
    $ refnn check sgdlayers:layer --input-shape 4x2
    $ refnn check sgdlayers:dropout --input-shape 4x2 --static training=true

* ``layer``: a ``Dense(4, 3)`` with samples in columns (input (4, m)) whose
  ``backward(output_gradient, learning_rate)`` takes the SGD step itself and returns only the input
  gradient; refnn drives it as an SGD step and recovers the weight and bias gradients from the step.
* ``dropout``: ``forward(x, training=False)``, a mask seeded per layer (the same on every call).
"""

import numpy as np


class Dense:
    """weights (out, in), bias (out, 1); input (in, m) -> output (out, m)."""

    def __init__(self, input_size, output_size, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = rng.standard_normal((output_size, input_size))
        self.bias = rng.standard_normal((output_size, 1))

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * np.sum(output_gradient, axis=1, keepdims=True)
        return input_gradient


class Dropout:
    def __init__(self, p=0.5, seed=7):
        self.p, self.seed = p, seed

    def forward(self, x, training=False):
        if not training:
            self.mask = np.ones_like(x)
            return x
        self.mask = (np.random.default_rng(self.seed).uniform(size=x.shape) > self.p) / (1 - self.p)
        return x * self.mask

    def backward(self, output_gradient):
        return output_gradient * self.mask


layer, dropout = Dense(4, 3), Dropout()
