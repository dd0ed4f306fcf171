"""The op table: one row per activation, loss, layer, penalty and optimizer.

Longer than ~400 lines on purpose: it is the one declarative table every test walks (PyTorch
OpInfo style), so a reader sees every row and its twins in one place; the issue-17 rows live in
ops_modern.py.

Each :class:`OpInfo` row names the reference implementation, its PyTorch and TensorFlow twins
(the framework's own functions, written as that framework's users write them), the input
domain, the kinks, the framework conventions that differ and how they are handled, and any
tolerance override with its reason. The oracles take their twins *from this table* and the
tests walk it, so adding an op is adding a row.

Twin signatures by ``kind`` (``fw`` is the oracle's namespace of framework modules:
``fw.torch, fw.F, fw.nn`` for PyTorch; ``fw.tf, fw.keras`` for TensorFlow; ``fw.jax, fw.jnp,
fw.optax`` for JAX). Framework tensors are in the frameworks' own layout, samples in rows:
``(m, n)``. The JAX twin (``jax_functional``) has the TF functional signature (kernels
``K = W.T``, as Flax holds them); an optimizer's JAX twin is ``(fw, opt) -> optax
GradientTransformation``. A row without a JAX twin makes the JAX oracle refuse the models that
contain it (:func:`missing_twin_reason`), never compute something else.

=============  ==========================================  ==================================================
kind           functional twin                             layer twin
=============  ==========================================  ==================================================
activation     ``(fw, Z, config) -> A``                    torch: ``(fw, config) -> nn.Module``;
                                                           keras: ``(fw, config) -> Dense activation``
loss           ``(fw, AL, Y) -> scalar``                   ``(fw, dtype) -> callable(AL, Y) -> scalar``
layer          torch ``(fw, A, W, b)``, W ``(n_out, n_in)``  torch ``(fw, n_in, n_out, dtype) -> nn.Module``;
               tf ``(fw, A, K, b)``, K = W.T               keras ``(fw, n_out, activation, config) -> Dense``
penalty        ``(fw, weights, l2) -> scalar``              keras: ``(fw, l2) -> kernel_regularizer``
optimizer      torch ``(fw, opt, parameters) -> optim``     (same builders serve both paths)
               tf ``(fw, opt, dtype, conventions) -> KerasOptimizerTwin``
=============  ==========================================  ==================================================
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import reference_nn as rn
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.ops_modern import modern_rows, normalization_rows
from equivalence_tests.optax_twins import optax_transformation

KINDS = ("activation", "loss", "layer", "penalty", "optimizer")


@dataclass(frozen=True)
class ToleranceOverride:
    """Loosen (never tighten) one tolerance for models that contain this op.

    ``oracle`` is a framework (``"tensorflow"``) or one path (``"tensorflow/functional"``);
    ``quantity`` None means all four quantities, ``dtype`` None both dtypes."""

    quantity: str | None
    oracle: str
    dtype: str | None
    rtol: float
    reason: str


@dataclass(frozen=True)
class Unsupported:
    """A model this op is in that one oracle path cannot compute the reference's way.

    ``oracle`` as in :class:`ToleranceOverride`; ``when(config)`` says whether ``config`` is affected."""

    oracle: str
    when: Callable[[ModelConfig], bool]
    reason: str


@dataclass(frozen=True)
class OpInfo:
    """One op: reference, twins, domain, kinks, conventions, tolerance overrides."""

    name: str
    kind: str
    reference: Callable[..., Any]
    domain: str
    torch_functional: Callable[..., Any] | None = None
    torch_layer: Callable[..., Any] | None = None
    tf_functional: Callable[..., Any] | None = None
    keras_layer: Callable[..., Any] | None = None
    jax_functional: Callable[..., Any] | None = None
    kinks: tuple[float, ...] = ()
    conventions: tuple[str, ...] = ()  # where a framework differs and what the oracle does about it
    tolerance_overrides: tuple[ToleranceOverride, ...] = ()
    unsupported: tuple[Unsupported, ...] = ()
    # losses only
    output_activations: tuple[str, ...] = ()  # last activations this loss pairs with, canonical first
    target_kind: str = ""  # "real", "unit_interval" or "distribution"
    min_outputs: int = 1  # smallest nL for which this loss / output activation is not degenerate
    # optimizers only
    example_optimizer: OptimizerConfig | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"OpInfo {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")


# ------------------------------------------------------------------------ helpers for twins
def _keras_leaky_relu(fw: Any, config: ModelConfig) -> Callable[[Any], Any]:
    return functools.partial(fw.keras.activations.leaky_relu, negative_slope=config.leaky_relu_alpha)


def _sum_over(fw_sum: Callable[[Any], Any], tensors: list[Any]) -> Any:
    total = fw_sum(tensors[0])
    for tensor in tensors[1:]:
        total = total + fw_sum(tensor)
    return total


class KerasOptimizerTwin:
    """A Keras optimizer driven so that its numbers mean what ``torch.optim`` (the reference) means.

    ``conventions="reference"`` (the oracle's default) applies, with Keras' own machinery:

    * learning rate as a callable returning a constant of the variables' dtype: Keras stores a
      float ``learning_rate`` in a float32 variable, so in float64 ``0.1`` becomes
      ``0.10000000149`` (a 1.5e-8 relative error in every step);
    * momentum, beta_1, beta_2 as constants of the variables' dtype: Keras casts the Python floats
      through float32 (momentum 0.9 -> 0.8999999762; beta2 0.999 -> 0.9990000129, which moves
      ``sqrt(1 - beta2**t)`` by 6.4e-6 relative in float64);
    * coupled weight decay: Keras' ``weight_decay`` is decoupled (AdamW-style), so torch's
      ``g + wd * theta`` is added to the gradient explicitly, for every parameter;
    * Adam epsilon: Keras computes ``lr_t * m / (sqrt(v) + eps)`` with the bias corrections folded
      into ``lr_t``, i.e. torch's formula with ``eps`` replaced by ``eps / sqrt(1 - beta2**t)``.
      Setting ``optimizer.epsilon = eps * sqrt(1 - beta2**t)`` before step ``t`` (read eagerly on
      each ``apply_gradients``) gives torch's update exactly, up to rounding.

    ``conventions="keras"`` uses the plain Keras call a user would write (float learning rate,
    ``epsilon=eps``); it exists to measure and pin the difference, not to check the reference.
    SGD momentum and Nesterov need no compensation: Keras' ``v = mu v - lr g`` is torch's
    ``buf = mu buf + g`` scaled by ``-lr`` (same numbers for a constant learning rate and
    dampening 0, which is all ``OptimizerConfig`` expresses).
    """

    def __init__(self, fw: Any, opt: OptimizerConfig, dtype: str, conventions: str = "reference"):
        if conventions not in ("reference", "keras"):
            raise ValueError(f"conventions must be 'reference' or 'keras', got {conventions!r}")
        self.fw, self.opt, self.conventions = fw, opt, conventions
        if conventions == "reference":
            rate = fw.tf.constant(opt.learning_rate, dtype=dtype)
            learning_rate: Any = lambda: rate  # noqa: E731 - Keras accepts a zero-argument callable
        else:
            learning_rate = opt.learning_rate
        if opt.name == "sgd":
            self.optimizer = fw.keras.optimizers.SGD(learning_rate=learning_rate, momentum=opt.momentum,
                                                     nesterov=opt.nesterov)
        elif opt.name == "adam":
            self.optimizer = fw.keras.optimizers.Adam(learning_rate=learning_rate, beta_1=opt.beta1,
                                                      beta_2=opt.beta2, epsilon=opt.eps)
        else:
            raise ValueError(f"no Keras twin for optimizer {opt.name!r}")
        if conventions == "reference":
            # Keras casts these Python floats with keras.ops.cast, which goes through float32:
            # 0.9 -> 0.8999999762, 0.999 -> 0.9990000129 (then 1 - beta2**t is off by 1.3e-5 relative).
            # A constant of the run's dtype is cast exactly.
            for attribute in ("momentum", "beta_1", "beta_2"):
                if hasattr(self.optimizer, attribute):
                    exact = fw.tf.constant(getattr(self.optimizer, attribute), dtype=dtype)
                    setattr(self.optimizer, attribute, exact)

    def step(self, gradients: list[Any], variables: list[Any], t: int) -> None:
        """Apply step number ``t`` (1-based) of ``gradients`` to ``variables`` in place."""
        if self.opt.weight_decay:
            gradients = [g + self.opt.weight_decay * v for g, v in zip(gradients, variables, strict=True)]
        if self.opt.name == "adam" and self.conventions == "reference":
            self.optimizer.epsilon = self.opt.eps * math.sqrt(1.0 - self.opt.beta2**t)
        self.optimizer.apply_gradients(zip(gradients, variables, strict=True))


def _torch_sgd(fw: Any, opt: OptimizerConfig, parameters: list[Any]) -> Any:
    return fw.torch.optim.SGD(parameters, lr=opt.learning_rate, momentum=opt.momentum, nesterov=opt.nesterov,
                              weight_decay=opt.weight_decay)


def _torch_adam(fw: Any, opt: OptimizerConfig, parameters: list[Any]) -> Any:
    return fw.torch.optim.Adam(parameters, lr=opt.learning_rate, betas=(opt.beta1, opt.beta2), eps=opt.eps,
                               weight_decay=opt.weight_decay)


def _jax_binary_cross_entropy(fw: Any, AL: Any, Y: Any) -> Any:
    """BCE on probabilities as JAX users write it (optax has BCE on logits only): no clamp, no clip."""
    jnp = fw.jnp
    return -jnp.mean(Y * jnp.log(AL) + (1 - Y) * jnp.log1p(-AL))


def _activation(name: str, domain: str, torch_f, torch_l, tf_f, keras_l, **extra: Any) -> OpInfo:
    return OpInfo(name, "activation", lambda config=None: rn.get_activation(name), domain, torch_f, torch_l,
                  tf_f, keras_l, **extra)


_KERAS_BCE_CLIP = (
    "Keras binary/categorical cross-entropy on probabilities clips them to [1e-7, 1 - 1e-7] "
    "(keras.config.epsilon()), so outside that band the TF functional twin's cost differs and its "
    "gradient is 0; the reference (like torch) clamps only log() at -100. Handled by the domain: "
    "outputs in [1e-7, 1 - 1e-7]. On the Keras-layers path the sigmoid/softmax output carries "
    "_keras_logits and Keras silently switches to the logits formula, with no clipping at all."
)
_SGD_SHARED = (
    "Keras SGD momentum/Nesterov are written v = mu v - lr g; theta += v (resp. mu v - lr g): torch's "
    "formula scaled by -lr, identical for constant lr and dampening 0 (no compensation needed).",
    "Keras stores a float learning_rate in a float32 variable (0.1 -> 0.10000000149 in float64 runs): "
    "the TF oracle passes a callable returning a constant of the variables' dtype.",
)
_OPTAX_DECAY = ("optax.sgd / optax.adam take no weight_decay; the JAX twin chains add_decayed_weights(wd) "
                "before them, which is torch's coupled decay on every parameter (optax.adamw is decoupled).")

# --------------------------------------------------------------------------------- the table
OPS: tuple[OpInfo, ...] = (
    # ---- activations ------------------------------------------------------------------
    _activation("identity", "any real Z", lambda fw, Z, c: Z, lambda fw, c: fw.nn.Identity(),
                lambda fw, Z, c: Z, lambda fw, c: "linear", jax_functional=lambda fw, Z, c: Z),
    _activation("relu", "any real Z; derivative at the kink Z = 0 taken as 0 (torch, TF, reference agree)",
                lambda fw, Z, c: fw.F.relu(Z), lambda fw, c: fw.nn.ReLU(),
                lambda fw, Z, c: fw.tf.nn.relu(Z), lambda fw, c: "relu", kinks=(0.0,),
                jax_functional=lambda fw, Z, c: fw.jax.nn.relu(Z)),
    _activation("leaky_relu", "any real Z; derivative at Z = 0 taken as alpha (torch, TF, reference agree)",
                lambda fw, Z, c: fw.F.leaky_relu(Z, negative_slope=c.leaky_relu_alpha),
                lambda fw, c: fw.nn.LeakyReLU(c.leaky_relu_alpha),
                lambda fw, Z, c: fw.tf.nn.leaky_relu(Z, alpha=c.leaky_relu_alpha), _keras_leaky_relu,
                jax_functional=lambda fw, Z, c: fw.jax.nn.leaky_relu(Z, negative_slope=c.leaky_relu_alpha),
                kinks=(0.0,),
                conventions=("Default slopes differ (torch 0.01, tf.nn 0.2, Keras 0.2): every twin is passed "
                             "ModelConfig.leaky_relu_alpha explicitly.",
                             "tf.nn.leaky_relu stores alpha in a float32 op attribute, also for float64 tensors: "
                             "0.01 becomes 0.009999999776 (relative 2.2e-8; at most 2**-24 = 6e-8 for any alpha). "
                             "Not compensable with tf.nn.leaky_relu; recorded as a float64 tolerance override.",
                             "jax.nn.leaky_relu is where(x >= 0, x, alpha x): its derivative at exactly 0 is 1, not "
                             "alpha (conventions table); off the kink, where the strategies keep Z, it agrees."),
                tolerance_overrides=(ToleranceOverride(
                    None, "tensorflow", "float64", 1e-5,
                    "alpha rounded to float32 by the TF op moves negative-side values and slopes by up to "
                    "2**-24 = 6e-8 relative; cancellation in batch sums amplifies that in the normalized error "
                    "(measured max 7.9e-7 over 300 random models, measure_agreement.py); 1e-5 = 12x margin"),)),
    _activation("sigmoid", "any real Z; saturates to exactly 0/1 beyond |Z| ~ 37 (f64) / 17 (f32)",
                lambda fw, Z, c: fw.torch.sigmoid(Z), lambda fw, c: fw.nn.Sigmoid(),
                lambda fw, Z, c: fw.tf.math.sigmoid(Z), lambda fw, c: "sigmoid",
                jax_functional=lambda fw, Z, c: fw.jax.nn.sigmoid(Z)),
    _activation("tanh", "any real Z", lambda fw, Z, c: fw.torch.tanh(Z), lambda fw, c: fw.nn.Tanh(),
                lambda fw, Z, c: fw.tf.math.tanh(Z), lambda fw, c: "tanh",
                jax_functional=lambda fw, Z, c: fw.jnp.tanh(Z)),
    _activation("softmax", "any real Z; over each sample (reference: columns, frameworks: rows); "
                "degenerate (constant 1) for a single output",
                lambda fw, Z, c: fw.F.softmax(Z, dim=1), lambda fw, c: fw.nn.Softmax(dim=1),
                lambda fw, Z, c: fw.tf.nn.softmax(Z, axis=-1), lambda fw, c: "softmax",
                jax_functional=lambda fw, Z, c: fw.jax.nn.softmax(Z, axis=-1),
                # as the output of bce / cross_entropy, one output would be exactly 1: log(1 - 1) is
                # clamped at -100 by the reference and torch but clipped to 1 - 1e-7 by Keras
                min_outputs=2),
    # ---- losses (all: mean reduction as the reference documents) ----------------------------
    OpInfo("mse", "loss", lambda: rn.get_loss("mse"), "any real AL and Y",
           lambda fw, AL, Y: fw.F.mse_loss(AL, Y), lambda fw, dtype: fw.nn.MSELoss(),
           lambda fw, AL, Y: fw.tf.reduce_mean(fw.keras.losses.mean_squared_error(Y, AL)),
           lambda fw, dtype: _keras_loss(fw.keras.losses.MeanSquaredError(dtype=dtype)),
           jax_functional=lambda fw, AL, Y: fw.jnp.mean(fw.optax.losses.squared_error(AL, Y)),
           output_activations=("identity", "tanh", "sigmoid", "relu", "leaky_relu", "softmax"),
           target_kind="real",
           conventions=("Keras loss objects cast to keras.config.floatx() (float32) unless given dtype=: "
                        "the Keras twins pass the run's dtype.",
                        "optax losses return per-element values (no reduction): the JAX twin takes jnp.mean; "
                        "optax.l2_loss is half the squared error, so the twin uses optax.losses.squared_error.")),
    OpInfo("bce", "loss", lambda: rn.get_loss("bce"),
           "AL probabilities in [1e-7, 1 - 1e-7] (sigmoid or softmax output); Y in [0, 1]",
           lambda fw, AL, Y: fw.F.binary_cross_entropy(AL, Y), lambda fw, dtype: fw.nn.BCELoss(),
           lambda fw, AL, Y: fw.tf.reduce_mean(fw.keras.losses.binary_crossentropy(Y, AL)),
           lambda fw, dtype: _keras_loss(fw.keras.losses.BinaryCrossentropy(dtype=dtype)),
           jax_functional=_jax_binary_cross_entropy,
           output_activations=("sigmoid", "softmax"), target_kind="unit_interval",
           conventions=(_KERAS_BCE_CLIP, "optax has BCE on logits only; the JAX twin is the formula on "
                        "probabilities in jnp, with no clamp: inside the domain it needs none."),
           unsupported=(Unsupported(
               "tensorflow/keras", lambda config: config.activations[-1] == "softmax",
               "Keras BinaryCrossentropy takes the _keras_logits that keras.activations.softmax attaches to its "
               "output and applies the *sigmoid* cross-entropy to them: it computes BCE(sigmoid(Z)), not "
               "BCE(softmax(Z)) (cost 0.80 instead of 0.29 on a 3-class example). A Keras behaviour, not a "
               "reference bug; the functional TF path checks this pairing."),)),
    OpInfo("bce_with_logits", "loss", lambda: rn.get_loss("bce_with_logits"), "AL logits (any real); Y in [0, 1]",
           lambda fw, AL, Y: fw.F.binary_cross_entropy_with_logits(AL, Y),
           lambda fw, dtype: fw.nn.BCEWithLogitsLoss(),
           lambda fw, AL, Y: fw.tf.reduce_mean(fw.tf.nn.sigmoid_cross_entropy_with_logits(labels=Y, logits=AL)),
           lambda fw, dtype: _keras_loss(fw.keras.losses.BinaryCrossentropy(from_logits=True, dtype=dtype)),
           jax_functional=lambda fw, AL, Y: fw.jnp.mean(fw.optax.losses.sigmoid_binary_cross_entropy(AL, Y)),
           output_activations=("identity",), target_kind="unit_interval"),
    OpInfo("cross_entropy", "loss", lambda: rn.get_loss("cross_entropy"),
           "AL probability columns (softmax output, every entry in [1e-7, 1 - 1e-7]); Y distribution columns",
           # torch has no loss on probabilities with soft targets; cross_entropy applies log_softmax,
           # and log_softmax(log P) = log P when the columns of P sum to 1 (its extra gradient term
           # is constant per sample, which the softmax Jacobian maps to zero).
           lambda fw, AL, Y: fw.F.cross_entropy(fw.torch.log(AL), Y),
           lambda fw, dtype: _torch_cross_entropy_on_probabilities(fw),
           lambda fw, AL, Y: fw.tf.reduce_mean(fw.keras.losses.categorical_crossentropy(Y, AL)),
           lambda fw, dtype: _keras_loss(fw.keras.losses.CategoricalCrossentropy(dtype=dtype)),
           jax_functional=lambda fw, AL, Y: -fw.jnp.mean(fw.jnp.sum(Y * fw.jnp.log(AL), axis=-1)),
           output_activations=("softmax",), target_kind="distribution", min_outputs=2,
           conventions=(_KERAS_BCE_CLIP, "Keras renormalizes P by its column sum before the log.")),
    OpInfo("softmax_cross_entropy", "loss", lambda: rn.get_loss("softmax_cross_entropy"),
           "AL logits (identity last activation, any real); Y distribution columns",
           lambda fw, AL, Y: fw.F.cross_entropy(AL, Y), lambda fw, dtype: fw.nn.CrossEntropyLoss(),
           lambda fw, AL, Y: fw.tf.reduce_mean(fw.tf.nn.softmax_cross_entropy_with_logits(labels=Y, logits=AL)),
           lambda fw, dtype: _keras_loss(fw.keras.losses.CategoricalCrossentropy(from_logits=True, dtype=dtype)),
           jax_functional=lambda fw, AL, Y: fw.jnp.mean(fw.optax.losses.softmax_cross_entropy(AL, Y)),
           output_activations=("identity",), target_kind="distribution", min_outputs=2),
    # ---- layers ---------------------------------------------------------------------------
    OpInfo("linear", "layer", rn.Linear, "any real A, W, b",
           lambda fw, A, W, b: fw.F.linear(A, W, b),
           lambda fw, n_in, n_out, dtype: fw.nn.Linear(n_in, n_out, dtype=getattr(fw.torch, dtype)),
           lambda fw, A, K, b: fw.tf.nn.bias_add(fw.tf.linalg.matmul(A, K), b),
           lambda fw, n_out, activation, config: fw.keras.layers.Dense(
               n_out, activation=activation, dtype=config.dtype,
               kernel_regularizer=fw.keras.regularizers.L2(0.5 * config.l2) if config.l2 else None),
           jax_functional=lambda fw, A, K, b: A @ K + b,
           conventions=("torch nn.Linear.weight is W (n_out, n_in); Keras Dense.kernel is W.T (n_in, n_out): "
                        "the TF oracles hold kernels and transpose on the way in and out; so does the JAX oracle "
                        "(Flax's Dense kernel is (n_in, n_out) too).",)),
    # ---- penalty --------------------------------------------------------------------------
    OpInfo("l2", "penalty", rn.l2_penalty, "l2 >= 0; weights only, not biases",
           lambda fw, weights, l2: 0.5 * l2 * _sum_over(lambda W: W.square().sum(), weights), None,
           lambda fw, kernels, l2: l2 * _sum_over(fw.tf.nn.l2_loss, kernels),  # l2_loss(K) = sum(K**2) / 2
           lambda fw, l2: fw.keras.regularizers.L2(0.5 * l2),  # Keras L2(c) adds c * sum(K**2)
           jax_functional=lambda fw, kernels, l2: 0.5 * l2 * sum(fw.jnp.sum(K * K) for K in kernels),
           conventions=("torch has no L2 cost term (weight_decay is a gradient rule over all parameters): the "
                        "torch twin adds 0.5 * l2 * sum(W**2) to the loss by hand.",
                        "keras.regularizers.L2(c) casts c through float32 (keras.ops.cast of a Python float), "
                        "even for float64 kernels: 0.025 -> 0.02500000037 (relative 1.5e-8, at most 2**-24). "
                        "Kept as Keras users get it; recorded as a float64 override for the Keras path."),
           tolerance_overrides=(ToleranceOverride(
               None, "tensorflow/keras", "float64", 1e-5,
               "the L2 factor is rounded to float32 by Keras: the penalty and its gradient l2 * W are off by up "
               "to 2**-24 = 6e-8 relative, amplified where loss and penalty gradients cancel (measured max "
               "2.9e-7 over 300 random models, measure_agreement.py); 1e-5 = 35x margin"),)),
    # ---- optimizers -----------------------------------------------------------------------
    OpInfo("sgd", "optimizer", lambda opt: opt.build(), "learning_rate >= 0",
           _torch_sgd, _torch_sgd, KerasOptimizerTwin, KerasOptimizerTwin, optax_transformation,
           conventions=_SGD_SHARED,
           example_optimizer=OptimizerConfig("sgd", learning_rate=0.1)),
    OpInfo("sgd_momentum", "optimizer", lambda opt: opt.build(), "0 <= momentum < 1",
           _torch_sgd, _torch_sgd, KerasOptimizerTwin, KerasOptimizerTwin, optax_transformation,
           conventions=_SGD_SHARED,
           example_optimizer=OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9)),
    OpInfo("nesterov", "optimizer", lambda opt: opt.build(), "0 < momentum < 1",
           _torch_sgd, _torch_sgd, KerasOptimizerTwin, KerasOptimizerTwin, optax_transformation,
           conventions=_SGD_SHARED,
           example_optimizer=OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9, nesterov=True)),
    OpInfo("sgd_weight_decay", "optimizer", lambda opt: opt.build(), "weight_decay >= 0",
           _torch_sgd, _torch_sgd, KerasOptimizerTwin, KerasOptimizerTwin, optax_transformation,
           conventions=_SGD_SHARED + ("Keras weight_decay is decoupled (theta -= lr wd theta); torch's is "
                                      "coupled (g += wd theta): the TF oracle adds wd * theta to the gradient.",
                                      _OPTAX_DECAY),
           example_optimizer=OptimizerConfig("sgd", learning_rate=0.1, momentum=0.9, weight_decay=0.01)),
    OpInfo("adam", "optimizer", lambda opt: opt.build(), "0 <= beta1, beta2 < 1; eps > 0",
           _torch_adam, _torch_adam, KerasOptimizerTwin, KerasOptimizerTwin, optax_transformation,
           conventions=("Keras Adam adds epsilon to sqrt(v) before the bias correction: torch's update with eps "
                        "replaced by eps / sqrt(1 - beta2**t) (31.6x larger at t = 1 for beta2 = 0.999). The TF "
                        "oracle sets optimizer.epsilon = eps * sqrt(1 - beta2**t) before each step, which "
                        "reproduces torch exactly; the plain Keras call differs by the amount measured in "
                        "tests/oracles/test_conventions_measured.py.",
                        "Keras Adam weight_decay is decoupled (AdamW); torch Adam's is coupled: added to g.",
                        "optax.adam puts eps where torch does (after the bias-corrected root; eps_root=0): no "
                        "compensation. " + _OPTAX_DECAY) +
           _SGD_SHARED[1:],
           example_optimizer=OptimizerConfig("adam", learning_rate=0.01, weight_decay=0.01)),
)

# issue 17's rows live in ops_modern.py (for this file's size)
OPS += modern_rows(OpInfo, ToleranceOverride, Unsupported, OptimizerConfig) + normalization_rows(OpInfo, Unsupported,
                                                                                             ToleranceOverride)

OPS_BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPS}


def _keras_loss(loss_object: Any) -> Callable[[Any, Any], Any]:
    """Keras losses take ``(y_true, y_pred)``; the table's convention is ``(AL, Y)``."""
    return lambda AL, Y: loss_object(Y, AL)


def _torch_cross_entropy_on_probabilities(fw: Any) -> Callable[[Any, Any], Any]:
    module = fw.nn.CrossEntropyLoss()
    return lambda AL, Y: module(fw.torch.log(AL), Y)


# --------------------------------------------------------------------------------- look-ups
def op(name: str) -> OpInfo:
    """The row named ``name``; KeyError lists the known names."""
    try:
        return OPS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} in the op table; known: {sorted(OPS_BY_NAME)}") from None


