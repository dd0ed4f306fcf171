"""Op-table rows of the modern MLP op set (issue 17): GELU (exact and tanh), ELU, SELU, Softplus,
SiLU; Huber, L1 and KL-divergence losses; RMSprop, Adagrad and AdamW.

Kept out of ``ops.py`` for size only: :func:`modern_rows` receives the table's row classes and
returns the rows, which ``ops.OPS`` appends (no circular import). Twin signatures are the ones
``ops.py`` documents. Every tolerance override states the measurement behind it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import reference_nn as rn
from equivalence_tests.optax_twins import optax_transformation

SOFTPLUS_TORCH_THRESHOLD = {"float64": 40.0, "float32": 20.0}
# torch's Softplus returns Z itself once Z > threshold (default 20): exact softplus is Z + log1p(exp(-Z)),
# which differs from Z by exp(-20) = 2.1e-9 at 20 (slope: sigmoid(20) = 1 - 2.1e-9 instead of 1). In float64
# that is visible; past 40 the difference exp(-40) = 4e-18 is below half an ulp of Z (and of the slope 1),
# so threshold 40 makes torch compute the exact function. In float32, 20 already is (exp(-20) < eps/2 of 20
# and sigmoid(20) rounds to 1), and exp(Z) would overflow above 88: the default stays.


def _torch_softplus(fw: Any, Z: Any, config: Any) -> Any:
    return fw.F.softplus(Z, beta=1.0, threshold=SOFTPLUS_TORCH_THRESHOLD[config.dtype])


def _keras_gelu(approximate: bool) -> Callable[[Any, Any], Any]:
    return lambda fw, config: functools.partial(fw.keras.activations.gelu, approximate=approximate)


def _keras_loss(loss_object: Any) -> Callable[[Any, Any], Any]:
    """Keras losses take ``(y_true, y_pred)``; the table's convention is ``(AL, Y)``."""
    return lambda AL, Y: loss_object(Y, AL)


def _torch_kl_div(fw: Any, AL: Any, Y: Any) -> Any:
    return fw.F.kl_div(fw.torch.log(AL), Y, reduction="batchmean")


def _torch_kl_div_module(fw: Any, dtype: str) -> Callable[[Any, Any], Any]:
    module = fw.nn.KLDivLoss(reduction="batchmean")
    return lambda AL, Y: module(fw.torch.log(AL), Y)


_TF_FLOAT32_CONSTANTS = (
    "tf.nn.gelu (and keras.activations.gelu, which calls it) casts its constants with tf.cast of a Python "
    "float, which goes through float32 also for float64 tensors: sqrt(1/2) becomes 0.70710677 (relative "
    "2.2e-8), 0.044715 in the tanh form likewise. Not compensable with the framework's function; recorded "
    "as a float64 tolerance override (conventions table: gelu_float64_constants).")


def _tf_gelu_override(name: str) -> Any:
    return (
        "tensorflow", "float64", 1e-5,
        f"{name}: tf.nn.gelu's float32-rounded constants move values by up to 4e-9 and slopes by up to 2.4e-8 "
        "relative (tests/oracles/test_modern_ops_frameworks.py); batch sums with cancellation amplify that in "
        "the normalized error as for leaky_relu's float32 slope (same override, 1e-5)")


