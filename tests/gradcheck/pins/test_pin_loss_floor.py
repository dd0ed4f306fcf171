"""Pins of the loss-resolution floor for a float32 gradient of a float64 loss (tolerances.loss_resolution_floor),
by its effect (a mutation-testing survivor of issue 26): the floor is taken for an f of size at least 1,
because a float32 backward rounds the forward pass's O(1) intermediates, which a small float64 f does
not show.

Softmax cross-entropy with a confident right class (logit margin ~11): f ~ 3.5e-5, and the right class's
gradient p - 1 ~ -1.4e-5 is computed in float32 from p ~ 1, an absolute rounding of ~1e-7 (measured 2e-8
here), beyond its float32 allowance sqrt(eps32) = 3.5e-4 relative; f's own measured noise (the
log-sum-exp of logits ~11) already sizes the floor here. The floor is not vacuous: a 1% error of the
whole gradient is not PASSed (INCONCLUSIVE where the floor is above the cap, said so), a gradient x 2
FAILs. The saturated BCE below has no such noise: only the size-1 rule keeps its right gradient from
FAILing."""

import numpy as np

from reference_nn.gradcheck import FAIL, PASS, check_gradients


def f(p):
    z = p["z"].astype(np.float64)  # the loss in float64
    z = z - z.max(axis=0)
    return float(np.mean(-(z[0] - np.log(np.exp(z).sum(axis=0)))))


def grad_f(p, factor=1.0):
    z = p["z"]  # the backward in float32, as a float32 training loop computes it
    e = np.exp(z - z.max(axis=0))
    probabilities = e / e.sum(axis=0)
    y = np.zeros_like(z)
    y[0] = 1
    return {"z": ((probabilities - y) / z.shape[1] * factor).astype(np.float32)}


Z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
Z[0] += 11


def test_a_float32_backward_of_a_small_float64_loss_passes_and_a_factor_two_fails():
    right = check_gradients(f, grad_f, {"z": Z.copy()})
    assert right.verdict == PASS, f"a right float32 gradient (f = {f({'z': Z}):.1e})\n{right}"
    slight = check_gradients(f, lambda p: grad_f(p, 1.01), {"z": Z.copy()})
    assert slight.verdict != PASS, f"the whole gradient x 1.01 is not verified\n{slight}"
    wrong = check_gradients(f, lambda p: grad_f(p, 2.0), {"z": Z.copy()})
    assert wrong.verdict == FAIL, f"the whole gradient x 2\n{wrong}"


def test_a_saturated_float32_bce_gradient_is_never_failed_for_its_rounding():
    """BCE from logits z ~ 12 (f = mean(log1p(exp(-z))) ~ 6.6e-6 in float64, no cancellation: the noise
    of f does not show the backward's intermediates), gradient (sigmoid(z) - 1) / m in float32: sigmoid(z)
    ~ 1 - 6e-6 carries ~6e-8 of rounding, 1% of the gradient. The floor for an f of size 1 covers it:
    not FAIL (INCONCLUSIVE where the floor is above the cap, said so); one sized by |f| = 6.6e-6 FAILed
    this right gradient. A gradient x 2 FAILs."""
    z = (12 + np.random.default_rng(1).uniform(-1, 1, (1, 6))).astype(np.float32)

    def bce(p):
        return float(np.mean(np.log1p(np.exp(-p["z"].astype(np.float64)))))

    def bce_grad(p, factor=1.0):
        sigmoid = 1 / (1 + np.exp(-p["z"]))  # float32, as the training loop computes it
        return {"z": ((sigmoid - 1) / p["z"].size * factor).astype(np.float32)}

    right = check_gradients(bce, bce_grad, {"z": z.copy()})
    assert right.verdict != FAIL, f"a right float32 gradient of a saturated BCE\n{right}"
    wrong = check_gradients(bce, lambda p: bce_grad(p, 2.0), {"z": z.copy()})
    assert wrong.verdict == FAIL, f"the gradient x 2\n{wrong}"
