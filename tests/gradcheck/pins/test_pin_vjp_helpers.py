"""Pins of check_vjp's helpers (vjp.py) and of validate_params' signature: which outputs are driven (float
ones only: an integer output such as an argmax is never given an upstream gradient), where the cache is in
forward's return value, how it is split off, and the errors naming each misuse."""

import numpy as np
import pytest

from reference_nn.gradcheck.validation import validate_params
from reference_nn.gradcheck.vjp import _cache_position, _driven, _split

OUT, LABELS, TIME = np.zeros((2, 3)), np.array([1, 0]), np.array([1, 2], dtype="m8[s]")


def test_only_float_outputs_are_driven():
    assert _driven(None, [OUT, LABELS, TIME, np.float32(1.0)]) == [0, 3], "float arrays and scalars only"
    assert _driven([3, 0, 0], [OUT, LABELS, TIME, np.float32(1.0)]) == [0, 3], "chosen, sorted, once each"
    for bad in (1, 2, [0, 1], 4, "0"):
        with pytest.raises(ValueError, match=r"outputs must name float outputs among positions \[0, 3\]"):
            _driven(bad, [OUT, LABELS, TIME, np.float32(1.0)])
    with pytest.raises(ValueError, match="forward returned no float output to differentiate"):
        _driven(None, [LABELS])


def test_the_cache_position():
    cache = {"x": OUT}
    assert _cache_position((OUT, cache)) == 1 and _cache_position((cache, OUT)) == 0, "the one non-array"
    assert _cache_position((OUT, OUT)) == 1, "all arrays: the last (out, x)"
    assert _cache_position((OUT, 3, 2.5, np.float64(1))) == 3, "numbers are outputs too"
    assert _cache_position(OUT) == -1 and _cache_position((OUT,)) == -1, "nothing to split: _split says why"
    with pytest.raises(ValueError, match=r"forward returned \(array \(2, 3\), dict, tuple\): positions \[1, 2\] "
                                         r"could each be the cache; say which: cache=2"):  # fmt: skip
        _cache_position((OUT, cache, (1,)))


def test_split():
    outs, cache = _split((OUT, LABELS, "c"))
    assert len(outs) == 2 and outs[1] is LABELS and cache == "c", "the last by default"
    outs, cache = _split((OUT, "c", LABELS), 1)
    assert outs == [OUT, LABELS] and cache == "c", "at a position"
    outs, cache = _split(["c", OUT], -2)
    assert outs == [OUT] and cache == "c", "a negative position"
    with pytest.raises(TypeError, match="forward must return .* got ndarray$"):
        _split(OUT)
    with pytest.raises(TypeError, match="got tuple of length 1$"):
        _split((OUT,))
    for at in (2, -3):
        with pytest.raises(ValueError, match=rf"cache={at} but forward returned 2 values"):
            _split((OUT, "c"), at)


def test_validate_params_takes_its_name_by_keyword_only():
    with pytest.raises(TypeError):
        validate_params({"w": OUT}, "weights")  # positional: refused, the name is keyword-only
    with pytest.raises(ValueError, match="weights is empty"):
        validate_params({}, name="weights")
