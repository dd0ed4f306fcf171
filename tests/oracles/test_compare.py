"""The comparison helper: it must flag a wrong value (sensitivity) and must not flag rounding
(no false alarms on entries that are ~0 by cancellation). Expected values here are written by
hand from the definitions in equivalence_tests.tolerances, never computed by compare() itself."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from oracle_fixtures import ORACLES, cached_run, require

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig
from equivalence_tests.tolerances import TOLERANCES, assert_agree, compare, compare_results, tolerance_for


def test_identical_arrays_pass_with_zero_error():
    values = np.array([[1.0, -2.0], [3.0, 0.0]])
    result = compare("gradient", "float64", "torch", values, values.copy())
    assert result.passed and result.max_rel_error == 0.0 and result.max_abs_error == 0.0


def test_perturbation_of_one_part_in_a_million_is_flagged_in_float64():
    reference = np.array([[0.5, -0.25], [0.125, 2.0]])
    wrong = reference.copy()
    wrong[1, 0] *= 1 + 1e-6
    result = compare("gradient", "float64", "torch", reference, wrong, name="W1")
    assert not result.passed
    assert result.worst_index == (1, 0)
    # |0.125e-6| / max(0.125, rms) with rms = sqrt((0.25 + 0.0625 + 0.015625 + 4) / 4) = 1.0400...
    assert result.max_rel_error == pytest.approx(0.125e-6 / np.sqrt(4.328125 / 4), rel=1e-6)
    assert "W1" in result.describe() and "MISMATCH" in result.describe()


def test_float32_rounding_passes_but_a_wrong_digit_does_not():
    reference = np.linspace(-1, 1, 12).reshape(3, 4)
    rounded = reference.astype(np.float32).astype(np.float64)  # error <= 2**-24 relative
    assert compare("gradient", "float32", "torch", reference, rounded).passed
    wrong = reference * (1 + 1e-3)  # ten times the float32 gradient tolerance
    assert not compare("gradient", "float32", "torch", reference, wrong).passed


def test_entry_near_zero_by_cancellation_is_judged_against_the_tensor_scale():
    # 1e-17 vs 3e-17: a 200% difference on an entry that is zero up to rounding of O(1) terms.
    reference = np.array([1.0, -0.5, 1e-17])
    candidate = np.array([1.0, -0.5, 3e-17])
    result = compare("gradient", "float64", "torch", reference, candidate)
    assert result.passed
    assert result.max_rel_error == pytest.approx(2e-17 / np.sqrt((1 + 0.25 + 1e-34) / 3))


def test_small_but_genuine_entry_error_is_still_visible():
    # RMS, not max, as the floor: an entry 1e-3 of the RMS that is wrong by 10% must fail.
    reference = np.array([1.0, 1.0, 1.0, 1e-3])
    candidate = np.array([1.0, 1.0, 1.0, 1.1e-3])
    assert not compare("gradient", "float64", "torch", reference, candidate).passed


def test_updated_params_compare_displacements_not_values():
    theta0 = np.array([100.0, -100.0])
    reference = theta0 - np.array([1e-3, 2e-3])
    candidate = theta0 - np.array([1e-3, 2e-3]) * (1 + 1e-8)  # step off by 1e-8 relative
    # As values, 1e-8 * 2e-3 / 100 = 2e-13 would pass the float64 rtol; as a displacement it must not.
    result = compare("updated_params", "float64", "torch", reference, candidate, initial=theta0)
    assert not result.passed
    assert compare("updated_params", "float64", "torch", reference, reference.copy(), initial=theta0).passed


def test_nan_fails_and_matching_inf_passes():
    assert not compare("cost", "float64", "torch", 1.0, float("nan")).passed
    assert compare("cost", "float64", "torch", float("inf"), float("inf")).passed


def test_shape_mismatch_is_an_error_naming_both_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        compare("gradient", "float64", "torch", np.zeros(2), np.zeros(3))


def test_unknown_quantity_and_dtype_are_refused():
    with pytest.raises(ValueError, match="quantity"):
        tolerance_for("hessian", "float64", "torch")
    with pytest.raises(ValueError, match="dtype"):
        tolerance_for("gradient", "float16", "torch")


def test_every_tolerance_has_a_reason_and_a_finite_value():
    for key, tolerance in TOLERANCES.items():
        assert tolerance.reason.strip(), key
        assert 0.0 <= tolerance.rtol < 1.0 and 0.0 <= tolerance.atol < 1.0, key


def test_float64_framework_gradient_tolerance_is_near_1e_12():
    # The target: same math in float64 agrees to about 1e-12 relative.
    for framework in ("torch", "tensorflow"):
        assert 1e-13 <= TOLERANCES[("gradient", "float64", framework)].rtol <= 1e-11


def test_op_row_override_loosens_only_matching_oracles_and_dtypes():
    config = ModelConfig((3, 4, 1), ("leaky_relu", "sigmoid"), "bce")
    base = TOLERANCES[("gradient", "float64", "tensorflow")].rtol
    loosened = tolerance_for("gradient", "float64", "tensorflow/functional", config)
    assert loosened.rtol > base and "leaky_relu" in loosened.reason
    assert tolerance_for("gradient", "float64", "torch/functional", config).rtol == TOLERANCES[
        ("gradient", "float64", "torch")].rtol
    assert tolerance_for("gradient", "float32", "tensorflow/functional", config).rtol == TOLERANCES[
        ("gradient", "float32", "tensorflow")].rtol


@pytest.mark.torch
@pytest.mark.parametrize("dtype, relative_error", [("float64", 1e-6), ("float32", 1e-2)])
def test_a_wrong_reference_gradient_is_caught_against_torch(dtype: str, relative_error: float):
    """A reference whose dW1 is off by 1e-6 relative (float64) or 1e-2 (float32) in one entry disagrees
    with torch, and the report names the parameter and the element."""
    oracle = require(ORACLES["torch/functional"])
    config = ops.example_configs(ops.op("tanh"), dtype)[0]
    params, expected, result = cached_run(oracle, config)
    wrong_gradients = {name: value.copy() for name, value in expected.gradients.items()}
    index = np.unravel_index(np.argmax(np.abs(wrong_gradients["W2"])), wrong_gradients["W2"].shape)
    wrong_gradients["W2"][index] *= 1 + relative_error
    wrong = dataclasses.replace(expected, gradients=wrong_gradients)
    comparisons = compare_results(wrong, result, config, params)
    failing = [c for c in comparisons if not c.passed]
    assert [(c.quantity, c.name, c.worst_index) for c in failing] == [("gradient", "W2", tuple(int(i) for i in index))]
    with pytest.raises(AssertionError, match="gradient W2"):
        assert_agree(wrong, result, config, params)


@pytest.mark.torch
def test_measure_agreement_reports_the_running_error_floor_figures_within_the_scaled_table(capsys):
    """``python -m equivalence_tests.measure_agreement --error-scale``: the figures behind
    SCALED_TOLERANCES. On a few models each printed max stays under the scaled rtol it prints, and
    the max/eps column is the max divided by the dtype's eps."""
    pytest.importorskip("torch")
    from equivalence_tests import measure_agreement

    table = measure_agreement.measure(3, seed=5, error_scale=True)
    assert table, "no oracle ran"
    for (quantity, dtype, oracle, tag), worst in table.items():
        if tag or "+" in oracle:  # op-row overrides and the plain-Keras-conventions path are not the table's
            continue
        rtol = tolerance_for(quantity, dtype, oracle, scaled=True).rtol
        assert worst.error <= rtol, (quantity, dtype, oracle, worst.error, rtol, worst.model)
    measure_agreement.main(["--models", "1", "--seed", "5", "--error-scale"])
    out = capsys.readouterr().out
    assert "max/eps" in out and "running-error floor" in out
