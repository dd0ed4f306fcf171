"""Pins of the diagnosis thresholds (diagnosis.py) by their effect: each named pattern is named just
inside its threshold and not named just outside it, so a threshold 3x looser or tighter fails.

FIT = 1e-3 (how closely a pattern must fit) and INTEGER_SLACK = 0.01 (how close to an integer a batch
size must be) are written here from diagnosis.py's documentation; the factors below sit at about a
third and three times those values."""

import numpy as np
import pytest

from reference_nn.gradcheck.diagnosis import diagnose

NUMERIC = np.array([[0.8, -0.3, 0.5], [0.2, 0.9, -0.6], [-0.4, 0.1, 0.7]])  # not symmetric
ALL = np.ones_like(NUMERIC, dtype=bool)

# factor between analytic and numeric: (inside its threshold, named as ...), (just outside, not named as ...)
FACTORS = {
    "sign": ((-1.0003, "wrong sign (x -1)"), (-1.003, "wrong sign")),
    "two": ((2.0006, "every element x 2: a factor of 2"), (2.006, "a factor of 2")),
    "half": ((0.5003, "every element x 1/2"), (0.503, "x 1/2")),
    "batch size": ((8.003, "every element x 8: 8 = the batch size"), (8.03, "batch size")),
    # at 64 the integer slack (0.01), not FIT * k (0.064), is the binding threshold
    "batch size 64": ((64.003, "every element x 64: 64 = the batch size"), (64.03, "batch size")),
    "1/batch size 64": ((1 / 64.003, "every element x 1/64: 64 = the batch size"), (1 / 64.03, "batch size")),
    "1/batch size": ((1 / 8.003, "every element x 1/8: 8 = the batch size"), (1 / 8.03, "batch size")),
}


@pytest.mark.parametrize("pattern", FACTORS)
def test_a_constant_factor_is_named_inside_its_threshold_only(pattern):
    (inside, name), (outside, not_name) = FACTORS[pattern]
    hint = diagnose(inside * NUMERIC, NUMERIC, ALL)
    assert name in hint, f"{pattern}: factor {inside} should be named {name!r}; hint {hint!r}"
    hint = diagnose(outside * NUMERIC, NUMERIC, ALL)
    assert not_name not in hint and "a constant factor" in hint, (
        f"{pattern}: factor {outside} is outside the threshold; hint {hint!r}")


def test_a_factor_one_is_no_constant_factor():
    """|c - 1| <= FIT: the numbers agree to the fit; the failing element is named instead."""
    failed = np.zeros_like(ALL)
    failed[1, 2] = True
    hint = diagnose(1.0003 * NUMERIC, NUMERIC, failed)
    assert hint.startswith("one element wrong, (1, 2)"), f"hint {hint!r}"


@pytest.mark.parametrize("residual, named", [(3e-4, True), (3e-3, False)])
def test_the_fit_of_a_pattern_must_be_within_a_thousandth(residual, named):
    """A factor 8 with a residual of 3e-4 of the numbers' size is still 'x 8'; with 3e-3 it is no pattern."""
    wobble = np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]]) * residual * np.linalg.norm(NUMERIC) / 3
    hint = diagnose(8 * (NUMERIC + wobble), NUMERIC, ALL)
    assert ("x 8" in hint) == named, f"residual {residual}: hint {hint!r}"


@pytest.mark.parametrize("ratio, expected", [
    (2.0, "the element x 2"), (-1.0, "the element has the wrong sign"), (0.5, "the element x 1/2"),
    (8.0, "the element x 8"), (1 / 8, "the element x 1/8"), (0.13, "one element wrong, (0, 1)"),
    (2.3, "one element wrong, (0, 1)"), (0.4, "one element wrong, (0, 1)"),  # 0.4 = 2/5: not 1/integer
])  # fmt: skip
def test_a_single_nonzero_element_is_named_a_factor_only_for_nice_ratios(ratio, expected):
    """One number is always some multiple of another: a lone nonzero element is called a factor only for
    -1, 2, 1/2, an integer or 1/integer (diagnosis._nice); else the element is named."""
    numeric = np.zeros((2, 3))
    numeric[0, 1] = 0.7
    failed = numeric != 0
    hint = diagnose(ratio * numeric, numeric, failed)
    assert hint.startswith(expected), f"ratio {ratio}: hint {hint!r}"


def test_a_symmetric_tensor_is_never_called_transposed():
    """n symmetric: a transpose cannot be told from the right tensor; one element off by 1e-4 of the
    size is 'one element wrong', not 'the transpose'."""
    numeric = NUMERIC + NUMERIC.T
    analytic = numeric.copy()
    analytic[0, 1] += 1e-4 * np.linalg.norm(numeric)
    failed = np.zeros_like(ALL)
    failed[0, 1] = True
    hint = diagnose(analytic, numeric, failed)
    assert hint.startswith("one element wrong, (0, 1)"), f"hint {hint!r}"
    transposed = diagnose(NUMERIC.T.copy(), NUMERIC, ALL)
    assert "transpose" in transposed, f"a real transpose: hint {transposed!r}"


def test_a_transpose_is_named_relative_to_the_tensors_size():
    """The transpose's fit is relative (FIT x the norm of the numbers): a tensor of norm ~1e3 whose analytic
    value is its transpose up to 1e-5 relative (a residual of ~0.01) is still 'the transpose'."""
    numeric = 1000.0 * NUMERIC
    analytic = numeric.T * (1 + 1e-5 * np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]]))
    hint = diagnose(analytic, numeric, ALL)
    assert "transpose" in hint, f"a transpose of a tensor of norm 1e3: hint {hint!r}"


def test_symmetry_is_judged_relative_to_the_tensors_size():
    """A tensor of norm ~4e3, symmetric up to an antisymmetric part of 1e-2 (2.5e-6 relative), is symmetric:
    its transpose is no pattern to name (analytic = n.T is then the right tensor up to that part)."""
    numeric = 1000.0 * (NUMERIC + NUMERIC.T) + 1e-2 * np.array([[0, 1, -1], [-1, 0, 1], [1, -1, 0]])
    hint = diagnose(numeric.T.copy(), numeric, ALL)
    assert "transpose" not in hint, f"a symmetric tensor of norm 4e3 called transposed: {hint!r}"
