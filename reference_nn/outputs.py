"""The network output that remembers its logits, so the cost of a saturated model is exact.

``model_forward`` returns ``AL = sigmoid(Z)`` or ``softmax(Z)`` as an :class:`ActivationOutput`: an
ordinary ``(nL, m)`` array that also carries ``logits`` (``Z``, same shape) and ``activation`` (the
name of the function that made it). A loss fused with that activation (``bce`` after sigmoid,
``cross_entropy`` after softmax) then computes the cost from ``Z`` (``softplus`` / ``log_softmax``,
the formulas of ``bce_with_logits`` / ``softmax_cross_entropy``), as torch's ``*WithLogits`` losses
and Keras' ``_keras_logits`` do.

Why: in float64 ``sigmoid(Z)`` is exactly 1.0 for ``Z > 36.7`` (float32: ``Z > 16.6``). From the
probability alone the cost ``-log(1 - p)`` is then ``-log(0)``, clamped to 100, and flat in ``Z``
(its derivative is 0), while the fused gradient ``(AL - Y) / N`` that ``model_backward`` returns is
the derivative of the *true* cost, ``softplus(Z)``. From the logits the cost is finite and exact
for every finite ``Z`` and ``(AL - Y) / N`` is exactly its derivative, saturated or not.

Only the array object that ``model_forward`` returned carries the logits: views, copies and the
results of arithmetic on it are plain arrays (``logits is None``), and a loss uses the logits only
after checking that they still reproduce the array bit for bit (an array modified in place falls
back to the probability form of the loss).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ActivationOutput(np.ndarray):
    """``A = g(Z)`` with ``logits`` (``Z``) and ``activation`` (``g``'s name) attached; see the module doc."""

    logits: np.ndarray | None
    activation: str | None

    def __array_finalize__(self, obj: Any) -> None:
        # Called for views, copies and slices too: none of those is g(Z) for the attached Z.
        self.logits = None
        self.activation = None

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Arithmetic on an output gives plain arrays (gradients, updates never become outputs)."""
        inputs = tuple(np.asarray(x) if isinstance(x, ActivationOutput) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(x) if isinstance(x, ActivationOutput) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self) -> str:
        return repr(np.asarray(self))


def with_logits(A: np.ndarray, Z: np.ndarray, activation: str) -> ActivationOutput:
    """``A`` (the output of ``activation`` at ``Z``, same shape) as an :class:`ActivationOutput`."""
    output = A.view(ActivationOutput)
    output.logits = Z
    output.activation = activation
    return output


def logits_of(AL: Any, activation: str, evaluate: Any) -> np.ndarray | None:
    """The logits ``Z`` attached to ``AL`` if it is ``activation``'s output at them, else None.

    ``evaluate(Z)`` recomputes the activation: the logits are used only if they still give ``AL``
    exactly (``AL`` may have been modified in place since ``model_forward``)."""
    if not isinstance(AL, ActivationOutput) or AL.activation != activation or AL.logits is None:
        return None
    Z = AL.logits
    if Z.shape != AL.shape or Z.dtype != AL.dtype or not np.array_equal(evaluate(Z), np.asarray(AL)):
        return None
    return Z


def producer_of(AL: Any) -> str | None:
    """The name of the activation that produced ``AL`` (``"sigmoid"``, ``"softmax"``), if it says."""
    return AL.activation if isinstance(AL, ActivationOutput) else None
