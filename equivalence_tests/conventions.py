"""Conventions where torch, TensorFlow/Keras and the reference differ, measured live.

Each convention is one small function that runs the installed frameworks on a tiny input and
returns a :class:`ConventionResult`: the reference's value, each framework's measured value,
whether they agree (within a tolerance stated with its reason), and what the harness does
about it. Frameworks are imported lazily; one that is missing is reported as
``"not installed"``, never raised as an ImportError.

Print the table (``--json`` for machines)::

    python -m equivalence_tests.conventions > docs/conventions.md
    python -m equivalence_tests.conventions --json

Optimizer conventions are measured on a single scalar parameter ``theta`` (shape ``(1, 1)``
in the reference's ``W1``) fed a fixed gradient sequence, in float64 so that rounding is
far below the effects measured. Hyper-parameters are dyadic (0.125, 0.875, 1 - 2**-10, ...)
wherever Keras is involved, because Keras rounds hyper-parameters to float32 even for a
float64 variable (its own row below): a dyadic value is exact in float32 and keeps that
effect out of the other rows.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import reference_nn as rn

FRAMEWORKS = ("torch", "tensorflow", "jax")
MEASURED = "measured"
NOT_INSTALLED = "not installed"
NOT_MEASURED = "not measured"  # the framework has no such API (JAX has no optimizers or losses)

Value = Any  # a float, or a dict {case name: float | list of floats}: always JSON-able


# ------------------------------------------------------------------------ result types
@dataclass(frozen=True)
class Measurement:
    """One framework's behaviour on one convention.

    ``status`` is ``"measured"``, ``"not installed"``, ``"not measured"`` or ``"failed: ..."``;
    ``value`` has the reference's structure (extra keys are framework-only cases, shown but not
    compared); ``max_abs_difference`` is over the keys shared with the reference.
    """

    framework: str
    status: str
    value: Value = None
    agrees: bool | None = None
    max_abs_difference: float | None = None


@dataclass(frozen=True)
class ConventionResult:
    """A convention: the question, the setup, the reference's value, each framework's measurement,
    the agreement tolerance (with why), and what the harness does about it."""

    name: str
    question: str
    setup: str
    reference: Value
    tolerance: float
    tolerance_reason: str
    measurements: tuple[Measurement, ...]
    harness_action: str

    def measurement(self, framework: str) -> Measurement:
        for measurement in self.measurements:
            if measurement.framework == framework:
                return measurement
        raise KeyError(f"framework must be one of {[m.framework for m in self.measurements]}, got {framework!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ lazy framework loading
def _import_torch() -> types.ModuleType:
    import torch

    return torch


def _import_tensorflow() -> types.SimpleNamespace:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TF and Keras emit DeprecationWarnings from their own imports; silence only those, only here,
    # so a caller running with warnings-as-errors is not broken by a framework's internals.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import keras
        import tensorflow as tf
    return types.SimpleNamespace(tf=tf, keras=keras, __version__=tf.__version__, keras_version=keras.__version__)


def _import_jax() -> types.ModuleType:
    import jax

    return jax


_IMPORTERS: dict[str, Callable[[], Any]] = {
    "torch": _import_torch,
    "tensorflow": _import_tensorflow,
    "jax": _import_jax,
}


@functools.cache
def load_framework(name: str) -> Any:
    """The framework module (for ``"tensorflow"``: a namespace with ``tf`` and ``keras``), or None
    when it is not installed. Imported once per process."""
    if name not in _IMPORTERS:
        raise ValueError(f"framework must be one of {sorted(_IMPORTERS)}, got {name!r}")
    try:
        return _IMPORTERS[name]()
    except ImportError:
        return None


def framework_versions() -> dict[str, str]:
    """Versions of NumPy, the reference and each framework (``"not installed"`` when missing)."""
    versions = {"numpy": np.__version__, "reference_nn": rn.__version__}
    for name in FRAMEWORKS:
        module = load_framework(name)
        versions[name] = NOT_INSTALLED if module is None else str(module.__version__)
        if name == "tensorflow":
            versions["keras"] = NOT_INSTALLED if module is None else str(module.keras_version)
    return versions


# --------------------------------------------------------------------------- comparing
def _flatten(value: Value) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    return [float(value)]


def max_abs_difference(reference: Value, value: Value) -> float | None:
    """Largest ``|value - reference|`` over the cases both have (None when none is shared).

    A scalar reference is compared with every case of a dict value (e.g. one default slope
    against several framework entry points)."""
    if isinstance(value, dict):
        if isinstance(reference, dict):
            pairs = [(reference[key], value[key]) for key in value if key in reference]
        else:
            pairs = [(reference, v) for v in value.values()]
    else:
        pairs = [(reference, value)]
    differences = [abs(a - b) for ref, val in pairs for a, b in zip(_flatten(ref), _flatten(val), strict=True)]
    return max(differences) if differences else None


def _measure(
    framework: str, function: Callable[[Any], Value] | None, reference: Value, tolerance: float
) -> Measurement:
    """Run ``function(module)`` for an installed framework and compare with the reference."""
    if function is None:
        return Measurement(framework, NOT_MEASURED)
    module = load_framework(framework)
    if module is None:
        return Measurement(framework, NOT_INSTALLED)
    try:
        value = function(module)
    except Exception as error:  # reported in the table; the tests require status == "measured"
        return Measurement(framework, f"failed: {type(error).__name__}: {error}")
    difference = max_abs_difference(reference, value)
    agrees = None if difference is None else bool(difference <= tolerance)
    return Measurement(framework, MEASURED, value, agrees, difference)


def _result(
    name: str,
    question: str,
    setup: str,
    reference: Value,
    tolerance: tuple[float, str],
    measure: dict[str, Callable[[Any], Value] | None],
    harness_action: str,
) -> ConventionResult:
    measurements = tuple(_measure(fw, measure.get(fw), reference, tolerance[0]) for fw in FRAMEWORKS)
    return ConventionResult(name, question, setup, reference, tolerance[0], tolerance[1], measurements, harness_action)


# ---------------------------------------------------- optimizer runs on one scalar parameter
# ``gradients`` is the sequence of loss gradients g_t; the loss is g_t * theta (+ 0.5 * l2 * theta**2
# when ``l2`` is given, differentiated by the framework itself). ``learning_rates`` (optional)
# sets the learning rate before each step. Returns theta after each step.
def _reference_run(optimizer: rn.Optimizer, theta0: float, gradients: Sequence[float],
                   l2: float = 0.0, learning_rates: Sequence[float] | None = None) -> list[float]:
    params = {"W1": np.array([[theta0]]), "b1": np.zeros((1, 1))}
    thetas = []
    for step, g in enumerate(gradients):
        if learning_rates is not None:
            optimizer.learning_rate = learning_rates[step]
        dW = np.array([[g]]) + rn.l2_gradient(params["W1"], l2)
        params = optimizer.step(params, {"dW1": dW, "db1": np.zeros((1, 1))})
        thetas.append(float(params["W1"][0, 0]))
    return thetas


def _torch_run(torch: Any, make_optimizer: Callable[[list], Any], theta0: float, gradients: Sequence[float],
               l2: float = 0.0, learning_rates: Sequence[float] | None = None) -> list[float]:
    theta = torch.tensor([theta0], dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([theta])
    thetas = []
    for step, g in enumerate(gradients):
        if learning_rates is not None:
            for group in optimizer.param_groups:
                group["lr"] = learning_rates[step]
        optimizer.zero_grad()
        loss = g * theta.sum() + 0.5 * l2 * (theta * theta).sum()
        loss.backward()
        optimizer.step()
        thetas.append(float(theta.detach()[0]))
    return thetas


def _keras_run(tf_ns: Any, make_optimizer: Callable[[], Any], theta0: float, gradients: Sequence[float],
               l2: float = 0.0, learning_rates: Sequence[float] | None = None) -> list[float]:
    tf, keras = tf_ns.tf, tf_ns.keras
    theta = keras.Variable(np.array([theta0]), dtype="float64")
    optimizer = make_optimizer()
    thetas = []
    for step, g in enumerate(gradients):
        if learning_rates is not None:
            optimizer.learning_rate = learning_rates[step]
        with tf.GradientTape() as tape:
            loss = g * tf.reduce_sum(theta.value) + 0.5 * l2 * tf.reduce_sum(theta.value * theta.value)
        optimizer.apply([tape.gradient(loss, theta.value)], [theta])
        thetas.append(float(theta.numpy()[0]))
    return thetas


# ================================================================ the conventions
# Passed explicitly everywhere (the default slopes differ, see leaky_relu_default_slope); dyadic, because
# tf.nn.leaky_relu holds its slope in float32 (see float32_hyperparameters) and 2**-7 is exact there.
LEAKY_SLOPE = 2.0**-7


def relu_derivative_at_zero() -> ConventionResult:
    """d/dx ReLU(x) and d/dx LeakyReLU(x) at exactly x = 0, from each framework's autodiff."""
    def reference_value() -> dict[str, float]:
        zero, one = np.zeros((1, 1)), np.ones((1, 1))
        return {"relu'(0)": float(rn.ReLU().backpropagate(one, zero, zero)[0, 0]),
                "leaky_relu'(0)": float(rn.LeakyReLU(LEAKY_SLOPE).backpropagate(one, zero, zero)[0, 0])}

    def torch_value(torch):
        def derivative(function):
            x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
            function(x).sum().backward()
            return float(x.grad[0])
        F = torch.nn.functional
        return {"relu'(0)": derivative(F.relu),
                "leaky_relu'(0)": derivative(lambda x: F.leaky_relu(x, negative_slope=LEAKY_SLOPE))}

    def tensorflow_value(ns):
        def derivative(function):
            x = ns.tf.constant([0.0], dtype=ns.tf.float64)
            with ns.tf.GradientTape() as tape:
                tape.watch(x)
                y = ns.tf.reduce_sum(function(x))
            return float(tape.gradient(y, x)[0])
        return {"relu'(0)": derivative(ns.tf.nn.relu),
                "leaky_relu'(0)": derivative(lambda x: ns.tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE))}

    def jax_value(jax):
        return {"relu'(0)": float(jax.grad(jax.nn.relu)(0.0)),
                "leaky_relu'(0)": float(jax.grad(lambda x: jax.nn.leaky_relu(x, LEAKY_SLOPE))(0.0))}

    return _result(
        "relu_derivative_at_zero",
        "ReLU'(0) and LeakyReLU'(0) (slope alpha = 2^-7) from autodiff",
        "x = 0.0 exactly, float64",
        reference_value(),
        (0.0, "a branch choice, not a rounded number: must match exactly"),
        {"torch": torch_value, "tensorflow": tensorflow_value, "jax": jax_value},
        "no translation needed; gradient checks keep pre-activations off the kink (DESIGN point 3), since a "
        "central difference at 0 gives 0.5 (or (1+alpha)/2), and report 'inconclusive at kink' otherwise",
    )


