"""JAX for the harness: imported lazily and once, computations on the CPU, float64 on demand,
and none of it leaking into the caller's process state.

JAX's default dtype is float32 unless the global flag ``jax_enable_x64`` is set, and its
default device is the first accelerator. The harness needs float64 on the CPU for its float64
runs, but a user who imports the pytest plugin or ``refnn`` into their own JAX process must
find their flag and device as they left them. So every JAX computation here runs inside
:func:`jax_context`, which sets ``jax_enable_x64`` and the default device *for the block only*
(JAX's thread-local config contexts: ``jax.enable_x64(...)`` in JAX >= 0.7,
``jax.experimental.enable_x64()``/``disable_x64()`` before), and restores both on exit. The
environment (``JAX_PLATFORMS``) is never touched: set ``JAX_PLATFORMS=cpu`` yourself to skip
accelerator discovery when JAX is imported (the nox sessions do).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from equivalence_tests.oracles.base import import_quietly


@functools.cache
def import_jax() -> SimpleNamespace:
    """``jax``, ``jax.numpy`` as ``jnp``, and ``optax`` (None when only optax is missing), imported once.

    Raises ImportError when JAX itself is not installed."""
    jax = import_quietly("jax")
    jnp = import_quietly("jax.numpy")
    try:
        optax = import_quietly("optax")
    except ImportError:
        optax = None
    return SimpleNamespace(jax=jax, jnp=jnp, optax=optax)


def versions(fw: SimpleNamespace) -> str:
    """``"0.10.2 (jaxlib 0.10.2, optax 0.2.8)"``: what every JAX report names."""
    jaxlib = import_quietly("jaxlib").__version__
    optax = "not installed" if fw.optax is None else fw.optax.__version__
    return f"{fw.jax.__version__} (jaxlib {jaxlib}, optax {optax})"


def _x64(jax: Any, enabled: bool) -> contextlib.AbstractContextManager:
    state = getattr(jax, "enable_x64", None)
    if state is not None and callable(state) and not isinstance(state, bool):
        return state(enabled)  # JAX >= 0.7: the config State is itself a context manager
    from jax import experimental  # older JAX

    return experimental.enable_x64() if enabled else experimental.disable_x64()


@contextlib.contextmanager
def jax_context(fw: SimpleNamespace, dtype: str = "float64") -> Iterator[None]:
    """Run the block with ``jax_enable_x64`` = (dtype is float64) on the CPU; both restored after."""
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    cpu = fw.jax.devices("cpu")[0]
    with _x64(fw.jax, dtype == "float64"), fw.jax.default_device(cpu):
        yield


def x64_enabled(fw: SimpleNamespace) -> bool:
    """The caller's current ``jax_enable_x64`` (to show that a run left it unchanged)."""
    return bool(fw.jax.config.jax_enable_x64)