def modern_rows(OpInfo: type, ToleranceOverride: type, Unsupported: type, OptimizerConfig: type) -> tuple[Any, ...]:
    """The rows, built with the table's own classes (passed in by ``ops.py``)."""

    def activation(name: str, domain: str, torch_f, torch_l, tf_f, keras_l, **extra: Any) -> Any:
        return OpInfo(name, "activation", lambda config=None: rn.get_activation(name), domain, torch_f, torch_l,
                      tf_f, keras_l, **extra)

    def tf_override(name: str) -> Any:
        oracle, dtype, rtol, reason = _tf_gelu_override(name)
        return ToleranceOverride(None, oracle, dtype, rtol, reason)

    real_outputs = ("identity", "tanh", "softplus", "gelu", "silu", "elu", "selu", "gelu_tanh")
    return (
        # ---- activations ------------------------------------------------------------------
        activation("gelu", "any real Z; exact GELU Z Phi(Z) (torch and Keras default; JAX's default is tanh)",
                   lambda fw, Z, c: fw.F.gelu(Z), lambda fw, c: fw.nn.GELU(),
                   lambda fw, Z, c: fw.tf.nn.gelu(Z, approximate=False), _keras_gelu(False),
                   jax_functional=lambda fw, Z, c: fw.jax.nn.gelu(Z, approximate=False),  # JAX's default: tanh
                   conventions=(_TF_FLOAT32_CONSTANTS,), tolerance_overrides=(tf_override("gelu"),)),
        activation("gelu_tanh", "any real Z; 0.5 Z (1 + tanh(sqrt(2/pi) (Z + 0.044715 Z^3)))",
                   lambda fw, Z, c: fw.F.gelu(Z, approximate="tanh"), lambda fw, c: fw.nn.GELU(approximate="tanh"),
                   lambda fw, Z, c: fw.tf.nn.gelu(Z, approximate=True), _keras_gelu(True),
                   jax_functional=lambda fw, Z, c: fw.jax.nn.gelu(Z, approximate=True),
                   conventions=(_TF_FLOAT32_CONSTANTS,), tolerance_overrides=(tf_override("gelu_tanh"),)),
        activation("elu", "any real Z; alpha 1 (torch and Keras default), C1 at 0 (the curvature jumps)",
                   lambda fw, Z, c: fw.F.elu(Z), lambda fw, c: fw.nn.ELU(),
                   lambda fw, Z, c: fw.tf.nn.elu(Z), lambda fw, c: "elu",
                   jax_functional=lambda fw, Z, c: fw.jax.nn.elu(Z),
                   conventions=("TF's elu gradient is computed from the output (A + 1 for A < 0): for Z < -37 "
                                "(float64) A rounds to -1 and the slope to 0 instead of exp(Z) < 1e-16, an "
                                "absolute difference below eps.",)),
        activation("selu", "any real Z; kink at 0 (slopes scale and scale * alpha), kept away by the strategies",
                   lambda fw, Z, c: fw.F.selu(Z), lambda fw, c: fw.nn.SELU(),
                   lambda fw, Z, c: fw.tf.nn.selu(Z), lambda fw, c: "selu", kinks=(0.0,),
                   jax_functional=lambda fw, Z, c: fw.jax.nn.selu(Z),
                   conventions=("Derivative at exactly 0: torch and the reference take the left slope scale * "
                                "alpha = 1.7581, TensorFlow the right slope scale = 1.0507 (conventions table: "
                                "selu_derivative_at_zero); the strategies keep pre-activations off 0.",)),
        activation("softplus", "any real Z; the exact log(1 + exp(Z)), no threshold",
                   _torch_softplus,
                   lambda fw, c: fw.nn.Softplus(beta=1.0, threshold=SOFTPLUS_TORCH_THRESHOLD[c.dtype]),
                   lambda fw, Z, c: fw.tf.math.softplus(Z), lambda fw, c: "softplus",
                   jax_functional=lambda fw, Z, c: fw.jax.nn.softplus(Z),  # logaddexp(Z, 0): no threshold
                   conventions=("torch's Softplus() returns Z itself above threshold=20 (2.1e-9 off at Z = 20 and "
                                "slope exactly 1): the torch twins pass threshold=40 in float64, where torch then "
                                "computes the exact function (conventions table: softplus_threshold).",)),
        activation("silu", "any real Z; Z sigmoid(Z) (swish)",
                   lambda fw, Z, c: fw.F.silu(Z), lambda fw, c: fw.nn.SiLU(),
                   lambda fw, Z, c: fw.tf.nn.silu(Z), lambda fw, c: "silu",
                   jax_functional=lambda fw, Z, c: fw.jax.nn.silu(Z)),
        # ---- losses -------------------------------------------------------------------------
        OpInfo("huber", "loss", lambda: rn.get_loss("huber"), "any real AL and Y; delta 1, mean over all elements",
               lambda fw, AL, Y: fw.F.huber_loss(AL, Y, delta=1.0), lambda fw, dtype: fw.nn.HuberLoss(delta=1.0),
               lambda fw, AL, Y: fw.tf.reduce_mean(fw.keras.losses.huber(Y, AL, delta=1.0)),
               lambda fw, dtype: _keras_loss(fw.keras.losses.Huber(delta=1.0, dtype=dtype)),
               jax_functional=lambda fw, AL, Y: fw.jnp.mean(fw.optax.losses.huber_loss(AL, Y, delta=1.0)),
               output_activations=real_outputs, target_kind="real",
               conventions=("torch HuberLoss(delta) equals SmoothL1Loss(beta) only at delta = beta = 1: "
                            "SmoothL1 = Huber / beta (conventions table: huber_vs_smooth_l1).",)),
        OpInfo("l1", "loss", lambda: rn.get_loss("l1"), "any real AL and Y; kink where AL = Y (gradient sign(0) = 0)",
               lambda fw, AL, Y: fw.F.l1_loss(AL, Y), lambda fw, dtype: fw.nn.L1Loss(),
               lambda fw, AL, Y: fw.tf.reduce_mean(fw.keras.losses.mean_absolute_error(Y, AL)),
               lambda fw, dtype: _keras_loss(fw.keras.losses.MeanAbsoluteError(dtype=dtype)),
               jax_functional=lambda fw, AL, Y: fw.jnp.mean(fw.jnp.abs(AL - Y)),
               output_activations=real_outputs, target_kind="real", kinks=(0.0,)),
        OpInfo("kl_div", "loss", lambda: rn.get_loss("kl_div"),
               "AL probability columns (softmax output, every entry in [1e-7, 1 - 1e-7]); Y distribution columns "
               "with entries >= 1e-7",
               _torch_kl_div, _torch_kl_div_module,
               lambda fw, AL, Y: fw.tf.reduce_mean(fw.keras.losses.kl_divergence(Y, AL)),
               lambda fw, dtype: _keras_loss(fw.keras.losses.KLDivergence(dtype=dtype)),
               # optax's kl_divergence takes log-predictions, like torch's, and sums over classes per sample
               jax_functional=lambda fw, AL, Y: fw.jnp.mean(fw.optax.losses.kl_divergence(fw.jnp.log(AL), Y)),
               output_activations=("softmax",), target_kind="distribution", min_outputs=2,
               conventions=("torch's KLDivLoss takes log-probabilities as input and its default reduction 'mean' "
                            "divides by n_classes * m; only reduction='batchmean' is KL averaged over the batch, "
                            "Keras' value (conventions table: kl_div_reduction). The torch twins pass log(P) and "
                            "'batchmean'.",
                            "Keras clips P and Y to [1e-7, 1] before the log: a target entry of 0 contributes "
                            "1e-7 log(1e-7 / P) there instead of 0. The domain keeps both off the clip.")),
        # ---- optimizers (torch.optim semantics; Keras twins compensated, see KerasModernOptimizerTwin) --------
        OpInfo("rmsprop", "optimizer", lambda opt: opt.build(), "0 <= alpha < 1; eps > 0; 0 <= momentum < 1",
               torch_modern_optimizer, torch_modern_optimizer, KerasModernOptimizerTwin, KerasModernOptimizerTwin,
               optax_transformation,
               conventions=("Keras RMSprop divides by sqrt(v + eps), torch by sqrt(v) + eps; defaults rho 0.9 / "
                            "eps 1e-7 (Keras) vs alpha 0.99 / eps 1e-8 (torch) (conventions table: "
                            "rmsprop_epsilon_placement). The TF oracle sets a per-variable epsilon tensor "
                            "(sqrt(v) + eps)^2 - v before each step.",
                            "Keras' momentum accumulates lr g / d, torch's g / d: equal for a constant rate.",
                            "Keras' weight_decay is decoupled; torch's coupled decay is added to g by the twin."),
               example_optimizer=OptimizerConfig("rmsprop", learning_rate=0.01, alpha=0.9, eps=1e-8, momentum=0.5,
                                                 centered=True, weight_decay=0.01)),
        OpInfo("adagrad", "optimizer", lambda opt: opt.build(), "lr_decay >= 0; initial_accumulator_value >= 0",
               torch_modern_optimizer, torch_modern_optimizer, KerasModernOptimizerTwin, KerasModernOptimizerTwin,
               optax_transformation,
               conventions=("Keras Adagrad divides by sqrt(s + eps) with eps 1e-7 and starts s at 0.1; torch by "
                            "sqrt(s) + 1e-10 from s = 0 (conventions table: adagrad_accumulator_and_epsilon). The TF "
                            "oracle passes initial_accumulator_value and sets a per-variable epsilon tensor.",
                            "Keras Adagrad has no lr_decay: the twin's learning-rate callable returns torch's "
                            "lr / (1 + (t - 1) lr_decay) at step t."),
               example_optimizer=OptimizerConfig("adagrad", learning_rate=0.1, lr_decay=0.01,
                                                 initial_accumulator_value=0.1, eps=1e-10, weight_decay=0.01)),
        OpInfo("adamw", "optimizer", lambda opt: opt.build(), "0 <= beta1, beta2 < 1; eps > 0; weight_decay >= 0",
               torch_modern_optimizer, torch_modern_optimizer, KerasModernOptimizerTwin, KerasModernOptimizerTwin,
               optax_transformation,
               conventions=("Decoupled decay theta *= 1 - lr wd (torch) and theta -= theta wd lr (Keras): the same "
                            "product; default weight_decay 0.01 (torch) vs 0.004 (Keras) (conventions table: "
                            "adamw_default_weight_decay). Epsilon placement as Adam's: compensated per step.",),
               example_optimizer=OptimizerConfig("adamw", learning_rate=0.01, weight_decay=0.05)),
    )


