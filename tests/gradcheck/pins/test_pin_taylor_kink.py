"""Pin of the Taylor test's kink excuse (taylor._at_a_kink) by its documented rule, on a synthetic
remainder (mutation-testing survivors of issue 26): g.v is excused as lying between the one-sided
slopes only at the smallest fitted step whose rounding 2 noise / h stays under a tenth of the linear
term, with the range widened by the allowance and that rounding, 2 noise / h (not 3).

f(x + h v) = g h + b h^2 (b = 1: a smooth f, the one-sided slopes g +- b h), g.v claimed = g + e with
e = 3.3e-4; the fit's smallest step is h = 10^-3.5 (index 6); noise n0 = 5.6e-6 h there. At that step the
slopes span g +- 3.16e-4 and the rounding widens them by 2 n0 / h = 1.1e-5: e lies outside, no kink
(the error is real). Judged one step larger (h = 1e-3: slopes g +- 1e-3) or widened by 3 n0 / h
(1.7e-5), the same e would be excused as a kink."""

import numpy as np

from reference_nn.gradcheck.taylor import _at_a_kink

STEPS = 10.0 ** (-0.5 * np.arange(1, 21))
G, B, E, LAST = 1.0, 1.0, 3.3e-4, 6


def test_a_real_error_beside_a_smooth_curvature_is_not_excused_as_a_kink():
    plus = G * STEPS + B * STEPS**2
    minus = -G * STEPS + B * STEPS**2
    noise = np.full(STEPS.size, 5.6e-6 * STEPS[LAST])
    assert 2 * noise[LAST] / STEPS[LAST] <= 0.1 * E, "test data: the smallest fitted step is usable"
    at_kink = _at_a_kink(G + E, plus, minus, 0.0, STEPS, noise, LAST, E, 0.0)
    assert not at_kink, "e = 3.3e-4 lies outside the one-sided slopes g +- 3.16e-4 widened by 1.1e-5"
    assert _at_a_kink(G + 3.2e-4, plus, minus, 0.0, STEPS, noise, LAST, 3.2e-4, 0.0), (
        "e = 3.2e-4 lies inside g +- 3.16e-4 widened by 1.1e-5: excused")
