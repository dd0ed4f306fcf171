"""Pins of the loss evaluator (evaluation.py): private copies restored exactly, every call counted and
charged, the scale of f's rounding (given f_scale, measured noise / eps, at least 1 for a flat f), the
noise probe on a float64 f, a float32-rounded f and a constant f, and complex evaluations' errors."""

import numpy as np
import pytest

from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.evaluation import LossEvaluator

W = np.array([[0.5, -1.5], [2.0, 0.25]])


def smooth(p):
    return float(np.sum(np.sin(p["w"])) + 3.0)


def test_copies_counts_and_exact_restores():
    given = W.copy()
    ev = LossEvaluator(smooth, {"w": given}, np.float64)
    calls = ev.count
    moved = ev.with_element("w", 3, 1.25)
    assert moved == smooth({"w": np.array([[0.5, -1.5], [2.0, 1.25]])}), "one element replaced"
    assert np.array_equal(ev.point["w"], W) and np.array_equal(given, W), "restored exactly; the caller's untouched"
    direction = np.array([[1.0, 0.0], [0.0, -1.0]])
    assert ev.along("w", direction, 0.5) == smooth({"w": W + 0.5 * direction}), "along a direction"
    assert ev.at({"w": W * 2}) == smooth({"w": W * 2}) and ev.count == calls + 3, "each call counted"
    assert ev.point["w"].flags["C_CONTIGUOUS"], "a C-ordered working copy"
    fortran = LossEvaluator(smooth, {"w": np.asfortranarray(W)}, np.float64)
    fortran.with_element("w", 1, 9.0)
    assert np.array_equal(fortran.point["w"], W), "a Fortran-ordered parameter is perturbed and restored too"


def test_a_budget_is_charged_per_evaluation():
    class Counting:
        spent = 0

        def spend(self):
            Counting.spent += 1

    ev = LossEvaluator(smooth, {"w": W.copy()}, np.float64)
    ev.budget = Counting()
    ev.at(ev.point)
    ev.with_element("w", 0, 1.0)
    assert Counting.spent == 2, Counting.spent


def test_scale_of_is_the_given_scale_or_the_noise_over_eps():
    ev = LossEvaluator(smooth, {"w": W.copy()}, np.float64, f_scale=50.0)
    assert ev.given_scale == 50.0 and ev.scale_of("w") == max(50.0, ev.noise / tol.eps(np.float64)), "f_scale 50"
    ev.noise = 1e-12  # as if measured: 1e-12 / eps64 = 4504 > 50
    assert ev.scale_of("w") == pytest.approx(1e-12 / tol.eps(np.float64), rel=1e-15), "noise / eps64"
    assert ev.scale_of("w", np.float32) == 50.0, "noise / eps32 = 8e-6 < 50"
    small = LossEvaluator(smooth, {"w": W.copy()}, np.float64, f_scale=1e-9)
    assert small.given_scale == abs(small.value0), "f_scale below |f|: |f|"
    ev.precision["w"] = np.dtype(np.float32)
    assert ev.precision_of("w") == np.float32 and ev.precision_of() == np.float32, "the coarsest of all tensors"


def test_the_noise_of_a_smooth_float64_f_is_rounding():
    ev = LossEvaluator(smooth, {"w": W.copy()}, np.float64)
    # a float64 sum of four sines and 3: a few ulps of |f| (~4.4), far below float32's ulp of it
    assert 0 <= ev.noise <= 100 * tol.eps(np.float64) * abs(ev.value0), ev.noise
    assert not ev.flat and not ev.still_at_first_step, "f moves at the first step (1.5e-10 relative)"


def test_the_noise_of_a_float32_rounded_f_is_float32_rounding():
    def rounded(p):
        return float(np.float32(smooth(p)))

    ev = LossEvaluator(rounded, {"w": W.copy()}, np.float64)
    ulp = float(np.spacing(np.float32(ev.value0)))
    # the second difference of a result rounded to float32 ulps: a few ulps (combinations 1, 6, 8 / 6)
    assert 0.1 * ulp <= ev.noise <= 10 * ulp, f"noise {ev.noise!r}, float32 ulp of f {ulp!r}"
    assert ev.still_at_first_step and not ev.flat, "unmoved at 1.5e-10, moved at a larger step"
    assert ev.scale_of("w") >= ev.noise / tol.eps(np.float64) > 1e6 * abs(ev.value0), "f's scale is its noise's"


def test_a_constant_f_is_flat_with_scale_at_least_one():
    ev = LossEvaluator(lambda p: 1e-3, {"w": W.copy()}, np.float64)
    assert ev.flat and ev.noise == 0.0, "never moved"
    assert ev.scale_of("w") == 1.0, "a flat f: at least 1"
    # 2 directions x 9 widenings x 2 evaluations, plus f at the point
    assert ev.count == 1 + 2 * 9 * 2, ev.count


def test_complex_evaluations():
    ev = LossEvaluator(lambda p: np.sum(p["w"] ** 2), {"w": W.copy()}, np.float64)
    value = ev.complex_with_element("w", 2, 1e-20)
    assert value.imag == pytest.approx(2 * 2.0 * 1e-20, rel=1e-12), "Im f(x + ih) = 2 x h"
    assert ev._complex_copies["w"].imag.max() == 0.0, "the imaginary part is removed again"
    d = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert ev.complex_along("w", d, 1e-20).imag == pytest.approx(2 * (0.5 + 0.25) * 1e-20, rel=1e-12), "along"
    real = LossEvaluator(lambda p: float(np.sum(p["w"].real)), {"w": W.copy()}, np.float64)
    with pytest.raises(TypeError, match="f returned a real float64 for complex input"):
        real.complex_with_element("w", 0, 1e-20)
    arrays = LossEvaluator(lambda p: np.sum(p["w"]), {"w": W.copy()}, np.float64)
    arrays.f = lambda p: p["w"].sum(axis=0)  # swapped in after construction: a vector for complex input
    with pytest.raises(ValueError, match=r"f returned an array of shape \(2,\) for complex input"):
        arrays.complex_with_element("w", 0, 1e-20)
    cast = LossEvaluator(lambda p: np.sum(p["w"]), {"w": W.copy()}, np.float64)
    cast.f = lambda p: np.sum(p["w"].astype(np.float64)) + 0j  # drops the imaginary part: ComplexWarning, raised
    with pytest.raises(Exception, match="[Cc]omplex"):
        cast.complex_with_element("w", 0, 1e-20)


def test_still_at_first_step_when_f_first_moves_at_the_second_step():
    # f rounded to 1e-9 at w = 1: the first step (1.5e-10 x |v|, |v| <= 1.5) moves it by < 5e-10, nothing;
    # the second (1.5e-9 x |v| >= 7.5e-10) rounds to the next multiple: f did not move at the first step only
    q = 1e-9
    ev = LossEvaluator(lambda p: float(q * np.round(p["w"][0] / q) + 3.0), {"w": np.array([1.0])}, np.float64)
    assert ev.still_at_first_step and not ev.flat, (ev.still_at_first_step, ev.flat)
