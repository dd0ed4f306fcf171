"""Loss conventions: clipping at the edges, default reductions and layout, measured live.

Each row is a :class:`~equivalence_tests.conventions.measuring.Convention`; values in float64.
"""

from __future__ import annotations

import functools

import numpy as np

import reference_nn as rn
from equivalence_tests.conventions.measuring import Convention

# ----------------------------------------------------------------- BCE at the edges
BCE_CASES = {f"p={p:g}, y={y}": (p, y) for p in (0.0, 1e-9, 1.0) for y in (0, 1)}


def _bce_reference() -> dict[str, float]:
    bce = rn.get_loss("bce")
    return {case: float(bce.value(np.array([[p]]), np.array([[float(y)]]))) for case, (p, y) in BCE_CASES.items()}


def _bce_torch(torch) -> dict[str, float]:
    loss = torch.nn.BCELoss()
    return {case: float(loss(torch.tensor([p], dtype=torch.float64), torch.tensor([float(y)], dtype=torch.float64)))
            for case, (p, y) in BCE_CASES.items()}


def _bce_tensorflow(ns) -> dict[str, float]:
    loss = ns.keras.losses.BinaryCrossentropy(dtype="float64")
    return {case: float(loss(np.array([[float(y)]]), np.array([[p]]))) for case, (p, y) in BCE_CASES.items()}


bce_clipping = Convention(
    name="bce_clipping",
    family="losses",
    question="BCE cost at p in {0, 1e-9, 1}: torch clamps log at -100, Keras clips p to [1e-7, 1-1e-7]",
    setup="one probability p and label y, float64, keras.losses.BinaryCrossentropy vs torch.nn.BCELoss",
    reference=_bce_reference,
    tolerance=1e-12,
    tolerance_reason="float64 log of values >= 1e-9 and a clamp: relative rounding ~1e-16 on costs <= 100",
    twins={"torch": _bce_torch, "tensorflow": _bce_tensorflow},
    harness_action="the TF twins are Keras' own BCE, so the op table restricts bce / cross_entropy inputs to p in "
                   "[1e-7, 1-1e-7] (outside it Keras' clip also zeroes the gradient); the strategies stay inside",
)


# ------------------------------------------------------------- reductions and layout
def _reduction_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``P (3, 4)`` probabilities, ``Y (3, 4)`` binary labels, ``Z (3, 4)`` logits, ``T (3, 4)``
    one-hot columns: the reference's layout, 3 outputs by 4 samples."""
    P = np.array([[0.2, 0.7, 0.9, 0.4], [0.6, 0.1, 0.5, 0.8], [0.3, 0.35, 0.65, 0.05]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    Z = np.array([[1.5, -0.3, 0.2, 2.0], [0.1, 0.8, -1.2, 0.4], [-0.7, 0.5, 0.9, -2.1]])
    T = np.zeros((3, 4))
    T[[0, 1, 2, 0], np.arange(4)] = 1.0
    return P, Y, Z, T


UNTRANSPOSED = "softmax_ce on (3, 4) as given"


def _reductions_reference() -> dict[str, float]:
    P, Y, Z, T = _reduction_inputs()
    return {"mse": float(rn.get_loss("mse").value(P, Y)), "bce": float(rn.get_loss("bce").value(P, Y)),
            "softmax_ce": float(rn.get_loss("softmax_cross_entropy").value(Z, T))}


def _reductions_torch(torch) -> dict[str, float]:
    P, Y, Z, T = _reduction_inputs()
    t = functools.partial(torch.tensor, dtype=torch.float64)
    nn = torch.nn
    return {"mse": float(nn.MSELoss()(t(P.T), t(Y.T))), "bce": float(nn.BCELoss()(t(P.T), t(Y.T))),
            "softmax_ce": float(nn.CrossEntropyLoss()(t(Z.T), t(T.T))),
            UNTRANSPOSED: float(nn.CrossEntropyLoss()(t(Z), t(T)))}


def _reductions_tensorflow(ns) -> dict[str, float]:
    P, Y, Z, T = _reduction_inputs()
    losses = ns.keras.losses
    return {"mse": float(losses.MeanSquaredError(dtype="float64")(Y.T, P.T)),
            "bce": float(losses.BinaryCrossentropy(dtype="float64")(Y.T, P.T)),
            "softmax_ce": float(losses.CategoricalCrossentropy(from_logits=True, dtype="float64")(T.T, Z.T)),
            UNTRANSPOSED: float(losses.CategoricalCrossentropy(from_logits=True, dtype="float64")(T, Z))}


loss_reductions = Convention(
    name="loss_reductions",
    family="losses",
    question="default reduction of each loss, and the layout the frameworks expect",
    setup="P, Y, Z, T of shape (3, 4) = (n_out, m) in the reference's layout; frameworks get the (4, 3) transposes",
    reference=_reductions_reference,
    tolerance=1e-13,
    tolerance_reason="12 float64 logs/squares summed in a different order: relative rounding ~1e-15 on costs ~1",
    twins={"torch": _reductions_torch, "tensorflow": _reductions_tensorflow},
    harness_action="the oracles transpose X, Y and activations to samples-in-rows (torch Linear.weight = W, Keras "
                   "kernel = W.T) and use each framework's default mean; an untransposed CE sums over the wrong axis",
)

ROWS = (bce_clipping, loss_reductions)