def ops_of_kind(kind: str) -> tuple[OpInfo, ...]:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return tuple(row for row in OPS if row.kind == kind)


def activation_op(name: str) -> OpInfo:
    """The activation row for a reference activation name (``"linear"`` is ``"identity"``)."""
    return op("identity" if name == "linear" else name)


def optimizer_ops(opt: OptimizerConfig) -> tuple[OpInfo, ...]:
    """The optimizer rows a configuration exercises; the first one's twins build the optimizer."""
    if opt.name in ("adam", "adamw", "rmsprop", "adagrad"):
        return (op(opt.name),)
    rows = [op("nesterov") if opt.nesterov else op("sgd_momentum") if opt.momentum else op("sgd")]
    if opt.weight_decay:
        rows.append(op("sgd_weight_decay"))
    return tuple(rows)


def ops_in(config: ModelConfig) -> tuple[OpInfo, ...]:
    """Every row a model configuration exercises (for tolerance overrides and reports)."""
    rows = [activation_op(name) for name in dict.fromkeys(config.activations)]
    rows += [op(config.loss), op("linear")]
    if config.normalization:
        rows.append(op(f"{config.normalization}_norm"))
    if config.l2:
        rows.append(op("l2"))
    if config.steps:
        rows += optimizer_ops(config.optimizer)
    return tuple(rows)


