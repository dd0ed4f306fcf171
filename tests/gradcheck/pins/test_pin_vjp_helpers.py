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


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, np.bool_, np.int32])
def test_params_must_be_float32_or_float64(dtype):
    with pytest.raises(TypeError, match=rf"params\['w'\] must be float32 or float64; got dtype {np.dtype(dtype)}"):
        validate_params({"w": np.zeros(2, dtype)})


def test_a_float16_gradient_is_refused_and_an_integer_one_accepted():
    from reference_nn.gradcheck.validation import _require_float

    with pytest.raises(TypeError, match="dw must be float32 or float64; got dtype float16"):
        _require_float(np.zeros(2, np.float16), "dw", allow_int=True)
    _require_float(np.zeros(2, np.int8), "dw", allow_int=True)  # an all-zero int gradient (a constant): accepted


def test_the_diagnosis_speaks_only_of_failed_finite_tensors():
    from reference_nn.gradcheck.diagnosis import diagnose

    n = np.array([[1.0, -2.0], [3.0, 0.5]])
    failed = np.ones((2, 2), bool)
    assert diagnose(2 * n, n, failed).startswith("every element x 2: a factor of 2"), "the pattern, when failed"
    assert diagnose(2 * n, n, ~failed) == "", "nothing failed: no hint"
    with_nan = n.copy()
    with_nan[0, 1] = np.nan
    assert diagnose(2 * n, with_nan, failed) == "", "a non-finite numerical value: no pattern is read"


def test_directions_of_sets_differing_in_their_first_index_differ():
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.projection import TensorProblem

    ev = LossEvaluator(lambda p: np.sum(p["w"] ** 2), {"w": np.linspace(-1, 1, 12)}, np.float64)
    problem = TensorProblem(ev, "w", np.linspace(-2, 2, 12), np.float64, "complex", None, 0.0, (0, 0))
    # seeded by (seed, first index, size, last index, draw): only the first index differs here
    first = problem.direction(np.array([2, 3, 5, 11]), 0)[[3, 5, 11]]
    other = problem.direction(np.array([1, 3, 5, 11]), 0)[[3, 5, 11]]
    assert not np.array_equal(first, other), "the first index is a seed word"
