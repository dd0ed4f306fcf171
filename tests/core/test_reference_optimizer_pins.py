"""The reference's optimizers against torch.optim's documented update rules, written out here in NumPy
from torch's documentation (independently of reference_nn/optim.py), three steps each with every option
that changes the rule turned on (momentum, dampening, nesterov, weight decay coupled and decoupled,
centered, lr_decay, an initial accumulator). float64 throughout: the two computations differ by
rounding only (rtol 1e-12: three steps of a handful of flops each, far above 1e-16 and far below any
wrong term's effect, which is >= 1e-4 relative at these hyperparameters)."""

import numpy as np
import pytest

from reference_nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop

rng = np.random.default_rng(3)
THETA = rng.normal(size=(3, 2))
GRADS = [rng.normal(size=(3, 2)) for _ in range(3)]


def _run(optimizer):
    params = {"W1": THETA.copy(), "b1": np.zeros((3, 1))}  # the reference's layout; b1's gradient is 0
    for g in GRADS:
        params = optimizer.step(params, {"dW1": g, "db1": np.zeros((3, 1))})
    return params["W1"]


def _sgd(lr, momentum, dampening, nesterov, wd):
    theta, buf = THETA.copy(), None
    for g in GRADS:
        g = g + wd * theta
        buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
        theta = theta - lr * (g + momentum * buf if nesterov else buf)
    return theta


def _adam(lr, b1, b2, eps, wd, decoupled):
    theta, m, v = THETA.copy(), 0.0, 0.0
    for t, g in enumerate(GRADS, 1):
        if decoupled:
            theta = theta * (1 - lr * wd)
        else:
            g = g + wd * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def _rmsprop(lr, alpha, eps, wd, momentum, centered):
    theta, v, a, buf = THETA.copy(), 0.0, 0.0, 0.0
    for g in GRADS:
        g = g + wd * theta
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            d = np.sqrt(v - a * a) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / d
            theta = theta - lr * buf
        else:
            theta = theta - lr * g / d
    return theta


def _adagrad(lr, lr_decay, wd, initial, eps):
    theta, s = THETA.copy(), initial
    for t, g in enumerate(GRADS, 1):
        g = g + wd * theta
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        theta = theta - clr * g / (np.sqrt(s) + eps)
    return theta


CASES = [
    (SGD(0.1, momentum=0.9, dampening=0.3, weight_decay=0.05), _sgd(0.1, 0.9, 0.3, False, 0.05)),
    (SGD(0.1, momentum=0.8, nesterov=True), _sgd(0.1, 0.8, 0.0, True, 0.0)),
    (Adam(0.01, 0.8, 0.95, 1e-3, weight_decay=0.1), _adam(0.01, 0.8, 0.95, 1e-3, 0.1, False)),
    (AdamW(0.01, 0.8, 0.95, 1e-3, weight_decay=0.5), _adam(0.01, 0.8, 0.95, 1e-3, 0.5, True)),
    (RMSprop(0.01, alpha=0.7, eps=1e-3, weight_decay=0.1), _rmsprop(0.01, 0.7, 1e-3, 0.1, 0.0, False)),
    (RMSprop(0.01, alpha=0.7, eps=1e-3, momentum=0.6, centered=True), _rmsprop(0.01, 0.7, 1e-3, 0.0, 0.6, True)),
    (Adagrad(0.1, lr_decay=0.3, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-3),
     _adagrad(0.1, 0.3, 0.1, 0.2, 1e-3)),
]  # fmt: skip


@pytest.mark.parametrize("optimizer, expected", CASES, ids=[f"{type(o).__name__}{i}" for i, (o, _) in enumerate(CASES)])
def test_three_steps_follow_torchs_rule(optimizer, expected):
    got = _run(optimizer)
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-14), f"{optimizer!r}: {got} vs {expected}"
    assert not np.allclose(got, THETA, rtol=1e-3, atol=0), "the parameters moved"