# ------------------------------------------------------------------------------ optimizers
def torch_modern_optimizer(fw: Any, opt: Any, parameters: list[Any]) -> Any:
    """``torch.optim.RMSprop / Adagrad / AdamW`` with every hyper-parameter of ``opt`` passed."""
    optim = fw.torch.optim
    if opt.name == "rmsprop":
        return optim.RMSprop(parameters, lr=opt.learning_rate, alpha=opt.alpha, eps=opt.eps,
                             weight_decay=opt.weight_decay, momentum=opt.momentum, centered=opt.centered)
    if opt.name == "adagrad":
        return optim.Adagrad(parameters, lr=opt.learning_rate, lr_decay=opt.lr_decay, weight_decay=opt.weight_decay,
                             initial_accumulator_value=opt.initial_accumulator_value, eps=opt.eps)
    if opt.name == "adamw":
        return optim.AdamW(parameters, lr=opt.learning_rate, betas=(opt.beta1, opt.beta2), eps=opt.eps,
                           weight_decay=opt.weight_decay)
    raise ValueError(f"no torch twin for optimizer {opt.name!r} in ops_modern")


class KerasModernOptimizerTwin:
    """Keras' RMSprop / Adagrad / AdamW driven so that the numbers mean ``torch.optim``'s
    (``conventions="reference"``), or the plain Keras call (``"keras"``, to measure the difference).

    What "reference" does, each with Keras' own optimizer doing the update:

    * epsilon *outside* the root: Keras divides by ``sqrt(s + epsilon)`` (RMSprop: ``s = v`` or
      ``v - a^2`` centered; Adagrad: the accumulator), torch by ``sqrt(s) + eps``. Before each step
      the twin computes ``s`` after this step's update (the same recursion in TF, one rounding from
      Keras' own) and sets ``epsilon = (sqrt(s) + eps)^2 - s`` (a tensor of the variable's shape),
      so that Keras' ``sqrt(s + epsilon)`` is ``sqrt(s) + eps``. Epsilon is shared by the variables
      of one optimizer, so each variable gets its own Keras optimizer (both updates are element-wise);
    * AdamW: epsilon ``eps sqrt(1 - beta2^t)`` per step, as for Adam (ops.KerasOptimizerTwin);
      Keras' decoupled decay ``theta -= theta wd lr`` is torch's ``theta *= 1 - lr wd``;
    * Adagrad's ``lr_decay`` (Keras has none): the learning rate callable returns torch's
      ``lr / (1 + (t - 1) lr_decay)`` at step t. Its ``initial_accumulator_value`` (Keras' default
      0.1, torch's 0) goes into the epsilon tensor instead of Keras' accumulator, which starts at 0:
      Keras initializes it through float32 (0.1 -> 0.10000000149, measured as a 6.6e-9 relative
      step error in float64);
    * hyper-parameters (rho, momentum, betas, weight decay, learning rate) as constants of the
      variables' dtype: Keras casts Python floats through float32;
    * momentum (RMSprop): Keras accumulates ``lr g / d`` where torch accumulates ``g / d`` and
      multiplies by lr after: the same for a constant learning rate, no compensation.
    """

    def __init__(self, fw: Any, opt: Any, dtype: str, conventions: str = "reference"):
        if conventions not in ("reference", "keras"):
            raise ValueError(f"conventions must be 'reference' or 'keras', got {conventions!r}")
        if opt.name not in ("rmsprop", "adagrad", "adamw"):
            raise ValueError(f"no Keras twin for optimizer {opt.name!r} in ops_modern")
        self.fw, self.opt, self.dtype, self.conventions = fw, opt, dtype, conventions
        self.rate = fw.tf.constant(opt.learning_rate, dtype=dtype)
        self.optimizers: list[Any] = []
        self.accumulated: list[Any] = []  # the twin's copy of s (and a, centered) per variable

    def _constant(self, value: float) -> Any:
        return self.fw.tf.constant(value, dtype=self.dtype) if self.conventions == "reference" else value

    def _new_optimizer(self) -> Any:
        keras, opt = self.fw.keras, self.opt
        rate = (lambda: self.rate) if self.conventions == "reference" else opt.learning_rate
        if opt.name == "rmsprop":
            optimizer = keras.optimizers.RMSprop(learning_rate=rate, rho=opt.alpha, momentum=opt.momentum,
                                                 epsilon=opt.eps, centered=opt.centered)
            optimizer.rho = self._constant(opt.alpha)
            optimizer.momentum = self._constant(opt.momentum)
        elif opt.name == "adagrad":
            initial = 0.0 if self.conventions == "reference" else opt.initial_accumulator_value
            optimizer = keras.optimizers.Adagrad(learning_rate=rate, epsilon=opt.eps, initial_accumulator_value=initial)
        else:
            optimizer = keras.optimizers.AdamW(learning_rate=rate, weight_decay=opt.weight_decay, beta_1=opt.beta1,
                                               beta_2=opt.beta2, epsilon=opt.eps)
            optimizer.weight_decay = self._constant(opt.weight_decay)
            optimizer.beta_1, optimizer.beta_2 = self._constant(opt.beta1), self._constant(opt.beta2)
        return optimizer

    def step(self, gradients: list[Any], variables: list[Any], t: int) -> None:
        """Apply step number ``t`` (1-based) of ``gradients`` to ``variables`` in place."""
        tf, opt = self.fw.tf, self.opt
        if not self.optimizers:
            self.optimizers = [self._new_optimizer() for _ in variables]
            # per variable: [Keras' accumulator (from 0), the gradient average (centered RMSprop)]
            self.accumulated = [[tf.zeros_like(v), tf.zeros_like(v)] for v in variables]
        if opt.weight_decay and opt.name != "adamw":  # torch's coupled decay: g += wd theta
            gradients = [g + opt.weight_decay * v for g, v in zip(gradients, variables, strict=True)]
        if opt.name == "adagrad" and self.conventions == "reference":
            self.rate = tf.constant(opt.learning_rate / (1 + (t - 1) * opt.lr_decay), dtype=self.dtype)
        for index, (g, v) in enumerate(zip(gradients, variables, strict=True)):
            optimizer = self.optimizers[index]
            if self.conventions == "reference":
                optimizer.epsilon = self._epsilon(index, g, t)
            optimizer.apply_gradients([(g, v)])

    def _epsilon(self, index: int, g: Any, t: int) -> Any:
        """The epsilon that makes this step's Keras denominator torch's (class docstring)."""
        tf, opt = self.fw.tf, self.opt
        if opt.name == "adamw":
            return opt.eps * (1.0 - opt.beta2**t) ** 0.5
        s, a = self.accumulated[index]
        if opt.name == "adagrad":
            s = s + tf.square(g)  # Keras' accumulator
            self.accumulated[index] = [s, a]
            torch_sum = s + tf.constant(opt.initial_accumulator_value, dtype=self.dtype)
            return tf.square(tf.sqrt(torch_sum) + tf.constant(opt.eps, dtype=self.dtype)) - s
        rho = tf.constant(opt.alpha, dtype=self.dtype)
        s = rho * s + (1 - rho) * tf.square(g)
        a = rho * a + (1 - rho) * g
        variance = s - tf.square(a) if opt.centered else s
        self.accumulated[index] = [s, a]
        root = tf.sqrt(tf.maximum(variance, tf.zeros_like(variance)))
        return tf.square(root + tf.constant(opt.eps, dtype=self.dtype)) - variance