def missing_twin_reason(field_name: str, config: ModelConfig) -> str | None:
    """Which op of ``config`` has no twin in ``field_name`` (e.g. ``"jax_functional"``), or None."""
    missing = [row.name for row in ops_in(config) if getattr(row, field_name) is None]
    return f"no {field_name} twin in the op table for {', '.join(missing)}" if missing else None


def unsupported_reason(oracle_name: str, config: ModelConfig) -> str | None:
    """Why ``oracle_name`` (e.g. ``"tensorflow/keras"``) cannot compute ``config`` the reference's way,
    or None. A row's ``oracle`` matches the framework or the exact path."""
    for row in ops_in(config):
        for entry in row.unsupported:
            if oracle_matches(entry.oracle, oracle_name) and entry.when(config):
                return f"{row.name}: {entry.reason}"
    return None


def oracle_matches(pattern: str, oracle_name: str) -> bool:
    """``"tensorflow"`` matches every TF path; ``"tensorflow/keras"`` matches that path (any suffix)."""
    framework_and_path = oracle_name.split("+")[0]
    return pattern == framework_and_path.split("/")[0] or pattern == framework_and_path


def valid_output_activations(loss: str) -> tuple[str, ...]:
    """The last activations ``loss`` pairs with, canonical first (e.g. ``bce`` -> sigmoid, softmax)."""
    row = op(loss)
    if row.kind != "loss":
        raise ValueError(f"{loss!r} is a {row.kind}, not a loss")
    return row.output_activations


