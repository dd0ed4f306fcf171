"""Costs and their gradients. Layout: predictions ``AL`` and targets ``Y`` are ``(n_out, m)``.

Reductions (one convention each, matching the default of ``torch.nn`` and Keras):

=========================  ===========================================  ==========================
loss                       value                                        gradient w.r.t. ``AL``
=========================  ===========================================  ==========================
``mse``                    ``mean((AL - Y)**2)`` over all elements      ``2 (AL - Y) / AL.size``
``bce``                    ``-mean(Y log AL + (1-Y) log(1-AL))``        ``(AL - Y) / (AL (1-AL) N)``
``bce_with_logits``        same, from logits ``Z``, computed stably     ``(sigmoid(Z) - Y) / N``
``cross_entropy``          ``-sum(Y log P) / m`` (P: probabilities)     ``-Y / (P m)``
``softmax_cross_entropy``  ``-sum(Y log softmax(Z)) / m`` (Z: logits)   ``(softmax(Z) - Y) / m``
``huber``                  ``mean(0.5 r^2 or |r| - 0.5)``, ``r = AL-Y``  ``clip(r, -1, 1) / N``
``l1``                     ``mean(|AL - Y|)`` over all elements         ``sign(AL - Y) / N``
``kl_div``                 ``sum(Y (log Y - log P)) / m``               ``-Y / (P m)``
=========================  ===========================================  ==========================

``N = AL.size`` (for the classic single sigmoid output that is the batch size ``m``).
The probability-space losses follow torch's ``BCELoss`` forward at the edges: each ``log`` is
clamped to ``>= -100`` so probabilities of exactly 0 or 1 give a finite cost. Where the clamp is
active the cost does not depend on that probability, so its gradient there is exactly 0; elsewhere
it is the exact derivative (``-Y / P`` has no floor: at ``P = 1e-17`` it is ``-1e17``). torch's
backward instead divides by ``max(P (1 - P), 1e-12)``, a convention measured in
``equivalence_tests.conventions`` (family losses) and reported by ``refnn crosscheck`` as "not
comparable" where it applies. Whether the clamp is active is decided on the real part, so the
complex-step derivative of a clamped term is 0 too.

Fused gradients: a model whose last activation is ``sigmoid`` with ``bce`` (or ``softmax``
with ``cross_entropy`` or ``kl_div``) backpropagates ``dZ = (AL - Y) / N`` directly.

From logits: a model output made by ``model_forward`` remembers its logits
(``reference_nn.outputs``), and ``bce`` after sigmoid / ``cross_entropy`` after softmax then take
the cost from them, exactly (``value_from_logits``). Their fused gradient ``dZ = (AL - Y) / N``
(``/ m`` for cross_entropy) is the exact derivative of that cost for every finite logit, saturated
or not. A probability loss after an output it is not fused with (``bce`` after softmax) is
differentiated through ``output_scaled_gradient = AL * d cost / d AL``, which stays finite where
``1 / AL`` would overflow (float32 probabilities below 3e-39).

Pairings (:func:`check_output_pairing`): a logits loss after the activation it applies itself
(``softmax_cross_entropy`` after softmax, ``bce_with_logits`` after sigmoid) is refused; ``bce``
after softmax warns (:class:`OutputPairingWarning`): it treats each class as an independent label,
which multi-label users may mean.

L2 penalty: ``0.5 * lambda * sum over layers of sum(W**2)`` (weights only, not biases, no
``1/m``); its gradient adds exactly ``lambda * W``. That is the penalty whose gradient is
``torch.optim.SGD(weight_decay=lambda)``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from reference_nn._validation import (
    as_float_array,
    check_finite,
    check_positive_finite,
    choose_name,
    describe,
)
from reference_nn.layers import stable_sigmoid, stable_softmax
from reference_nn.outputs import logits_of, producer_of

LOG_CLAMP = -100.0  # torch.nn.BCELoss clamps log outputs to >= -100
# torch's BCELoss backward divides by max(x (1 - x), 1e-12): NOT the derivative of its clamped cost
# where x (1 - x) < 1e-12. The reference's gradient is the exact one; this constant names torch's
# convention for the harness (equivalence_tests.conventions, refnn crosscheck's "not comparable").
TORCH_BCE_BACKWARD_EPSILON = 1e-12


class OutputPairingWarning(UserWarning):
    """A loss after an output activation that is legal but often a mistake (bce after softmax)."""


def _real_log(P: np.ndarray, one_minus: bool) -> np.ndarray:
    """``log(Re P)`` or ``log(1 - Re P)`` (``-inf`` at 0, no warning): where the clamp is decided."""
    real = P.real
    with np.errstate(divide="ignore"):
        return np.log1p(-real) if one_minus else np.log(real)


def _log_is_live(P: np.ndarray, *, one_minus: bool = False) -> np.ndarray:
    """Where :func:`_clamped_log` is not clamped (its derivative is not 0), decided on the real part."""
    return ~(_real_log(P, one_minus) < LOG_CLAMP)


def _clamped_log(P: np.ndarray, *, one_minus: bool = False) -> np.ndarray:
    """``log(P)`` (or ``log(1 - P)``, computed as ``log1p(-P)``: exact for tiny ``P``, where
    ``1 - P`` would round the information away; torch does the same), with every value below
    -100 replaced by -100, so ``log(0) = -100`` with no warning.

    The clamp is decided on the real part: a complex ``P`` whose real part is exactly 1 (a
    saturated output under a complex step) is clamped like its real part, so the complex-step
    derivative of a clamped term is 0, as the real function's is."""
    real_logs = _real_log(P, one_minus)
    if np.iscomplexobj(P):
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log1p(-P) if one_minus else np.log(P)
    else:
        logs = real_logs
    return np.where(real_logs < LOG_CLAMP, P.dtype.type(LOG_CLAMP), logs)


