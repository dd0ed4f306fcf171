"""Pins of the report classes' defaults and of a few one-line contracts, by what a user sees (mutation-testing
survivors of issue 26): a report assembled without a seed or evaluation count says 0, as a default check
does; fn of check_value_and_grad must return exactly (loss, grads); a layer checked through methods not
named forward/backward is said so."""

import numpy as np
import pytest

from reference_nn.gradcheck import (
    GradientReport,
    ParameterResult,
    TaylorReport,
    check_gradients,
    check_layer,
    check_value_and_grad,
    numerical_gradient,
    taylor_test,
)
from reference_nn.gradcheck.tolerances import finite_norm

W = np.array([0.5, -1.0])


def square(p):
    return float((p["w"] ** 2).sum())


def square_grad(p):
    return {"w": 2 * p["w"]}


def test_a_report_without_a_seed_says_the_default_seed():
    default = check_gradients(square, square_grad, {"w": W.copy()})
    built = GradientReport(default.results, default.method)
    assert built.seed == default.seed == 0, f"seed {built.seed}, a default check's {default.seed}"
    assert "seed=0" in str(built).splitlines()[0], f"header {str(built).splitlines()[0]!r}"


def test_results_assembled_without_counts_say_no_evaluations():
    taylor = taylor_test(square, square_grad, {"w": W.copy()})
    assert TaylorReport(taylor.results).n_evaluations == 0, "a Taylor report built from results alone: 0 evaluations"
    row = ParameterResult("w", "w", (2,), "float64", "float64", "complex", 1e-20, "PASS", 0.0, 0.0, (0,), 1.0, 1.0,
                          0.0, 1e-8, 2)  # fmt: skip
    assert row.n_evaluations == 0 and row.n_failed == 0 and row.n_inconclusive == 0, (
        f"a row built without counts: {row.n_evaluations} evaluations, {row.n_failed} failed")


def test_fn_must_return_exactly_loss_and_grads():
    def three(params):
        return square(params), square_grad(params), "extra"

    with pytest.raises(TypeError, match=r"fn must return \(loss, grads\); got tuple of length 3"):
        check_value_and_grad(three, {"w": W.copy()})


def test_a_layer_checked_through_other_method_names_is_said_so():
    class Doubler:
        def call(self, x):
            return 2 * x

        def grad(self, dout):
            return 2 * dout

    report = check_layer(Doubler(), np.array([[0.5, -1.0]]), forward="call", backward="grad")
    assert "called layer.call and layer.grad" in report.notes, f"notes {report.notes}"


def test_the_norm_of_no_elements_is_zero():
    assert finite_norm(np.array([])) == 0.0, "the Euclidean norm of an empty vector is 0"
    assert finite_norm(np.array([3.0, np.inf, 4.0])) == 5.0, "non-finite elements are left out: |(3, 4)| = 5"


def test_a_directional_pass_counts_its_own_evaluations():
    """method='directional' on a 64-element tensor: the row's evaluation count is the evaluations made for
    it, at least the one projection's, never more than the whole check's."""
    rng = np.random.default_rng(1)
    g = rng.standard_normal(64)
    report = check_gradients(lambda p: float(np.sum(g * np.sin(p["w"]))), lambda p: {"w": g * np.cos(p["w"])},
                             {"w": rng.uniform(-1, 1, 64)}, method="directional")  # fmt: skip
    row = report["w"]
    assert row.method.startswith("directional") and 1 <= row.n_evaluations <= report.n_evaluations, (
        f"row {row.n_evaluations} evaluations, check {report.n_evaluations}\n{report}")


def test_numerical_gradient_probes_complex_step_before_using_it():
    """numerical_gradient(method="complex") on a loss that calls float() (complex step impossible) is a clear
    error naming the tensor; method="auto" falls back to Richardson there and returns cos(w) to 1e-8."""
    def f(p):
        return float(np.sum(np.sin(p["w"])))

    with pytest.raises(ValueError, match="complex step is not usable for 'w'"):
        numerical_gradient(f, {"w": W.copy()}, method="complex")
    values = numerical_gradient(f, {"w": W.copy()}, method="auto")["w"]
    assert np.allclose(values, np.cos(W), rtol=1e-8, atol=0), f"auto: {values} vs cos(w) {np.cos(W)}"
