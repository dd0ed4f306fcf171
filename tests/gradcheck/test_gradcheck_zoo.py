"""The broken-gradient zoo: classic hand-written backward-pass mistakes, each caught by every method,
with the right parameter named (and the right element where one element is wrong).

The networks live in gradcheck_nets.py (independent of reference_nn). The zoo runs in float64 with
n_x = n_h = n_y = m = 4, so that a transposed dW, W instead of W.T and a db summed over the wrong
axis (then reshaped to silence the shape error) all keep the right shape and reach the checker.
"""

import numpy as np
import pytest
from gradcheck_nets import BUGS, make_net

from reference_nn.gradcheck import check_gradients, taylor_test
from reference_nn.gradcheck.by_precision import FAIL_NOTE, no_split

METHODS = ["auto", "central", "richardson", "complex", "directional"]


def zoo_case(bug, dtype=np.float64):
    config, expected = BUGS[bug]
    net, params = make_net(np.random.default_rng(1), dtype=dtype, **config)
    return net, params, (lambda p: net.grads(p, bug)), expected


def test_the_zoo_has_at_least_twelve_bugs():
    assert len(BUGS) >= 12


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bug", sorted(BUGS))
def test_every_bug_is_caught_and_named(bug, method):
    net, params, broken, expected = zoo_case(bug)
    report = check_gradients(net.cost, broken, params, method=method)
    assert not report.passed
    assert set(report.failed_parameters) == expected, str(report)
    for name in expected:
        result = report[name]
        assert result.worst_index is not None  # directional localizes to an element on failure
        assert result.analytic != pytest.approx(result.numeric)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_every_bug_is_caught_by_the_taylor_test(bug):
    net, params, broken, expected = zoo_case(bug)
    report = taylor_test(net.cost, broken, params)
    assert set(report.failed_parameters) == expected, str(report)
    for name in expected:
        assert report.results[name].slope < 1.5  # linear remainder: ~1


@pytest.mark.parametrize("method", METHODS)
def test_error_in_one_element_names_that_element(method):
    net, params, broken, _ = zoo_case("error_in_one_element")
    report = check_gradients(net.cost, broken, params, method=method)
    assert report.failed_parameters == ["W1"]
    assert report["W1"].worst_index == (1, 2)
    assert report["W1"].n_failed == 1


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_the_correct_version_of_each_zoo_network_passes(bug):
    net, params, _, _ = zoo_case(bug)
    for method in METHODS:
        report = check_gradients(net.cost, net.grads, params, method=method)
        assert report.passed and not report.inconclusive, str(report)
    assert taylor_test(net.cost, net.grads, params).passed


def test_db_summed_over_the_wrong_axis_without_reshape_is_a_shape_error_naming_db1():
    net, params = make_net(np.random.default_rng(1), m=5)  # m != n_h: the wrong sum has another shape

    def wrong_axis(p):
        g = net.grads(p)
        dZ1 = g["db1"] * 0 + (net.forward(p)[0] > 0)  # any (n_h, m) array: only its shape matters here
        g["db1"] = np.sum(dZ1, axis=0, keepdims=True) / 5  # (1, m) instead of (n_h, 1)
        return g

    with pytest.raises(ValueError, match=r"gradient 'db1' has shape \(1, 5\) but parameter 'b1' has shape \(4, 1\)"):
        check_gradients(net.cost, wrong_axis, params)


# float32 parameters (numerical side in float64): the gross bugs are still caught element-wise.
# Excluded: the 1e-4 relative error and the 1e-3 single-element error, which are below float32's
# allowance sqrt(eps32) = 3.5e-4 by design.
GROSS = sorted(set(BUGS) - {"relative_1e-4_in_one_layer", "error_in_one_element"})


@pytest.mark.parametrize("bug", GROSS)
def test_gross_bugs_are_caught_in_float32(bug):
    """The zoo's code follows its inputs' dtype: checked on float64 copies first (by_precision.py), the bug
    is FAIL there, named at its own tensors; the direct float32 check (no split) catches it too."""
    net, params, broken, expected = zoo_case(bug, np.float32)
    report = check_gradients(net.cost, broken, params)
    assert set(report.failed_parameters) == expected, str(report)
    assert report.notes[0] == FAIL_NOTE and report["W1"].dtype == "float64", str(report)
    with no_split():
        direct = check_gradients(net.cost, broken, params)
    assert set(direct.failed_parameters) == expected, str(direct)
    assert direct["W1"].dtype == "float32" and direct["W1"].eval_dtype == "float64", str(direct)


# Smallest planted relative error caught (float64, zoo network, seeds 1-4 measured alike), for a whole
# layer scaled by (1 + delta) and for its largest element alone. central is bounded by its truncation
# allowance eps^(1/3) = 6e-6; richardson / complex by the analytic allowance sqrt(eps) = 1.5e-8 times
# the RMS floor; directional loses ~sqrt(n) on one element; taylor by the analytic allowance over the
# projection and f's measured noise. 1e-4, the bar, is caught by all (taylor: with 1x-10x).
SMALLEST_CAUGHT = {
    "central": (1e-5, 1e-5),
    "richardson": (1e-7, 1e-7),
    "complex": (1e-7, 1e-7),
    "directional": (1e-7, 1e-6),
    "taylor": (1e-5, 1e-5),  # 1e-4 on some seeds for one element: still the bar
}


@pytest.mark.parametrize("method", sorted(SMALLEST_CAUGHT))
@pytest.mark.parametrize("where", ["layer", "element"])
def test_smallest_planted_relative_error_caught(method, where):
    net, params = make_net(np.random.default_rng(2))
    delta = SMALLEST_CAUGHT[method][where == "element"]

    def planted(p):
        g = net.grads(p)
        dW2 = g["dW2"].copy()
        if where == "layer":
            dW2 *= 1 + delta
        else:
            dW2[np.unravel_index(np.argmax(np.abs(dW2)), dW2.shape)] *= 1 + delta
        g["dW2"] = dW2
        return g

    check = taylor_test if method == "taylor" else lambda *a: check_gradients(*a, method=method)
    assert check(net.cost, planted, params).failed_parameters == ["W2"]
