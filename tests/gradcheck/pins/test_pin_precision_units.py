"""Pins of the precision measurement's pieces (precision.py) by their effect, each at its documented bound.

* ``computation_precision``: its branches (all float32, f returning float32, all float64, f moved by
  float32 rounding, grad_f refusing float64, grad_f moved beyond float64 rounding per tensor), each
  threshold hit just above and just below THRESHOLD = sqrt(eps32 eps64) (5.1e-12 relative);
* ``_inside_cell``: every moved element rounds to the same float32 / float16 value, moved by 5%-20% of
  its ulp from the rounded value; None where nothing can move;
* ``_across_cells``: CELLS_ACROSS ulps with alternating signs, or along the gradient's signs by the
  power of two of cells that moves f by CELLS_ACROSS ulps of |f| (at most MAX_CELLS_ACROSS);
* ``_visible``: VISIBLE_ULPS ulps of |f| in the evaluation dtype, or 100x the measured noise.

``first`` and ``ev`` are stand-ins holding only the attributes these functions read (values chosen here,
so each bound is hit by a known margin).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from reference_nn.gradcheck import precision as pr
from reference_nn.gradcheck import tolerances as tol

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
T = pr.THRESHOLD


def test_threshold_is_the_geometric_mean_of_float32_and_float64_rounding():
    # sqrt(1.1920929e-07 * 2.220446e-16) = 5.145e-12, to the digits the docstring states
    assert abs(T - 5.1448e-12) < 1e-15, f"THRESHOLD {T!r}"


def _first(value, grads, value_dtype=F64):
    return SimpleNamespace(value=value, value_dtype=value_dtype, grads=grads)


def _ev(value0=1.0, f_scale=1.0, eval_dtype=F64):
    return SimpleNamespace(value0=value0, f_scale=f_scale, eval_dtype=eval_dtype)


MIXED = {"w": np.array([1.0, -2.0]), "b": np.array([0.5], dtype=np.float32)}
GRADS = {"w": np.array([3.0, 4.0]), "b": np.array([2.0], dtype=np.float32)}


def _grad_f(moved_by=None):
    """grad_f returning GRADS (float64), with ``moved_by`` added to w's first element when float64 copies come."""
    calls = []

    def grad_f(p):
        calls.append({k: v.dtype for k, v in p.items()})
        out = {k: g.astype(np.float64) for k, g in GRADS.items()}
        if moved_by is not None:
            out["w"][0] += moved_by
        return out

    return grad_f, calls


def test_all_float32_and_all_float64_decide_without_a_call():
    f32 = {k: v.astype(np.float32) for k, v in MIXED.items()}
    assert pr.computation_precision(_first(1.0, GRADS), _ev(), f32, None) == ({"w": F32, "b": F32}, [], 0), "all f32"
    f64 = {k: v.astype(">f8") for k, v in MIXED.items()}  # big-endian float64 is float64
    assert pr.computation_precision(_first(1.0, GRADS), _ev(), f64, None) == ({"w": F64, "b": F64}, [], 0), "all f64"


def test_f_returning_float32_puts_every_tensor_at_float32():
    out = pr.computation_precision(_first(1.0, GRADS, value_dtype=F32), _ev(), MIXED, None)
    assert out == ({"w": F32, "b": F32}, ["f returns float32: every gradient judged at float32 precision"], 0), out


# size = max(f_scale, |f|): 2 either way, or 0.5 (below 1: still relative)
@pytest.mark.parametrize("value0, f_scale, size", [(2.0, 0.5, 2.0), (0.5, 2.0, 2.0), (0.5, 0.25, 0.5)])
def test_f_moved_by_float32_rounding_just_above_the_threshold(value0, f_scale, size):
    grad_f, calls = _grad_f()
    above = _first(value0 + 1.1 * T * size, GRADS)  # 1.1x the threshold
    precision, notes, extra = pr.computation_precision(above, _ev(value0, f_scale), MIXED, grad_f)
    assert precision == {"w": F32, "b": F32} and extra == 0 and calls == [], (precision, notes, extra, calls)
    assert notes and "differs from f in float64 by 5.7e-12 relative" in notes[0], notes
    below = _first(value0 + 0.9 * T * size, GRADS)  # 0.9x: not float32 rounding, grad_f is asked
    precision, notes, extra = pr.computation_precision(below, _ev(value0, f_scale), MIXED, grad_f)
    assert precision == {"w": F64, "b": F64} and notes == [] and extra == 1, (precision, notes, extra)
    assert calls == [{"w": F64, "b": F64}], f"grad_f once, on float64 copies of every parameter: {calls}"


