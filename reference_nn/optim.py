"""Optimizers with ``torch.optim`` semantics. Each has ``step(params, grads) -> params``.

``step`` returns a new dict (the inputs are never modified) and keeps its state (momentum
buffers, Adam moments, the step count) keyed by parameter name. ``grads`` may be keyed
``dW1`` (classic) or ``W1``. ``weight_decay`` is torch's coupled form: ``g <- g + wd * theta``
before anything else, which equals adding the L2 penalty ``0.5 * wd * sum(theta**2)``
over *all* parameters (biases included, unlike ``compute_cost(..., l2=)``, which penalizes
weights only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference_nn._validation import check_in_range, check_positive_finite, choose_name
from reference_nn.model import Params, validate_gradients, validate_parameters


class Optimizer:
    def __init__(self, learning_rate: float, weight_decay: float = 0.0):
        self.learning_rate = check_positive_finite("learning_rate", learning_rate, allow_zero=True)
        self.weight_decay = check_positive_finite("weight_decay", weight_decay, allow_zero=True)
        self.state: dict[str, dict[str, Any]] = {}
        self.steps_taken = 0

    def step(self, params: Params, grads: dict[str, np.ndarray]) -> Params:
        validate_parameters(params, allow_complex=False)
        keyed = validate_gradients(params, grads)
        self.steps_taken += 1
        new_params = {}
        for name, theta in params.items():
            gradient = keyed[name]
            if self.weight_decay:
                gradient = gradient + theta.dtype.type(self.weight_decay) * theta
            new_params[name] = self._update(name, theta, gradient, self.state.setdefault(name, {}))
        return new_params

    def _update(self, name: str, theta: np.ndarray, gradient: np.ndarray, state: dict) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``::

    g = grad + weight_decay * theta
    if momentum:
        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g (later steps)
        g = g + momentum * buf if nesterov else buf
    theta = theta - lr * g
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(learning_rate, weight_decay)
        self.momentum = check_in_range("momentum", momentum, 0.0, 1.0)
        self.dampening = check_in_range("dampening", dampening, 0.0, 1.0, high_inclusive=True)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening == 0 (as in torch.optim.SGD)")
        self.nesterov = bool(nesterov)

    def _update(self, name, theta, gradient, state):
        dtype = theta.dtype.type
        if self.momentum:
            if "momentum_buffer" not in state:
                buffer = gradient.copy()
            else:
                buffer = dtype(self.momentum) * state["momentum_buffer"] + dtype(1 - self.dampening) * gradient
            state["momentum_buffer"] = buffer
            gradient = gradient + dtype(self.momentum) * buffer if self.nesterov else buffer
        # theta + (-lr * g) is bitwise theta - lr * g, with one (n_out, n_in) temporary instead of two.
        updated = gradient * dtype(-self.learning_rate)
        updated += theta
        return updated

    def __repr__(self) -> str:
        return (
            f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum}, dampening={self.dampening}, "
            f"nesterov={self.nesterov}, weight_decay={self.weight_decay})"
        )


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (epsilon added to the bias-corrected root)::

        g = grad + weight_decay * theta            (decoupled=False, torch Adam)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        theta = theta - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    With ``decoupled=True`` (torch ``AdamW``) the decay is ``theta *= 1 - lr * weight_decay``
    before the update and is not added to ``g``. Keras puts epsilon elsewhere
    (``sqrt(v) + eps`` before the bias correction): see the conventions table.
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ):
        super().__init__(learning_rate, 0.0 if decoupled else weight_decay)
        self.decoupled_weight_decay = (
            check_positive_finite("weight_decay", weight_decay, allow_zero=True) if decoupled else 0.0
        )
        self.beta1 = check_in_range("beta1", beta1, 0.0, 1.0)
        self.beta2 = check_in_range("beta2", beta2, 0.0, 1.0)
        self.eps = check_positive_finite("eps", eps)

    def _update(self, name, theta, gradient, state):
        dtype = theta.dtype.type
        t = self.steps_taken
        if "m" not in state:
            state["m"] = np.zeros_like(theta)
            state["v"] = np.zeros_like(theta)
        state["m"] = dtype(self.beta1) * state["m"] + dtype(1 - self.beta1) * gradient
        state["v"] = dtype(self.beta2) * state["v"] + dtype(1 - self.beta2) * gradient * gradient
        bias_correction1 = 1 - self.beta1**t
        bias_correction2 = 1 - self.beta2**t
        if self.decoupled_weight_decay:
            theta = theta * dtype(1 - self.learning_rate * self.decoupled_weight_decay)
        denominator = np.sqrt(state["v"]) / dtype(np.sqrt(bias_correction2)) + dtype(self.eps)
        return theta - dtype(self.learning_rate / bias_correction1) * state["m"] / denominator

    def __repr__(self) -> str:
        decay = self.decoupled_weight_decay or self.weight_decay
        return (
            f"Adam(learning_rate={self.learning_rate}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps}, "
            f"weight_decay={decay}, decoupled={bool(self.decoupled_weight_decay)})"
        )


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay ``theta *= 1 - lr * weight_decay``
    before the Adam update (torch's ``lr * weight_decay`` form; Keras' AdamW multiplies the same
    two numbers, but its default ``weight_decay`` is 0.004, torch's 0.01)."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay=weight_decay, decoupled=True)

    def __repr__(self) -> str:
        return (
            f"AdamW(learning_rate={self.learning_rate}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps}, "
            f"weight_decay={self.decoupled_weight_decay})"
        )


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (epsilon added *outside* the square root)::

        g = grad + weight_decay * theta
        v = alpha * v + (1 - alpha) * g**2                         (v starts at 0)
        centered: a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a**2) + eps
        else:     d = sqrt(v) + eps
        momentum > 0: buf = momentum * buf + g / d;  theta -= lr * buf     (buf starts at 0)
        else:         theta -= lr * g / d

    Keras' RMSprop (rho 0.9 by default, torch's alpha 0.99) divides by ``sqrt(v + eps)`` with
    ``eps = 1e-7``: epsilon *inside* the root (see the conventions table).
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(learning_rate, weight_decay)
        self.alpha = check_in_range("alpha", alpha, 0.0, 1.0)
        self.eps = check_positive_finite("eps", eps)
        self.momentum = check_in_range("momentum", momentum, 0.0, 1.0)
        self.centered = bool(centered)

    def _update(self, name, theta, gradient, state):
        dtype = theta.dtype.type
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(theta)
            if self.centered:
                state["grad_avg"] = np.zeros_like(theta)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(theta)
        alpha = dtype(self.alpha)
        state["square_avg"] = alpha * state["square_avg"] + dtype(1 - self.alpha) * gradient * gradient
        if self.centered:
            state["grad_avg"] = alpha * state["grad_avg"] + dtype(1 - self.alpha) * gradient
            variance = state["square_avg"] - state["grad_avg"] * state["grad_avg"]
            denominator = np.sqrt(variance) + dtype(self.eps)
        else:
            denominator = np.sqrt(state["square_avg"]) + dtype(self.eps)
        if self.momentum:
            state["momentum_buffer"] = dtype(self.momentum) * state["momentum_buffer"] + gradient / denominator
            return theta - dtype(self.learning_rate) * state["momentum_buffer"]
        return theta - dtype(self.learning_rate) * (gradient / denominator)

    def __repr__(self) -> str:
        return (
            f"RMSprop(learning_rate={self.learning_rate}, alpha={self.alpha}, eps={self.eps}, "
            f"weight_decay={self.weight_decay}, momentum={self.momentum}, centered={self.centered})"
        )


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``::

        g = grad + weight_decay * theta
        clr = lr / (1 + (t - 1) * lr_decay)                         (t: step number, from 1)
        s = s + g**2                                                (s starts at initial_accumulator_value)
        theta -= clr * g / (sqrt(s) + eps)

    Keras' Adagrad starts the accumulator at 0.1 (torch: 0) and divides by ``sqrt(s + eps)``
    with ``eps = 1e-7`` (torch: ``sqrt(s) + 1e-10``); see the conventions table.
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        super().__init__(learning_rate, weight_decay)
        self.lr_decay = check_positive_finite("lr_decay", lr_decay, allow_zero=True)
        self.initial_accumulator_value = check_positive_finite(
            "initial_accumulator_value", initial_accumulator_value, allow_zero=True
        )
        self.eps = check_positive_finite("eps", eps)

    def _update(self, name, theta, gradient, state):
        dtype = theta.dtype.type
        if "sum" not in state:
            state["sum"] = np.full_like(theta, self.initial_accumulator_value)
        clr = self.learning_rate / (1 + (self.steps_taken - 1) * self.lr_decay)
        state["sum"] = state["sum"] + gradient * gradient
        return theta - dtype(clr) * (gradient / (np.sqrt(state["sum"]) + dtype(self.eps)))

    def __repr__(self) -> str:
        return (
            f"Adagrad(learning_rate={self.learning_rate}, lr_decay={self.lr_decay}, weight_decay={self.weight_decay}, "
            f"initial_accumulator_value={self.initial_accumulator_value}, eps={self.eps})"
        )


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def make_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """An optimizer by name: ``make_optimizer("sgd", learning_rate=0.1, momentum=0.9)``."""
    return choose_name(OPTIMIZERS, name, "optimizer")(**hyperparameters)
