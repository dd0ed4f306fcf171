"""Where a framework's loss on probabilities follows its own convention at saturation, so that its
cost, gradients and steps there are not comparable with the reference's, and how to tell.

The reference differentiates its own cost exactly (``reference_nn.losses``: from the logits after
sigmoid / softmax, else the exact derivative of the clamped cost). Some framework twins do not:

* torch ``BCELoss`` (both torch paths, ``bce``): its backward divides by ``max(p (1 - p), 1e-12)``
  and its forward clamps ``log(0)`` to -100, so where some ``p (1 - p) < 1e-12`` (``|z| > 27.6``
  after a sigmoid) its gradient is not the derivative of the cost (0 at ``p = 1``, where the cost
  still falls with ``z``), measured live by the conventions row ``bce_gradient_at_saturation``;
* Keras ``binary_crossentropy`` / ``categorical_crossentropy`` on probabilities (the functional TF
  path): ``p`` is clipped to ``[1e-7, 1 - 1e-7]`` first, so outside it the cost is the clip's and the
  gradient 0 (same row; the Keras path takes the logits Keras attaches to its activations and agrees);
* torch's ``cross_entropy`` twin takes ``log(P)``: a probability that underflowed to exactly 0
  gives ``log(0) = -inf`` and NaN where it meets a zero target;
* JAX's twins on probabilities take ``log(p)`` and ``log1p(-p)`` unclamped: a probability of
  exactly 0 or 1 gives an infinite cost and NaN gradients;
* not a framework's but the pairing's: ``bce`` after softmax (no logits form) takes ``log(1 - p)``
  from a probability within 1e-6 of 1, where ``1 - p`` has lost its digits in every implementation
  (the reference's cost included), so no two derivatives there agree to rounding.

:func:`not_comparable` applies these to the reference's outputs along the run (one per gradient the
optimizer steps use) and says, per quantity, which convention makes the oracle's value a different
quantity. ``forward`` is always comparable (the output itself is the same function everywhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import run_steps
from equivalence_tests.oracles.reference_oracle import initial_norm_state, reference_cost_and_gradients
from reference_nn.losses import TORCH_BCE_BACKWARD_EPSILON

KERAS_EPSILON = 1e-7  # keras.config.epsilon(): the probability clip of Keras' losses on probabilities


@dataclass(frozen=True)
class SaturationConvention:
    """One framework path's convention at saturation: which oracles and losses, what it is (in words,
    for the report), and ``applies(AL)``: whether the output ``AL (nL, m)`` is in its range."""

    oracle: str  # a framework ("torch"), one path ("tensorflow/functional"), or "*" for every oracle
    losses: tuple[str, ...]
    convention: str
    applies: Callable[[np.ndarray], bool]
    outputs: tuple[str, ...] = ("sigmoid", "softmax", "identity")  # the output activations it concerns


def _torch_bce_applies(AL: np.ndarray) -> bool:
    AL = AL.astype(np.float64)
    return bool((AL * (1 - AL) < TORCH_BCE_BACKWARD_EPSILON).any())


def _keras_clip_applies(AL: np.ndarray) -> bool:
    return bool(((AL < KERAS_EPSILON) | (AL > 1 - KERAS_EPSILON)).any())


def _zero_probability(AL: np.ndarray) -> bool:
    return bool((AL == 0).any())


def _probability_at_an_edge(AL: np.ndarray) -> bool:
    return bool(((AL == 0) | (AL == 1)).any())


# 1 - p from a probability p this close to 1 keeps only log10(CANCELLATION_MARGIN / eps) of its digits.
CANCELLATION_MARGIN = 1e-6


def _complement_cancels(AL: np.ndarray) -> bool:
    return bool(((AL < 1) & (1 - AL.astype(np.float64) < CANCELLATION_MARGIN)).any())


CONVENTIONS = (
    SaturationConvention(
        "torch", ("bce",),
        f"torch BCELoss divides its backward by max(p (1 - p), {TORCH_BCE_BACKWARD_EPSILON:g}) and clamps log(0) at "
        "-100, so where some p (1 - p) < 1e-12 its gradient is not the derivative of the cost (the reference's is; "
        "conventions row bce_gradient_at_saturation)",
        _torch_bce_applies),
    SaturationConvention(
        "tensorflow/functional", ("bce", "cross_entropy", "kl_div"),
        f"Keras losses on probabilities clip p to [{KERAS_EPSILON:g}, 1 - {KERAS_EPSILON:g}] (cost of the clip, "
        "gradient 0 outside it) and some p is outside (conventions row bce_gradient_at_saturation)",
        _keras_clip_applies),
    SaturationConvention(
        "torch", ("cross_entropy", "kl_div"),
        "torch's cross_entropy and kl_div twins take log(P), and some probability underflowed to exactly 0: "
        "log(0) = -inf",
        _zero_probability),
    SaturationConvention(
        "jax", ("bce", "cross_entropy", "kl_div"),
        "JAX's twin takes log(p) and log1p(-p) with no clamp (optax has these losses on logits only), and some "
        "probability rounded to exactly 0 or 1: log(0) = -inf, so its cost is inf and its gradients NaN there",
        _probability_at_an_edge),
    SaturationConvention(
        "*", ("bce",),
        f"bce after softmax has no logits form: log(1 - p) is taken from a probability within {CANCELLATION_MARGIN:g} "
        "of 1, where 1 - p has lost its digits (relative error eps / (1 - p)) in the reference's cost and every "
        "oracle's alike, so their derivatives differ by that much (use cross_entropy for one class per sample)",
        _complement_cancels, outputs=("softmax",)),
)


def reference_outputs(config: ModelConfig, params: dict[str, np.ndarray], X: np.ndarray,
                      Y: np.ndarray) -> list[np.ndarray]:
    """The reference's ``AL (nL, m)`` at every point where a gradient is taken: the start, then after
    each optimizer step but the last (``max(steps, 1)`` arrays)."""
    outputs: list[np.ndarray] = []
    state = initial_norm_state(config, params, X)  # a normalized model in eval mode needs its statistics

    def gradient_at(current: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        AL, _, gradients = reference_cost_and_gradients(config, current, X, Y, state)
        outputs.append(AL)
        return gradients

    if config.steps:
        run_steps(config, params, gradient_at)
    else:
        gradient_at(params)
    return outputs


def not_comparable(oracle_name: str, config: ModelConfig, outputs: list[np.ndarray]) -> dict[str, str]:
    """``{quantity: convention}`` for the quantities of ``oracle_name`` that follow a framework
    convention at this point: cost and gradient when the starting output is in its range, updated
    parameters when any output along the steps is. Empty where everything is comparable."""
    found: dict[str, str] = {}
    for entry in CONVENTIONS:
        if config.loss not in entry.losses or config.activations[-1] not in entry.outputs:
            continue
        if entry.oracle != "*" and not ops.oracle_matches(entry.oracle, oracle_name):
            continue
        if entry.applies(outputs[0]):
            found.setdefault("cost", entry.convention)
            found.setdefault("gradient", entry.convention)
        if config.steps and any(entry.applies(AL) for AL in outputs):
            found.setdefault("updated_params", entry.convention)
    return found
