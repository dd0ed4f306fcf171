"""Pin of the second opinions for elements not proven within the cap (judge._resolve_unproven), by their
documented cost (a mutation-testing survivor of issue 26): each such element gets Richardson estimates
from first steps PROBE_SMALLER_STEPS = (64, 4096) times smaller, SECOND_OPINION_LEVELS = 4 levels of two
sides each: 16 evaluations per element (judge.py), and a verdict that says why it is unproven.

f = float(sum(sin(200 w))) (not complex-safe: Richardson), 6 elements: the default cap verifies them at
the method's steps (84 evaluations); a cap of 1e-8 (verified_share) leaves every element unproven there,
and the second opinions cost 6 x 16 = 96 more, with the elements INCONCLUSIVE, never FAILed."""

import numpy as np

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_gradients

W = np.random.default_rng(0).uniform(-1, 1, 6)


def f(p):
    return float(np.sum(np.sin(200.0 * p["w"])))


def grad_f(p):
    return {"w": 200.0 * np.cos(200.0 * p["w"])}


def test_second_opinions_cost_sixteen_evaluations_per_unproven_element():
    default = check_gradients(f, grad_f, {"w": W.copy()}, method="richardson")
    tight = check_gradients(f, grad_f, {"w": W.copy()}, method="richardson", verified_share=1e-8)
    assert default.verdict == PASS, f"the default cap\n{default}"
    assert tight.verdict == INCONCLUSIVE and tight.verdict != FAIL, f"a cap of 1e-8\n{tight}"
    extra = tight["w"].n_evaluations - default["w"].n_evaluations
    assert extra == 16 * W.size, f"second opinions cost {extra} evaluations for {W.size} elements (16 each)"
