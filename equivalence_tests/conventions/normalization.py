"""Normalization conventions (BatchNorm momentum, epsilon and running variance; LayerNorm
epsilon), measured live on tiny inputs in float64.

torch's ``BatchNorm1d`` and ``LayerNorm`` against Keras' ``BatchNormalization`` and
``LayerNormalization``. JAX itself has no normalization layers (they live in Flax, which is not a
dependency here), so its cells are "not measured".
"""

from __future__ import annotations

import numpy as np

import reference_nn as rn
from equivalence_tests.conventions.measuring import Convention

BATCH = np.array([[1.0, 2.0, 3.0, 6.0]])  # one feature, m = 4: mean 3, biased variance 3.5, unbiased 14/3
NARROW = np.array([[0.0, 0.01, 0.02, 0.03]])  # variance 1.25e-4: an eps of 1e-3 is 8x the variance
MOMENTUM_CASE = "running_mean after 1 training step from 0 (default momentum)"
EPS_CASE = "default eps"
NARROW_CASE = "normalized first entry of [0, 0.01, 0.02, 0.03] (default eps)"


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


batchnorm_momentum_and_eps = Convention(
    name="batchnorm_momentum_and_eps",
    family="normalization",
    question="BatchNorm momentum: weight of the new batch statistic (torch 0.1) or of the old value (Keras 0.99)? "
             "And the default eps (1e-5 vs 1e-3)",
    setup="one feature, batch [1, 2, 3, 6] (mean 3) in training mode from running_mean 0; batch "
          "[0, 0.01, 0.02, 0.03] (variance 1.25e-4) for eps; float64, default constructors",
    reference=_batchnorm_reference,
    tolerance=1e-15,
    tolerance_reason="a mean of 4 small integers times a dyadic-free momentum, and one normalization: a few ulps",
    twins={"torch": _batchnorm_torch, "tensorflow": _batchnorm_tensorflow},
    harness_action="the reference keeps torch's meaning (BatchNorm(momentum=0.1) = Keras momentum=0.9) and torch's "
                   "eps 1e-5; a Keras twin must be given momentum = 1 - torch's and epsilon=1e-5 explicitly",
)

VARIANCE_CASE = "running_var after 1 step from 1 (momentum 0.1, Keras 0.9)"


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


batchnorm_running_variance = Convention(
    name="batchnorm_running_variance",
    family="normalization",
    question="BatchNorm's running variance: the batch's unbiased (torch) or biased (Keras) variance?",
    setup="one feature, batch [1, 2, 3, 6] (biased variance 3.5, unbiased 14/3) in training mode from "
          "running_var 1, momentum translated (torch 0.1, Keras 0.9), float64",
    reference=_variance_reference,
    tolerance=1e-15,
    tolerance_reason="one weighted average of two numbers ~1: one or two roundings of 1.1e-16",
    twins={"torch": _variance_torch, "tensorflow": _variance_tensorflow},
    harness_action="training-mode outputs normalize with the biased variance everywhere (they agree); eval-mode "
                   "outputs after k steps differ by the factor m / (m - 1) in the variance's update: compare running "
                   "statistics with torch, or scale Keras' moving_variance update by m / (m - 1)",
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


layernorm_eps = Convention(
    name="layernorm_eps",
    family="normalization",
    question="LayerNorm's default eps (torch 1e-5, Keras 1e-3), and what it does to a sample of small variance",
    setup="one sample with features [0, 0.01, 0.02, 0.03] (variance 1.25e-4), default constructors, float64",
    reference=_layernorm_reference,
    tolerance=1e-14,
    tolerance_reason="a mean, a variance of 4 values, a square root and a division, in a different order: a few ulps",
    twins={"torch": _layernorm_torch, "tensorflow": _layernorm_tensorflow},
    harness_action="the reference uses torch's 1e-5; a Keras twin must pass epsilon=1e-5 (at 1e-3 this sample's "
                   "normalized values shrink from -1.29 to -0.45)",
)

ROWS: tuple[Convention, ...] = (batchnorm_momentum_and_eps, batchnorm_running_variance, layernorm_eps)
