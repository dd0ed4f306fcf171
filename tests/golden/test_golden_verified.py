"""The golden data was produced by the reference; here it is verified by code that shares none
of the reference's backward pass: complex-step derivatives of the cost (gradients), and torch /
TensorFlow / JAX replaying the same models (everything), through the drift report."""

import numpy as np
import pytest

import reference_nn as rn
from equivalence_tests.drift import golden_as_result, load_golden, measure_drift
from equivalence_tests.golden_models import GOLDEN_MODELS, golden_inputs
from equivalence_tests.oracles.base import deliberate_output_pairing
from reference_nn.gradcheck import numerical_gradient


@pytest.mark.parametrize("model", [m for m in GOLDEN_MODELS if m.config.dtype == "float64"], ids=lambda m: m.name)
def test_golden_gradients_equal_complex_step_derivatives(model):
    params, X, Y = golden_inputs(model)
    config = model.config
    activations = config.activation_objects()

    def cost(p):
        common = np.result_type(*p.values())  # one complex-stepped tensor among real ones
        p = {name: value.astype(common) for name, value in p.items()}
        AL, _ = rn.model_forward(X.astype(common), p, activations, config.normalization_spec())
        with deliberate_output_pairing():  # golden models include bce after softmax on purpose
            return rn.compute_cost(AL, Y, config.loss, p, config.l2)

    numeric = numerical_gradient(cost, params, method="complex")
    golden = golden_as_result(model, load_golden(model)).gradients
    for name, value in golden.items():
        # Complex step is exact to ~1e-15 relative (no subtraction); the stored gradient went through
        # a few layers of float64 matmuls. 1e-12 of the tensor's largest entry is ~5,000 ulps of room
        # and still 1,000x below the 1e-9 changes the golden test must catch.
        np.testing.assert_allclose(numeric[name], value, rtol=0, atol=1e-12 * np.abs(value).max(), err_msg=name)


@pytest.mark.torch
@pytest.mark.tensorflow
@pytest.mark.slow
def test_golden_results_agree_with_torch_and_tensorflow():
    rows = measure_drift()
    frameworks = {row["framework"] for row in rows}
    if not frameworks:
        pytest.skip("neither torch nor tensorflow is installed")
    failures = [row for row in rows if not row["within_tolerance"]]
    assert not failures, f"golden data disagrees with a framework beyond the tolerance table: {failures}"


@pytest.mark.jax
@pytest.mark.slow
def test_golden_results_agree_with_jax():
    pytest.importorskip("jax")
    rows = measure_drift(frameworks=("jax",))
    assert {row["framework"] for row in rows} == {"jax"}, "JAX is installed but replayed nothing"
    assert {row["dtype"] for row in rows} == {"float32", "float64"}, "both dtypes of golden models replayed"
    failures = [row for row in rows if not row["within_tolerance"]]
    assert not failures, f"golden data disagrees with JAX beyond the tolerance table: {failures}"
