"""Pins of the determinism check (determinism.py) at its bound: ROUNDING_FACTOR (10) ulps of the value's
own dtype for f, of max(|g_i|, RMS of the tensor) for grad_f; a change 1.05x the bound is a problem, 0.95x
is rounding. The messages are pinned word for word (they are the check's whole output when it stops).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.determinism import (
    F_ADVICE,
    Recorded,
    _gradient_change,
    _rms,
    call_twice,
    changed_since_first_call,
)

EPS64, EPS32 = tol.eps(np.float64), tol.eps(np.float32)


def test_rms_is_overflow_safe():
    assert _rms(np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5), rel=1e-15), "sqrt((9 + 16) / 2)"
    assert _rms(np.array([1e200, -1e200])) == pytest.approx(1e200, rel=1e-15), "no overflow"
    assert _rms(np.zeros(3)) == 0.0 and _rms(np.zeros(0)) == 0.0, "zero, empty"
    assert _rms(np.array([np.inf, 1.0])) == np.inf, "a non-finite peak is returned as it is"


@pytest.mark.parametrize("dtype, eps", [(np.float64, EPS64), (np.float32, EPS32)])
@pytest.mark.parametrize("share", [1.1, 0.9])  # 10% off the bound: float32 rounds the change to 4% (24 ulps of 0.5)
def test_gradient_change_beyond_ten_ulps_of_the_elements_scale(dtype, eps, share):
    # scales: max(|g_i|, RMS = sqrt((4 + 0.25 + 0) / 3) = 1.19): element 1 (0.5) is held to the RMS
    first = np.array([2.0, 0.5, 0.0]).astype(dtype)
    rms = float(np.sqrt((4 + 0.25) / 3))
    second = first.astype(np.float64).copy()
    second[1] += share * tol.ROUNDING_FACTOR * eps * rms
    moved = _gradient_change(first, second.astype(dtype))  # both in dtype: its ulps (a float64 one: float64's)
    if share > 1:
        assert moved is not None and moved[0] == (1,) and moved[1] == 0.5, f"{dtype}: {moved}"
    else:
        assert moved is None, f"{dtype}: {share} x the bound is rounding: {moved}"


def test_gradient_change_names_the_element_most_beyond_its_bound_and_takes_an_extra_allowance():
    first = np.array([[1.0, 1.0], [1.0, 1.0]])
    second = first + np.array([[1e-9, 0.0], [3e-9, 2e-9]])
    assert _gradient_change(first, second) == ((1, 0), 1.0, 1.0 + 3e-9), "the largest excess, as a 2-d index"
    extra = np.array([[0.0, 0.0], [3.5e-9, 0.0]])  # element (1, 0) allowed 3.5e-9 more: (1, 1) is the worst now
    assert _gradient_change(first, second, extra)[0] == (1, 1), "extra allowance per element"
    assert _gradient_change(first, second, np.full((2, 2), 4e-9)) is None, "every change within the extra"


def test_gradient_change_of_non_finite_elements():
    nan = np.array([np.nan, 1.0])
    assert _gradient_change(nan, nan.copy()) is None, "nan in both calls: the same"
    moved = _gradient_change(nan, np.array([0.0, 1.0]))
    assert moved is not None and moved[0] == (0,) and np.isnan(moved[1]), f"nan, then a number: {moved}"
    assert _gradient_change(np.array([np.inf, 1.0]), np.array([np.inf, 1.0])) is None, "inf twice: the same"


def _sequence(*values):
    """A loss that returns the given values in turn (then the last one)."""
    calls = iter(values)
    last = [values[-1]]

    def f(p):
        last[0] = next(calls, last[0])
        return last[0]

    return f


def _grad(p):
    return {"w": np.ones(2)}


W = {"w": np.array([0.5, -0.5])}


@pytest.mark.parametrize("share", [1.05, 0.95])
def test_f_changing_beyond_ten_ulps_between_two_calls(share):
    first = 3.0
    second = first + share * tol.ROUNDING_FACTOR * EPS64 * 3.0
    out = call_twice(_sequence(first, second), _grad, W)
    expected = [f"f is not deterministic: f(params) gave {first:.10g}, then {second:.10g} at the same point; "
                f"{F_ADVICE}"] if share > 1 else []  # fmt: skip
    assert out.problems == expected, out.problems
    assert out.value == first and out.value_dtype == np.float64 and (out.f_calls, out.grad_calls) == (2, 2), out


def test_f_in_float32_is_held_to_float32_ulps_and_an_int_to_float64():
    second = np.float32(1.0) + np.float32(8) * np.float32(EPS32)  # 8 ulps of float32: within 10
    out = call_twice(_sequence(np.float32(1.0), second), _grad, W)
    assert out.problems == [] and out.value_dtype == np.float32, (out.problems, out.value_dtype)
    out = call_twice(_sequence(2, 2), _grad, W)
    assert out.value_dtype == np.float64 and out.value == 2.0, f"an int loss: float64 ({out.value_dtype})"


def test_an_earlier_call_is_compared_with_the_first():
    f = Recorded(_sequence(1.0, 1.0), [("the discovery pass", 1.5)])
    out = call_twice(f, _grad, W)
    assert out.problems == [
        "f is not deterministic: f(params) gave 1.5 on the discovery pass, then 1 at the same point; a value set up "
        "on the first call only (a lazy cache, a counter, a first-call branch) or state kept between calls?"
    ], out.problems


def test_an_earlier_call_equal_to_the_first_is_no_problem_even_when_the_second_moved():
    f = Recorded(_sequence(1.0, 1.5), [("the discovery pass", 1.0)])
    out = call_twice(f, _grad, W)
    # one problem: the two calls differ; the earlier call agrees with the first call (not the second)
    assert len(out.problems) == 1 and "gave 1, then 1.5 at the same point" in out.problems[0], out.problems


def _ev(first, later, dtype=np.float64):
    return SimpleNamespace(value0=first, at=lambda point: later, point={}, eval_dtype=np.dtype(dtype), budget=object())


@pytest.mark.parametrize("share", [1.05, 0.95])
def test_changed_since_first_call_at_ten_ulps(share):
    # 10 eps 3 = 15 ulps of 3: 1.05x and 0.95x round to 16 and 14 ulps, either side of the bound
    later = -3.0 - share * tol.ROUNDING_FACTOR * EPS64 * 3.0
    ev = _ev(-3.0, later)
    problem = changed_since_first_call(ev, 40)
    assert ev.budget is None, "the budget is closed before the last evaluation"
    if share > 1:
        assert problem == (f"f is not deterministic: f(params) gave -3 at the start and {later:.10g} at the same "
                           f"point after 40 evaluations elsewhere; every numerical derivative of it is noise; "
                           f"{F_ADVICE}"), problem  # fmt: skip
    else:
        assert problem is None, problem
    assert changed_since_first_call(_ev(1.0, 1.0 + 9 * EPS32, np.float32), 1) is None, "float32: its own ulps"
