"""Optimizer runs on one scalar parameter, shared by the optimizer conventions.

``theta`` (shape ``(1, 1)`` in the reference's ``W1``) starts at ``theta0`` and is fed the
gradient sequence ``gradients``: the loss at step t is ``g_t * theta`` (+ ``0.5 * l2 * theta**2``
when ``l2`` is given, differentiated by the framework itself). ``learning_rates`` (optional)
sets the learning rate before each step. Each run returns theta after each step, in float64,
so that rounding is far below the effects measured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import reference_nn as rn


def reference_run(optimizer: rn.Optimizer, theta0: float, gradients: Sequence[float],
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


def torch_run(torch: Any, make_optimizer: Callable[[list], Any], theta0: float, gradients: Sequence[float],
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


def keras_run(tf_ns: Any, make_optimizer: Callable[[], Any], theta0: float, gradients: Sequence[float],
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


def optax_run(ns: Any, make_transformation: Callable[[], Any], theta0: float, gradients: Sequence[float],
              l2: float = 0.0, learning_rates: Sequence[float] | None = None) -> list[float]:
    """The same run with an optax GradientTransformation, inside the caller's float64 JAX context.

    With ``learning_rates``, ``make_transformation()`` must come from ``optax.inject_hyperparams``
    (the optax way to change a hyper-parameter between steps): its ``learning_rate`` is set before
    each step."""
    jax, jnp, optax = ns.jax, ns.jnp, ns.optax
    theta = jnp.array([theta0], dtype=jnp.float64)
    transformation = make_transformation()
    state = transformation.init(theta)
    thetas = []
    for step, g in enumerate(gradients):
        if learning_rates is not None:
            state.hyperparams["learning_rate"] = jnp.asarray(learning_rates[step], dtype=jnp.float64)
        gradient = jax.grad(lambda t, g=g: g * jnp.sum(t) + 0.5 * l2 * jnp.sum(t * t))(theta)
        updates, state = transformation.update(gradient, state, theta)
        theta = optax.apply_updates(theta, updates)
        thetas.append(float(theta[0]))
    return thetas