def leaky_relu_default_slope() -> ConventionResult:
    """The negative slope each LeakyReLU entry point uses when none is given: -f(-1)."""
    def torch_value(torch):
        x = torch.tensor([-1.0], dtype=torch.float64)
        return {"F.leaky_relu": -float(torch.nn.functional.leaky_relu(x)[0]),
                "nn.LeakyReLU()": -float(torch.nn.LeakyReLU()(x)[0])}

    def tensorflow_value(ns):
        x = ns.tf.constant([-1.0], dtype=ns.tf.float64)
        return {"tf.nn.leaky_relu": -float(ns.tf.nn.leaky_relu(x)[0]),
                "keras.activations.leaky_relu": -float(ns.keras.activations.leaky_relu(x)[0]),
                "keras.layers.LeakyReLU()": -float(ns.keras.layers.LeakyReLU(dtype="float64")(x)[0])}

    return _result(
        "leaky_relu_default_slope",
        "default negative slope of LeakyReLU when none is passed",
        "-f(-1) for each entry point, float64",
        -float(rn.LeakyReLU().evaluate(np.array([[-1.0]]))[0, 0]),
        (0.0, "a default constant, not a rounded number: must match exactly"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "ModelConfig.leaky_relu_alpha is always passed explicitly to every framework; never rely on a default",
    )


# Dyadic Adam hyper-parameters, exact in float32 (see the module docstring).
ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 2.0**-10, 0.875, 1 - 2.0**-10, 2.0**-27
ADAM_STEPS = 10
ADAM_GRADIENTS = {"typical g=1e-2": 1e-2, "tiny g=1e-8 (~eps)": 1e-8}


def adam_epsilon_placement() -> ConventionResult:
    """Where epsilon sits: torch adds it to sqrt(v_hat) (bias-corrected), Keras to sqrt(v) (not),
    so Keras' epsilon acts like torch's eps / sqrt(1 - beta2**t): ~32x larger at t=1."""
    def run_all(run) -> dict[str, float]:
        return {case: run([g] * ADAM_STEPS)[-1] for case, g in ADAM_GRADIENTS.items()}

    def torch_value(torch):
        return run_all(lambda gs: _torch_run(torch, lambda p: torch.optim.Adam(
            p, lr=ADAM_LR, betas=(ADAM_BETA1, ADAM_BETA2), eps=ADAM_EPS), 1.0, gs))

    def tensorflow_value(ns):
        return run_all(lambda gs: _keras_run(ns, lambda: ns.keras.optimizers.Adam(
            learning_rate=ADAM_LR, beta_1=ADAM_BETA1, beta_2=ADAM_BETA2, epsilon=ADAM_EPS), 1.0, gs))

    reference = run_all(lambda gs: _reference_run(
        rn.Adam(learning_rate=ADAM_LR, beta1=ADAM_BETA1, beta2=ADAM_BETA2, eps=ADAM_EPS), 1.0, gs))
    return _result(
        "adam_epsilon_placement",
        "Adam: torch divides by sqrt(v_hat) + eps, Keras by sqrt(v) + eps (then bias-corrects)",
        f"theta0=1, {ADAM_STEPS} steps of a constant gradient g; lr=2^-10, betas=(0.875, 1-2^-10), "
        "eps=2^-27 (~7.5e-9), float64; value = theta after the last step",
        reference,
        (1e-12, "10 float64 steps on |theta|<=1 round to ~1e-15; 1e-12 is far below the epsilon effect (>=1e-8)"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "the TF oracle uses keras.optimizers.Adam but sets optimizer.epsilon = eps*sqrt(1-beta2**t) before each "
        "step t (read eagerly), which equals torch's update exactly; no constant Keras epsilon could",
    )


def adam_default_epsilon() -> ConventionResult:
    """The epsilon Adam uses when none is given."""
    def torch_value(torch):
        return float(torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults["eps"])

    def tensorflow_value(ns):
        return float(ns.keras.optimizers.Adam().epsilon)

    return _result(
        "adam_default_epsilon",
        "default Adam epsilon",
        "constructor default",
        rn.Adam().eps,
        (0.0, "a default constant: must match exactly"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "OptimizerConfig.eps is always passed explicitly; never rely on a default",
    )


def float32_hyperparameters() -> ConventionResult:
    """Keras turns learning_rate, beta_1, beta_2 (and momentum) into float32 tensors before casting
    them to a float64 variable's dtype, and tf.nn.leaky_relu holds its slope as a float32 attribute,
    so float64 Keras steps and TF leaky_relu values are off by float32 rounding."""
    cases = {"SGD lr=0.1, 1 step": "sgd", "Adam lr=0.1 betas=(0.9, 0.999) eps=1e-8, 1 step": "adam"}
    slope_case = "leaky_relu slope 0.01: -f(-1)"

    def torch_value(torch):
        make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1),
                "adam": lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=1e-8)}
        steps = {case: _torch_run(torch, make[kind], 1.0, [0.5])[0] for case, kind in cases.items()}
        x = torch.tensor([-1.0], dtype=torch.float64)
        return steps | {slope_case: -float(torch.nn.functional.leaky_relu(x, negative_slope=0.01)[0])}

    def tensorflow_value(ns):
        make = {"sgd": lambda: ns.keras.optimizers.SGD(learning_rate=0.1),
                "adam": lambda: ns.keras.optimizers.Adam(learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8)}
        steps = {case: _keras_run(ns, make[kind], 1.0, [0.5])[0] for case, kind in cases.items()}
        x = ns.tf.constant([-1.0], dtype=ns.tf.float64)
        return steps | {slope_case: -float(ns.tf.nn.leaky_relu(x, alpha=0.01)[0])}

    make = {"sgd": lambda: rn.SGD(learning_rate=0.1),
            "adam": lambda: rn.Adam(learning_rate=0.1, beta1=0.9, beta2=0.999, eps=1e-8)}
    return _result(
        "float32_hyperparameters",
        "do float64 computations get float64 hyper-parameters?",
        "theta0=1, one step of g=0.5, float64 variable; leaky_relu at x=-1 in float64; non-dyadic constants",
        {case: _reference_run(make[kind](), 1.0, [0.5])[0] for case, kind in cases.items()}
        | {slope_case: -float(rn.LeakyReLU(0.01).evaluate(np.array([[-1.0]]))[0, 0])},
        (1e-15, "one float64 step or product on values <= 1: a few roundings of 1.1e-16 each"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "the TF oracle passes float64 learning rates and constants to Keras optimizers (which fixes SGD/Adam); "
        "tf.nn.leaky_relu's float32 slope cannot be fixed: float64 TF models with leaky_relu get rtol 1e-5 (op table)",
    )


BCE_CASES = {f"p={p:g}, y={y}": (p, y) for p in (0.0, 1e-9, 1.0) for y in (0, 1)}


def bce_clipping() -> ConventionResult:
    """Binary cross-entropy on probabilities at the edges: torch clamps each log at -100,
    Keras clips p to [1e-7, 1 - 1e-7] first."""
    def torch_value(torch):
        loss = torch.nn.BCELoss()
        return {case: float(loss(torch.tensor([p], dtype=torch.float64), torch.tensor([float(y)], dtype=torch.float64)))
                for case, (p, y) in BCE_CASES.items()}

    def tensorflow_value(ns):
        loss = ns.keras.losses.BinaryCrossentropy(dtype="float64")
        return {case: float(loss(np.array([[float(y)]]), np.array([[p]]))) for case, (p, y) in BCE_CASES.items()}

    bce = rn.get_loss("bce")
    return _result(
        "bce_clipping",
        "BCE cost at p in {0, 1e-9, 1}: torch clamps log at -100, Keras clips p to [1e-7, 1-1e-7]",
        "one probability p and label y, float64, keras.losses.BinaryCrossentropy vs torch.nn.BCELoss",
        {case: float(bce.value(np.array([[p]]), np.array([[float(y)]]))) for case, (p, y) in BCE_CASES.items()},
        (1e-12, "float64 log of values >= 1e-9 and a clamp: relative rounding ~1e-16 on costs <= 100"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "the TF twins are Keras' own BCE, so the op table restricts bce / cross_entropy inputs to p in "
        "[1e-7, 1-1e-7] (outside it Keras' clip also zeroes the gradient); the strategies stay inside",
    )


# Dyadic, exact in float32 and float64: theta0=1, g=0.5, lr=1/8, weight decay 1/16.
WD_LR, WD, WD_BETA1, WD_BETA2, WD_EPS = 0.125, 0.0625, 0.875, 1 - 2.0**-10, 2.0**-27


def weight_decay_coupling() -> ConventionResult:
    """torch weight_decay adds wd*theta to the gradient (coupled, = an explicit L2 term);
    Keras weight_decay first does theta -= lr*wd*theta, then the normal update (decoupled, AdamW)."""
    adam_args = {"betas": (WD_BETA1, WD_BETA2), "eps": WD_EPS}
    # Keras' epsilon at t=1 acts like torch's eps / sqrt(1 - beta2) (adam_epsilon_placement); handing it
    # eps * sqrt(1 - beta2) = 2**-32 makes its first Adam step equal torch's, so only the decay differs.
    keras_adam_args = {"beta_1": WD_BETA1, "beta_2": WD_BETA2, "epsilon": WD_EPS * math.sqrt(1 - WD_BETA2)}
    momentum_case = "SGD(momentum=0.5, weight_decay), 2 steps"

    def torch_value(torch):
        opt = torch.optim
        run = functools.partial(_torch_run, torch, theta0=1.0)
        return {
            "SGD(weight_decay)": run(lambda p: opt.SGD(p, lr=WD_LR, weight_decay=WD), gradients=[0.5])[-1],
            "SGD + explicit L2": run(lambda p: opt.SGD(p, lr=WD_LR), gradients=[0.5], l2=WD)[-1],
            momentum_case: run(lambda p: opt.SGD(p, lr=WD_LR, momentum=0.5, weight_decay=WD), gradients=[0.5] * 2)[-1],
            "Adam(weight_decay)": run(lambda p: opt.Adam(p, lr=WD_LR, weight_decay=WD, **adam_args),
                                      gradients=[0.5])[-1],
            "Adam + explicit L2": run(lambda p: opt.Adam(p, lr=WD_LR, **adam_args), gradients=[0.5], l2=WD)[-1],
            "AdamW(weight_decay)": run(lambda p: opt.AdamW(p, lr=WD_LR, weight_decay=WD, **adam_args),
                                       gradients=[0.5])[-1],
        }

    def tensorflow_value(ns):
        opt = ns.keras.optimizers
        run = functools.partial(_keras_run, ns, theta0=1.0)
        return {
            "SGD(weight_decay)": run(lambda: opt.SGD(learning_rate=WD_LR, weight_decay=WD), gradients=[0.5])[-1],
            "SGD + explicit L2": run(lambda: opt.SGD(learning_rate=WD_LR), gradients=[0.5], l2=WD)[-1],
            momentum_case: run(lambda: opt.SGD(learning_rate=WD_LR, momentum=0.5, weight_decay=WD),
                               gradients=[0.5] * 2)[-1],
            "Adam(weight_decay)": run(lambda: opt.Adam(learning_rate=WD_LR, weight_decay=WD, **keras_adam_args),
                                      gradients=[0.5])[-1],
            "Adam + explicit L2": run(lambda: opt.Adam(learning_rate=WD_LR, **keras_adam_args), gradients=[0.5],
                                      l2=WD)[-1],
            "AdamW(weight_decay)": run(lambda: opt.AdamW(learning_rate=WD_LR, weight_decay=WD, **keras_adam_args),
                                       gradients=[0.5])[-1],
        }

    adam = functools.partial(rn.Adam, learning_rate=WD_LR, beta1=WD_BETA1, beta2=WD_BETA2, eps=WD_EPS)
    reference = {
        "SGD(weight_decay)": _reference_run(rn.SGD(WD_LR, weight_decay=WD), 1.0, [0.5])[-1],
        "SGD + explicit L2": _reference_run(rn.SGD(WD_LR), 1.0, [0.5], l2=WD)[-1],
        momentum_case: _reference_run(rn.SGD(WD_LR, momentum=0.5, weight_decay=WD), 1.0, [0.5] * 2)[-1],
        "Adam(weight_decay)": _reference_run(adam(weight_decay=WD), 1.0, [0.5])[-1],
        "Adam + explicit L2": _reference_run(adam(), 1.0, [0.5], l2=WD)[-1],
        "AdamW(weight_decay)": _reference_run(adam(weight_decay=WD, decoupled=True), 1.0, [0.5])[-1],
    }
    return _result(
        "weight_decay_coupling",
        "weight_decay=: torch adds wd*theta to the gradient, Keras shrinks theta by lr*wd*theta separately",
        "theta0=1, g=0.5, lr=1/8, wd=1/16, Adam betas=(0.875, 1-2^-10), eps=2^-27 (Keras: 2^-32, the same first step), "
        "float64; value = theta after",
        reference,
        (1e-15, "one or two float64 steps on |theta|<=1 with dyadic constants: a few roundings of 1.1e-16"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "torch gets weight_decay= (coupled); the TF oracle adds wd*theta to the gradient itself instead of "
        "Keras' decoupled weight_decay=; ModelConfig.l2 is an explicit 0.5*l2*sum(W**2) loss term everywhere",
    )


# Non-dyadic gradients, so rounding-order differences between formulations can show.
TRAJECTORY_GRADIENTS = (0.3, -1.7, 0.45, 2.2, -0.05, 0.9)
TRAJECTORY_LR, TRAJECTORY_MOMENTUM = 0.125, 0.875  # exact in float32 (module docstring)


def nesterov_formulation() -> ConventionResult:
    """torch: buf = mu*buf + g; theta -= lr*(g + mu*buf). Keras 3: m = mu*m - lr*g; theta += mu*m - lr*g.
    With a constant lr, Keras' m is -lr*buf, so the two are the same sequence up to rounding."""
    gradients = list(TRAJECTORY_GRADIENTS)

    def torch_value(torch):
        return _torch_run(torch, lambda p: torch.optim.SGD(
            p, lr=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0, gradients)

    def tensorflow_value(ns):
        return _keras_run(ns, lambda: ns.keras.optimizers.SGD(
            learning_rate=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0, gradients)

    return _result(
        "nesterov_formulation",
        "SGD nesterov=True: same parameter sequence in torch and Keras?",
        f"theta0=1, gradients {gradients}, lr=1/8, momentum=7/8, float64; value = theta after each step",
        _reference_run(rn.SGD(TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0, gradients),
        (1e-14, "6 float64 steps on |theta|<~3 summed in a different order: differences of a few ulps (~1e-15)"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "none needed for a constant learning rate: Keras' nesterov sequence equals torch's up to rounding",
    )


LR_CHANGE = [TRAJECTORY_LR] * 3 + [TRAJECTORY_LR / 2] * 3


def momentum_formulation() -> ConventionResult:
    """torch: buf = g (first step), then mu*buf + g; theta -= lr*buf. Keras: m = mu*m - lr*g; theta += m.
    Keras stores lr inside the velocity, so the two part ways when the learning rate changes."""
    gradients = list(TRAJECTORY_GRADIENTS)
    schedules = {"constant lr": None, "lr halved after step 3": LR_CHANGE}

    def torch_value(torch):
        return {case: _torch_run(torch, lambda p: torch.optim.SGD(p, lr=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM),
                                 1.0, gradients, learning_rates=lrs) for case, lrs in schedules.items()}

    def tensorflow_value(ns):
        return {case: _keras_run(ns, lambda: ns.keras.optimizers.SGD(
            learning_rate=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM), 1.0, gradients, learning_rates=lrs)
            for case, lrs in schedules.items()}

    return _result(
        "momentum_formulation",
        "SGD momentum: torch's buffer vs Keras' velocity, with a constant and a changing learning rate",
        f"theta0=1, gradients {gradients}, lr=1/8 (1/16 from step 4 in the second case), momentum=7/8, float64",
        {case: _reference_run(rn.SGD(TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM), 1.0, gradients, learning_rates=lrs)
         for case, lrs in schedules.items()},
        (1e-14, "6 float64 steps on |theta|<~3 summed in a different order: differences of a few ulps (~1e-15)"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "the oracles use a constant learning rate (as the reference's fit does), where the two agree; "
        "a schedule would need torch's formula in TF ops",
    )


def _reduction_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``P (3, 4)`` probabilities, ``Y (3, 4)`` binary labels, ``Z (3, 4)`` logits, ``T (3, 4)``
    one-hot columns: the reference's layout, 3 outputs by 4 samples."""
    P = np.array([[0.2, 0.7, 0.9, 0.4], [0.6, 0.1, 0.5, 0.8], [0.3, 0.35, 0.65, 0.05]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    Z = np.array([[1.5, -0.3, 0.2, 2.0], [0.1, 0.8, -1.2, 0.4], [-0.7, 0.5, 0.9, -2.1]])
    T = np.zeros((3, 4))
    T[[0, 1, 2, 0], np.arange(4)] = 1.0
    return P, Y, Z, T


def loss_reductions() -> ConventionResult:
    """mse: mean over all elements; bce: mean over all; softmax CE: mean over the batch. torch and Keras
    want samples in rows, the reference has them in columns: the oracle must pass transposes. Keras reduces
    over the last axis first (mean for mse/bce, sum over classes for CE), then averages over the batch."""
    P, Y, Z, T = _reduction_inputs()
    untransposed = "softmax_ce on (3, 4) as given"

    def torch_value(torch):
        t = functools.partial(torch.tensor, dtype=torch.float64)
        nn = torch.nn
        return {"mse": float(nn.MSELoss()(t(P.T), t(Y.T))), "bce": float(nn.BCELoss()(t(P.T), t(Y.T))),
                "softmax_ce": float(nn.CrossEntropyLoss()(t(Z.T), t(T.T))),
                untransposed: float(nn.CrossEntropyLoss()(t(Z), t(T)))}

    def tensorflow_value(ns):
        losses = ns.keras.losses
        return {"mse": float(losses.MeanSquaredError(dtype="float64")(Y.T, P.T)),
                "bce": float(losses.BinaryCrossentropy(dtype="float64")(Y.T, P.T)),
                "softmax_ce": float(losses.CategoricalCrossentropy(from_logits=True, dtype="float64")(T.T, Z.T)),
                untransposed: float(losses.CategoricalCrossentropy(from_logits=True, dtype="float64")(T, Z))}

    return _result(
        "loss_reductions",
        "default reduction of each loss, and the layout the frameworks expect",
        "P, Y, Z, T of shape (3, 4) = (n_out, m) in the reference's layout; frameworks get the (4, 3) transposes",
        {"mse": float(rn.get_loss("mse").value(P, Y)), "bce": float(rn.get_loss("bce").value(P, Y)),
         "softmax_ce": float(rn.get_loss("softmax_cross_entropy").value(Z, T))},
        (1e-13, "12 float64 logs/squares summed in a different order: relative rounding ~1e-15 on costs ~1"),
        {"torch": torch_value, "tensorflow": tensorflow_value},
        "the oracles transpose X, Y and activations to samples-in-rows (torch Linear.weight = W, Keras kernel = "
        "W.T) and use each framework's default mean; an untransposed CE sums over the wrong axis",
    )


CONVENTIONS: list[Callable[[], ConventionResult]] = [
    relu_derivative_at_zero,
    leaky_relu_default_slope,
    adam_epsilon_placement,
    adam_default_epsilon,
    float32_hyperparameters,
    bce_clipping,
    weight_decay_coupling,
    nesterov_formulation,
    momentum_formulation,
    loss_reductions,
]


def measure_all() -> list[ConventionResult]:
    """Every convention in :data:`CONVENTIONS`, measured now."""
    return [convention() for convention in CONVENTIONS]


# ------------------------------------------------------------------------------ printing
FRAMEWORK_TITLES = {"torch": "torch", "tensorflow": "TensorFlow / Keras", "jax": "JAX"}


def _format_number(number: float) -> str:
    return f"{number + 0.0:.10g}"  # + 0.0 prints -0.0 as 0


def format_value(value: Value) -> str:
    """A value for a Markdown cell: cases on separate lines, trajectories as ``[a, b, ...]``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "<br>".join(f"{key}: {format_value(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(f"{float(v):.6g}" for v in value) + "]"
    return _format_number(float(value))


def _format_measurement(measurement: Measurement) -> str:
    if measurement.status != MEASURED:
        return f"*{measurement.status}*"
    if measurement.agrees is None:
        verdict = "(nothing shared to compare)"
    else:
        word = "**agrees**" if measurement.agrees else "**differs**"
        verdict = f"{word}, max abs diff {measurement.max_abs_difference:.3g}"
    return f"{verdict}<br>{format_value(measurement.value)}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(results: Sequence[ConventionResult], versions: dict[str, str]) -> str:
    """The conventions as a Markdown document: heading with versions, one table row per convention."""
    version_line = ", ".join(f"{name} {version}" for name, version in versions.items())
    lines = [
        "# Framework conventions, measured",
        "",
        f"Measured with {version_line}.",
        "",
        "Generated by `python -m equivalence_tests.conventions > docs/conventions.md`; do not edit by hand. "
        "Each framework cell says whether it agrees with the reference (max abs difference over the cases both "
        "have, against the tolerance in the last column) and lists the measured values; cases the reference "
        "lacks are framework-only and not compared.",
        "",
        "| Convention | Setup | reference_nn | " + " | ".join(FRAMEWORK_TITLES[f] for f in FRAMEWORKS)
        + " | What the harness does | Tolerance |",
        "|" + "---|" * (6 + len(FRAMEWORKS) - 1),
    ]
    for result in results:
        cells = [f"**{result.name}**<br>{result.question}", result.setup, format_value(result.reference)]
        cells += [_format_measurement(result.measurement(f)) for f in FRAMEWORKS]
        cells += [result.harness_action, f"{result.tolerance:g}: {result.tolerance_reason}"]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def json_report(results: Sequence[ConventionResult], versions: dict[str, str]) -> str:
    return json.dumps({"versions": versions, "conventions": [r.to_dict() for r in results]}, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m equivalence_tests.conventions",
        description="Measure where torch, TensorFlow/Keras (and JAX) differ from the reference, and print a table.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    arguments = parser.parse_args(argv)
    results = measure_all()
    versions = framework_versions()
    sys.stdout.write(json_report(results, versions) + "\n" if arguments.json else markdown_table(results, versions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
