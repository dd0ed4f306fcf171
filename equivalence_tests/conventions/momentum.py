"""SGD momentum and Nesterov conventions (family "optimizers"), measured live on one scalar
parameter (:mod:`equivalence_tests.conventions.scalar_runs`), float64.

torch keeps a buffer ``buf = mu*buf + g`` and steps ``lr*buf``; Keras 3 keeps a velocity
``m = mu*m - lr*g`` with the learning rate inside. With a constant learning rate the two are
the same sequence up to rounding; they part ways when it changes.
"""

from __future__ import annotations

import reference_nn as rn
from equivalence_tests.conventions.measuring import Convention
from equivalence_tests.conventions.scalar_runs import keras_run, optax_run, reference_run, torch_run

# Non-dyadic gradients, so rounding-order differences between formulations can show.
TRAJECTORY_GRADIENTS = (0.3, -1.7, 0.45, 2.2, -0.05, 0.9)
TRAJECTORY_LR, TRAJECTORY_MOMENTUM = 0.125, 0.875  # exact in float32 (see optimizers' docstring)
TRAJECTORY_TOLERANCE = (1e-14, "6 float64 steps on |theta|<~3 summed in a different order: differences of a few "
                               "ulps (~1e-15)")


# --------------------------------------------------------------------------- Nesterov
# torch: buf = mu*buf + g; theta -= lr*(g + mu*buf). Keras 3: m = mu*m - lr*g; theta += mu*m - lr*g.
# With a constant lr, Keras' m is -lr*buf, so the two are the same sequence up to rounding.
def _nesterov_torch(torch) -> list[float]:
    return torch_run(torch, lambda p: torch.optim.SGD(
        p, lr=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0, list(TRAJECTORY_GRADIENTS))


def _nesterov_tensorflow(ns) -> list[float]:
    return keras_run(ns, lambda: ns.keras.optimizers.SGD(
        learning_rate=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0, list(TRAJECTORY_GRADIENTS))


def _nesterov_jax(ns) -> list[float]:
    return optax_run(ns, lambda: ns.optax.sgd(TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0,
                     list(TRAJECTORY_GRADIENTS))


nesterov_formulation = Convention(
    name="nesterov_formulation",
    family="optimizers",
    question="SGD nesterov=True: same parameter sequence in torch and Keras?",
    setup=f"theta0=1, gradients {list(TRAJECTORY_GRADIENTS)}, lr=1/8, momentum=7/8, float64; value = theta after "
          "each step",
    reference=lambda: reference_run(rn.SGD(TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM, nesterov=True), 1.0,
                                    list(TRAJECTORY_GRADIENTS)),
    tolerance=TRAJECTORY_TOLERANCE[0],
    tolerance_reason=TRAJECTORY_TOLERANCE[1],
    twins={"torch": _nesterov_torch, "tensorflow": _nesterov_tensorflow, "jax": _nesterov_jax},
    harness_action="none needed for a constant learning rate: Keras' nesterov sequence equals torch's up to rounding; "
                   "optax's trace t = g + mu t with update g + mu t is torch's formula",
)


# --------------------------------------------------------------------------- momentum
LR_CHANGE = [TRAJECTORY_LR] * 3 + [TRAJECTORY_LR / 2] * 3
SCHEDULES = {"constant lr": None, "lr halved after step 3": LR_CHANGE}


def _momentum_reference() -> dict[str, list[float]]:
    return {case: reference_run(rn.SGD(TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM), 1.0, list(TRAJECTORY_GRADIENTS),
                                learning_rates=lrs) for case, lrs in SCHEDULES.items()}


def _momentum_torch(torch) -> dict[str, list[float]]:
    return {case: torch_run(torch, lambda p: torch.optim.SGD(p, lr=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM),
                            1.0, list(TRAJECTORY_GRADIENTS), learning_rates=lrs) for case, lrs in SCHEDULES.items()}


def _momentum_tensorflow(ns) -> dict[str, list[float]]:
    return {case: keras_run(ns, lambda: ns.keras.optimizers.SGD(
        learning_rate=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM), 1.0, list(TRAJECTORY_GRADIENTS),
        learning_rates=lrs) for case, lrs in SCHEDULES.items()}


def _momentum_jax(ns) -> dict[str, list[float]]:
    # optax.inject_hyperparams is optax's way to change the learning rate between steps.
    make = lambda: ns.optax.inject_hyperparams(ns.optax.sgd)(  # noqa: E731
        learning_rate=TRAJECTORY_LR, momentum=TRAJECTORY_MOMENTUM)
    return {case: optax_run(ns, make, 1.0, list(TRAJECTORY_GRADIENTS), learning_rates=lrs or [TRAJECTORY_LR] * 6)
            for case, lrs in SCHEDULES.items()}


momentum_formulation = Convention(
    name="momentum_formulation",
    family="optimizers",
    question="SGD momentum: torch's buffer vs Keras' velocity, with a constant and a changing learning rate",
    setup=f"theta0=1, gradients {list(TRAJECTORY_GRADIENTS)}, lr=1/8 (1/16 from step 4 in the second case), "
          "momentum=7/8, float64",
    reference=_momentum_reference,
    tolerance=TRAJECTORY_TOLERANCE[0],
    tolerance_reason=TRAJECTORY_TOLERANCE[1],
    twins={"torch": _momentum_torch, "tensorflow": _momentum_tensorflow, "jax": _momentum_jax},
    harness_action="the oracles use a constant learning rate (as the reference's fit does), where the two agree; "
                   "a schedule would need torch's formula in TF ops. optax scales the trace by lr after the "
                   "momentum (as torch), so it follows torch's sequence even when lr changes",
)

ROWS = (nesterov_formulation, momentum_formulation)
