"""Pin of the noise probe's direction for an all-zero tensor (evaluation.LossEvaluator.measure_noise), by
its effect (a mutation-testing survivor of issue 26): a tensor of zeros is moved by steps of size 1 (its
RMS is 0), so f is seen to move and its rounding is measured (here 0: f is odd, exactly). A probe that
did not move it would call f flat and assume |f| ~ 1 for its rounding: a Richardson rounding bound of
~eps64 / h = 3.5e-15 (steps from 2^-4), 3.5% of gradients of 1e-13, beyond the cap a verified element
must meet, where the true rounding is that of |f(x +- h)| ~ 1e-13 h."""

import numpy as np

from reference_nn.gradcheck import FAIL, PASS, check_gradients

SIZE = 1e-13


def f(p):
    return SIZE * np.sum(np.sin(p["w"]))


def grad_f(p, factor=1.0):
    return {"w": factor * SIZE * np.cos(p["w"])}


def test_tiny_gradients_at_an_all_zero_tensor_are_verified():
    w = np.zeros(5)
    right = check_gradients(f, grad_f, {"w": w.copy()}, method="richardson")
    assert right.verdict == PASS and right["w"].n_verified == 5, f"gradients 1e-13 at w = 0\n{right}"
    wrong = check_gradients(f, lambda p: grad_f(p, 1.01), {"w": w.copy()}, method="richardson")
    assert wrong.verdict == FAIL, f"1% off at w = 0\n{wrong}"
