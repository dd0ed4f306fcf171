"""Normalized models (ModelConfig.normalization: BatchNorm or LayerNorm between LINEAR and every
hidden activation, in train or eval mode) agree between the reference and every oracle path, on
Hypothesis-drawn models (depth up to 4, widths up to 8, every loss, SGD variants, both dtypes).

Comparison: the RMS-floored tolerance table (equivalence_tests.tolerances.TOLERANCES, op-row
overrides included): the running-error floor (error_scale) has no rules for normalizations yet.
Narrowings, each stated where the strategies apply it (equivalence_tests.strategies): classic and
He weights; BatchNorm with m >= 3 and no repeated samples, LayerNorm over >= 3 features, and
normalized layers with >= 2 inputs, because outside those the normalized output does not depend on W
at all and W's gradient is 0 in theory and rounding noise in every implementation. Measured over
40 examples before this test was written: the worst error was 0.22 of its tolerance (TF float32
updated parameters); the batch_norm row's float64 override for adaptive optimizers came from a
failure of this test (its reason says why)."""

from __future__ import annotations

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from equivalence_tests.oracles import FiniteDifferenceOracle, ReferenceOracle, framework_oracles
from equivalence_tests.oracles.base import UnsupportedConfiguration
from equivalence_tests.profiles import property_settings
from equivalence_tests.strategies import model_configs, models
from equivalence_tests.tolerances import assert_agree

# one instance each (frameworks import once); the Keras path is left to the op-table tests: building a Keras
# model per example costs ~1 s of CPU, more than the other paths together
ORACLES = [*(o for o in framework_oracles() if o.name != "tensorflow/keras"), FiniteDifferenceOracle()]
# Each framework is its own test with its own examples (profiles.EXAMPLE_BUDGETS "agreement/normalized/<id>",
# 30 in ci; JAX 6: one XLA compile per drawn model, ~1.4 s). CPU seconds of each ci test in its own pytest
# process, imports included (2026-12-05, 2-core machine at load 9, so wall times were 3-4x these): torch 6.2,
# TF functional 8.3, JAX 5.8, finite differences 2.3; the former single test ran 6 examples in ~15 s.
PATHS = {"torch": ("torch/functional", "torch/layers"), "tensorflow_functional": ("tensorflow/functional",),
         "jax_functional": ("jax/functional",), "finite_difference": ("finite_difference/complex",)}
# SGD (plain, momentum, Nesterov, weight decay) only: a BatchNorm layer's W-gradient has entries that cancel to
# rounding level (it is orthogonal to W's rows), and the Adam family turns those into steps of +-lr in either
# implementation, beyond this RMS-floored table in float32 (measured 3.8e-4 against rtol 2e-4, one Adam step);
# the running-error floor that describes it has no normalization rules yet. The op-table examples of the
# batch_norm / layer_norm rows take Adam steps.
NORMALIZED_MODELS = models(configs=model_configs(normalizations=("batch", "layer"), max_depth=4, max_width=8,
                                                 optimizers=("sgd",)),
                           scales=st.sampled_from(["classic", "he"]))


@pytest.mark.slow
@pytest.mark.parametrize("path_id", list(PATHS))
def test_normalized_models_agree_with_every_oracle(path_id):
    oracles = [oracle for oracle in ORACLES if oracle.name in PATHS[path_id]]
    if not any(oracle.available for oracle in oracles):
        pytest.skip(f"{path_id}: not installed")

    @property_settings(f"agreement/normalized/{path_id}")
    @given(example=NORMALIZED_MODELS)
    def agree(example):
        _agree_with(example, [oracle for oracle in oracles if oracle.available])

    agree()


def _agree_with(example, oracles) -> None:
    config = example.config
    expected = ReferenceOracle().run(config, example.params, example.X, example.Y)
    compared = 0
    for oracle in oracles:
        try:
            result = oracle.run(config, example.params, example.X, example.Y)
        except UnsupportedConfiguration:
            continue  # a path the op table says cannot compute this model
        comparisons = assert_agree(expected, result, config, example.params)
        assert len(comparisons) == 2 + 2 * len(example.params), f"{oracle.name}: a quantity was not compared"
        compared += 1
    event(f"paths compared: {compared}")
