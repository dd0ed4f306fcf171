"""Pin of the pieces probe at coincident kinks (kinks.nearby_slopes: random sign patterns), by its
effect (a mutation-testing survivor of issue 26).

Two ReLU units exactly at 0, moved by the shared weight w in opposite directions:
f(w, b) = -relu(0.25 w + b0) + relu(-0.25 w - b1) at w = 2, b = (-0.5, -0.5). Along w alone f is linear
(one unit switches on either way: slope -0.25); ReLU'(0) = 0 for both units says 0 for w, the slope
of the piece where both are off, which is reached only by moving b0 down and b1 up together: a
mixed-sign move. Sign patterns with both signs per element find it (INCONCLUSIVE, "several kinks
meet"); patterns of one sign (or with zeros) would not, and the right convention would FAIL."""

import numpy as np
import pytest

from reference_nn.gradcheck import check_gradients


def two_units(p):
    z = np.array([0.25 * p["w"][0] + p["b"][0], -0.25 * p["w"][0] - p["b"][1]])
    return float(-max(z[0], 0.0) + max(z[1], 0.0))


POINT = {"w": np.array([2.0]), "b": np.array([-0.5, -0.5])}


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_a_piece_reached_by_a_mixed_sign_move_excuses_the_convention(method):
    report = check_gradients(two_units, lambda p: {"w": np.array([0.0]), "b": np.array([0.0, 0.0])}, POINT,
                             method=method)  # fmt: skip
    assert report["w"].status == "INCONCLUSIVE" and "several kinks meet" in report["w"].note, (
        f"{method}: ReLU'(0) = 0 for both units\n{report}")
    wrong = check_gradients(two_units, lambda p: {"w": np.array([0.3]), "b": np.array([0.0, 0.0])}, POINT,
                            method=method)  # fmt: skip
    assert wrong["w"].status == "FAIL", f"{method}: 0.3 is outside every piece's slope (-0.25, 0)\n{wrong}"
