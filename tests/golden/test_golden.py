"""Golden results of the deterministic reference (pytest-regressions' ndarrays_regression).

The .npz files in ``tests/golden/test_golden/`` hold the forward output, cost, gradients and
parameters after 3 optimizer steps of each model in ``equivalence_tests.golden_models``.
A change in the reference's numbers fails here and pytest-regressions writes the obtained
values (``*.obtained.npz``) beside a temporary copy of the golden file for review; nothing is
overwritten unless ``nox -s regenerate`` (``--force-regen``) is run on purpose.
"""

import numpy as np
import pytest

import reference_nn as rn
from equivalence_tests.golden_models import GOLDEN_MODELS, reference_results

# Why these tolerances. The golden data must survive a different BLAS, CPU or NumPy release
# (summation order changes results by a few ulps, amplified by cancellation in gradients)
# yet catch any formula changed by a relative 1e-9 (test_a_1e-9_change_fails below).
# float64: eps = 2.2e-16; rtol 1e-11 is ~45,000 ulps of headroom for reordering across
# a few layers, and still 100x below 1e-9. atol is relative to the tensor's largest entry
# (1e-11 of it), so that entries that are nearly zero by cancellation do not trip rtol.
# float32: eps = 1.2e-7; a 1e-9 change is below float32's resolution and cannot be seen,
# so float32 goldens guard against changes of ~1e-5 and more: rtol 2e-5 is ~170 ulps.
RELATIVE_TOLERANCE = {"float64": 1e-11, "float32": 2e-5}


def tolerances_for(results, dtype):
    rtol = RELATIVE_TOLERANCE[dtype]
    return {key: {"rtol": rtol, "atol": rtol * float(np.max(np.abs(value)))} for key, value in results.items()}


@pytest.mark.parametrize("model", GOLDEN_MODELS, ids=lambda model: model.name)
def test_reference_matches_golden(model, ndarrays_regression):
    results = reference_results(model)
    ndarrays_regression.check(results, basename=model.name, tolerances=tolerances_for(results, model.config.dtype))


PERTURBATIONS = {
    # name: (object, attribute) whose function is wrapped to scale its output by (1 + 1e-9)
    "linear_forward": ("model", "linear_forward"),
    "linear_backward": ("model", "linear_backward"),
    "relu": (rn.ReLU, "evaluate"),
    "relu_backward": (rn.ReLU, "backpropagate"),
    "leaky_relu": (rn.LeakyReLU, "evaluate"),
    "leaky_relu_backward": (rn.LeakyReLU, "backpropagate"),
    "sigmoid": (rn.Sigmoid, "evaluate"),
    "sigmoid_backward": (rn.Sigmoid, "backpropagate"),
    "tanh": (rn.Tanh, "evaluate"),
    "tanh_backward": (rn.Tanh, "backpropagate"),
    "softmax": (rn.Softmax, "evaluate"),
    "softmax_backward": (rn.Softmax, "backpropagate"),
    "mse": (rn.LOSSES["mse"], "value"),
    "mse_gradient": (rn.LOSSES["mse"], "gradient"),
    "bce": (rn.LOSSES["bce"], "value"),
    "bce_fused_gradient": (rn.LOSSES["bce"], "fused_gradient"),
    # bce after softmax backpropagates AL * d cost / d AL (finite where 1 / AL overflows), not gradient()
    "bce_output_scaled_gradient": (rn.LOSSES["bce"], "output_scaled_gradient"),
    "bce_with_logits": (rn.LOSSES["bce_with_logits"], "value"),
    "bce_with_logits_gradient": (rn.LOSSES["bce_with_logits"], "gradient"),
    "cross_entropy": (rn.LOSSES["cross_entropy"], "value"),
    "cross_entropy_fused_gradient": (rn.LOSSES["cross_entropy"], "fused_gradient"),
    "softmax_cross_entropy": (rn.LOSSES["softmax_cross_entropy"], "value"),
    "softmax_cross_entropy_gradient": (rn.LOSSES["softmax_cross_entropy"], "gradient"),
    "l2_penalty": ("model", "l2_penalty"),
    "l2_gradient": ("model", "l2_gradient"),
    "sgd_update": (rn.SGD, "_update"),
    "adam_update": (rn.Adam, "_update"),
}


def _scaled(function):
    def wrapper(*args, **kwargs):
        out = function(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(value * (1 + 1e-9) for value in out)
        return out * (1 + 1e-9)

    return wrapper


@pytest.mark.parametrize("formula", sorted(PERTURBATIONS))
def test_a_1e_9_change_in_any_formula_fails_the_golden_check(formula, ndarrays_regression, monkeypatch):
    """Meta-test: scaling one formula's output by (1 + 1e-9) must break at least one float64 golden."""
    import reference_nn.model as model_module

    owner, attribute = PERTURBATIONS[formula]
    owner = model_module if owner == "model" else owner
    monkeypatch.setattr(owner, attribute, _scaled(getattr(owner, attribute)))
    failures = 0
    for model in GOLDEN_MODELS:
        if model.config.dtype != "float64":
            continue
        results = reference_results(model)
        try:
            ndarrays_regression.check(results, basename=model.name, tolerances=tolerances_for(results, "float64"))
        except AssertionError:
            failures += 1
        except pytest.fail.Exception:
            failures += 1
    assert failures > 0, f"a 1e-9 relative change in {formula} went unnoticed by every golden model"
