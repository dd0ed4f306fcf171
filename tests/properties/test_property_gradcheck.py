"""The reference's hand-written gradients pass reference_nn.gradcheck with its tight defaults.

Smooth networks (no relu / leaky_relu): complex step, accurate to ~100 eps, so the reference must
be right to the gradient checker's analytic allowance sqrt(eps). Piecewise-linear networks:
Richardson extrapolation (falling back to central differences where its wide steps reach a kink).
Both assert that no element is inconclusive: the strategies keep pre-activations a margin away
from the kinks (equivalence_tests.strategies, KINK_MARGIN_*)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from property_checks import check_reference_gradcheck

from equivalence_tests.profiles import property_settings
from equivalence_tests.strategies import model_configs, models

# Numerical derivatives cost 1 (complex) or 12 (Richardson) cost evaluations per parameter:
# a few hundred parameters keep one example well under a second.
MAX_PARAMETERS = 300


@property_settings("gradcheck/smooth")
@given(models(model_configs(kink_free=True, max_width=12), max_parameters=MAX_PARAMETERS))
def test_reference_gradients_pass_complex_step_check(example):
    check_reference_gradcheck(example, "complex")


@property_settings("gradcheck/piecewise_linear")
@given(models(model_configs(hidden=st.sampled_from(["relu", "leaky_relu"]), max_width=12),
              max_parameters=MAX_PARAMETERS))
def test_reference_gradients_pass_richardson_check_on_relu_networks(example):
    check_reference_gradcheck(example, "richardson")
