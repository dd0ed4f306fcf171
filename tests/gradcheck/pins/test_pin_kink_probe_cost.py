"""Pin of the kink probe at the point (kinks.kinked_at_point), by its documented cost (a mutation-testing
survivor of issue 26): once a tensor has a failing element, the checker asks whether f has a kink at the
point along KINK_PROBE_DIRECTIONS = 2 seeded random directions, one-sided differences at 3 steps each way:
6 evaluations per direction, all of them for a smooth f (no kink ends the probe early).

f = sum(sin(w)), complex step: the right gradient's PASS and a gradient with w[1] x 2 differ by exactly
that probe, 2 x 6 = 12 evaluations (the x 2 is far outside any cap, so no second opinion is taken)."""

import numpy as np

from reference_nn.gradcheck import FAIL, PASS, check_gradients

W = np.array([0.3, -1.2, 2.0, 0.7])


def f(p):
    return np.sum(np.sin(p["w"]))


def wrong(p):
    gradient = np.cos(p["w"]).copy()
    gradient[1] *= 2
    return {"w": gradient}


def test_a_smooth_failure_costs_the_kink_probe_of_two_directions():
    right = check_gradients(f, lambda p: {"w": np.cos(p["w"])}, {"w": W.copy()}, method="complex")
    failed = check_gradients(f, wrong, {"w": W.copy()}, method="complex")
    assert right.verdict == PASS and failed.verdict == FAIL, f"right\n{right}\nw[1] x 2\n{failed}"
    extra = failed.n_evaluations - right.n_evaluations
    assert extra == 2 * 6, f"the kink probe costs {extra} evaluations (2 directions x 6)"
