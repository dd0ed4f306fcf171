"""The JAX column of the normalization conventions: Flax's ``nnx.BatchNorm`` / ``nnx.LayerNorm``
(what JAX users port to), measured live. Every expected number is derived here by hand from Flax's
documented defaults (momentum 0.99 weighing the old value, epsilon 1e-5 for BatchNorm and 1e-6 for
LayerNorm, the biased batch variance), never taken from the module under test."""

from __future__ import annotations

import math

import pytest

from equivalence_tests import conventions as cv
from equivalence_tests.conventions import normalization

pytest.importorskip("jax")
pytest.importorskip("flax")

# Flax keeps running statistics in float32 (measured: RUNNING_BITS_CASE): one float32 rounding, 6e-8.
FLOAT32_ROUNDING = 1.2e-7
FLOAT64_FEW_ULPS = 1e-12  # a mean, a variance and a square root of 4 numbers in float64


def flax(result: cv.ConventionResult) -> dict:
    measurement = result.measurement("jax")
    assert measurement.status == cv.MEASURED, f"{result.name} / Flax: {measurement.status}"
    return measurement.value


def normalized_first(eps: float) -> float:
    narrow = normalization.NARROW[0]
    return (narrow[0] - narrow.mean()) / math.sqrt(narrow.var() + eps)


def test_flax_batchnorm_momentum_weighs_the_old_value_and_eps_is_torchs():
    result = normalization.batchnorm_momentum_and_eps()
    value, mean = flax(result), normalization.BATCH.mean()
    assert value[normalization.MOMENTUM_CASE] == pytest.approx((1 - 0.99) * mean, rel=FLOAT32_ROUNDING), \
        "Flax momentum 0.99 weighs the old value (as Keras)"
    assert value["running_mean after 1 step, momentum=0.9 (= 1 - torch's 0.1)"] == pytest.approx(
        0.1 * mean, rel=FLOAT32_ROUNDING), "Flax momentum 0.9 = torch's 0.1"
    assert value[normalization.EPS_CASE] == 1e-5, "Flax BatchNorm epsilon 1e-5, as torch"
    assert value[normalization.NARROW_CASE] == pytest.approx(normalized_first(1e-5), rel=FLOAT64_FEW_ULPS)
    assert value[normalization.RUNNING_BITS_CASE] == 32, "Flax's running statistics are float32 in a float64 layer"
    assert result.measurement("jax").agrees is False, "the momentum meaning differs from the reference's"


def test_flax_batchnorm_running_variance_is_biased():
    batch = normalization.BATCH[0]
    value = flax(normalization.batchnorm_running_variance())
    assert value[normalization.VARIANCE_CASE] == pytest.approx(0.9 + 0.1 * batch.var(), rel=FLOAT32_ROUNDING), \
        "Flax: biased running variance (3.5, not 14/3)"


def test_flax_layernorm_eps_is_1e_6():
    value = flax(normalization.layernorm_eps())
    assert value[normalization.EPS_CASE] == 1e-6, "Flax LayerNorm epsilon"
    assert value[normalization.NARROW_CASE] == pytest.approx(normalized_first(1e-6), rel=FLOAT64_FEW_ULPS), \
        "Flax normalizes with its own eps 1e-6"