def test_a_change_of_exactly_the_threshold_is_not_beyond_it():
    grad_f, _ = _grad_f()
    out = pr.computation_precision(_first(T, GRADS), _ev(0.0, 1.0), MIXED, grad_f)  # change T, size 1: equal
    assert out == ({"w": F64, "b": F64}, [], 1), f"|f - f64| = THRESHOLD exactly: not beyond ({out})"


def test_a_zero_gradient_unchanged_in_float64_stays_float64():
    zeros = {"w": np.zeros(2), "b": np.zeros(1, np.float32)}
    out = pr.computation_precision(_first(1.0, zeros), _ev(), MIXED, lambda p: {"w": np.zeros(2), "b": np.zeros(1)})
    assert out == ({"w": F64, "b": F64}, [], 1), f"0 moved by 0: no rounding to see ({out})"


def test_f_returning_float16_is_not_read_as_float32():
    grad_f, _ = _grad_f()
    out = pr.computation_precision(_first(1.0, GRADS, value_dtype=F16), _ev(), MIXED, grad_f)
    assert out == ({"w": F64, "b": F64}, [], 1), f"float16 is not float32: measured as mixed ({out})"


def test_a_zero_f_is_never_read_as_moved():
    grad_f, calls = _grad_f()
    out = pr.computation_precision(_first(1e-300, GRADS), _ev(0.0, 0.0), MIXED, grad_f)
    assert out == ({"w": F64, "b": F64}, [], 1), f"size 0: no relative change, grad_f decides: {out}"
    in_f32 = pr.computation_precision(_first(1.0, GRADS), _ev(2.0, 2.0, eval_dtype=F32), MIXED, grad_f)
    assert in_f32 == ({"w": F64, "b": F64}, [], 1), f"f evaluated in float32 is not compared: {in_f32}"


def test_grad_f_refusing_float64_leaves_every_tensor_at_float32():
    def refuses(p):
        raise TypeError("float32 only")

    precision, notes, extra = pr.computation_precision(_first(1.0, GRADS), _ev(), MIXED, refuses)
    assert precision == {"w": F32, "b": F32} and extra == 1, (precision, extra)
    assert notes == [
        "grad_f does not run on float64 copies (UserCodeError): every gradient of this "
        "mixed-precision check judged at float32 precision"
    ], notes


@pytest.mark.parametrize("share, rounded", [(1.1, True), (0.9, False)])
def test_gradient_moved_beyond_float64_rounding_is_judged_at_float32(share, rounded):
    # w's scale is max(|g_0| = 3, RMS(3, 4) = 3.54) = 3.54: the threshold of its first element is T * 3.54
    scale = float(np.sqrt((9 + 16) / 2))
    grad_f, _ = _grad_f(moved_by=share * T * scale)
    precision, notes, extra = pr.computation_precision(_first(1.0, GRADS), _ev(), MIXED, grad_f)
    assert precision == {"w": F32 if rounded else F64, "b": F64} and extra == 1, (share, precision)
    expected = (
        [
            "measured: the gradients of w carry float32 rounding (they move beyond float64 rounding when every "
            "parameter is float64): judged at float32 precision"
        ]
        if rounded
        else []
    )
    assert notes == expected, notes


def test_a_float32_tensor_whose_gradient_moves_is_float32_without_a_note():
    def grad_f(p):
        return {"w": GRADS["w"].astype(np.float64), "b": np.array([2.0 + 1e-6])}

    precision, notes, _ = pr.computation_precision(_first(1.0, GRADS), _ev(), MIXED, grad_f)
    assert precision == {"w": F64, "b": F32} and notes == [], f"b is float32 already: nothing moved ({notes})"


