"""Finite-difference tolerances per numerical method: taken from reference_nn.gradcheck's own error
bounds (one source of truth), with reasons that name the method (issue 15)."""

import numpy as np
import pytest

from equivalence_tests import tolerances
from reference_nn.gradcheck import tolerances as gradcheck_tolerances

EPS64 = float(np.finfo(np.float64).eps)


@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("method", ["central", "richardson", "auto", "complex"])
def test_the_rtol_is_the_larger_of_the_budget_and_the_methods_bound(method, dtype, scaled):
    table = tolerances.SCALED_TOLERANCES if scaled else tolerances.TOLERANCES
    budget = table[("gradient", dtype, "finite_difference")].rtol
    # by hand: central's truncation allowance eps^(1/3) for every method that can take a difference
    # (richardson and auto fall back to central near kinks), 100 eps for complex step
    bound = 100 * EPS64 if method == "complex" else EPS64 ** (1 / 3)
    assert bound == pytest.approx(gradcheck_tolerances.method_rtol("central" if method != "complex" else "complex",
                                                                    np.float64)), "the checker's own bound"
    got = tolerances.tolerance_for("gradient", dtype, f"finite_difference/{method}", scaled=scaled)
    assert got.rtol == pytest.approx(max(budget, bound)), f"{method} {dtype}: {got}"


@pytest.mark.parametrize(("method", "words"), [("central", "central differences"), ("richardson", "richardson"),
                                               ("auto", "auto: complex step"), ("complex", "complex step")])
def test_the_reason_names_the_method(method, words):
    reason = tolerances.tolerance_for("gradient", "float64", f"finite_difference/{method}", f_scale=1.0).reason
    assert words in reason, reason


def test_a_difference_method_gets_its_rounding_error_as_atol():
    """10 eps |f| / h at h = eps^(1/3) (2^-18 after rounding the step down to a power of two)."""
    got = tolerances.tolerance_for("gradient", "float64", "finite_difference/central", f_scale=2.0)
    assert got.atol == pytest.approx(10 * EPS64 * 2.0 / 2.0**-18), got
    assert tolerances.tolerance_for("gradient", "float64", "finite_difference/complex", f_scale=2.0).atol == 0.0


def test_plain_finite_difference_is_complex_step_and_forward_and_cost_stay_exact():
    assert tolerances.tolerance_for("gradient", "float64", "finite_difference").rtol == 2e-12, "complex budget"
    for method in tolerances.FD_METHODS:
        for quantity in ("forward", "cost"):
            got = tolerances.tolerance_for(quantity, "float64", f"finite_difference/{method}")
            assert got.rtol == 0.0, f"{method} {quantity}: the reference's own value, identical"
