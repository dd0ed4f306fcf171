"""Pins of the measured precision (precision.py) and of the report's err/tol column, by their effect.

Precision: a gradient judged at float64 has the analytic allowance sqrt(eps64) = 1.5e-8 relative, one
judged at float32 sqrt(eps32) = 3.5e-4 (tolerances.analytic_rtol). A planted relative error of 1e-6
sits between them: it FAILs a check that measured float64 precision and passes one that measured
float32. So each case below says, by its verdict, which precision was measured:

* float64 loss, mixed float32/float64 parameters whose float32 values are exact in float64 and whose
  use stays float64: f and grad_f carry no float32 rounding, the check must measure float64 (a
  measurement that reads |a + b| for the change between f at the given dtypes and f in float64 sees
  2 |f| and calls everything float32: the 1e-6 error then passes);
* the same parameters, f and grad_f cast to float32 inside: measured float32, a right gradient PASSes
  (a float64 judgement would cry wolf) and a 1e-6 error is below float32 resolution;
* all float64 with a float32 cast inside the loss: f returns float32, every tensor at float32.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, PASS, check_gradients
from reference_nn.gradcheck.by_precision import no_split


@pytest.fixture(autouse=True)
def _direct_check():
    """These pins are of the direct check's precision measurement at mixed dtypes: without the split by
    precision (by_precision.py), which would judge float32 parameters against their float64 run instead."""
    with no_split():
        yield


X = np.array([[0.5, -1.25, 0.75], [1.5, 0.25, -0.5]])  # dyadic: exact in float32 and float64
Y = np.array([0.25, -0.75])


def _wide(b):
    """b in float64 (complex128 for complex step), without dropping an imaginary part."""
    return b.astype(np.result_type(b.dtype, np.float64))


def loss(cast):
    def f(p):
        w, b = (p["w"].astype(cast), p["b"].astype(cast)) if cast else (p["w"], _wide(p["b"]))
        r = X.astype(w.dtype) @ w + b - Y.astype(w.dtype)
        return 0.5 * np.sum(r * r)

    return f


def grad(cast, planted=0.0):
    def grad_f(p):
        w, b = (p["w"].astype(cast), p["b"].astype(cast)) if cast else (p["w"], _wide(p["b"]))
        r = X.astype(w.dtype) @ w + b - Y.astype(w.dtype)
        dw = (X.astype(w.dtype).T @ r).astype(np.float64) * (1 + planted)
        return {"w": dw, "b": np.array([np.sum(r)], dtype=np.float64).astype(p["b"].dtype)}

    return grad_f


MIXED = {"w": np.array([0.3, -0.7, 0.45]), "b": np.array([0.125], dtype=np.float32)}


@pytest.mark.parametrize("method", ["complex", "richardson", "central"])
def test_mixed_dtypes_without_float32_rounding_are_judged_at_float64(method):
    right = check_gradients(loss(None), grad(None), MIXED, method=method)
    assert right.verdict == PASS, f"{method}: right gradient\n{right}"
    if method != "central":  # central's own truncation allowance (6e-6) is above 1e-6
        wrong = check_gradients(loss(None), grad(None, 1e-6), MIXED, method=method)
        assert wrong.verdict == FAIL and wrong.failed_parameters == ["w"], (
            f"{method}: a 1e-6 error at measured float64 precision\n{wrong}")


@pytest.mark.parametrize("method", ["richardson", "central"])
def test_mixed_dtypes_cast_to_float32_inside_are_judged_at_float32(method):
    right = check_gradients(loss(np.float32), grad(np.float32), MIXED, method=method)
    assert right.verdict == PASS, f"{method}: right gradient computed in float32\n{right}"
    below = check_gradients(loss(np.float32), grad(np.float32, 1e-6), MIXED, method=method)
    assert below.verdict != FAIL, f"{method}: 1e-6 is below float32 resolution\n{below}"
    wrong = check_gradients(loss(np.float32), grad(np.float32, 1e-2), MIXED, method=method)
    assert wrong.verdict == FAIL, f"{method}: a 1% error at float32 precision\n{wrong}"


def test_float64_params_with_a_float32_loss_are_judged_at_float32():
    params = {"w": MIXED["w"].copy(), "b": MIXED["b"].astype(np.float64)}
    right = check_gradients(loss(np.float32), grad(np.float32), params, method="richardson")
    assert right.verdict == PASS and "f returns float32" in " ".join(right.notes), f"right gradient\n{right}"


@pytest.mark.parametrize("inner_safe", [True, False])
def test_err_tol_of_a_projection_is_its_error_over_its_tolerance(inner_safe):
    """The err/tol column is |a - n| / (required + own bound): the same tolerance the projection was judged
    by (required - own bound, or required alone, would print a ratio for a different test)."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 5))

    def f(p):
        value = 0.5 * np.sum((A * p["w"]) ** 2) + np.sum(np.sin(p["w"]))
        return value if inner_safe else float(value)  # float(): no complex step, Richardson inside

    def grad_f(p):
        return {"w": A * A * p["w"] + np.cos(p["w"])}

    report = check_gradients(f, grad_f, {"w": rng.standard_normal((6, 5))}, method="directional")
    row = report["w"]
    assert report.verdict == PASS and row.method.startswith("directional"), f"a projection's PASS\n{report}"
    assert row.numeric_error > 0, f"the estimate must have an error bound to tell + from -: {row.numeric_error}"
    expected = abs(row.analytic - row.numeric) / row.tolerance
    assert row.error_ratio == pytest.approx(expected, rel=1e-12, abs=0), (
        f"err/tol {row.error_ratio!r} vs |a - n| / tolerance {expected!r}")
    assert row.error_ratio <= 1.0, f"a verified row shows err/tol <= 1: {row.error_ratio}"