# --------------------------------------------------------------------------- normalization
# Twin signatures of the batch_norm / layer_norm rows (kind "layer"; Z in the frameworks' layout (m, n)):
#   torch_functional / tf_functional  (fw, Z, gamma, beta, stats, training, config) -> normalized Z, where
#       stats is (running_mean, running_var) of shape (n,) (BatchNorm; updated in place in training mode)
#   torch_layer / keras_layer         (fw, n, config) -> the framework's module / layer
NORM_EPS = rn.Normalization("batch").eps  # torch's 1e-5 (Keras: 1e-3)
NORM_MOMENTUM = rn.Normalization("batch").momentum  # torch's 0.1 = weight of the new batch statistic


def _torch_batch_norm(fw: Any, Z: Any, gamma: Any, beta: Any, stats: Any, training: bool, config: Any) -> Any:
    return fw.F.batch_norm(Z, stats[0], stats[1], gamma, beta, training=training, momentum=NORM_MOMENTUM, eps=NORM_EPS)


def _tf_batch_norm(fw: Any, Z: Any, gamma: Any, beta: Any, stats: Any, training: bool, config: Any) -> Any:
    """tf.nn.moments + tf.nn.batch_normalization, the running statistics updated as torch does
    (unbiased variance m / (m - 1)), written as a TF user writes it."""
    tf = fw.tf
    if not training:
        return tf.nn.batch_normalization(Z, stats[0], stats[1], beta, gamma, NORM_EPS)
    mean, variance = tf.nn.moments(Z, axes=[0])
    m = int(Z.shape[0])
    stats[0].assign((1 - NORM_MOMENTUM) * stats[0] + NORM_MOMENTUM * mean)
    stats[1].assign((1 - NORM_MOMENTUM) * stats[1] + NORM_MOMENTUM * variance * (m / (m - 1)))
    return tf.nn.batch_normalization(Z, mean, variance, beta, gamma, NORM_EPS)


