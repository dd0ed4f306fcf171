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


def test_differentiable_positions():
    from reference_nn.gradcheck.vjp import _differentiable_positions

    inputs, names = (OUT, LABELS, {"p": 1}, np.ones(2)), ["x", "y", "config", "w"]
    assert _differentiable_positions(inputs, names, None) == [0, 3], "every float array"
    assert _differentiable_positions(inputs, names, ["w", 0, "w"]) == [0, 3], "names and positions, once each"
    assert _differentiable_positions(inputs, names, 3) == [3] and _differentiable_positions(inputs, names, "x") == [0]
    with pytest.raises(ValueError, match=r"wrt names 'z', which is not one of forward's inputs"):
        _differentiable_positions(inputs, names, "z")
    for bad in (4, -1, 1.0):
        with pytest.raises(ValueError, match=r"wrt must hold input names or positions 0\.\.3"):
            _differentiable_positions(inputs, names, [bad])
    with pytest.raises(TypeError, match=r"wrt names 'y', a int64 array \(2,\): only float arrays have gradients"):
        _differentiable_positions(inputs, names, "y")
    with pytest.raises(ValueError, match=r"nothing to differentiate; got y \(int64 array \(2,\)\), config \(dict\)"):
        _differentiable_positions((LABELS, {}), ["y", "config"], None)


def test_assign_and_output_names():
    from reference_nn.gradcheck.vjp import _assign, _output_names, _upstream_note

    assert _assign((1, 2), [0, 3], 4, list("abcd")) == {0: 1, 3: 2}, "one per differentiable input"
    assert _assign([1, None, None, 2], [0, 3], 4, list("abcd")) == {0: 1, 3: 2}, "one per input"
    assert _assign(5, [2], 3, list("abc")) == {2: 5}, "a single array"
    with pytest.raises(
        ValueError,
        match=r"returned 1 gradient\(s\) but forward has 2 differentiable input\(s\) "
        r"\(a, d\): expected one per float input, in input order \(if it returns",
    ):
        _assign([1], [0, 3], 4, list("abcd"))
    with pytest.raises(ValueError, match=r"returned 3 gradient\(s\) .* input order$"):
        _assign([1, 2, 3], [0, 3], 4, list("abcd"))

    def backward(dnext_h, dLdy, grad_output, out_grad, dout, d, cache):
        return None

    assert _output_names(backward, 6) == ["next_h", "y", "output", "out", "out", "d"], _output_names(backward, 6)
    assert _output_names(lambda *douts: None, 2) == ["output0", "output1"], "*args"
    note = _upstream_note([OUT, np.float64(1.0), OUT], [0, 1], ["h", "loss", "att"], 7)
    assert note == (
        "drove output(s) h (2, 3), loss (a scalar: upstream gradient 1) with upstream gradients N(0, 1), "
        "seed 7; not driven (zero upstream gradient): att"
    ), note
    assert _upstream_note([np.float64(1.0)], [0], ["loss"], 0) == "drove output(s) loss (a scalar: upstream gradient 1)"


def test_an_integer_output_in_an_upstream_slot_is_not_driven():
    # forward returns (order (int), sorted values, their squares, cache); backward takes the upstreams of the
    # first two outputs only. Of those, only the sorted values are float: the order gets no upstream, and
    # the check is of d sorted / d x alone (a mutant that drove the int output raised "outputs must name ...").
    from reference_nn.gradcheck import check_vjp

    def forward(x):
        order = np.argsort(x, kind="stable")
        return order, x[order], x[order] ** 2, order

    def backward(d_order, d_sorted, order):
        dx = np.zeros_like(d_sorted)
        dx[order] = d_sorted
        return dx

    x = np.array([0.3, -1.2, 2.5, 0.7])
    report = check_vjp(forward, backward, x, cache=3)
    assert report.verdict == "PASS", f"right sort backward: {report}"


def test_check_vjps_own_notes_go_before_every_note_of_the_check():
    # the inner check_gradients has two notes here (f measured in float32, the directional method's): both stay,
    # after check_vjp's account of the upstream gradients it drove
    from reference_nn.gradcheck import check_vjp

    report = check_vjp(lambda x: (np.sin(x.astype(np.float32).astype(np.float64)), x),
                       lambda dout, x: dout * np.cos(x), np.array([[0.3, -0.7], [1.1, 0.4]]), method="directional")
    assert report.verdict == "PASS", str(report)
    notes = report.notes
    assert len(notes) == 3 and notes[0].startswith("drove output(s) out (2, 2) with upstream gradients"), notes
    assert notes[1].startswith("measured: f computes in float32") and notes[2].startswith("directional:"), notes
