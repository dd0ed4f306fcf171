"""JAX oracle: ``jax.value_and_grad`` for cost and gradients, optax for the steps, twins from the op table.

One path, as JAX users write a small network by hand: a parameter pytree ``{"W1": K1, "b1": b1,
...}`` with Flax's layout (kernel ``K = W.T (n_in, n_out)``, bias ``(n_out,)``), samples in rows,
``jax.nn`` / ``jax.numpy`` / ``optax.losses`` functions from the op table's ``jax_functional``
twins, the whole run (value_and_grad, then the optax steps) jit-compiled once per model, as JAX
users write a training step. The optimizer is the op table's optax chain (torch.optim semantics;
see ``ops._optax_transformation`` for what maps to what).

Precision and device are set per run and restored after it (:mod:`.jax_runtime`): float64 runs
enable ``jax_enable_x64`` for the run only, float32 runs disable it for the run only, so the
caller's JAX process state is untouched. Every result carries the JAX, jaxlib and optax versions.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles.base import Oracle, OracleResult
from equivalence_tests.oracles.jax_runtime import import_jax, jax_context, versions


class JaxOracle(Oracle):
    """``JaxOracle(path="functional")``: ``jax.value_and_grad`` + optax."""

    framework = "jax"
    PATHS = ("functional",)

    def __init__(self, path: str = "functional"):
        super().__init__()
        if path not in self.PATHS:
            raise ValueError(f"path must be one of {self.PATHS}, got {path!r}")
        self.path = path

    def _load(self) -> SimpleNamespace:
        fw = import_jax()
        if fw.optax is None:
            raise ImportError("optax is not installed (the JAX oracle's optimizer steps need it): "
                              "pip install \"reference-nn[jax]\"")
        return fw

    def _version(self, modules: SimpleNamespace) -> str:
        return versions(modules)

    def unsupported_reason(self, config: ModelConfig) -> str | None:
        return ops.missing_twin_reason("jax_functional", config) or super().unsupported_reason(config)

    # -- running --------------------------------------------------------------------------
    def _run(self, fw, config, params, X, Y) -> OracleResult:
        with jax_context(fw, config.dtype):
            return self._run_in_context(fw, config, params, X, Y)

    def _run_in_context(self, fw, config, params, X, Y) -> OracleResult:
        jnp = fw.jnp
        dtype = jnp.dtype(config.dtype)
        tree = {name: jnp.asarray(value.T if name.startswith("W") else value.reshape(-1), dtype=dtype)
                for name, value in params.items()}  # Flax's layout: kernels W.T, vectors (n,)
        X_rows, Y_rows = jnp.asarray(X.T, dtype=dtype), jnp.asarray(Y.T, dtype=dtype)
        cost, AL, gradients, updated, stats = _program(config)(tree, X_rows, Y_rows)
        _check_dtype(config, [AL, cost, *gradients.values(), *updated.values()])
        norm_state = None
        if config.normalization == "batch":
            norm_state = {f"running_{kind}{layer}": np.asarray(value).reshape(-1, 1)
                          for layer, pair in stats.items() for kind, value in zip(("mean", "var"), pair, strict=True)}
        return OracleResult(
            oracle=self.name, framework=self.framework, framework_version=self.version, path=self.path,
            dtype=config.dtype, forward=np.asarray(AL).T.copy(), cost=float(cost),
            gradients=_reference_layout(gradients, params), updated_params=_reference_layout(updated, params),
            notes=["x64 enabled for this run only" if config.dtype == "float64" else "x64 disabled for this run only"],
            norm_state=norm_state,
        )


@functools.lru_cache(maxsize=256)
def _program(config: ModelConfig) -> Callable[..., Any]:
    """``jit(tree, X_rows, Y_rows) -> (cost, AL, gradients at tree, tree after config.steps optax steps,
    running statistics {layer: (mean, var)})``.

    One compiled program per model (jit's own cache adds the shapes), as JAX users write a training
    step; eager dispatch would compile every primitive for every new shape instead, which measured
    3-10x slower on the random models of measure_agreement. Each step uses the gradient at the
    then-current parameters on the full batch (the first step the one reported); in training mode
    each of those forward passes moves BatchNorm's running statistics once (max(steps, 1) updates,
    as torch's oracle), in eval mode one training pass at the initial parameters sets them first."""
    fw = import_jax()
    jax, jnp = fw.jax, fw.jnp
    dtype = jnp.dtype(config.dtype)
    linear = ops.op("linear").jax_functional
    activations = [ops.activation_op(name).jax_functional for name in config.activations]
    loss = ops.op(config.loss).jax_functional
    penalty = ops.op("l2").jax_functional
    norm = ops.op(f"{config.normalization}_norm").jax_functional if config.normalization else None
    optimizer = ops.optimizer_ops(config.optimizer)[0].jax_functional(fw, config.optimizer) if config.steps else None
    training = config.normalization_mode == "train"
    weights = [f"W{layer}" for layer in range(1, config.n_layers + 1)]

    def forward(tree: dict[str, Any], stats: dict[int, Any], X_rows: Any, training: bool) -> tuple[Any, Any]:
        A, new_stats = X_rows, dict(stats)
        for layer, activation in enumerate(activations, start=1):
            if config.is_normalized(layer):
                Z, layer_stats = norm(fw, A @ tree[f"W{layer}"], tree[f"gamma{layer}"], tree[f"beta{layer}"],
                                      stats.get(layer), training, config)
                if layer_stats is not None:
                    new_stats[layer] = layer_stats
            else:
                Z = linear(fw, A, tree[f"W{layer}"], tree[f"b{layer}"])
            A = activation(fw, Z, config)
        return A, new_stats

    def cost_of(tree: dict[str, Any], stats: dict[int, Any], X_rows: Any, Y_rows: Any) -> tuple[Any, Any]:
        A, new_stats = forward(tree, stats, X_rows, training)
        cost = loss(fw, A, Y_rows)
        if config.l2:
            cost = cost + penalty(fw, [tree[name] for name in weights], config.l2)
        return cost, (A, new_stats)

    value_and_grad = jax.value_and_grad(cost_of, has_aux=True)

    def program(tree: dict[str, Any], X_rows: Any, Y_rows: Any) -> tuple[Any, ...]:
        sizes = {layer: config.layer_dims[layer] for layer in range(1, config.n_layers)}
        stats = {layer: (jnp.zeros(n, dtype=dtype), jnp.ones(n, dtype=dtype))
                 for layer, n in sizes.items() if config.normalization == "batch"}
        if stats and not training:
            stats = forward(tree, stats, X_rows, True)[1]  # eval mode: statistics of one training pass
        (cost, (AL, moved)), gradients = value_and_grad(tree, stats, X_rows, Y_rows)
        stats = moved if training else stats
        if optimizer is None:
            return cost, AL, gradients, tree, stats

        def step(_: Any, carry: tuple[Any, ...]) -> tuple[Any, ...]:
            current, state, gradient, stats = carry
            updates, state = optimizer.update(gradient, state, current)
            current = fw.optax.apply_updates(current, updates)
            (_, (_, moved)), gradient = value_and_grad(current, stats, X_rows, Y_rows)
            return current, state, gradient, moved if training else stats

        carry = (tree, optimizer.init(tree), gradients, stats)
        current, state, gradient, stats = jax.lax.fori_loop(0, config.steps - 1, step, carry)
        updates, _ = optimizer.update(gradient, state, current)
        return cost, AL, gradients, fw.optax.apply_updates(current, updates), stats

    if "compiler_options" in inspect.signature(jax.jit).parameters:  # JAX >= 0.4.36
        # XLA's CPU backend optimizations cost more compile time than these tiny programs run for
        # (measured: 30-40% less wall time per new model); they never change float semantics (no fast math).
        return jax.jit(program, compiler_options=_FAST_COMPILE)
    return jax.jit(program)


_FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _reference_layout(tree: dict[str, Any], params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """JAX's layout back to the reference's: kernels transposed, vectors as columns, shaped like ``params``."""
    return {name: np.ascontiguousarray(np.asarray(value).T if name.startswith("W") else np.asarray(value))
            .reshape(params[name].shape) for name, value in tree.items()}


def _check_dtype(config: ModelConfig, arrays: list[Any]) -> None:
    """Fail loudly if JAX computed in another dtype (its float32 default when x64 is off)."""
    for array in arrays:
        if str(array.dtype) != config.dtype:
            raise AssertionError(f"JAX computed a {array.dtype} array in a {config.dtype} run: the x64 context "
                                 "or a twin's dtype is wrong")