def _tf_layer_norm(fw: Any, Z: Any, gamma: Any, beta: Any, stats: Any, training: bool, config: Any) -> Any:
    mean, variance = fw.tf.nn.moments(Z, axes=[-1], keepdims=True)
    return fw.tf.nn.batch_normalization(Z, mean, variance, beta, gamma, NORM_EPS)


# The JAX twins are pure (JAX arrays are immutable): (fw, Z, gamma, beta, stats, training, config) ->
# (normalized Z, new stats or None), stats (running_mean, running_var) of shape (n,) for BatchNorm.
def _jax_batch_norm(fw: Any, Z: Any, gamma: Any, beta: Any, stats: Any, training: bool, config: Any) -> Any:
    """BatchNorm in jnp with torch's meaning (Flax's BatchNorm keeps Keras' momentum and biased variance)."""
    jnp = fw.jnp
    if not training:
        return gamma * (Z - stats[0]) / jnp.sqrt(stats[1] + NORM_EPS) + beta, stats
    mean, variance = jnp.mean(Z, axis=0), jnp.var(Z, axis=0)  # biased, for normalizing
    m = Z.shape[0]
    moved = ((1 - NORM_MOMENTUM) * stats[0] + NORM_MOMENTUM * mean,
             (1 - NORM_MOMENTUM) * stats[1] + NORM_MOMENTUM * variance * (m / (m - 1)))  # unbiased, as torch
    return gamma * (Z - mean) / jnp.sqrt(variance + NORM_EPS) + beta, fw.jax.lax.stop_gradient(moved)