@pytest.mark.parametrize("dtype", [F32, F16])
def test_inside_cell_stays_in_the_rounding_cell_by_5_to_20_percent_of_an_ulp(dtype):
    x = np.random.default_rng(0).normal(size=200) * np.float64(3.0)
    moved = pr._inside_cell(x, dtype)
    rounded = x.astype(dtype)
    ulp = np.spacing(np.abs(rounded)).astype(np.float64)
    assert np.array_equal(moved.astype(dtype), rounded), f"{dtype}: every element rounds as before"
    share = np.abs(moved - rounded.astype(np.float64)) / ulp
    assert share.min() >= 0.05 - 1e-12 and share.max() <= 0.2 + 1e-12, f"{dtype}: moves {share.min()}-{share.max()}"
    signs = np.sign(moved - rounded.astype(np.float64))
    assert 0.3 < np.mean(signs > 0) < 0.7, f"{dtype}: random signs, both ways: {np.mean(signs > 0)}"
    assert np.array_equal(pr._inside_cell(x, dtype), moved), f"{dtype}: seeded (CELL_SEED), the same each time"


def test_inside_cell_is_none_where_nothing_can_move():
    assert pr._inside_cell(np.array([1e6, -7e4]), F16) is None, "beyond float16's range: no cell to move in"
    partly = pr._inside_cell(np.array([1e6, 1.0]), F16)
    assert partly[0] == 1e6 and partly[1] != 1.0, f"an element that cannot move is left as it is: {partly}"


def test_across_cells_without_a_gradient_moves_four_ulps_alternating():
    x = np.array([1.0, 2.0, -3.0, 0.5])
    ulp = np.spacing(np.abs(x.astype(np.float32))).astype(np.float64)
    moved = pr._across_cells(x, F32)
    assert np.array_equal(moved - x, pr.CELLS_ACROSS * np.array([1, -1, 1, -1]) * ulp), f"{moved - x}"


def test_across_cells_with_a_gradient_moves_along_it_by_enough_cells():
    x = np.array([1.0, 1.0])
    g = np.array([-2.0, 0.0])  # the second element's zero gradient keeps its alternating sign (-)
    ulp = float(np.spacing(np.float32(1.0)))
    # predicted change of f per cell: |g| . ulp = 2 ulp; wanted: 4 ulps of a float32 f of size 1000 = 4000 ulp:
    # 2000 cells, rounded up to a power of two: 2048 (below MAX_CELLS_ACROSS = 4096)
    moved = pr._across_cells(x, F32, g, size=1000.0)
    assert np.array_equal(moved - x, np.array([-2048.0, -2048.0]) * ulp), f"{(moved - x) / ulp}"
    # wanted / predicted = 1024.5: just above a power of two, rounded up to 2048 (not down to 1024)
    above = pr._across_cells(x, F32, g, size=512.25)
    assert np.array_equal(above - x, np.array([-2048.0, -2048.0]) * ulp), f"{(above - x) / ulp}"
    capped = pr._across_cells(x, F32, g, size=1e6)  # 2e6 cells wanted: capped at MAX_CELLS_ACROSS
    assert np.array_equal(capped - x, np.array([-1.0, -1.0]) * 4096 * ulp), (
        f"MAX_CELLS_ACROSS 2^12: {(capped - x) / ulp}"
    )
    positive = pr._across_cells(x, F32, np.array([0.0, 5.0]), size=1.0)  # g > 0 at an odd index: +, not -
    assert np.array_equal(positive - x, np.array([4.0, 4.0]) * ulp), f"{(positive - x) / ulp}"
    zero = pr._across_cells(x, F32, np.zeros(2), size=1e6)  # no predicted change: CELLS_ACROSS, alternating
    assert np.array_equal(zero - x, np.array([4.0, -4.0]) * ulp), f"{(zero - x) / ulp}"
    small = pr._across_cells(x, F32, g, size=1.0)  # wanted 4 ulp <= 4 x predicted 2 ulp: CELLS_ACROSS as it is
    assert np.array_equal(small - x, np.array([-4.0, -4.0]) * ulp), f"{(small - x) / ulp}"


