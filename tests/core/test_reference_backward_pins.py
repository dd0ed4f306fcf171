"""The reference's own derivatives, verified by reference_nn.gradcheck (complex step: every element checked
to rounding, PASS means verified): every activation's backpropagate, every loss's gradient and the
normalization's backward (batch statistics over either axis, and fixed statistics), at points away from
kinks. A wrong term anywhere (a SiLU derivative missing Z's factor, a dropped mean in batch norm's dZ) FAILs.
Fast (well under a second): the first stage of the ``reference_nn`` mutation target."""

import numpy as np
import pytest

from reference_nn.gradcheck import PASS, check_gradients
from reference_nn.layers import ACTIVATIONS
from reference_nn.losses import LOSSES
from reference_nn.normalization import normalize_backward, normalize_forward

rng = np.random.default_rng(0)
# |Z| in [0.2, 1.5] with random signs: both sides of every kink at 0, none within a step of it
Z = rng.uniform(0.2, 1.5, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
DA = rng.normal(size=(3, 4))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_is_the_derivative(name):
    act = ACTIVATIONS[name]()

    def f(p):
        return np.sum(DA * act.evaluate(p["z"]))

    def grad_f(p):
        return {"z": act.backpropagate(DA, p["z"], act.evaluate(p["z"]))}

    report = check_gradients(f, grad_f, {"z": Z.copy()})
    assert report.verdict == PASS, f"{name}\n{report}"


def _loss_point(name):
    """AL inside each loss's domain (probabilities for the log losses), targets of its kind; seeded by name."""
    rng = np.random.default_rng(sum(map(ord, name)))
    AL = rng.uniform(0.1, 0.9, (3, 4)) if name in ("bce", "cross_entropy") else rng.normal(size=(3, 4)) * 2
    Y = rng.uniform(0.0, 1.0, (3, 4))
    if name in ("cross_entropy", "softmax_cross_entropy"):
        Y = Y / Y.sum(axis=0, keepdims=True)
    return AL, Y


@pytest.mark.parametrize("name", sorted(n for n in LOSSES if n != "kl_div"))
def test_loss_gradient_is_the_derivative(name):
    loss = LOSSES[name]()
    AL, Y = _loss_point(name)
    Y = loss.prepare_targets(Y, AL)
    report = check_gradients(lambda p: loss.value(p["a"], Y), lambda p: {"a": loss.gradient(p["a"], Y)}, {"a": AL})
    assert report.verdict == PASS, f"{name}\n{report}"


def test_huber_is_checked_on_both_sides_of_delta():
    AL, Y = _loss_point("huber")
    residual = np.abs(AL - Y)
    assert (residual < 1.0).any() and (residual > 1.0).any(), f"residuals {residual}: both branches of delta = 1"


@pytest.mark.parametrize("axis, fixed", [(1, False), (0, False), (1, True)])
def test_normalization_backward_is_the_derivative(axis, fixed):
    gamma, beta = rng.normal(size=(3, 1)) + 1.5, rng.normal(size=(3, 1))
    stats = (Z.mean(axis=axis, keepdims=True) + 0.1, Z.var(axis=axis, keepdims=True) + 0.2) if fixed else None
    eps = 1e-5

    def f(p):
        out = normalize_forward(p["z"], p["gamma"], p["beta"], axis, eps, stats)[0]
        return np.sum(DA * out)

    def grad_f(p):
        _, cache, _, _ = normalize_forward(p["z"], p["gamma"], p["beta"], axis, eps, stats)
        dz, dgamma, dbeta = normalize_backward(DA, cache)
        return {"z": dz, "gamma": dgamma, "beta": dbeta}

    report = check_gradients(f, grad_f, {"z": Z.copy(), "gamma": gamma, "beta": beta})
    assert report.verdict == PASS, f"axis {axis}, fixed {fixed}\n{report}"
