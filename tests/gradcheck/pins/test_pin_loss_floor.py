"""Pin of the loss-resolution floor for a float32 gradient of a float64 loss (tolerances.loss_resolution_floor),
by its effect (a mutation-testing survivor of issue 26): the floor is taken for an f of size at least 1,
because a float32 backward rounds the forward pass's O(1) intermediates, not f.

Softmax cross-entropy with a confident right class (logit margin ~11): f ~ 3.5e-5, and the right class's
gradient p - 1 ~ -1.4e-5 is computed in float32 from p ~ 1, so it carries an absolute rounding of ~eps32
x 1 = 1e-7 (measured: 2e-8 here), 0.15% of the element, beyond its float32 allowance sqrt(eps32) = 3.5e-4
relative. A floor scaled by |f| (3.5e-5) instead of 1 would FAIL this right gradient. The floor is not
vacuous: a 1% error of the whole gradient is not PASSed (the floor is above the cap for the smallest
elements: INCONCLUSIVE, said so), and a gradient x 2 FAILs."""

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
