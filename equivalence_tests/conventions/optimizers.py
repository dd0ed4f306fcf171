"""Optimizer conventions (Adam's epsilon, defaults, float32 hyper-parameters, weight decay),
measured live on one scalar parameter (:mod:`equivalence_tests.conventions.scalar_runs`).

Hyper-parameters are dyadic (0.125, 0.875, 1 - 2**-10, ...) wherever Keras is involved, because
Keras rounds hyper-parameters to float32 even for a float64 variable (``float32_hyperparameters``):
a dyadic value is exact in float32 and keeps that effect out of the other rows. The momentum
rows are in :mod:`equivalence_tests.conventions.momentum`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import reference_nn as rn
from equivalence_tests.conventions.measuring import Convention
from equivalence_tests.conventions.scalar_runs import keras_run, reference_run, torch_run
from equivalence_tests.conventions.scalar_runs import optax_run as scalar_optax_run  # optax_run below is h17's

# ------------------------------------------------------------------ Adam's epsilon
# Dyadic Adam hyper-parameters, exact in float32 (see the module docstring).
ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 2.0**-10, 0.875, 1 - 2.0**-10, 2.0**-27
ADAM_STEPS = 10
ADAM_GRADIENTS = {"typical g=1e-2": 1e-2, "tiny g=1e-8 (~eps)": 1e-8}


def _adam_cases(run) -> dict[str, float]:
    """theta after ADAM_STEPS steps of each constant gradient; ``run(gradients) -> thetas``."""
    return {case: run([g] * ADAM_STEPS)[-1] for case, g in ADAM_GRADIENTS.items()}


def _epsilon_placement_torch(torch) -> dict[str, float]:
    return _adam_cases(lambda gs: torch_run(torch, lambda p: torch.optim.Adam(
        p, lr=ADAM_LR, betas=(ADAM_BETA1, ADAM_BETA2), eps=ADAM_EPS), 1.0, gs))


def _epsilon_placement_tensorflow(ns) -> dict[str, float]:
    return _adam_cases(lambda gs: keras_run(ns, lambda: ns.keras.optimizers.Adam(
        learning_rate=ADAM_LR, beta_1=ADAM_BETA1, beta_2=ADAM_BETA2, epsilon=ADAM_EPS), 1.0, gs))


def _epsilon_placement_jax(ns) -> dict[str, float]:
    return _adam_cases(lambda gs: scalar_optax_run(ns, lambda: ns.optax.adam(
        ADAM_LR, b1=ADAM_BETA1, b2=ADAM_BETA2, eps=ADAM_EPS), 1.0, gs))


adam_epsilon_placement = Convention(
    name="adam_epsilon_placement",
    family="optimizers",
    # torch adds eps to sqrt(v_hat) (bias-corrected), Keras to sqrt(v) (not), so Keras' epsilon acts
    # like torch's eps / sqrt(1 - beta2**t): ~32x larger at t=1.
    question="Adam: torch divides by sqrt(v_hat) + eps, Keras by sqrt(v) + eps (then bias-corrects)",
    setup=f"theta0=1, {ADAM_STEPS} steps of a constant gradient g; lr=2^-10, betas=(0.875, 1-2^-10), "
          "eps=2^-27 (~7.5e-9), float64; value = theta after the last step",
    reference=lambda: _adam_cases(lambda gs: reference_run(
        rn.Adam(learning_rate=ADAM_LR, beta1=ADAM_BETA1, beta2=ADAM_BETA2, eps=ADAM_EPS), 1.0, gs)),
    tolerance=1e-12,
    tolerance_reason="10 float64 steps on |theta|<=1 round to ~1e-15; 1e-12 is far below the epsilon effect (>=1e-8)",
    twins={"torch": _epsilon_placement_torch, "tensorflow": _epsilon_placement_tensorflow,
           "jax": _epsilon_placement_jax},
    harness_action="the TF oracle uses keras.optimizers.Adam but sets optimizer.epsilon = eps*sqrt(1-beta2**t) "
                   "before each step t (read eagerly), which equals torch's update exactly; no constant Keras "
                   "epsilon could. optax.adam (eps_root=0) is torch's formula: the JAX oracle uses it as is",
)

adam_default_epsilon = Convention(
    name="adam_default_epsilon",
    family="optimizers",
    question="default Adam epsilon",
    setup="constructor default",
    reference=lambda: rn.Adam().eps,
    tolerance=0.0,
    tolerance_reason="a default constant: must match exactly",
    twins={"torch": lambda torch: float(torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults["eps"]),
           "tensorflow": lambda ns: float(ns.keras.optimizers.Adam().epsilon),
           "jax": lambda ns: float(inspect.signature(ns.optax.adam).parameters["eps"].default)},
    harness_action="OptimizerConfig.eps is always passed explicitly; never rely on a default",
)


# -------------------------------------------------------- float32 hyper-parameters in Keras
# Keras turns learning_rate, beta_1, beta_2 (and momentum) into float32 tensors before casting them to
# a float64 variable's dtype, and tf.nn.leaky_relu holds its slope as a float32 attribute, so float64
# Keras steps and TF leaky_relu values are off by float32 rounding.
FLOAT32_CASES = {"SGD lr=0.1, 1 step": "sgd", "Adam lr=0.1 betas=(0.9, 0.999) eps=1e-8, 1 step": "adam"}
SLOPE_CASE = "leaky_relu slope 0.01: -f(-1)"


def _float32_reference() -> dict[str, float]:
    make = {"sgd": lambda: rn.SGD(learning_rate=0.1),
            "adam": lambda: rn.Adam(learning_rate=0.1, beta1=0.9, beta2=0.999, eps=1e-8)}
    steps = {case: reference_run(make[kind](), 1.0, [0.5])[0] for case, kind in FLOAT32_CASES.items()}
    return steps | {SLOPE_CASE: -float(rn.LeakyReLU(0.01).evaluate(np.array([[-1.0]]))[0, 0])}


def _float32_torch(torch) -> dict[str, float]:
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1),
            "adam": lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=1e-8)}
    steps = {case: torch_run(torch, make[kind], 1.0, [0.5])[0] for case, kind in FLOAT32_CASES.items()}
    x = torch.tensor([-1.0], dtype=torch.float64)
    return steps | {SLOPE_CASE: -float(torch.nn.functional.leaky_relu(x, negative_slope=0.01)[0])}


def _float32_tensorflow(ns) -> dict[str, float]:
    make = {"sgd": lambda: ns.keras.optimizers.SGD(learning_rate=0.1),
            "adam": lambda: ns.keras.optimizers.Adam(learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8)}
    steps = {case: keras_run(ns, make[kind], 1.0, [0.5])[0] for case, kind in FLOAT32_CASES.items()}
    x = ns.tf.constant([-1.0], dtype=ns.tf.float64)
    return steps | {SLOPE_CASE: -float(ns.tf.nn.leaky_relu(x, alpha=0.01)[0])}


def _float32_jax(ns) -> dict[str, float]:
    make = {"sgd": lambda: ns.optax.sgd(0.1), "adam": lambda: ns.optax.adam(0.1, b1=0.9, b2=0.999, eps=1e-8)}
    steps = {case: scalar_optax_run(ns, make[kind], 1.0, [0.5])[0] for case, kind in FLOAT32_CASES.items()}
    x = ns.jnp.array([-1.0], dtype=ns.jnp.float64)
    return steps | {SLOPE_CASE: -float(ns.jax.nn.leaky_relu(x, negative_slope=0.01)[0])}


float32_hyperparameters = Convention(
    name="float32_hyperparameters",
    family="optimizers",
    question="do float64 computations get float64 hyper-parameters?",
    setup="theta0=1, one step of g=0.5, float64 variable; leaky_relu at x=-1 in float64; non-dyadic constants",
    reference=_float32_reference,
    tolerance=1e-15,
    tolerance_reason="one float64 step or product on values <= 1: a few roundings of 1.1e-16 each",
    twins={"torch": _float32_torch, "tensorflow": _float32_tensorflow, "jax": _float32_jax},
    harness_action="the TF oracle passes float64 learning rates and constants to Keras optimizers (which fixes "
                   "SGD/Adam); tf.nn.leaky_relu's float32 slope cannot be fixed: float64 TF models with leaky_relu "
                   "get rtol 1e-5 (op table). JAX keeps Python floats weakly typed: float64 under x64, nothing to do",
)


# ----------------------------------------------------------------------- weight decay
# torch weight_decay adds wd*theta to the gradient (coupled, = an explicit L2 term); Keras weight_decay
# first does theta -= lr*wd*theta, then the normal update (decoupled, AdamW).
# Dyadic, exact in float32 and float64: theta0=1, g=0.5, lr=1/8, weight decay 1/16.
WD_LR, WD, WD_BETA1, WD_BETA2, WD_EPS = 0.125, 0.0625, 0.875, 1 - 2.0**-10, 2.0**-27
MOMENTUM_CASE = "SGD(momentum=0.5, weight_decay), 2 steps"


def _weight_decay_reference() -> dict[str, float]:
    adam = functools.partial(rn.Adam, learning_rate=WD_LR, beta1=WD_BETA1, beta2=WD_BETA2, eps=WD_EPS)
    return {
        "SGD(weight_decay)": reference_run(rn.SGD(WD_LR, weight_decay=WD), 1.0, [0.5])[-1],
        "SGD + explicit L2": reference_run(rn.SGD(WD_LR), 1.0, [0.5], l2=WD)[-1],
        MOMENTUM_CASE: reference_run(rn.SGD(WD_LR, momentum=0.5, weight_decay=WD), 1.0, [0.5] * 2)[-1],
        "Adam(weight_decay)": reference_run(adam(weight_decay=WD), 1.0, [0.5])[-1],
        "Adam + explicit L2": reference_run(adam(), 1.0, [0.5], l2=WD)[-1],
        "AdamW(weight_decay)": reference_run(adam(weight_decay=WD, decoupled=True), 1.0, [0.5])[-1],
    }


def _weight_decay_torch(torch) -> dict[str, float]:
    opt = torch.optim
    adam_args = {"betas": (WD_BETA1, WD_BETA2), "eps": WD_EPS}
    run = functools.partial(torch_run, torch, theta0=1.0)
    return {
        "SGD(weight_decay)": run(lambda p: opt.SGD(p, lr=WD_LR, weight_decay=WD), gradients=[0.5])[-1],
        "SGD + explicit L2": run(lambda p: opt.SGD(p, lr=WD_LR), gradients=[0.5], l2=WD)[-1],
        MOMENTUM_CASE: run(lambda p: opt.SGD(p, lr=WD_LR, momentum=0.5, weight_decay=WD), gradients=[0.5] * 2)[-1],
        "Adam(weight_decay)": run(lambda p: opt.Adam(p, lr=WD_LR, weight_decay=WD, **adam_args), gradients=[0.5])[-1],
        "Adam + explicit L2": run(lambda p: opt.Adam(p, lr=WD_LR, **adam_args), gradients=[0.5], l2=WD)[-1],
        "AdamW(weight_decay)": run(lambda p: opt.AdamW(p, lr=WD_LR, weight_decay=WD, **adam_args),
                                   gradients=[0.5])[-1],
    }


def _weight_decay_tensorflow(ns) -> dict[str, float]:
    opt = ns.keras.optimizers
    # Keras' epsilon at t=1 acts like torch's eps / sqrt(1 - beta2) (adam_epsilon_placement); handing it
    # eps * sqrt(1 - beta2) = 2**-32 makes its first Adam step equal torch's, so only the decay differs.
    adam_args = {"beta_1": WD_BETA1, "beta_2": WD_BETA2, "epsilon": WD_EPS * math.sqrt(1 - WD_BETA2)}
    run = functools.partial(keras_run, ns, theta0=1.0)
    return {
        "SGD(weight_decay)": run(lambda: opt.SGD(learning_rate=WD_LR, weight_decay=WD), gradients=[0.5])[-1],
        "SGD + explicit L2": run(lambda: opt.SGD(learning_rate=WD_LR), gradients=[0.5], l2=WD)[-1],
        MOMENTUM_CASE: run(lambda: opt.SGD(learning_rate=WD_LR, momentum=0.5, weight_decay=WD),
                           gradients=[0.5] * 2)[-1],
        "Adam(weight_decay)": run(lambda: opt.Adam(learning_rate=WD_LR, weight_decay=WD, **adam_args),
                                  gradients=[0.5])[-1],
        "Adam + explicit L2": run(lambda: opt.Adam(learning_rate=WD_LR, **adam_args), gradients=[0.5], l2=WD)[-1],
        "AdamW(weight_decay)": run(lambda: opt.AdamW(learning_rate=WD_LR, weight_decay=WD, **adam_args),
                                   gradients=[0.5])[-1],
    }


def _weight_decay_jax(ns) -> dict[str, float]:
    # optax.sgd / optax.adam take no weight_decay: the optax idiom for torch's weight_decay= is
    # add_decayed_weights chained before the optimizer (what the JAX oracle does); optax.adamw is decoupled.
    optax = ns.optax
    adam_args = {"b1": WD_BETA1, "b2": WD_BETA2, "eps": WD_EPS}
    decayed = lambda transformation: lambda: optax.chain(optax.add_decayed_weights(WD), transformation)  # noqa: E731
    run = functools.partial(scalar_optax_run, ns, theta0=1.0)
    return {
        "SGD(weight_decay)": run(decayed(optax.sgd(WD_LR)), gradients=[0.5])[-1],
        "SGD + explicit L2": run(lambda: optax.sgd(WD_LR), gradients=[0.5], l2=WD)[-1],
        MOMENTUM_CASE: run(decayed(optax.sgd(WD_LR, momentum=0.5)), gradients=[0.5] * 2)[-1],
        "Adam(weight_decay)": run(decayed(optax.adam(WD_LR, **adam_args)), gradients=[0.5])[-1],
        "Adam + explicit L2": run(lambda: optax.adam(WD_LR, **adam_args), gradients=[0.5], l2=WD)[-1],
        "AdamW(weight_decay)": run(lambda: optax.adamw(WD_LR, weight_decay=WD, **adam_args), gradients=[0.5])[-1],
    }


weight_decay_coupling = Convention(
    name="weight_decay_coupling",
    family="optimizers",
    question="weight_decay=: torch adds wd*theta to the gradient, Keras shrinks theta by lr*wd*theta separately",
    setup="theta0=1, g=0.5, lr=1/8, wd=1/16, Adam betas=(0.875, 1-2^-10), eps=2^-27 (Keras: 2^-32, the same first "
          "step), float64; value = theta after. optax has no weight_decay= on sgd/adam: its rows are "
          "chain(add_decayed_weights(wd), opt)",
    reference=_weight_decay_reference,
    tolerance=1e-15,
    tolerance_reason="one or two float64 steps on |theta|<=1 with dyadic constants: a few roundings of 1.1e-16",
    twins={"torch": _weight_decay_torch, "tensorflow": _weight_decay_tensorflow, "jax": _weight_decay_jax},
    harness_action="torch gets weight_decay= (coupled); the TF oracle adds wd*theta to the gradient itself instead "
                   "of Keras' decoupled weight_decay=; the JAX oracle chains add_decayed_weights before optax.sgd/adam "
                   "(coupled, as torch); ModelConfig.l2 is an explicit 0.5*l2*sum(W**2) loss term everywhere",
)

ROWS = (adam_epsilon_placement, adam_default_epsilon, float32_hyperparameters, weight_decay_coupling)


# ---------------------------------------------- issue 17: RMSprop, Adagrad, AdamW (optax too)
def optax_run(ns: Any, transformation: Any, theta0: float, gradients: Sequence[float]) -> list[float]:
    """theta after each step of an optax transformation on one float64 scalar parameter."""
    jnp, optax = ns.jnp, ns.optax
    params = jnp.array([theta0], dtype=jnp.float64)
    state = transformation.init(params)
    thetas = []
    for g in gradients:
        updates, state = transformation.update(jnp.array([g], dtype=jnp.float64), state, params)
        params = optax.apply_updates(params, updates)
        thetas.append(float(params[0]))
    return thetas


# Dyadic, exact in float32 (module docstring): lr 2^-10, alpha 7/8, eps 2^-27 ~ 7.5e-9.
RMS_LR, RMS_ALPHA, RMS_EPS = 2.0**-10, 0.875, 2.0**-27


def _rms_torch(torch) -> dict[str, float]:
    return _adam_cases(lambda gs: torch_run(torch, lambda p: torch.optim.RMSprop(
        p, lr=RMS_LR, alpha=RMS_ALPHA, eps=RMS_EPS), 1.0, gs))


def _rms_tensorflow(ns) -> dict[str, float]:
    return _adam_cases(lambda gs: keras_run(ns, lambda: ns.keras.optimizers.RMSprop(
        learning_rate=RMS_LR, rho=RMS_ALPHA, epsilon=RMS_EPS), 1.0, gs))


def _rms_jax(ns) -> dict[str, float]:
    cases = _adam_cases(lambda gs: optax_run(ns, ns.optax.rmsprop(RMS_LR, decay=RMS_ALPHA, eps=RMS_EPS), 1.0, gs))
    outside = _adam_cases(lambda gs: optax_run(ns, ns.optax.rmsprop(RMS_LR, decay=RMS_ALPHA, eps=RMS_EPS,
                                                                    eps_in_sqrt=False), 1.0, gs))
    return cases | {f"eps_in_sqrt=False, {case}": value for case, value in outside.items()}


rmsprop_epsilon_placement = Convention(
    name="rmsprop_epsilon_placement",
    family="optimizers",
    question="RMSprop: torch divides by sqrt(v) + eps; Keras and optax (default) by sqrt(v + eps)",
    setup=f"theta0=1, {ADAM_STEPS} steps of a constant gradient g; lr=2^-10, alpha (rho, decay)=7/8, eps=2^-27, "
          "float64; value = theta after the last step (optax's eps_in_sqrt=False shown as extra cases)",
    reference=lambda: _adam_cases(lambda gs: reference_run(
        rn.RMSprop(learning_rate=RMS_LR, alpha=RMS_ALPHA, eps=RMS_EPS), 1.0, gs)),
    tolerance=1e-12,
    tolerance_reason="10 float64 steps on |theta|<=1 round to ~1e-15; far below the epsilon effect (~1e-3 of a step "
                     "for g ~ eps)",
    twins={"torch": _rms_torch, "tensorflow": _rms_tensorflow, "jax": _rms_jax},
    harness_action="the TF oracle gives each variable its own Keras RMSprop and sets epsilon to the tensor "
                   "(sqrt(v) + eps)^2 - v before each step, which is torch's denominator; no scalar epsilon could",
)


def _default_of(function: Any, name: str) -> float:
    return float(inspect.signature(function).parameters[name].default)


def _rms_defaults_torch(torch) -> dict[str, float]:
    defaults = torch.optim.RMSprop([torch.zeros(1, requires_grad=True)]).defaults
    return {"alpha (Keras rho, optax decay)": float(defaults["alpha"]), "eps": float(defaults["eps"])}


def _rms_defaults_tensorflow(ns) -> dict[str, float]:
    optimizer = ns.keras.optimizers.RMSprop()
    return {"alpha (Keras rho, optax decay)": float(optimizer.rho), "eps": float(optimizer.epsilon)}


def _rms_defaults_jax(ns) -> dict[str, float]:
    return {"alpha (Keras rho, optax decay)": _default_of(ns.optax.rmsprop, "decay"),
            "eps": _default_of(ns.optax.rmsprop, "eps")}


rmsprop_defaults = Convention(
    name="rmsprop_defaults",
    family="optimizers",
    question="RMSprop's default averaging constant and epsilon",
    setup="constructor defaults (optax: the signature's)",
    reference=lambda: {"alpha (Keras rho, optax decay)": rn.RMSprop().alpha, "eps": rn.RMSprop().eps},
    tolerance=0.0,
    tolerance_reason="default constants: must match exactly",
    twins={"torch": _rms_defaults_torch, "tensorflow": _rms_defaults_tensorflow, "jax": _rms_defaults_jax},
    harness_action="OptimizerConfig.alpha and eps are always passed explicitly (Keras rho=alpha); never rely on a "
                   "default",
)

ADAGRAD_LR, ADAGRAD_STEPS = 0.125, 3
ADAGRAD_TRAJECTORY = f"theta after {ADAGRAD_STEPS} steps of g=0.5, lr=1/8, defaults otherwise"


def _adagrad_torch(torch) -> dict[str, float]:
    defaults = torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]).defaults
    theta = torch_run(torch, lambda p: torch.optim.Adagrad(p, lr=ADAGRAD_LR), 1.0, [0.5] * ADAGRAD_STEPS)[-1]
    return {"initial_accumulator_value": float(defaults["initial_accumulator_value"]), "eps": float(defaults["eps"]),
            ADAGRAD_TRAJECTORY: theta}


def _adagrad_tensorflow(ns) -> dict[str, float]:
    optimizer = ns.keras.optimizers.Adagrad()
    theta = keras_run(ns, lambda: ns.keras.optimizers.Adagrad(learning_rate=ADAGRAD_LR), 1.0,
                      [0.5] * ADAGRAD_STEPS)[-1]
    return {"initial_accumulator_value": float(optimizer.initial_accumulator_value),
            "eps": float(optimizer.epsilon), ADAGRAD_TRAJECTORY: theta}


def _adagrad_jax(ns) -> dict[str, float]:
    theta = optax_run(ns, ns.optax.adagrad(ADAGRAD_LR), 1.0, [0.5] * ADAGRAD_STEPS)[-1]
    return {"initial_accumulator_value": _default_of(ns.optax.adagrad, "initial_accumulator_value"),
            "eps": _default_of(ns.optax.adagrad, "eps"), ADAGRAD_TRAJECTORY: theta}


adagrad_accumulator_and_epsilon = Convention(
    name="adagrad_accumulator_and_epsilon",
    family="optimizers",
    question="Adagrad: initial accumulator, epsilon and where it goes (torch: sqrt(s) + eps; Keras, optax: "
             "sqrt(s + eps))",
    setup="constructor defaults; and theta0=1 after 3 steps of g=0.5 with lr=1/8 and everything else default, "
          "float64",
    reference=lambda: {"initial_accumulator_value": rn.Adagrad().initial_accumulator_value, "eps": rn.Adagrad().eps,
                       ADAGRAD_TRAJECTORY: reference_run(rn.Adagrad(learning_rate=ADAGRAD_LR), 1.0,
                                                         [0.5] * ADAGRAD_STEPS)[-1]},
    tolerance=1e-15,
    tolerance_reason="defaults exact; 3 float64 steps on |theta| <= 1: a few roundings of 1.1e-16",
    twins={"torch": _adagrad_torch, "tensorflow": _adagrad_tensorflow, "jax": _adagrad_jax},
    harness_action="the TF oracle passes torch's accumulator through its epsilon tensor (Keras' own accumulator, "
                   "started at 0.1, is initialized through float32: 0.10000000149) and emulates lr_decay with the "
                   "learning-rate callable; OptimizerConfig passes every hyper-parameter explicitly",
)

ADAMW_LR = 0.125
ADAMW_TRAJECTORY = "theta after 1 step of g=0.5, lr=1/8, defaults otherwise"


def _adamw_torch(torch) -> dict[str, float]:
    defaults = torch.optim.AdamW([torch.zeros(1, requires_grad=True)]).defaults
    theta = torch_run(torch, lambda p: torch.optim.AdamW(p, lr=ADAMW_LR), 1.0, [0.5])[-1]
    return {"weight_decay": float(defaults["weight_decay"]), ADAMW_TRAJECTORY: theta}


def _adamw_tensorflow(ns) -> dict[str, float]:
    theta = keras_run(ns, lambda: ns.keras.optimizers.AdamW(learning_rate=ADAMW_LR), 1.0, [0.5])[-1]
    return {"weight_decay": float(ns.keras.optimizers.AdamW().weight_decay), ADAMW_TRAJECTORY: theta}


def _adamw_jax(ns) -> dict[str, float]:
    theta = optax_run(ns, ns.optax.adamw(ADAMW_LR), 1.0, [0.5])[-1]
    return {"weight_decay": _default_of(ns.optax.adamw, "weight_decay"), ADAMW_TRAJECTORY: theta}


adamw_default_weight_decay = Convention(
    name="adamw_default_weight_decay",
    family="optimizers",
    question="AdamW's default weight decay (decoupled: theta *= 1 - lr * wd)",
    setup="constructor default; and theta0=1 after one step of g=0.5, lr=1/8, everything else default, float64",
    reference=lambda: {"weight_decay": rn.AdamW().decoupled_weight_decay,
                       ADAMW_TRAJECTORY: reference_run(rn.AdamW(learning_rate=ADAMW_LR), 1.0, [0.5])[-1]},
    tolerance=1e-15,
    tolerance_reason="the default is exact; one float64 step on |theta| <= 1 rounds a few times (1.1e-16 each)",
    twins={"torch": _adamw_torch, "tensorflow": _adamw_tensorflow, "jax": _adamw_jax},
    harness_action="OptimizerConfig.weight_decay is always passed explicitly; the Keras twin also sets epsilon per "
                   "step as for Adam (Keras' epsilon placement moves this step by ~1e-6 too)",
)

ROWS = ROWS + (rmsprop_epsilon_placement, rmsprop_defaults, adagrad_accumulator_and_epsilon,
               adamw_default_weight_decay)