def _masked_ratio(live: np.ndarray, numerator: Any, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` where ``live``, else 0 (no warning from the masked-out entries)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(live, numerator / np.where(live, denominator, 1), 0)


def _mean(values: np.ndarray) -> Any:
    """Mean as a 0-d value of the input's dtype (float32 stays float32)."""
    return values.sum(dtype=values.dtype) / values.dtype.type(values.size)


class Loss:
    """A cost ``value(AL, Y)`` with its gradient ``gradient(AL, Y)`` (same shape as ``AL``).

    ``fused_activation`` names the output activation whose derivative this loss cancels;
    ``fused_gradient(AL, Y)`` is then ``d cost / d Z`` of the last layer.
    """

    name = "loss"
    fused_activation: str | None = None
    output_description = "predictions"

    def value(self, AL: np.ndarray, Y: np.ndarray) -> Any:
        raise NotImplementedError

    def gradient(self, AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fused_gradient(self, AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no fused gradient")

    def value_from_logits(self, Z: np.ndarray, Y: np.ndarray) -> Any:
        """The cost of ``fused_activation(Z)``, computed from the logits ``Z`` (exact where the
        activation saturates); only for losses with a ``fused_activation``."""
        raise NotImplementedError(f"{self.name} has no logits form")

    def output_scaled_gradient(self, AL: np.ndarray, Y: np.ndarray) -> np.ndarray | None:
        """``AL * gradient(AL, Y)`` computed without forming ``1 / AL`` (None if not provided):
        what a sigmoid or softmax output needs to backpropagate a probability loss."""
        return None

    def prepare_targets(self, Y: Any, AL: np.ndarray) -> np.ndarray:
        """Validate ``Y`` against ``AL`` and return it as an array of ``AL``'s real dtype."""
        return _targets_like(Y, AL)

    def check_predictions(self, AL: np.ndarray) -> None:
        """Refuse predictions outside this loss's domain (probabilities must lie in [0, 1])."""
        if self.output_description.startswith("probabilit"):
            outside = (AL.real < 0) | (AL.real > 1)
            if outside.any():
                index = tuple(int(i) for i in np.argwhere(outside)[0])
                raise ValueError(
                    f"AL for {self.name} must hold {self.output_description}; got {AL[index].item()!r} at "
                    f"index {index} (use the logits form of the loss for unbounded outputs)"
                )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _targets_like(Y: Any, AL: np.ndarray) -> np.ndarray:
    if not isinstance(Y, np.ndarray):
        raise TypeError(f"Y must be a NumPy array, got {describe(Y)}")
    if Y.shape != AL.shape:
        raise ValueError(
            f"Y must have the shape of AL {AL.shape} (n_out, m), got shape {Y.shape}; no broadcasting is done"
        )
    real_dtype = AL.real.dtype
    if Y.dtype.kind in "biu":
        Y = Y.astype(real_dtype)
    elif Y.dtype.kind == "f":
        if Y.dtype != real_dtype:
            raise TypeError(f"Y has dtype {Y.dtype} but AL has dtype {AL.dtype}; convert one explicitly")
    else:
        raise TypeError(f"Y must be a real (float, int or bool) array, got dtype {Y.dtype}")
    check_finite("Y", Y)
    return Y


def _binary_targets(Y: Any, AL: np.ndarray) -> np.ndarray:
    """Targets of the binary cross-entropies: the shape of ``AL``, values in [0, 1]."""
    Y = _targets_like(Y, AL)
    outside = (Y < 0) | (Y > 1)
    if outside.any():
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(f"Y for binary cross-entropy must lie in [0, 1]; got {Y[index].item()!r} at index {index}")
    return Y


class MSE(Loss):
    """Mean squared error over all elements (torch ``MSELoss()`` default reduction)."""

    name = "mse"

    def value(self, AL, Y):
        difference = AL - Y
        return _mean(difference * difference)

    def gradient(self, AL, Y):
        return (2 / AL.size) * (AL - Y)


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on probabilities ``AL`` in [0, 1], mean over all elements."""

    name = "bce"
    fused_activation = "sigmoid"
    output_description = "probabilities in [0, 1]"

    def prepare_targets(self, Y, AL):
        return _binary_targets(Y, AL)

    def value(self, AL, Y):
        return -_mean(Y * _clamped_log(AL) + (1 - Y) * _clamped_log(AL, one_minus=True))

    def gradient(self, AL, Y):
        """Exact derivative of :meth:`value`: ``(-Y / AL + (1 - Y) / (1 - AL)) / N``, each term 0
        where its log is clamped (the cost is flat there)."""
        live_p, live_q = _log_is_live(AL), _log_is_live(AL, one_minus=True)
        return (_masked_ratio(live_q, 1 - Y, 1 - AL) - _masked_ratio(live_p, Y, AL)) / AL.dtype.type(AL.size)

    def output_scaled_gradient(self, AL, Y):
        live_p, live_q = _log_is_live(AL), _log_is_live(AL, one_minus=True)
        scaled = _masked_ratio(live_q, (1 - Y) * AL, 1 - AL) - np.where(live_p, Y, 0)
        return scaled / AL.dtype.type(AL.size)

    def fused_gradient(self, AL, Y):
        return (AL - Y) / AL.dtype.type(AL.size)

    def value_from_logits(self, Z, Y):
        return BinaryCrossEntropyWithLogits().value(Z, Y)


class BinaryCrossEntropyWithLogits(Loss):
    """Binary cross-entropy from logits ``Z``: ``mean(max(Z, 0) - Z Y + log(1 + exp(-|Z|)))``.

    Finite and exact for any finite logit (no probability is formed, nothing saturates)."""

    name = "bce_with_logits"
    output_description = "logits"

    def prepare_targets(self, Y, AL):
        return _binary_targets(Y, AL)

    def value(self, AL, Y):
        positive = AL.real > 0
        relu = np.where(positive, AL, AL.dtype.type(0))
        absolute = np.where(positive, AL, -AL)  # |Z| for real Z, analytic for complex Z
        with np.errstate(under="ignore"):
            softplus_of_negative_abs = np.log1p(np.exp(-absolute))
        return _mean(relu - AL * Y + softplus_of_negative_abs)

    def gradient(self, AL, Y):
        return (stable_sigmoid(AL) - Y) / AL.dtype.type(AL.size)


def _prepare_distribution_targets(Y: Any, AL: np.ndarray) -> np.ndarray:
    """Targets for the categorical losses: columns that are probability distributions
    ``(n_classes, m)``, or integer class labels of shape ``(m,)`` (turned into one-hot)."""
    if isinstance(Y, np.ndarray) and Y.ndim == 1 and Y.dtype.kind in "iu":
        n_classes, m = AL.shape
        if Y.shape != (m,):
            raise ValueError(f"integer class labels Y must have shape ({m},) (m,), got {Y.shape}")
        if Y.size and (Y.min() < 0 or Y.max() >= n_classes):
            bad = Y[(Y < 0) | (Y >= n_classes)][0]
            raise ValueError(f"class labels in Y must lie in [0, {n_classes - 1}], got {bad}")
        one_hot = np.zeros(AL.shape, dtype=AL.real.dtype)
        one_hot[Y, np.arange(m)] = 1
        return one_hot
    Y = _targets_like(Y, AL)
    if (Y < 0).any():
        index = tuple(int(i) for i in np.argwhere(Y < 0)[0])
        raise ValueError(f"Y columns must be probability distributions; got {Y[index].item()!r} < 0 at {index}")
    column_sums = Y.sum(axis=0)
    # A distribution written in this dtype sums to 1 within a few ulps per class.
    tolerance = 8 * np.finfo(Y.dtype).eps * max(Y.shape[0], 1)
    off = np.abs(column_sums - 1) > tolerance
    if off.any():
        column = int(np.argwhere(off)[0][0])
        raise ValueError(
            f"Y columns must sum to 1 (probability distributions over the {Y.shape[0]} rows); "
            f"column {column} sums to {float(column_sums[column])!r}"
        )
    return Y


class CrossEntropy(Loss):
    """Categorical cross-entropy on probabilities ``P`` (columns sum to 1): ``-sum(Y log P) / m``."""

    name = "cross_entropy"
    fused_activation = "softmax"
    output_description = "probability columns"

    def prepare_targets(self, Y, AL):
        return _prepare_distribution_targets(Y, AL)

    def value(self, AL, Y):
        return -(Y * _clamped_log(AL)).sum(dtype=AL.dtype) / AL.dtype.type(AL.shape[1])

    def gradient(self, AL, Y):
        """Exact derivative of :meth:`value`: ``-Y / (P m)``, 0 where ``log P`` is clamped."""
        return -_masked_ratio(_log_is_live(AL), Y, AL) / AL.dtype.type(AL.shape[1])

    def output_scaled_gradient(self, AL, Y):
        return -np.where(_log_is_live(AL), Y, 0) / AL.dtype.type(AL.shape[1])

    def fused_gradient(self, AL, Y):
        return (AL - Y) / AL.dtype.type(AL.shape[1])

    def value_from_logits(self, Z, Y):
        return SoftmaxCrossEntropy().value(Z, Y)


class SoftmaxCrossEntropy(Loss):
    """Softmax fused with cross-entropy, from logits ``Z (n_classes, m)``:
    ``-sum(Y log softmax(Z)) / m``, gradient ``(softmax(Z) - Y) / m``.

    The log-softmax is ``Z - max - log(sum(exp(Z - max)))``: finite for any finite logits."""

    name = "softmax_cross_entropy"
    output_description = "logits"

    def prepare_targets(self, Y, AL):
        return _prepare_distribution_targets(Y, AL)

    def value(self, AL, Y):
        shifted = AL - AL.real.max(axis=0, keepdims=True)
        with np.errstate(under="ignore"):
            log_normalizer = np.log(np.exp(shifted).sum(axis=0, keepdims=True))
        log_probabilities = shifted - log_normalizer
        return -(Y * log_probabilities).sum(dtype=AL.dtype) / AL.dtype.type(AL.shape[1])

    def gradient(self, AL, Y):
        return (stable_softmax(AL) - Y) / AL.dtype.type(AL.shape[1])


def _real_sign_abs(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sign(R), |R|)`` with the sign taken from the real part (``|R|`` stays analytic for a
    complex step) and ``sign(0) = 0``, the subgradient torch and TensorFlow use for ``abs``."""
    sign = np.sign(R.real).astype(R.real.dtype)
    return sign, sign * R


class Huber(Loss):
    """Huber loss with ``delta`` (default 1), mean over all elements: for ``r = AL - Y``,
    ``0.5 r^2`` where ``|r| <= delta`` else ``delta (|r| - delta / 2)``; gradient
    ``clip(r, -delta, delta) / N``. torch ``HuberLoss(delta)`` is this; ``SmoothL1Loss(beta)``
    is ``Huber(beta) / beta`` (equal only at 1). C1 at ``|r| = delta`` (only the curvature jumps)."""

    name = "huber"

    def __init__(self, delta: float = 1.0):
        self.delta = check_positive_finite("delta", delta)

    def value(self, AL, Y):
        residual = AL - Y
        _, magnitude = _real_sign_abs(residual)
        delta = AL.real.dtype.type(self.delta)
        inside = np.abs(residual.real) <= delta
        return _mean(np.where(inside, 0.5 * residual * residual, delta * (magnitude - 0.5 * delta)))

    def gradient(self, AL, Y):
        delta = AL.dtype.type(self.delta)
        return np.clip(AL - Y, -delta, delta) / AL.dtype.type(AL.size)

    def __repr__(self) -> str:
        return f"Huber(delta={self.delta!r})"


class L1(Loss):
    """Mean absolute error over all elements: ``mean(|AL - Y|)``; gradient ``sign(AL - Y) / N``
    with ``sign(0) = 0`` (torch ``L1Loss``, Keras ``MeanAbsoluteError``). Kink at ``AL = Y``."""

    name = "l1"

    def value(self, AL, Y):
        return _mean(_real_sign_abs(AL - Y)[1])

    def gradient(self, AL, Y):
        return _real_sign_abs(AL - Y)[0] / AL.dtype.type(AL.size)


class KLDivergence(CrossEntropy):
    """``KL(Y || P) = sum(Y (log Y - log P)) / m`` for probability columns ``P (n_classes, m)``
    and target distributions ``Y``: summed over classes, averaged over the batch (torch
    ``kl_div(log P, Y, reduction="batchmean")``, Keras ``KLDivergence``; torch's default "mean"
    divides by ``n_classes m`` instead). ``0 log 0 = 0``; ``log P`` is clamped at -100 as in
    ``cross_entropy``. KL is the cross-entropy plus the targets' entropy, a constant in P, so the
    gradients (``-Y / (P m)``; after softmax, fused: ``(P - Y) / m``) are the cross-entropy's own."""

    name = "kl_div"

    def value(self, AL, Y):
        return self._entropy_term(Y, AL.dtype) + super().value(AL, Y)

    @staticmethod
    def _entropy_term(Y, dtype):
        """``sum(Y log Y) / m`` with ``0 log 0 = 0``: the part of KL that does not depend on P."""
        positive = Y > 0
        with np.errstate(divide="ignore"):
            y_log_y = np.where(positive, Y * np.log(np.where(positive, Y, 1)), 0)
        return y_log_y.sum(dtype=dtype) / dtype.type(Y.shape[1])

    def value_from_logits(self, Z, Y):
        return self._entropy_term(Y, Z.dtype) + super().value_from_logits(Z, Y)


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (MSE, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, SoftmaxCrossEntropy, Huber, L1,
                KLDivergence)
}


def get_loss(spec: str | Loss) -> Loss:
    """A Loss from its name (see :data:`LOSSES`) or an instance (returned as is)."""
    if isinstance(spec, Loss):
        return spec
    return choose_name(LOSSES, spec, "loss")()


# ------------------------------------------------------------------------- L2 penalty
def weight_names(params: dict[str, np.ndarray]) -> list[str]:
    """The weight matrices of a parameter dict: ``W1, W2, ...`` (biases are not penalized)."""
    return [name for name in params if name.startswith("W")]


def l2_penalty(params: dict[str, np.ndarray], lambd: float) -> Any:
    """``0.5 * lambd * sum over W of sum(W**2)``: weights only, no ``1/m``."""
    lambd = check_positive_finite("l2", lambd, allow_zero=True)
    total = None
    for name in weight_names(params):
        W = params[name]
        term = (W * W).sum(dtype=W.dtype)
        total = term if total is None else total + term
    if total is None:
        return 0.0
    return total.dtype.type(0.5 * lambd) * total


def l2_gradient(W: np.ndarray, lambd: float) -> np.ndarray:
    """Gradient of :func:`l2_penalty` with respect to one weight matrix: exactly ``lambd * W``."""
    return W.dtype.type(lambd) * W


# A logits loss after the activation it applies itself: (loss, activation) -> the loss to use instead.
DOUBLE_ACTIVATION = {("softmax_cross_entropy", "softmax"): "cross_entropy", ("bce_with_logits", "sigmoid"): "bce"}
_EVALUATE = {"sigmoid": stable_sigmoid, "softmax": stable_softmax}


def check_output_pairing(loss: Loss, activation: str | None, *, warn: bool = True) -> None:
    """Refuse a logits loss after the activation it applies itself (softmax_cross_entropy after
    softmax would apply softmax twice); warn on bce after softmax. ``activation``: the name of the
    output layer's activation, None if unknown (nothing to check); ``warn=False``: refuse only (the
    cost of the same pairing has warned already)."""
    if activation is None:
        return
    instead = DOUBLE_ACTIVATION.get((loss.name, activation))
    if instead is not None:
        raise ValueError(
            f"loss {loss.name!r} takes logits and applies {activation} itself, but AL is already the output of "
            f"{activation}: it would be applied twice. Use loss={instead!r} on the {activation} output, or end the "
            f"model with 'identity' to pass logits to {loss.name!r}"
        )
    if warn and loss.name == "bce" and activation == "softmax":
        warnings.warn(
            "bce after softmax treats each class as an independent yes/no label (multi-label); for one class per "
            "sample use loss='cross_entropy' (or 'softmax_cross_entropy' on logits)",
            OutputPairingWarning, stacklevel=3,
        )


def compute_loss(AL: Any, Y: Any, loss: str | Loss = "bce") -> Any:
    """Validate ``AL`` and ``Y`` and return the cost (no L2 term): ``loss.value(AL, Y)``, or, for an
    output of ``model_forward`` that carries its logits and a loss fused with its activation,
    ``loss.value_from_logits(Z, Y)`` (exact at saturation; see the module doc)."""
    loss_object = get_loss(loss)
    producer = producer_of(AL)
    check_output_pairing(loss_object, producer)
    logits = None
    if producer is not None and producer == loss_object.fused_activation:
        logits = logits_of(AL, producer, _EVALUATE[producer])
    AL = as_float_array("AL", np.asarray(AL) if producer is not None else AL)
    if AL.ndim != 2 or AL.shape[1] == 0:
        raise ValueError(f"AL must be 2-D (n_out, m) with m >= 1, got shape {AL.shape}")
    check_finite("AL", AL)
    loss_object.check_predictions(AL)
    Y = loss_object.prepare_targets(Y, AL)
    if logits is not None:
        return loss_object.value_from_logits(logits, Y)
    return loss_object.value(AL, Y)
