"""Normalization conventions (BatchNorm momentum, epsilon and running variance; LayerNorm
epsilon), measured live on tiny inputs in float64.

torch's ``BatchNorm1d`` and ``LayerNorm`` against Keras' ``BatchNormalization`` and
``LayerNormalization`` and, in the JAX column, Flax's ``flax.nnx.BatchNorm`` and ``flax.nnx.LayerNorm``
(core JAX has no normalization layers; Flax is what JAX users port to: the ``flax`` extra). Without
Flax the JAX cells say ``not installed: flax``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import reference_nn as rn
from equivalence_tests.conventions.measuring import Convention

BATCH = np.array([[1.0, 2.0, 3.0, 6.0]])  # one feature, m = 4: mean 3, biased variance 3.5, unbiased 14/3
NARROW = np.array([[0.0, 0.01, 0.02, 0.03]])  # variance 1.25e-4: an eps of 1e-3 is 8x the variance
MOMENTUM_CASE = "running_mean after 1 training step from 0 (default momentum)"
EPS_CASE = "default eps"
NARROW_CASE = "normalized first entry of [0, 0.01, 0.02, 0.03] (default eps)"


def _nnx(ns) -> Any:
    """``flax.nnx`` (raises ModuleNotFoundError naming flax when it is not installed: the row reports
    ``not installed: flax``). The JAX twins run inside the float64 JAX context of measuring.py."""
    with warnings.catch_warnings():  # Flax's own import-time deprecations, not the caller's business
        warnings.simplefilter("ignore", DeprecationWarning)
        from flax import nnx
    return nnx


def _flax_layer(ns, build) -> Any:
    """A Flax layer in float64 (parameters and computation), built with a fixed seed."""
    nnx, jnp = _nnx(ns), ns.jnp
    return build(nnx, dict(rngs=nnx.Rngs(0), dtype=jnp.float64, param_dtype=jnp.float64))


def _flax_twin(twin):
    """Run a Flax twin without JAX's FutureWarning about Flax writing a float64 batch statistic into its
    float32 running statistics (Flax keeps them in float32 whatever the layer's dtype: measured below as
    a case of its own, not an error of the measurement)."""

    def run(ns) -> dict[str, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return twin(ns)

    return run


RUNNING_BITS_CASE = "bits of the running statistics in a float64 layer"


def _batchnorm_reference() -> dict[str, float]:
    layer = rn.BatchNorm(1)
    layer.forward(BATCH)
    narrow = rn.BatchNorm(1).forward(NARROW)
    return {MOMENTUM_CASE: float(layer.running_mean[0, 0]), EPS_CASE: layer.eps, NARROW_CASE: float(narrow[0, 0])}


def _batchnorm_torch(torch) -> dict[str, float]:
    module = torch.nn.BatchNorm1d(1, dtype=torch.float64)
    module(torch.tensor(BATCH.T))
    narrow = torch.nn.BatchNorm1d(1, dtype=torch.float64)(torch.tensor(NARROW.T))
    return {MOMENTUM_CASE: float(module.running_mean[0]), EPS_CASE: float(module.eps),
            NARROW_CASE: float(narrow.detach()[0, 0])}


def _batchnorm_tensorflow(ns) -> dict[str, float]:
    keras = ns.keras
    layer = keras.layers.BatchNormalization(dtype="float64")
    layer(BATCH.T, training=True)
    translated = keras.layers.BatchNormalization(momentum=0.9, dtype="float64")
    translated(BATCH.T, training=True)
    narrow = keras.layers.BatchNormalization(dtype="float64")(NARROW.T, training=True)
    return {MOMENTUM_CASE: float(layer.moving_mean.numpy()[0]), EPS_CASE: float(layer.epsilon),
            NARROW_CASE: float(narrow.numpy()[0, 0]),
            "running_mean after 1 step, momentum=0.9 (= 1 - torch's 0.1)": float(translated.moving_mean.numpy()[0])}


@_flax_twin
def _batchnorm_flax(ns) -> dict[str, float]:
    def batchnorm(**options):
        return _flax_layer(ns, lambda nnx, f64: nnx.BatchNorm(1, use_running_average=False, **options, **f64))

    layer, translated, narrow_layer = batchnorm(), batchnorm(momentum=0.9), batchnorm()
    layer(ns.jnp.asarray(BATCH.T))
    translated(ns.jnp.asarray(BATCH.T))
    narrow = narrow_layer(ns.jnp.asarray(NARROW.T))
    return {MOMENTUM_CASE: float(layer.mean[...][0]), EPS_CASE: float(layer.epsilon),
            NARROW_CASE: float(narrow[0, 0]),
            "running_mean after 1 step, momentum=0.9 (= 1 - torch's 0.1)": float(translated.mean[...][0]),
            RUNNING_BITS_CASE: float(8 * layer.mean[...].dtype.itemsize)}


batchnorm_momentum_and_eps = Convention(
    name="batchnorm_momentum_and_eps",
    family="normalization",
    question="BatchNorm momentum: weight of the new batch statistic (torch 0.1) or of the old value (Keras, "
             "Flax 0.99)? And the default eps (torch, Flax 1e-5; Keras 1e-3)",
    setup="one feature, batch [1, 2, 3, 6] (mean 3) in training mode from running_mean 0; batch "
          "[0, 0.01, 0.02, 0.03] (variance 1.25e-4) for eps; float64, default constructors",
    reference=_batchnorm_reference,
    tolerance=1e-15,
    tolerance_reason="a mean of 4 small integers times a dyadic-free momentum, and one normalization: a few ulps",
    twins={"torch": _batchnorm_torch, "tensorflow": _batchnorm_tensorflow, "jax": _batchnorm_flax},
    harness_action="the reference keeps torch's meaning (BatchNorm(momentum=0.1) = Keras / Flax momentum=0.9) and "
                   "torch's eps 1e-5; a Keras twin must be given momentum = 1 - torch's and epsilon=1e-5 explicitly, "
                   "a Flax nnx.BatchNorm twin momentum = 1 - torch's; Flax keeps running statistics in float32 even "
                   "in a float64 layer: compare them at float32 precision",
)

VARIANCE_CASE = "running_var after 1 step from 1 (momentum 0.1, Keras 0.9)"  # Flax: 0.9 as Keras


def _variance_reference() -> dict[str, float]:
    layer = rn.BatchNorm(1, momentum=0.1)
    layer.forward(BATCH)
    return {VARIANCE_CASE: float(layer.running_var[0, 0])}


def _variance_torch(torch) -> dict[str, float]:
    module = torch.nn.BatchNorm1d(1, momentum=0.1, dtype=torch.float64)
    module(torch.tensor(BATCH.T))
    return {VARIANCE_CASE: float(module.running_var[0])}


def _variance_tensorflow(ns) -> dict[str, float]:
    layer = ns.keras.layers.BatchNormalization(momentum=0.9, dtype="float64")
    layer(BATCH.T, training=True)
    return {VARIANCE_CASE: float(layer.moving_variance.numpy()[0])}


@_flax_twin
def _variance_flax(ns) -> dict[str, float]:
    layer = _flax_layer(ns, lambda nnx, f64: nnx.BatchNorm(1, momentum=0.9, use_running_average=False, **f64))
    layer(ns.jnp.asarray(BATCH.T))
    return {VARIANCE_CASE: float(layer.var[...][0])}


batchnorm_running_variance = Convention(
    name="batchnorm_running_variance",
    family="normalization",
    question="BatchNorm's running variance: the batch's unbiased (torch) or biased (Keras, Flax) variance?",
    setup="one feature, batch [1, 2, 3, 6] (biased variance 3.5, unbiased 14/3) in training mode from "
          "running_var 1, momentum translated (torch 0.1, Keras 0.9), float64",
    reference=_variance_reference,
    tolerance=1e-15,
    tolerance_reason="one weighted average of two numbers ~1: one or two roundings of 1.1e-16",
    twins={"torch": _variance_torch, "tensorflow": _variance_tensorflow, "jax": _variance_flax},
    harness_action="training-mode outputs normalize with the biased variance everywhere (they agree); eval-mode "
                   "outputs after k steps differ by the factor m / (m - 1) in the variance's update: compare running "
                   "statistics with torch, or scale Keras' moving_variance (Flax's var) update by m / (m - 1)",
)


def _layernorm_reference() -> dict[str, float]:
    layer = rn.LayerNorm(4)
    return {EPS_CASE: layer.eps, NARROW_CASE: float(layer.forward(NARROW.T)[0, 0])}


def _layernorm_torch(torch) -> dict[str, float]:
    module = torch.nn.LayerNorm(4, dtype=torch.float64)
    return {EPS_CASE: float(module.eps), NARROW_CASE: float(module(torch.tensor(NARROW)).detach()[0, 0])}


def _layernorm_tensorflow(ns) -> dict[str, float]:
    layer = ns.keras.layers.LayerNormalization(dtype="float64")
    return {EPS_CASE: float(layer.epsilon), NARROW_CASE: float(layer(NARROW).numpy()[0, 0])}


@_flax_twin
def _layernorm_flax(ns) -> dict[str, float]:
    layer = _flax_layer(ns, lambda nnx, f64: nnx.LayerNorm(4, **f64))
    return {EPS_CASE: float(layer.epsilon), NARROW_CASE: float(layer(ns.jnp.asarray(NARROW))[0, 0])}


layernorm_eps = Convention(
    name="layernorm_eps",
    family="normalization",
    question="LayerNorm's default eps (torch 1e-5, Keras 1e-3, Flax 1e-6), and what it does to a sample of small "
             "variance",
    setup="one sample with features [0, 0.01, 0.02, 0.03] (variance 1.25e-4), default constructors, float64",
    reference=_layernorm_reference,
    tolerance=1e-14,
    tolerance_reason="a mean, a variance of 4 values, a square root and a division, in a different order: a few ulps",
    twins={"torch": _layernorm_torch, "tensorflow": _layernorm_tensorflow, "jax": _layernorm_flax},
    harness_action="the reference uses torch's 1e-5; a Keras twin must pass epsilon=1e-5 (at 1e-3 this sample's "
                   "normalized values shrink from -1.29 to -0.45), a Flax nnx.LayerNorm twin epsilon=1e-5 (at 1e-6: "
                   "-1.336)",
)

ROWS: tuple[Convention, ...] = (batchnorm_momentum_and_eps, batchnorm_running_variance, layernorm_eps)
