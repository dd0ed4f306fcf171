"""check_jax's adapter: a JAX function (``jax.custom_vjp``, ``jax.custom_jvp``, or any function built
from them) as the NumPy-facing operations of common.py. Imported only by check_jax.

JAX's configuration is left as found: ``jax_enable_x64`` is turned on only inside the calls that run
on float64 copies (the numerical side; JAX's thread-local context, restored on exit) and the default
device is never touched. The rule under test runs at the dtypes JAX gives the inputs under the
caller's own flag (a float64 NumPy array is float32 to JAX while x64 is off; that is what is checked).
Outputs: the floating leaves of fn's output pytree, in order.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpy as np

from ..arguments import argument_names, describe
from .base import Backward, Prepared, RuleShapeError, numpy_precision


def x64(enabled: bool):
    """jax_enable_x64 = enabled for the block only (JAX >= 0.7: the config State is a context manager)."""
    state = getattr(jax, "enable_x64", None)
    if state is not None:
        return state(enabled)
    from jax import experimental  # pragma: no cover - JAX < 0.7

    return experimental.enable_x64() if enabled else experimental.disable_x64()  # pragma: no cover


class JaxAdapter:
    framework = "jax"

    def __init__(self, fn, inputs: tuple):
        if not callable(fn):
            raise TypeError(f"check_jax: fn must be a JAX function; got {type(fn).__name__}")
        if not inputs:
            raise ValueError("check_jax needs fn's inputs: check_jax(fn, x, w, ...)")
        self.fn, self.inputs = fn, inputs
        source = getattr(fn, "fun", fn)  # a custom_vjp / custom_jvp object keeps the primal function in .fun
        self.names = argument_names(source, len(inputs))
        self.input_names = {i: self.names[i] for i, v in enumerate(inputs) if _is_floating(v)}
        self.dtypes: dict = {}
        self._output_dtypes: list = []
        # jit: every evaluation of an eager JAX function re-dispatches op by op (and jax.vjp retraces):
        # the forward and the pullback are compiled once per dtype signature instead (5x fewer seconds
        # on the tests' ops). A function that cannot be traced (Python control flow on values) runs eagerly.
        self._jit = True

    def prepare(self) -> Prepared:
        values, precisions, dtype_names = {}, {}, {}
        for i, name in self.input_names.items():
            array = jnp.asarray(self.inputs[i])  # the dtype JAX computes in under the caller's x64 flag
            self.dtypes[name] = array.dtype
            keep = np.float64 if array.dtype == np.float64 else np.float32
            values[name] = np.asarray(array.astype(jnp.float32) if keep is np.float32 else array, dtype=keep)
            precisions[name], dtype_names[name] = numpy_precision(array.dtype.name), array.dtype.name
        if not values:
            raise ValueError("check_jax: none of fn's inputs is a floating array; got "
                             + ", ".join(describe(v) for v in self.inputs))
        static = [f"{self.names[i]} ({describe(v)})" for i, v in enumerate(self.inputs) if i not in self.input_names]
        notes = ["JAX's x64 flag and default device left as found (x64 on only inside the float64 evaluations)"]
        with self._context(values):
            self._output_dtypes = [o.dtype for o in self._call(self._arrays(values))]
        return Prepared(values, precisions, dtype_names, static, notes)

    # -- the operations of common.py -------------------------------------------------------------

    def outputs(self, values: dict) -> list[np.ndarray]:
        with self._context(values):
            arrays = self._arrays(values)
            names = tuple(arrays)
            forward = self._maybe_jit(("forward", names), self._forward, tuple(arrays.values()))
            return [_to_numpy(o) for o in forward]

    def _forward(self, names: tuple, arrays: tuple) -> list:
        return self._call(dict(zip(names, arrays, strict=True)))

    def _pullback(self, names: tuple, arrays: tuple, douts: list) -> list:
        """(arrays, like names; a tuple: jit would sort a dict's keys) -> gradients in that order."""
        outs, pullback = jax.vjp(lambda *xs: self._call(dict(zip(names, xs, strict=True))),
                                 *arrays)  # fmt: skip
        cotangents = [jnp.zeros(o.shape, o.dtype) if d is None else jnp.asarray(d).astype(o.dtype).reshape(o.shape)
                      for o, d in zip(outs, douts, strict=True)]  # fmt: skip
        return list(pullback(cotangents))

    def _maybe_jit(self, key: tuple, function, *args):
        """function(names, *args), compiled once per key (the input names)."""
        names = key[1]
        if self._jit:
            compiled = self.__dict__.setdefault("_compiled", {}).get(key)
            if compiled is None:
                compiled = self._compiled[key] = jax.jit(lambda *a: function(names, *a))
            try:
                return compiled(*args)
            except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                    jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError):  # fmt: skip
                self._jit = False  # Python control flow on values: run eagerly from now on
        return function(names, *args)

    def vjp(self, values: dict, douts: list) -> Backward:
        names = list(values)
        with self._context(values):
            arrays = self._arrays(values)
            try:
                grads = self._maybe_jit(("pullback", tuple(names)), self._pullback, tuple(arrays.values()), douts)
            except (TypeError, ValueError) as error:
                if "bwd" in str(error) and ("shape" in str(error) or "dtype" in str(error)):
                    raise RuleShapeError(f"JAX refused the rule's gradient: {error}") from error
                raise
        result = Backward({})
        for name, g in zip(names, grads, strict=True):
            result.grads[name] = _to_numpy(g)
            result.shapes[name], result.dtypes[name] = tuple(np.shape(g)), jnp.asarray(g).dtype.name
        return result

    def jvp(self, values: dict, tangents: dict) -> list[np.ndarray]:
        """The JVP rule's output tangents (a custom_jvp's rule) at ``values`` along ``tangents``."""
        names = list(values)
        with self._context(values):
            arrays = self._arrays(values)
            _, out = jax.jvp(lambda *xs: self._call(dict(zip(names, xs, strict=True))),
                             tuple(arrays[n] for n in names),
                             tuple(jnp.asarray(tangents[n], arrays[n].dtype) for n in names))  # fmt: skip
        return [_to_numpy(o) for o in out]

    def double_vjp(self, values: dict, douts: list, w: dict) -> tuple[dict, dict]:
        """Gradients of h = sum_i <vjp(x, u)_i, w_i> with respect to x (by name) and each driven u_k
        (by output index): jax.grad through the pullback (a custom_vjp's bwd is traced like any code)."""
        names = list(values)
        driven = [k for k, d in enumerate(douts) if d is not None]
        with self._context(values):
            arrays = self._arrays(values)
            outs = self._call(arrays)
            us = tuple(jnp.asarray(douts[k], outs[k].dtype).reshape(outs[k].shape) for k in driven)

            def h(xs, us):
                full = [None] * len(douts)
                for k, u in zip(driven, us, strict=True):
                    full[k] = u
                grads = self._pullback(tuple(names), xs, full)
                return sum(jnp.sum(g.astype(jnp.float32 if g.dtype.itemsize < 4 else g.dtype) * w[n])
                           for n, g in zip(names, grads, strict=True))  # fmt: skip

            gx, gu = jax.grad(h, argnums=(0, 1))(tuple(arrays[n] for n in names), us)
        return ({n: _to_numpy(g) for n, g in zip(names, gx, strict=True)},
                {k: _to_numpy(g) for k, g in zip(driven, gu, strict=True)})  # fmt: skip

    def quantize_gradient(self, array: np.ndarray, name: str) -> np.ndarray:
        return self.quantize_input(array, name)

    def output_dtype_is_float64(self, k: int) -> bool:
        return self._output_dtypes[k] == np.float64

    def quantize_input(self, array: np.ndarray, name: str) -> np.ndarray:
        """A tangent rounded to input ``name``'s dtype, as float64."""
        with x64(True):
            return np.asarray(jnp.asarray(np.asarray(array, dtype=np.float64), dtype=self.dtypes[name]), np.float64)

    def quantize(self, array: np.ndarray, k: int) -> np.ndarray:
        dtype = self._output_dtypes[k]
        with x64(True):  # the dtype is explicit; float64 needs the flag
            return np.asarray(jnp.asarray(np.asarray(array, dtype=np.float64), dtype=dtype), dtype=np.float64)

    # -- internals ---------------------------------------------------------------------------------

    def _context(self, values: dict):
        """x64 on for a call that has float64 / complex128 copies in it; as found otherwise."""
        wide = any(np.asarray(v).dtype in (np.float64, np.complex128) for v in values.values())
        return x64(True) if wide and not jax.config.jax_enable_x64 else contextlib.nullcontext()

    def _arrays(self, values: dict) -> dict:
        out = {}
        for name, array in values.items():
            own = self.dtypes[name]
            if array.dtype == np.float32:
                out[name] = jnp.asarray(array).astype(own)
            else:  # float64 copies, complex steps: their own dtype
                out[name] = jnp.asarray(array)
        return out

    def _call(self, arrays: dict) -> list:
        args = [arrays[self.input_names[i]] if i in self.input_names else v for i, v in enumerate(self.inputs)]
        leaves = jax.tree_util.tree_leaves(self.fn(*args))
        return [o for o in leaves if jnp.issubdtype(jnp.asarray(o).dtype, jnp.inexact)]


def _is_floating(value) -> bool:
    """A floating NumPy or JAX array (Python floats and integer arrays are passed unchanged)."""
    return isinstance(value, np.ndarray | jax.Array) and bool(jnp.issubdtype(value.dtype, jnp.floating))


def _to_numpy(a) -> np.ndarray:
    array = np.asarray(a)
    if array.dtype.kind == "V" or array.dtype.itemsize == 2:  # bfloat16 / float16: exact in float32
        array = array.astype(np.float32)
    return np.array(array, copy=True)