def _jax_layer_norm(fw: Any, Z: Any, gamma: Any, beta: Any, stats: Any, training: bool, config: Any) -> Any:
    jnp = fw.jnp
    mean, variance = jnp.mean(Z, axis=-1, keepdims=True), jnp.var(Z, axis=-1, keepdims=True)
    return gamma * (Z - mean) / jnp.sqrt(variance + NORM_EPS) + beta, None


_BN_ADAPTIVE_STEP = (
    "a BatchNorm layer's output does not change when a row of W is scaled, so W's gradient is orthogonal to each "
    "row: entries cancel to rounding level, and an Adam-family optimizer (adam, adamw, rmsprop, adagrad) turns a "
    "rounding-level entry into a step of up to lr of either sign in either implementation (the running-error floor "
    "of error_scale describes that; this RMS-floored table does not). Measured 4.2e-12 (TF functional, AdamW, one "
    "step, tests/properties/test_property_normalized.py); 5e-11 = 12x, still 1e6 below a wrong step")


def normalization_rows(OpInfo: type, Unsupported: type, ToleranceOverride: type) -> tuple[Any, ...]:
    bn_overrides = tuple(ToleranceOverride("updated_params", oracle, "float64", 5e-11, _BN_ADAPTIVE_STEP)
                         for oracle in ("torch", "tensorflow", "jax", "finite_difference"))
    return (
        OpInfo("batch_norm", "layer", rn.BatchNorm,
               "between LINEAR (no bias) and each hidden activation; statistics over the batch (m >= 2); train mode: "
               "batch statistics, biased variance; eval mode: running statistics",
               _torch_batch_norm,
               lambda fw, n, config: fw.nn.BatchNorm1d(n, eps=NORM_EPS, momentum=NORM_MOMENTUM,
                                                       dtype=getattr(fw.torch, config.dtype)),
               _tf_batch_norm,
               lambda fw, n, config: fw.keras.layers.BatchNormalization(
                   axis=-1, momentum=1 - NORM_MOMENTUM, epsilon=NORM_EPS, dtype=config.dtype),
               jax_functional=_jax_batch_norm,
               conventions=("torch momentum 0.1 weighs the new batch statistic, Keras momentum 0.99 the old value: "
                            "the Keras twin gets momentum = 1 - 0.1 and epsilon = 1e-5 (Keras' default 1e-3) "
                            "(conventions table: batchnorm_momentum_and_eps).",
                            "torch updates running_var with the unbiased batch variance, Keras with the biased one "
                            "(batchnorm_running_variance): eval-mode models are not checked on the Keras path, and "
                            "its running statistics are not reported."),
               unsupported=(Unsupported(
                   "tensorflow/keras", lambda config: config.normalization == "batch"
                   and config.normalization_mode == "eval",
                   "Keras' BatchNormalization moves its moving_variance with the biased batch variance (torch and the "
                   "reference: unbiased), so eval-mode outputs differ by the factor m / (m - 1) in that update; the "
                   "functional TF path (tf.nn.batch_normalization with torch's update) checks eval mode"),),
               tolerance_overrides=bn_overrides),
        OpInfo("layer_norm", "layer", rn.LayerNorm,
               "between LINEAR (no bias) and each hidden activation; statistics over the features of each sample",
               lambda fw, Z, gamma, beta, stats, training, config: fw.F.layer_norm(Z, (Z.shape[-1],), gamma, beta,
                                                                                    eps=NORM_EPS),
               lambda fw, n, config: fw.nn.LayerNorm(n, eps=NORM_EPS, dtype=getattr(fw.torch, config.dtype)),
               _tf_layer_norm,
               lambda fw, n, config: fw.keras.layers.LayerNormalization(axis=-1, epsilon=NORM_EPS, dtype=config.dtype),
               jax_functional=_jax_layer_norm,
               conventions=("Keras' LayerNormalization default epsilon is 1e-3 (torch 1e-5): the twin passes 1e-5 "
                            "(conventions table: layernorm_eps).",)),
    )
