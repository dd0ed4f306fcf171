"""Loss conventions: clipping at the edges, default reductions and layout, measured live.

Each row is a :class:`~equivalence_tests.conventions.measuring.Convention`; values in float64.
"""

from __future__ import annotations

import functools
import warnings

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


def _bce_jax(ns) -> dict[str, float]:
    # optax has BCE on logits only; the JAX oracle's twin is the formula on probabilities in jnp (op table)
    from equivalence_tests import ops

    bce = ops.op("bce").jax_functional
    dtype = ns.jnp.float64
    return {case: float(bce(ns, ns.jnp.array([p], dtype=dtype), ns.jnp.array([float(y)], dtype=dtype)))
            for case, (p, y) in BCE_CASES.items()}


bce_clipping = Convention(
    name="bce_clipping",
    family="losses",
    question="BCE cost at p in {0, 1e-9, 1}: torch clamps log at -100, Keras clips p to [1e-7, 1-1e-7]",
    setup="one probability p and label y, float64, keras.losses.BinaryCrossentropy vs torch.nn.BCELoss",
    reference=_bce_reference,
    tolerance=1e-12,
    tolerance_reason="float64 log of values >= 1e-9 and a clamp: relative rounding ~1e-16 on costs <= 100",
    twins={"torch": _bce_torch, "tensorflow": _bce_tensorflow, "jax": _bce_jax},
    harness_action="the TF twins are Keras' own BCE, so the op table restricts bce / cross_entropy inputs to p in "
                   "[1e-7, 1-1e-7] (outside it Keras' clip also zeroes the gradient); the strategies stay inside. "
                   "The JAX twin (the formula in jnp; optax has BCE on logits only) neither clamps nor clips: inf or "
                   "nan (0 * log 0) at p in {0, 1}, the same domain keeps it finite",
)


# ------------------------------------------------- d cost / d z of sigmoid + BCE at saturation
# Logits from ordinary to saturated: 27.6 is where p (1 - p) crosses torch's 1e-12, 16.1 where p leaves
# Keras' clip [1e-7, 1 - 1e-7], 40 where p rounds to exactly 1.0 in float64.
SATURATION_LOGITS = (2.0, 20.0, 30.0, 40.0)
SATURATION_CASES = {f"z={sign * z:g}, y={y}": (sign * z, y) for z in SATURATION_LOGITS for sign in (1, -1)
                    for y in (0, 1)}


def _saturation_reference() -> dict[str, float]:
    """d cost / d z from the reference's model_backward on a one-unit sigmoid model (W = 1, b = 0, x = z)."""
    values = {}
    for case, (z, y) in SATURATION_CASES.items():
        params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
        AL, caches = rn.model_forward(np.array([[z]]), params, ["sigmoid"])
        values[case] = float(rn.model_backward(AL, np.array([[float(y)]]), caches, "bce")["db1"][0, 0])
    return values


def _saturation_torch(torch) -> dict[str, float]:
    values = {}
    for case, (z, y) in SATURATION_CASES.items():
        logit = torch.tensor([z], dtype=torch.float64, requires_grad=True)
        torch.nn.BCELoss()(torch.sigmoid(logit), torch.tensor([float(y)], dtype=torch.float64)).backward()
        values[case] = float(logit.grad[0])
    return values


def _saturation_tensorflow(ns) -> dict[str, float]:
    tf, values = ns.tf, {}
    for case, (z, y) in SATURATION_CASES.items():
        logit = tf.Variable([[z]], dtype=tf.float64)
        with tf.GradientTape() as tape:  # tf.math.sigmoid attaches no _keras_logits: the probability path
            cost = ns.keras.losses.binary_crossentropy(tf.constant([[float(y)]], tf.float64), tf.math.sigmoid(logit))
        values[case] = float(tape.gradient(cost, logit).numpy()[0, 0])
    return values


def _saturation_jax(ns) -> dict[str, float]:
    """The JAX oracle's bce twin (the formula in jnp, no clamp) after jax.nn.sigmoid, by jax.grad."""
    from equivalence_tests import ops

    bce, jnp, values = ops.op("bce").jax_functional, ns.jnp, {}
    for case, (z, y) in SATURATION_CASES.items():
        cost = lambda logit, y=y: bce(ns, ns.jax.nn.sigmoid(logit), jnp.array([float(y)], dtype=jnp.float64))  # noqa: E731
        values[case] = float(ns.jax.grad(cost)(jnp.array([z], dtype=jnp.float64))[0])
    return values