def min_outputs(loss: str, output_activation: str) -> int:
    """Smallest ``nL`` for which ``loss`` after ``output_activation`` is a non-degenerate model inside
    every oracle's domain (softmax over one output is the constant 1; categorical losses need 2 classes)."""
    if output_activation not in valid_output_activations(loss):
        raise ValueError(f"{output_activation!r} is not a valid output activation for {loss!r}; "
                         f"expected one of {valid_output_activations(loss)}")
    return max(op(loss).min_outputs, activation_op(output_activation).min_outputs)


def valid_targets(loss: str, shape: tuple[int, int], rng: np.random.Generator, dtype: str = "float64") -> np.ndarray:
    """Targets ``Y`` of ``shape (nL, m)`` in ``loss``'s domain, as ``dtype``.

    real: standard normal; unit_interval: uniform in [0, 1] (soft labels); distribution: each
    column a Dirichlet(1) draw rounded down to multiples of 2**-20 with the last row set to
    ``1 - sum(others)``: every entry and every column sum is then exact in float32 *and* float64,
    so the same targets pass the reference's sum-to-1 check in both dtypes (an oracle that
    evaluates a float32 model in float64 sees exactly the same function)."""
    row = op(loss)
    if row.kind != "loss":
        raise ValueError(f"{loss!r} is a {row.kind}, not a loss")
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (nL, m) with nL, m >= 1, got {shape!r}")
    if row.target_kind == "real":
        return rng.standard_normal(shape).astype(dtype)
    if row.target_kind == "unit_interval":
        return rng.uniform(0.0, 1.0, shape).astype(dtype)
    quantum = 2.0**-20
    Y = np.floor(rng.dirichlet(np.ones(shape[0]), size=shape[1]).T / quantum) * quantum
    Y[-1] = 1.0 - Y[:-1].sum(axis=0)
    return Y.astype(dtype)