@pytest.mark.parametrize("share, visible", [(1.05, True), (0.95, False)])
def test_visible_at_a_thousand_float64_ulps_of_f(share, visible):
    size = 8.0
    bound = pr.VISIBLE_ULPS * tol.eps(F64) * size
    move = np.array([share * bound / 2, 0.0])
    ev = SimpleNamespace(eval_dtype=F64, noise=0.0)
    assert pr._visible(move, np.array([2.0, 5.0]), ev, size) is visible, f"{share} x the bound"


def test_visible_means_strictly_above():
    ev = SimpleNamespace(eval_dtype=F64, noise=0.0)
    bound = pr.VISIBLE_ULPS * tol.eps(F64) * 4.0
    assert pr._visible(np.array([bound]), np.array([1.0]), ev, 4.0) is False, "a change of exactly the bound"


@pytest.mark.parametrize("share, visible", [(1.005, True), (0.995, False)])
def test_visible_at_a_hundred_times_the_measured_noise(share, visible):
    ev = SimpleNamespace(eval_dtype=F64, noise=1e-9)  # 100 x noise = 1e-7, far above 1e3 ulps of |f| = 1
    move = np.array([share * 1e-7])
    assert pr._visible(move, np.array([1.0]), ev, 1.0) is visible, f"{share} x 100 noise"
    assert pr._visible(move, None, ev, 1.0) is True, "no gradient: assumed visible"


def test_a_float32_result_is_measured_as_float32_even_where_f_is_zero():
    # f = float32(sum w^3) at a point where it is exactly 0: the noise probe has nothing to measure (|f| = 0),
    # so only the returned dtype (float32, whose eps equals float32's) says f computes in float32; the
    # steps, rounding model and tolerances follow, and the report says why.
    from reference_nn.gradcheck import check_gradients

    report = check_gradients(lambda p: np.float32(np.sum(p["w"] ** 3)), lambda p: {"w": 3 * p["w"] ** 2},
                             {"w": np.array([1.0, -1.0, 0.5, -0.5])}, method="central")
    assert report.verdict == "PASS", str(report)
    measured = "measured: f computes in float32 (f returns float32): steps, rounding model and tolerances of float32"
    assert measured in report.notes, report.notes


def _casts_a_to_float16_and_b_to_float32(p):
    a = p["a"].astype(np.float16).astype(np.float64)
    b = p["b"].astype(np.float32).astype(np.float64)
    return float(np.sum(np.sin(a)) + np.sum(b**2) + np.sum(np.cos(p["c"])))


@pytest.mark.parametrize("error, verdict", [(1.0, "INCONCLUSIVE"), (2.0, "FAIL"), (-1.0, "FAIL")])
def test_a_float16_cast_behind_float32_cells_is_measured_as_float16(error, verdict):
    """A loss that casts ``a`` to float16, ``b`` to float32 and keeps ``c`` in float64 (so f itself moves at
    the noise probe's first step: no precision from f's result). Moves across a few float32 cells leave f
    unchanged for ``a`` too; that is no "f ignores a": float16's cells are tried next, and a is measured as
    float16. Before, the measurement stopped there, a stayed float64, and the right cos(a) (6e-5 from the
    slope of the float16 staircase's smooth envelope) was a false FAIL at err/tol 1e3. Float16 rounding over
    the steps bounds a's estimate to ~14%: the right value is INCONCLUSIVE with that reason, x2 and a sign
    error FAIL. Each cast is named in its own dtype's note."""
    from reference_nn.gradcheck import check_gradients

    params = {"a": np.array([0.3, -0.7]), "b": np.array([0.5, 1.1, -0.2]), "c": np.array([0.4, -0.9])}
    report = check_gradients(_casts_a_to_float16_and_b_to_float32,
                             lambda p: {"a": error * np.cos(p["a"]), "b": 2 * p["b"], "c": -np.sin(p["c"])}, params)
    assert (report["a"].status, report["b"].status, report["c"].status) == (verdict, "PASS", "PASS"), str(report)
    notes = " ".join(report.notes)
    assert "f casts b to float32 (moves" in notes and "f casts a to float16 (moves" in notes, notes
    if verdict == "INCONCLUSIVE":
        assert "f computes in float16: its rounding over the steps" in str(report), str(report)
