"""Right gradients are never flagged: Hypothesis explores shapes (batch size 1 included), weight
scales from 1e-3 to 30 (tiny gradients, sigmoid / tanh / softmax saturated), every hidden activation
and loss, L2 on and off, float32 and float64, and exact ReLU kinks (a zero input column with a zero
bias puts a pre-activation exactly at 0). Inconclusive (kink, unresolvable) is allowed; a failure
is not.

Not in the space, on purpose: a whole ReLU unit sitting at 0 for every sample (zero weight row and
zero bias). Many kinks then coincide (one per sample, chained into the next layer), the convention
value ReLU'(0) = 0 can lie outside the one-sided slopes, and the seeded probe of the pieces around
the point (kinks.nearby_slopes) is not guaranteed to find the piece it belongs to; the checker may
report that as a failure with a note. Two coincident kinks are tested in
test_gradcheck_taylor_and_kinks.py.
"""

import numpy as np
import pytest
from gradcheck_nets import HIDDEN, OUTPUTS, make_net
from hypothesis import given
from hypothesis import strategies as st

from equivalence_tests.profiles import property_settings
from reference_nn.gradcheck import check_gradients, taylor_test

METHODS = ("auto", "central", "richardson", "complex", "directional")
DTYPES = (np.float32, np.float64)


@st.composite
def classic_networks(draw, dtype):
    config = {
        "n_x": draw(st.integers(1, 5)),
        "n_h": draw(st.integers(1, 5)),
        "n_y": draw(st.integers(1, 3)),
        "m": draw(st.integers(1, 6)),
        "hidden": draw(st.sampled_from(HIDDEN)),
        "output": draw(st.sampled_from(OUTPUTS)),
        "lambd": draw(st.sampled_from([0.0, 0.1, 1.0])),
        "weight_scale": draw(st.sampled_from([1e-3, 1e-1, 1.0, 10.0, 30.0])),
        "dtype": dtype,
    }
    net, params = make_net(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), **config)
    if draw(st.booleans()):  # an exact kink: Z1[0, 0] = 0 (sample 0 is all zeros, b1[0] = 0)
        params["b1"][0] = 0
        net.X[:, 0] = 0
    return net, params


# method and dtype are parameters, not drawn: each combination gets its own examples (profiles.EXAMPLE_BUDGETS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("method", METHODS)
@property_settings("gradcheck/correct_pass")
@given(data=st.data())
def test_right_gradients_never_fail(method, dtype, data):
    net, params = data.draw(classic_networks(dtype), label="network")
    report = check_gradients(net.cost, net.grads, params, method=method)
    # never FAIL; INCONCLUSIVE where an element sits at a ReLU kink (drawn data includes exact zeros)
    assert not report.failed, f"{method} {dtype.__name__}: a right gradient\n{report}"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@property_settings("gradcheck/correct_pass_taylor")
@given(data=st.data())
def test_right_gradients_never_fail_the_taylor_test(dtype, data):
    net, params = data.draw(classic_networks(dtype), label="network")
    report = taylor_test(net.cost, net.grads, params)
    # never FAIL; INCONCLUSIVE where too few steps rise above f's noise (tiny weights)
    assert not report.failed, f"{dtype.__name__}: a right gradient\n{report}"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@property_settings("gradcheck/user_arrays_unmodified")
@given(data=st.data())
def test_user_arrays_are_never_modified(dtype, data):
    net, params = data.draw(classic_networks(dtype), label="network")
    before = {k: v.copy() for k, v in params.items()}
    check_gradients(net.cost, net.grads, params, method="directional")
    for key, value in params.items():
        assert value.dtype == before[key].dtype, f"{key}: dtype {value.dtype}, given {before[key].dtype}"
        np.testing.assert_array_equal(value, before[key], err_msg=f"{key} was modified")
