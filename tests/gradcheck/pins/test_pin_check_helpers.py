"""Pins of check.py's helpers: the row of a gradient with non-finite elements (FAIL naming the first, the
finite rest not checked), assert_gradients' message, numerical_gradient per method on a known f, and the
report when the budget runs out before the end-of-check determinism call."""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, check_gradients
from reference_nn.gradcheck.check import NOT_CHECKED_NONFINITE, assert_gradients, nonfinite_result, numerical_gradient


def test_a_non_finite_gradient_fails_naming_its_first_bad_element():
    g = np.array([[1.0, 2.0, np.inf], [np.nan, 5.0, 6.0]])
    row = nonfinite_result("W", "dW", g, "float64")
    assert row.status == FAIL and (row.n_failed, row.n_inconclusive, row.n_elements) == (2, 4, 6), row
    assert row.worst_index == (0, 2) and row.analytic == np.inf and row.error_ratio == np.inf, row
    assert row.inconclusive_reasons == {NOT_CHECKED_NONFINITE: 4}, row.inconclusive_reasons
    assert row.note == ("2 non-finite element(s) in dW, first inf at (0, 2): a gradient is finite; the finite "
                        "elements were not checked"), row.note  # fmt: skip
    alone = nonfinite_result("b", "db", np.array([np.nan]), "float32")
    assert alone.inconclusive_reasons == {} and alone.n_inconclusive == 0 and alone.worst_index == (0,), alone


def f(p):
    return np.sum(np.sin(p["w"])) * 2.0  # complex-safe


W = np.array([0.3, -1.2, 2.5])


@pytest.mark.parametrize("method", ["auto", "central", "richardson", "complex"])
def test_numerical_gradient_of_a_known_f(method):
    got = numerical_gradient(f, {"w": W.copy()}, method=method)["w"]
    # central: truncation h^2 |f'''| / 6 ~ 1e-11 at h = 3.8e-6, rounding ~1e-10; the others ~1e-12
    tolerance = 1e-8 if method == "central" else 1e-10
    assert got.shape == W.shape and np.allclose(got, 2 * np.cos(W), rtol=0, atol=tolerance), (method, got)


def test_numerical_gradient_refuses_directional_and_complex_where_it_cannot_work():
    with pytest.raises(ValueError, match="numerical_gradient method must be auto, central, richardson or complex"):
        numerical_gradient(f, {"w": W.copy()}, method="directional")
    with pytest.raises(ValueError, match="complex step is not usable for 'w'"):
        numerical_gradient(lambda p: float(np.sum(p["w"] ** 2)), {"w": W.copy()}, method="complex")
    auto = numerical_gradient(lambda p: float(np.sum(p["w"] ** 2)), {"w": W.copy()}, method="auto")["w"]
    assert np.allclose(auto, 2 * W, rtol=1e-9, atol=0), f"auto falls back to Richardson for a float() loss: {auto}"


def test_assert_gradients_raises_the_report():
    assert assert_gradients(f, lambda p: {"w": 2 * np.cos(p["w"])}, {"w": W.copy()}).passed, "a right gradient"
    with pytest.raises(AssertionError, match=r"^Gradient check FAIL \(w\)"):
        assert_gradients(f, lambda p: {"w": 2 * np.cos(p["w"]) * 1.01}, {"w": W.copy()})


def test_a_spent_budget_skips_the_last_determinism_call_and_says_so():
    report = check_gradients(f, lambda p: {"w": 2 * np.cos(p["w"])}, {"w": W.copy()}, max_evaluations=3)
    assert report.verdict == INCONCLUSIVE and report["w"].inconclusive_reasons == {"budget exhausted": 3}, str(report)
    assert report.notes[-1].startswith("f was not evaluated again at the given point after the check"), report.notes
    assert report.cost["determinism"]["extra_f_evaluations"] == 1, report.cost
    full = check_gradients(f, lambda p: {"w": 2 * np.cos(p["w"])}, {"w": W.copy()})
    assert full.cost["determinism"]["extra_f_evaluations"] == 2, "with room: f once more at the end"


@pytest.mark.parametrize("drift_after", [None, 30])
def test_the_report_counts_every_call_of_f(drift_after):
    """n_evaluations is the number of times f was called, counted here (complex calls included), also when
    f drifts during the check (a mask redrawn after 30 calls) and the report is INCONCLUSIVE for it."""
    calls = [0]

    def counted(p):
        calls[0] += 1
        drift = 1e-3 if drift_after is not None and calls[0] > drift_after else 0.0
        return np.sum(np.sin(p["w"])) * 2.0 + drift

    report = check_gradients(counted, lambda p: {"w": 2 * np.cos(p["w"])}, {"w": W.copy()})
    assert report.n_evaluations == calls[0], f"{report.n_evaluations} reported, {calls[0]} made"
    if drift_after is not None:
        assert report.verdict == INCONCLUSIVE and report.problems[0].startswith("f is not deterministic"), report
        # "elsewhere": all but the two first calls (determinism) and the last one at the point
        assert f"after {calls[0] - 3} evaluations elsewhere" in report.problems[0], report.problems


@pytest.mark.parametrize("eval_dtype", [None, np.float64])
def test_a_float32_result_is_read_as_such_with_or_without_eval_dtype(eval_dtype):
    def f32(p):
        return np.float32(np.sum(np.sin(p["w"])))

    report = check_gradients(f32, lambda p: {"w": np.cos(p["w"])}, {"w": W.copy()}, eval_dtype=eval_dtype)
    assert report.notes[0].startswith("measured: f computes in float32 (f returns float32)"), report.notes


def test_mixed_params_evaluated_in_float32_do_not_read_the_mixed_calls_result_dtype():
    """f refuses all-float64 input, so mixed float32 / float64 params are evaluated in float32; f's float16
    result at the mixed params says nothing about the float32 evaluation's (not the same inputs): float16
    is measured from the noise instead, and the note says so."""

    def f(p):
        if all(v.dtype == np.float64 for v in p.values()):
            raise TypeError("no float64")
        return np.float16(np.sum(np.sin(p["w"].astype(np.float32))) + np.sum(p["b"].astype(np.float32) ** 2))

    def grad_f(p):
        return {"w": np.cos(p["w"]).astype(p["w"].dtype), "b": (2 * p["b"]).astype(p["b"].dtype)}

    report = check_gradients(f, grad_f, {"w": W.astype(np.float32), "b": np.array([0.5, 0.25])})
    assert "measured: f computes in float16 (f's measured rounding noise is" in report.notes[0], report.notes


@pytest.mark.parametrize("error", [3e-12, 3e-10])
def test_complex_step_is_not_overruled_by_a_real_difference_that_merely_fails_to_contradict_it(error):
    """rtol=0: complex step (exact to ~1e-14 here) resolves a relative error of 3e-12. The second opinion
    (Richardson at smaller steps, good to ~1e-10) agrees with the hand-written value only because it cannot
    tell; it does not contradict complex step beyond both bounds, so complex step's verdict stands: FAIL."""
    w = np.array([0.3, -1.2, 2.5, 0.7])
    report = check_gradients(lambda p: np.sum(np.sin(p["w"])), lambda p: {"w": np.cos(p["w"]) * (1 + error)},
                             {"w": w}, method="complex", rtol=0.0)  # fmt: skip
    assert report.verdict == FAIL and report["w"].n_failed == 4, str(report)
    assert "failed by complex step agree with real differences" not in report["w"].note, report["w"].note