# ------------------------------------------------------------------------- example models
def example_configs(row: OpInfo, dtype: str) -> list[ModelConfig]:
    """Small fixed models that exercise ``row`` (used by tests/oracles to walk the table)."""
    if row.kind == "activation":
        configs = [ModelConfig((4, 5, 4, 1), (row.name, row.name, "sigmoid"), "bce", dtype=dtype)]
        for loss in ("softmax_cross_entropy", "cross_entropy", "bce", "mse"):
            if row.name in op(loss).output_activations:
                configs.append(ModelConfig((4, 5, 3), ("tanh", row.name), loss, dtype=dtype))
                break
        return configs
    if row.kind == "loss":
        return [ModelConfig((4, 5, max(3, row.min_outputs)), ("tanh", last), row.name, dtype=dtype)
                for last in row.output_activations]
    if row.name in ("batch_norm", "layer_norm"):
        kind = row.name.split("_")[0]
        modes = ("train", "eval") if kind == "batch" else ("train",)
        return [ModelConfig((4, 5, 4, 3), ("tanh", "gelu", "softmax"), "cross_entropy", normalization=kind,
                            normalization_mode=mode, optimizer=OptimizerConfig("adam", learning_rate=0.01), steps=3,
                            dtype=dtype) for mode in modes]
    if row.kind == "layer":
        return [ModelConfig((4, 3, 2), ("identity", "identity"), "mse", dtype=dtype)]
    if row.kind == "penalty":
        return [ModelConfig((4, 5, 1), ("tanh", "sigmoid"), "bce", l2=0.05, dtype=dtype)]
    assert row.example_optimizer is not None, f"optimizer row {row.name} needs example_optimizer"
    return [ModelConfig((4, 5, 1), ("tanh", "sigmoid"), "bce", optimizer=row.example_optimizer, steps=3,
                        dtype=dtype)]


def example_inputs(config: ModelConfig, seed: int = 0, m: int = 6) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                                              np.ndarray]:
    """``params`` (Xavier weights, small random biases), ``X (n0, m)`` and valid ``Y (nL, m)``."""
    rng = np.random.default_rng(seed)
    params = rn.initialize_parameters(config.layer_dims, init="xavier", seed=rng, dtype=config.dtype,
                                      normalization=config.normalization)
    for name in params:
        if name.startswith(("b", "gamma")):  # b and beta: small random shifts; gamma: 1 + small
            shift = 0.1 * rng.standard_normal(params[name].shape) + (name.startswith("gamma"))
            params[name] = shift.astype(config.dtype)
    X = rng.standard_normal((config.layer_dims[0], m)).astype(config.dtype)
    Y = valid_targets(config.loss, (config.layer_dims[-1], m), rng, config.dtype)
    return params, X, Y
