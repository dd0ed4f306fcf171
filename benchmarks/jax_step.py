"""The JAX contender of ``benchmarks.training_step``: the same 784-256-128-10 training step (relu, relu,
identity, softmax cross-entropy averaged over the batch, plain SGD) as one ``jax.jit``-compiled update,
from the same initial weights. Kept apart so training_step.py's other contenders stay readable.

float64 needs ``jax_enable_x64``: it is switched on here, in the benchmark's own process (float32 arrays
stay float32 under it). CPU only (``JAX_PLATFORMS=cpu`` unless the caller set another platform)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def import_jax() -> Any | None:
    """jax with 64-bit types enabled, or None when it is not installed."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def jax_step(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, learning_rate: float,
             n_layers: int) -> tuple[Any, Any]:  # fmt: skip
    """(step, current_params): X (n0, m) and one-hot Y (10, m) in columns as the reference has them;
    JAX computes in rows, (m, n0), with W (n_out, n_in) as the reference's (``a @ W.T + b``)."""
    jax = import_jax()
    import jax.numpy as jnp

    weights = [jnp.asarray(params[f"W{layer}"]) for layer in range(1, n_layers + 1)]
    biases = [jnp.asarray(params[f"b{layer}"][:, 0]) for layer in range(1, n_layers + 1)]
    inputs = jnp.asarray(np.ascontiguousarray(X.T))
    targets = jnp.asarray(np.ascontiguousarray(Y.T))

    def cost(ws: list[Any], bs: list[Any]) -> Any:
        a = inputs
        for layer, (w, b) in enumerate(zip(ws, bs, strict=True), start=1):
            z = a @ w.T + b
            a = jax.nn.relu(z) if layer < n_layers else z
        return -jnp.mean(jnp.sum(targets * jax.nn.log_softmax(a, axis=1), axis=1))

    @jax.jit
    def update(ws: list[Any], bs: list[Any]) -> tuple[list[Any], list[Any]]:
        grad_w, grad_b = jax.grad(cost, argnums=(0, 1))(ws, bs)
        return ([w - learning_rate * g for w, g in zip(ws, grad_w, strict=True)],
                [b - learning_rate * g for b, g in zip(bs, grad_b, strict=True)])  # fmt: skip

    state = {"ws": weights, "bs": biases}

    def step() -> None:
        state["ws"], state["bs"] = update(state["ws"], state["bs"])
        jax.block_until_ready(state["ws"])  # JAX dispatches asynchronously: time the work, not the dispatch

    def current() -> dict[str, np.ndarray]:
        out = {}
        for layer, (w, b) in enumerate(zip(state["ws"], state["bs"], strict=True), start=1):
            out[f"W{layer}"] = np.asarray(w).copy()
            out[f"b{layer}"] = np.asarray(b)[:, None].copy()
        return out

    return step, current
