"""The running-error floor (equivalence_tests.error_scale) stays small enough that real bugs show.

The agreement properties divide ``|r - c|`` by ``max(|r|, |c|, rms, M)`` with ``M`` the running-error
magnitude (a worst-case bound: the sum of |terms|, compounded through the layers). If ``M`` grew far
above the values, a wrong gradient could hide under it. Two checks:

* fixed well-conditioned models (He weights, widths 4-8, depth 2-3, tanh / relu hidden layers,
  mse, batch 8, seeds 0-49): ``max M <= 1e3 rms(gradient)`` for every gradient tensor, and a
  gradient scaled by ``1 + 1e-6`` (float64) or ``1 + 1e-3`` (float32) is a mismatch for the table;
* Hypothesis-drawn float64 models (classic / He weights, any loss): a ``1 + 1e-6`` error is caught in
  every gradient tensor that is not itself cancellation noise (``max M <= 1e5 rms``; beyond that the
  gradient is rounding of terms 1e5 times larger, and a relative error of it means nothing).

Measured (2026-11-22, rtol 32 eps): fixed models max M / rms 5.9e2; planted-bug margin (normalized
error / rtol) at least 6.2e5 in float64 and only 1.16 in float32 (median 14): the worst-case bound
leaves float32 just enough room to see a 1e-3 bug in well-conditioned models. Over 1000 gradient
tensors of measure_agreement's random models (all losses and activations) a 1e-3 float32 error goes
unseen in 10% of tensors (those with heavy cancellation); a 1e-6 float64 error is always caught
(margin >= 1.1e4).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.error_scale import error_scales, gradient_scales
from equivalence_tests.oracles import ReferenceOracle
from equivalence_tests.profiles import property_settings
from equivalence_tests.strategies import ExampleRecipe, model_configs, models
from equivalence_tests.tolerances import compare

SCALE_BOUND = 1e3  # well-conditioned: M at most this many times the gradient RMS
CANCELLATION_LIMIT = 1e5  # beyond this M / rms the gradient is rounding of much larger terms
PLANTED = {"float64": 1e-6, "float32": 1e-3}  # relative gradient errors the table must catch


def well_conditioned_model(seed: int, dtype: str):
    rng = np.random.default_rng(seed)
    dims = tuple(int(n) for n in rng.integers(4, 9, size=int(rng.integers(3, 5)) - 1)) + (1,)
    hidden = tuple(str(rng.choice(["tanh", "relu"])) for _ in dims[2:])
    config = ModelConfig(dims, (*hidden, "identity"), "mse", dtype=dtype)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) * np.sqrt(2 / dims[l - 1])).astype(dtype)
        params[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    X = rng.standard_normal((dims[0], 8)).astype(dtype)
    Y = rng.standard_normal((1, 8)).astype(dtype)
    return config, params, X, Y


def planted_margin(config, gradient, scale, relative: float) -> float:
    """normalized error / rtol of ``gradient * (1 + relative)`` against ``gradient`` (> 1: caught)."""
    planted = gradient.astype(np.float64) * (1 + relative)
    verdict = compare("gradient", config.dtype, "torch", gradient, planted, config=config, error_scale=scale)
    assert verdict.passed is (verdict.max_rel_error <= verdict.tolerance.rtol)
    return verdict.max_rel_error / verdict.tolerance.rtol


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_error_scale_of_well_conditioned_models_is_bounded_and_planted_bugs_are_caught(dtype):
    ratios, margins = [], []
    for seed in range(50):
        config, params, X, Y = well_conditioned_model(seed, dtype)
        gradients = ReferenceOracle().run(config, params, X, Y).gradients
        scales = error_scales(config, params, X, Y)
        for name, gradient in gradients.items():
            rms = float(np.sqrt(np.mean(gradient.astype(np.float64) ** 2)))
            ratios.append(float(np.max(scales.gradients[name])) / rms)
            margins.append(planted_margin(config, gradient, scales.gradients[name], PLANTED[dtype]))
    assert max(ratios) <= SCALE_BOUND, f"max error scale / rms {max(ratios):.3g} > {SCALE_BOUND:g}"
    assert min(margins) > 1, f"a planted {PLANTED[dtype]:g} error passed (margin {min(margins):.3g})"


@property_settings("error_scale/planted_bug_caught")
@given(models(model_configs(dtype="float64", max_depth=4, max_width=8), scales=st.sampled_from(["classic", "he"])))
def test_planted_float64_gradient_bug_is_caught_unless_the_gradient_is_cancellation_noise(example):
    config = example.config
    gradients = ReferenceOracle().run(config, example.params, example.X, example.Y).gradients
    scales = error_scales(config, example.params, example.X, example.Y)
    for name, gradient in gradients.items():
        rms = float(np.sqrt(np.mean(gradient ** 2)))
        noise = rms == 0 or float(np.max(scales.gradients[name])) > CANCELLATION_LIMIT * rms
        if noise:
            event("a gradient tensor is cancellation noise (skipped)")
            continue
        margin = planted_margin(config, gradient, scales.gradients[name], PLANTED["float64"])
        assert margin > 1, f"a planted 1e-6 error in d{name} passed (margin {margin:.3g}) on {config.describe()}"


def test_gradient_scales_are_those_of_the_initial_parameters_when_several_steps_are_taken():
    """The compared gradients are taken at the initial parameters, so their error scales must be
    too, not those of the last optimizer iterate. Regression (thorough run, 2026-11-23): in this
    12-1-7-1-1-1 model the relu unit of layer 4 switches off after the first SGD step, the last
    iterate's scales were 0 upstream of it, and a 137-eps rounding difference from torch was
    judged against the underflow floor alone."""
    example = ExampleRecipe(
        config=ModelConfig(layer_dims=(12, 1, 7, 1, 1, 1), activations=("tanh", "identity", "identity", "relu",
                                                                          "identity"),
                           loss="mse", optimizer=OptimizerConfig(name="sgd", learning_rate=0.001), steps=2,
                           dtype="float64"),
        batch_size=1, seed=8572, weight_scale="he", input_kind="uniform", bias_kind="small", kinks=False,
        kink_layers=3).build()
    *_, at_initial = gradient_scales(example.config, example.params, example.X, example.Y)
    scales = error_scales(example.config, example.params, example.X, example.Y)
    underflow = float(np.finfo(np.float64).tiny / np.finfo(np.float64).eps)
    for name, expected in at_initial.items():
        np.testing.assert_allclose(scales.gradients[name], expected + underflow, rtol=0, atol=0, err_msg=name)
    assert float(np.max(scales.gradients["W1"])) > 1.0  # the upstream scale is alive, not the floor


@pytest.mark.parametrize(("dtype", "optimizer", "planted"), [
    ("float64", "adam", 1e-6), ("float64", "sgd", 1e-6), ("float32", "sgd", 1e-2), ("float32", "adam", 1e-1)])
def test_planted_error_in_a_three_step_displacement_is_caught(dtype, optimizer, planted):
    """Displacements after 3 steps carry the optimizer's error bound, and for Adam the iterates' own
    uncertainty (an entry whose gradient is rounding noise may step +-lr). How much that costs,
    measured on the well-conditioned models (seeds 0-29, min / median margin = normalized error /
    rtol of a planted relative error): float64 1e-6 caught with margin >= 1.5e4 (Adam) and 2.9e5
    (SGD momentum); float32 SGD 1e-2: >= 5.5 (median 72); float32 Adam 1e-1: >= 2.8 (median 1e2),
    and 1e-3 only in half the tensors (median 1.0): Adam's normalization makes float32 multi-step
    trajectories agree to about 1e-2, not to eps."""
    config_optimizer = (OptimizerConfig("adam", learning_rate=0.01) if optimizer == "adam"
                        else OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9))
    margins = []
    for seed in range(30):
        config, params, X, Y = well_conditioned_model(seed, dtype)
        config = dataclasses.replace(config, optimizer=config_optimizer, steps=3)
        updated = ReferenceOracle().run(config, params, X, Y).updated_params
        scales = error_scales(config, params, X, Y)
        for name, theta0 in params.items():
            displacement = updated[name].astype(np.float64) - theta0
            planted_theta = theta0 + displacement * (1 + planted)
            verdict = compare("updated_params", dtype, "torch", updated[name], planted_theta, config=config,
                              initial=theta0, error_scale=scales.updated_params[name])
            margins.append(verdict.max_rel_error / verdict.tolerance.rtol)
    assert min(margins) > 1, f"a planted {planted:g} displacement error passed (margin {min(margins):.3g})"
