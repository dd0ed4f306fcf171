"""Pins of arguments.py's helpers on functions and values built here: argument names (positional,
``*args``, fallbacks), whether a signature accepts a count, how many upstream gradients a backward
takes, user errors, which values are differentiable, fresh copies, descriptions, upstream gradients
and the contraction whose gradient is the VJP."""

import numpy as np
import pytest

from reference_nn.gradcheck.arguments import (
    accepts,
    argument_names,
    contract,
    contract_scale,
    describe,
    fresh,
    is_differentiable,
    upstream_count,
    upstream_gradient,
    user_call,
)
from reference_nn.gradcheck.validation import UserCodeError


def forward(x, w, /, b=None, *rest, scale=1.0):
    return x


def test_argument_names():
    assert argument_names(forward, 3) == ["x", "w", "b"], "positional-only and positional-or-keyword"
    assert argument_names(forward, 5) == ["x", "w", "b", "rest[0]", "rest[1]"], "*rest names its entries"
    assert argument_names(lambda x: x, 3) == ["x", "input1", "input2"], "too short: fallbacks by position"
    assert argument_names(lambda x: x, 2, fallback="out") == ["x", "out1"], "the fallback prefix"
    assert argument_names(forward, 0) == [], "none asked"
    assert argument_names(print, 2) == ["args[0]", "args[1]"], "a builtin's *args"
    assert argument_names(max, 2) == ["input0", "input1"], "a signature that cannot be read: fallbacks"


def test_accepts():
    assert accepts(forward, 2) and accepts(forward, 7), "two required, then *rest"
    assert accepts(forward, 1) is False, "one is too few"
    assert accepts(lambda x: x, 2) is False and accepts(lambda x: x, 1) is True, "exactly one"
    assert accepts(max, 2) is None, "a signature that cannot be read: unknown"


def test_upstream_count():
    def backward(dout, cache):
        return dout

    def two(dy, dh, cache, scale=1.0):
        return dy

    def star(*douts):
        return douts

    assert upstream_count(backward, 3, others=1) == 1, "2 required less the cache"
    assert upstream_count(two, 3, others=1) == 2, "3 required less the cache: 2 of 3 outputs"
    assert upstream_count(two, 1, others=1) == 1, "at most the outputs there are"
    assert upstream_count(two, 3, others=0, skip=("cache",)) == 2, "a parameter named in skip is not counted"
    assert upstream_count(backward, 3, others=5) == 1, "at least one"
    assert upstream_count(star, 4) == 4, "*args: every output"

    def keyword(dout, cache, *, lr=0.1, **options):
        return dout

    assert upstream_count(keyword, 3, others=1) == 1, "keyword-only parameters and **options are no *args"
    assert upstream_count(max, 3) == 3, "a signature that cannot be read: every output"


def test_user_call_names_the_users_function():
    def broken(x):
        raise ZeroDivisionError("boom")

    assert user_call(lambda a, b=0: a + b, "f", 1, b=2) == 3, "arguments passed through"
    with pytest.raises(UserCodeError) as caught:
        user_call(broken, "grad_f", 1)
    assert "grad_f" in str(caught.value) and "broken" in str(caught.value) and "boom" in str(caught.value), caught
    inner = UserCodeError("f", ValueError("x"), "at the given params")

    def reraises(x):
        raise inner

    with pytest.raises(UserCodeError) as again:
        user_call(reraises, "grad_f", 1)
    assert again.value is inner, "a UserCodeError is passed on as it is"


def test_is_differentiable():
    yes = [np.zeros(2), np.zeros(2, np.float32), np.zeros((), np.float64)]
    no = [np.zeros(2, np.float16), np.zeros(2, int), np.zeros(2, complex), 1.0, [1.0], None]
    assert all(is_differentiable(v) for v in yes) and not any(is_differentiable(v) for v in no), "float32/64 arrays"


def test_fresh_and_describe():
    config = {"momentum": [0.9]}
    copy = fresh(config)
    assert copy == config and copy is not config and copy["momentum"] is not config["momentum"], "a deep copy"
    for scalar in (None, 3, 2.5, "s", True):
        assert fresh(scalar) is scalar, f"{scalar!r}: immutable, passed as it is"
    assert describe(np.zeros((4, 5), np.int64)) == "int64 array (4, 5)" and describe({}) == "dict", "names"
    assert describe(3) == "int", "a Python value by its type"


def test_upstream_gradient():
    rng = np.random.default_rng(0)
    dout, wide = upstream_gradient(np.float32(2.0), rng)
    assert dout == 1.0 and isinstance(dout, float) and wide == 1.0, "a scalar loss: 1.0"
    dout, wide = upstream_gradient(np.array(2.0, np.float32), rng)
    assert dout.dtype == np.float32 and dout.shape == () and dout == 1, "a 0-d array: a 0-d one of its dtype"
    out = np.zeros((3, 2), np.float32)
    dout, wide = upstream_gradient(out, np.random.default_rng(5))
    expected = np.random.default_rng(5).standard_normal((3, 2)).astype(np.float32)
    assert np.array_equal(dout, expected) and dout.dtype == np.float32, "N(0, 1) rounded to the output's dtype"
    assert wide.dtype == np.float64 and np.array_equal(wide, expected.astype(np.float64)), "the same numbers"


def test_contract_and_its_scale():
    outputs = [np.array([1.0, -2.0]), np.array([3.0]), np.array([5.0])]
    douts = [np.array([2.0, 1.0]), np.array([-1.0]), np.array([100.0])]
    assert contract(outputs, douts, [0, 1]) == pytest.approx(2.0 - 2.0 - 3.0), "sum of output * dout, driven only"
    assert contract_scale(outputs, douts, [0, 1]) == pytest.approx(2.0 + 2.0 + 3.0), "sum of |output * dout|"
    assert contract(outputs, douts, []) == 0.0 and contract_scale(outputs, douts, []) == 0.0, "nothing driven"
