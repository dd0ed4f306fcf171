"""Layer objects as from-scratch tutorials write them, samples in rows unless said otherwise:

* ``Dense``: self.W, self.b and self.dW, self.db; backward(dout) returns dx.
* ``TutorialDense``: the book style: self.weights / self.biases, forward stores self.output and
  returns nothing, backward stores self.dweights, self.dbiases, self.dinputs and returns nothing.
* ``ColumnDense``: samples in columns, W (n_out, n_in), b (n_out, 1), backward(dA) averages over m
  (the ``1/m`` lives in the layer, as in many course solutions), with an activation built in.
* ``MixedLayerNorm``: creates its own gamma/beta in float64 whatever the input dtype (mixed precision
  when fed float32).
``bug`` plants one mistake.
"""

import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng, scale=None, bug=None, dtype=np.float64):
        s = 1 / np.sqrt(n_in) if scale is None else scale
        self.W = (rng.standard_normal((n_in, n_out)) * s).astype(dtype)
        self.b = np.zeros(n_out, dtype=dtype)
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        if self.bug == "dW_transposed_square":
            self.dW = self.dW.T
        elif self.bug == "db_mean":  # a 1/m the loss already applied
            self.db = dout.mean(axis=0)
        elif self.bug == "one_element":
            # 1e-2: beyond float32's allowance (sqrt(eps32) = 3.5e-4 relative) for |dW[0, 0]| up to ~30,
            # whatever the upstream gradients' seed (1e-3 was inside it for the 3.7 another seed gives)
            self.dW[0, 0] += 1e-2
        return dout @ self.W.T


class TutorialDense:
    def __init__(self, n_inputs, n_neurons, rng, bug=None):
        self.weights = 0.1 * rng.standard_normal((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons))
        self.bug = bug

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T
        if self.bug == "dweights_times_2":
            self.dweights = 2 * self.dweights
        elif self.bug == "dweights_one_element":
            self.dweights[2, 1] += 1e-3
        elif self.bug == "dinputs_one_element":
            self.dinputs[2, 1] += 1e-3


class ColumnDense:
    """Z = W A_prev + b, A = tanh(Z); backward(dA) returns dA_prev and sets dW, db (mean over m:
    so the checked loss must be the mean over the batch as well)."""

    def __init__(self, n_in, n_out, rng, bug=None, average=True):
        self.W = rng.standard_normal((n_out, n_in)) * np.sqrt(1 / n_in)
        self.b = np.zeros((n_out, 1))
        self.bug, self.average = bug, average

    def forward(self, A_prev):
        self.A_prev = A_prev
        self.A = np.tanh(self.W @ A_prev + self.b)
        return self.A

    def backward(self, dA):
        m = self.A_prev.shape[1] if self.average else 1
        dZ = dA * (1 - self.A**2)
        self.dW = dZ @ self.A_prev.T / m
        self.db = dZ.sum(axis=1, keepdims=True) / m
        if self.bug == "db_axis0":
            self.db = np.broadcast_to(dZ.sum(axis=0).mean(), self.b.shape) / m
        return self.W.T @ dZ


class MixedLayerNorm:
    """gamma/beta created in float64; forward keeps the input's dtype for the normalisation."""

    def __init__(self, d, eps=1e-5, bug=None):
        self.gamma = np.linspace(0.5, 1.5, d)
        self.beta = np.linspace(-0.2, 0.2, d)
        self.eps, self.bug = eps, bug

    def forward(self, x):
        mu = x.mean(axis=1, keepdims=True)
        self.inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + self.eps)
        self.xhat = (x - mu) * self.inv_std
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        d = dout.shape[1]
        self.dgamma = (dout * self.xhat).sum(axis=0)
        self.dbeta = dout.sum(axis=0)
        if self.bug == "dgamma_sign":
            self.dgamma = -self.dgamma
        g = dout * self.gamma
        return self.inv_std / d * (d * g - g.sum(axis=1, keepdims=True)
                                   - self.xhat * (g * self.xhat).sum(axis=1, keepdims=True))
