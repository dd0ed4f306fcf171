"""The reference's hand-written gradients pass reference_nn.gradcheck with its tight defaults.

Smooth networks (no relu / leaky_relu): complex step, accurate to ~100 eps, so the reference must
be right to the gradient checker's analytic allowance sqrt(eps). Networks with relu / leaky_relu
hidden layers: central differences, whose step (2^-18 max(1, |theta|)) the strategies' kink margin
covers by construction (equivalence_tests.strategies, KINK_MARGIN_*); both assert that no element is
reported at a kink.

Not Richardson on relu networks: its first step is 2^-4 max(1, |theta|), and a margin covering it
through a few layers would push every pre-activation several units away from 0 (the margin grows
with the sum of |W| per layer). With kinks inside all its steps the tableau can converge on a
wrong value: ExampleRecipe(1-5-5-6-1-1 relu,relu,relu,leaky_relu,sigmoid bce, tiny weights, seed 0)
gives W3[2, 1] = 4.79e-11 numerically vs 8.82e-11 analytic (the analytic one is right: complex step
agrees). Reported to the gradient checker's owner.

Relu networks leave out the "saturating" scale (relu does not saturate: it only makes activations grow
8x per layer): there central differences' truncation allowance eps^(1/3) is exceeded on the last
layer (6-1-1-3-2-1-2 relu x5, softmax, cross_entropy: W6 rel err 2.1e-5, complex step agrees with the
reference), a limit of the central method, not of the gradient."""

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
              max_parameters=MAX_PARAMETERS, scales=st.sampled_from(["tiny", "classic", "he"])))
def test_reference_gradients_pass_central_difference_check_on_relu_networks(example):
    check_reference_gradcheck(example, "central")