bce_gradient_at_saturation = Convention(
    name="bce_gradient_at_saturation",
    family="losses",
    question="d BCE(sigmoid(z), y) / d z at saturating z: the reference gives sigmoid(z) - y (its cost from the "
             "logits); torch BCELoss divides by max(p (1 - p), 1e-12), Keras clips p to [1e-7, 1 - 1e-7]",
    setup="one logit z, label y, float64: torch.nn.BCELoss(torch.sigmoid(z)) and keras.losses.binary_crossentropy("
          "y, tf.math.sigmoid(z)) differentiated by autograd / GradientTape",
    reference=_saturation_reference,
    tolerance=1e-12,
    tolerance_reason="sigmoid(z) - y in float64: a few ulps of values <= 1",
    twins={"torch": _saturation_torch, "tensorflow": _saturation_tensorflow, "jax": _saturation_jax},
    harness_action="refnn crosscheck reports cost, gradients and steps as 'not comparable at this point' for the "
                   "torch paths where some p (1 - p) < 1e-12 and for the TF functional path where some p leaves "
                   "[1e-7, 1 - 1e-7] (equivalence_tests.saturation); Keras layers take the logits and agree. "
                   "JAX's unclamped formula gives sigmoid(z) - y to an ulp until p rounds to exactly 1 (z = 40: "
                   "log1p(-1) = -inf, gradient nan)",
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


HALF_MSE = "optax.l2_loss, mean (half the squared error)"


def _reductions_jax(ns) -> dict[str, float]:
    # optax losses return one value per element / per example: the user (and the JAX twin) takes the mean.
    P, Y, Z, T = (ns.jnp.asarray(a, dtype=ns.jnp.float64) for a in _reduction_inputs())
    losses, mean = ns.optax.losses, ns.jnp.mean
    from equivalence_tests import ops

    return {"mse": float(mean(losses.squared_error(P.T, Y.T))),
            "bce": float(ops.op("bce").jax_functional(ns, P.T, Y.T)),
            "softmax_ce": float(mean(losses.softmax_cross_entropy(Z.T, T.T))),
            UNTRANSPOSED: float(mean(losses.softmax_cross_entropy(Z, T))),
            HALF_MSE: float(mean(losses.l2_loss(P.T, Y.T)))}


loss_reductions = Convention(
    name="loss_reductions",
    family="losses",
    question="default reduction of each loss, and the layout the frameworks expect",
    setup="P, Y, Z, T of shape (3, 4) = (n_out, m) in the reference's layout; frameworks get the (4, 3) transposes",
    reference=_reductions_reference,
    tolerance=1e-13,
    tolerance_reason="12 float64 logs/squares summed in a different order: relative rounding ~1e-15 on costs ~1",
    twins={"torch": _reductions_torch, "tensorflow": _reductions_tensorflow, "jax": _reductions_jax},
    harness_action="the oracles transpose X, Y and activations to samples-in-rows (torch Linear.weight = W, Keras "
                   "kernel = W.T) and use each framework's default mean; an untransposed CE sums over the wrong axis. "
                   "optax losses have no reduction: the JAX twins take jnp.mean, and use squared_error, not "
                   "l2_loss (which is half of it)",
)

ROWS = (bce_clipping, bce_gradient_at_saturation, loss_reductions)


# ------------------------------------------------------- issue 17: Huber vs SmoothL1, KL divergence
HUBER_DELTA = 2.0  # not 1: at delta = beta = 1 HuberLoss and SmoothL1Loss coincide
HUBER_RESIDUALS = (0.5, 3.0)  # one on each branch


def _huber_cases(function) -> dict[str, float]:
    """``function(prediction, target) -> mean loss`` at each residual (target 0)."""
    return {f"delta={HUBER_DELTA:g}, r={r:g}": float(function(r, 0.0)) for r in HUBER_RESIDUALS}


def _huber_torch(torch) -> dict[str, float]:
    nn = torch.nn

    def of(module):
        return lambda p, y: module(torch.tensor([p], dtype=torch.float64), torch.tensor([y], dtype=torch.float64))
    smooth = {f"SmoothL1Loss(beta={HUBER_DELTA:g}), r={r:g}": value for r, value in
              zip(HUBER_RESIDUALS, _huber_cases(of(nn.SmoothL1Loss(beta=HUBER_DELTA))).values(), strict=True)}
    return _huber_cases(of(nn.HuberLoss(delta=HUBER_DELTA))) | smooth


def _huber_tensorflow(ns) -> dict[str, float]:
    loss = ns.keras.losses.Huber(delta=HUBER_DELTA, dtype="float64")
    return _huber_cases(lambda p, y: loss(np.array([[y]]), np.array([[p]])))


def _huber_jax(ns) -> dict[str, float]:
    huber = ns.optax.losses.huber_loss
    return _huber_cases(lambda p, y: ns.jnp.mean(huber(ns.jnp.array([p]), ns.jnp.array([y]), delta=HUBER_DELTA)))


huber_vs_smooth_l1 = Convention(
    name="huber_vs_smooth_l1",
    family="losses",
    question="Huber(delta) and SmoothL1(beta): the same loss? (SmoothL1 = Huber / beta)",
    setup=f"one prediction r against target 0, delta = beta = {HUBER_DELTA:g}, float64; torch's SmoothL1Loss is "
          "shown as extra cases",
    reference=lambda: _huber_cases(lambda p, y: rn.Huber(delta=HUBER_DELTA).value(np.array([[p]]), np.array([[y]]))),
    tolerance=1e-15,
    tolerance_reason="a square or an absolute value and a halving of dyadic numbers: exact or one rounding",
    twins={"torch": _huber_torch, "tensorflow": _huber_tensorflow, "jax": _huber_jax},
    harness_action="the huber row uses delta = 1, where HuberLoss, SmoothL1Loss(beta=1), Keras Huber and optax "
                   "huber_loss coincide; a port from SmoothL1Loss(beta) must multiply by beta",
)


def _kl_inputs() -> tuple[np.ndarray, np.ndarray]:
    """``P (3, 4)`` probability columns and ``Y (3, 4)`` target distributions, the reference's layout."""
    P = np.array([[0.2, 0.7, 0.1, 0.4], [0.5, 0.2, 0.3, 0.35], [0.3, 0.1, 0.6, 0.25]])
    Y = np.array([[0.25, 0.5, 0.125, 0.5], [0.5, 0.25, 0.375, 0.25], [0.25, 0.25, 0.5, 0.25]])
    return P, Y


def _kl_torch(torch) -> dict[str, float]:
    P, Y = (torch.tensor(a.T.copy(), dtype=torch.float64) for a in _kl_inputs())
    F = torch.nn.functional
    with warnings.catch_warnings():  # torch itself warns that 'mean' is not KL's definition: that is the point
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides", category=UserWarning)
        default_mean = float(F.kl_div(torch.log(P), Y))
    return {"KLDivLoss(reduction='batchmean')(log P, Y)": float(F.kl_div(torch.log(P), Y, reduction="batchmean")),
            "KLDivLoss()(log P, Y): default 'mean'": default_mean,
            "KLDivLoss(reduction='batchmean')(P, Y): P, not log P": float(F.kl_div(P, Y, reduction="batchmean"))}


def _kl_tensorflow(ns) -> dict[str, float]:
    P, Y = _kl_inputs()
    return {"keras.losses.KLDivergence()(Y, P)": float(ns.keras.losses.KLDivergence(dtype="float64")(Y.T, P.T))}


def _kl_jax(ns) -> dict[str, float]:
    P, Y = _kl_inputs()
    per_sample = ns.optax.losses.kl_divergence(ns.jnp.log(ns.jnp.asarray(P.T)), ns.jnp.asarray(Y.T))
    return {"mean(optax.losses.kl_divergence(log P, Y))": float(ns.jnp.mean(per_sample))}


kl_div_reduction = Convention(
    name="kl_div_reduction",
    family="losses",
    question="KL(Y || P) averaged over the batch: which calls give it?",
    setup="P and Y of shape (3, 4) = (n_classes, m), float64; frameworks get the (4, 3) transposes",
    reference=lambda: float(rn.get_loss("kl_div").value(*_kl_inputs())),
    tolerance=1e-14,
    tolerance_reason="12 float64 logs and products summed in a different order: ~1e-16 relative on a value ~0.2",
    twins={"torch": _kl_torch, "tensorflow": _kl_tensorflow, "jax": _kl_jax},
    harness_action="the torch twins pass log(P) and reduction='batchmean'; torch's default 'mean' divides by "
                   "n_classes * m (3x smaller here) and P instead of log P is silently a different number",
)

ROWS = ROWS + (huber_vs_smooth_l1, kl_div_reduction)