def _offset_by_dtype(relative_f, relative_g):
    """f and grad_f that move by ``relative_*`` of their size when b arrives as float32 (the given mixed
    dtypes) and not when it is float64 (the checker's float64 copies): a float32 rounding of known size."""

    def f(p):
        value = loss(None)(p)
        return value * (1 + relative_f) if p["b"].dtype == np.float32 else value

    def grad_f(p):
        g = grad(None)(p)
        if p["b"].dtype == np.float32:
            g["w"] = g["w"] * (1 + relative_g)
        return g

    return f, grad_f


@pytest.mark.parametrize("relative, float32", [(1.3e-11, True), (2e-12, False)])
def test_the_precision_threshold_is_sqrt_eps32_eps64(relative, float32):
    """sqrt(eps32 eps64) = sqrt(1.19e-7 * 2.22e-16) = 5.1e-12 relative separates float32 rounding from
    float64's (the code's value is the formula's): a change of
    1.3e-11 of |f| (or of a gradient) is float32 rounding, one of 2e-12 is not; a threshold 3x off in
    either direction moves one of them."""
    for relative_f, relative_g, note in ((relative, 0.0, "f at the given (mixed) dtypes differs"),
                                         (0.0, relative, "carry float32 rounding")):  # fmt: skip
        f, grad_f = _offset_by_dtype(relative_f, relative_g)
        report = check_gradients(f, grad_f, MIXED, method="complex")
        notes = " ".join(report.notes)
        assert (note in notes) == float32, f"change {relative_f or relative_g} ({note!r}): notes {notes!r}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_uniform_dtypes_need_no_precision_measurement(dtype):
    """All parameters float64 (or all float32): the precision is the dtype's, no extra grad_f call is made
    (the measurement is for mixed dtypes only); the mixed case makes exactly one."""
    params = {"w": MIXED["w"].astype(dtype), "b": MIXED["b"].astype(dtype)}
    report = check_gradients(loss(None), grad(None), params, method="richardson")
    calls = report.cost["precision"]["extra_grad_f_evaluations"]
    assert calls == 0, f"{dtype.__name__}: {calls} extra grad_f calls\n{report}"
    mixed = check_gradients(loss(None), grad(None), MIXED, method="richardson")
    assert mixed.cost["precision"]["extra_grad_f_evaluations"] == 1, f"mixed dtypes\n{mixed}"


@pytest.mark.parametrize("method", ["auto", "central", "complex"])
def test_only_the_directional_method_says_it_names_no_element(method):
    report = check_gradients(loss(None), grad(None), MIXED, method=method)
    notes = " ".join(report.notes)
    assert "directional:" not in notes, f"{method}: notes {notes!r}"


def test_a_big_endian_float64_parameter_is_float64():
    """A float64 array in big-endian byte order ('>f8') is float64: uniform ones need no measurement,
    and in a mixed check whose gradient of it carries float32 rounding (1.3e-11 relative, above the
    5.1e-12 threshold) the note names it among the float64 gradients judged at float32."""
    swapped = {"w": MIXED["w"].astype(">f8"), "b": MIXED["b"].astype(">f8")}
    uniform = check_gradients(loss(None), grad(None), swapped, method="richardson")
    calls = uniform.cost["precision"]["extra_grad_f_evaluations"]
    assert uniform.verdict == PASS and calls == 0, f"big-endian float64 only: {calls} extra calls\n{uniform}"
    f, grad_f = _offset_by_dtype(0.0, 1.3e-11)
    report = check_gradients(f, grad_f, {"w": MIXED["w"].astype(">f8"), "b": MIXED["b"]}, method="complex")
    notes = " ".join(report.notes)
    assert "the gradients of w carry float32 rounding" in notes, f"'>f8' w should be named: notes {notes!r}"


def test_a_loss_exactly_zero_in_float64_leaves_the_precision_to_the_gradients():
    """f in float64 is exactly 0 at the point with no rounding noise (sum(w) at w = 0: f(x + tv) and
    f(x - tv) cancel exactly), while f at the given mixed dtypes is 1e-9 (b float32): a relative change
    of f is undefined there, so f's change decides nothing (no division by a zero size) and the
    gradients' own comparison in float64 does: they do not move, so w is judged at float64 and a planted
    1e-6 error FAILs (float32's allowance, 3.5e-4, would pass it)."""

    def f(p):
        return np.sum(p["w"]) + np.sum(0.0 * p["b"]) + (1e-9 if p["b"].dtype == np.float32 else 0.0)

    def grad_f(p, planted=0.0):
        return {"w": np.ones_like(p["w"], dtype=np.float64) * (1 + planted), "b": np.zeros_like(p["b"])}

    params = {"w": np.zeros(3), "b": np.array([0.125], dtype=np.float32)}
    right = check_gradients(f, grad_f, params, method="complex")
    assert right.verdict == PASS and "f at the given (mixed) dtypes differs" not in " ".join(right.notes), (
        f"a loss exactly 0 in float64\n{right}")
    wrong = check_gradients(f, lambda p: grad_f(p, 1e-6), params, method="complex")
    assert wrong.verdict == FAIL and wrong.failed_parameters == ["w"], f"1e-6 at float64 precision\n{wrong}"


def test_an_evaluation_in_float32_makes_no_comparison_with_float64():
    """eval_dtype=float32 with mixed parameters: f is not evaluated in float64, so no note may claim that
    f at the given dtypes differs from f in float64 (the comparison is made only for a float64 evaluation)."""
    report = check_gradients(loss(None), grad(None), MIXED, method="richardson", eval_dtype=np.float32)
    notes = " ".join(report.notes)
    assert report.verdict == PASS and "differs from f in float64" not in notes, f"eval in float32\n{report}"
