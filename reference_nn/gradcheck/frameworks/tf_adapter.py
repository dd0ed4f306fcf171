"""check_tf's adapter: a TensorFlow function (``tf.custom_gradient``, or any function built from such
ops) as the NumPy-facing operations of common.py, its backward run through ``tf.GradientTape``.
Imported only by check_tf. Outputs: the floating tensors of fn's output (nested structures
flattened with tf.nest, in order); an input the outputs do not depend on gets a zero gradient.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..arguments import argument_names, describe
from .base import Backward, Prepared, numpy_precision


class TfAdapter:
    framework = "tensorflow"

    def __init__(self, fn, inputs: tuple):
        if not callable(fn):
            raise TypeError(f"check_tf: fn must be a TensorFlow function; got {type(fn).__name__}")
        if not inputs:
            raise ValueError("check_tf needs fn's inputs: check_tf(fn, x, w, ...)")
        self.fn, self.inputs = fn, inputs
        source = getattr(fn, "__wrapped__", fn)  # tf.custom_gradient keeps the user's function there
        self.names = argument_names(source, len(inputs))
        self.input_names = {i: self.names[i] for i, v in enumerate(inputs) if _is_floating(v)}
        self.dtypes: dict = {}
        self._output_dtypes: list = []

    def prepare(self) -> Prepared:
        values, precisions, dtype_names = {}, {}, {}
        for i, name in self.input_names.items():
            tensor = tf.convert_to_tensor(self.inputs[i])
            self.dtypes[name] = tensor.dtype
            keep = np.float64 if tensor.dtype == tf.float64 else np.float32
            values[name] = tf.cast(tensor, tf.float64 if keep is np.float64 else tf.float32).numpy().astype(keep)
            precisions[name], dtype_names[name] = numpy_precision(tensor.dtype.name), tensor.dtype.name
        if not values:
            raise ValueError("check_tf: none of fn's inputs is a floating tensor; got "
                             + ", ".join(describe(v) for v in self.inputs))
        static = [f"{self.names[i]} ({describe(v)})" for i, v in enumerate(self.inputs) if i not in self.input_names]
        self._output_dtypes = [o.dtype for o in self._call(self._tensors(values))]
        return Prepared(values, precisions, dtype_names, static, [])

    def outputs(self, values: dict) -> list[np.ndarray]:
        return [_to_numpy(o) for o in self._call(self._tensors(values))]

    def vjp(self, values: dict, douts: list) -> Backward:
        tensors = self._tensors(values)
        with tf.GradientTape() as tape:
            for t in tensors.values():
                tape.watch(t)
            outs = self._call(tensors)
        pairs = [(o, tf.reshape(tf.cast(tf.constant(d, tf.float64), o.dtype), o.shape))
                 for o, d in zip(outs, douts, strict=True) if d is not None]  # fmt: skip
        grads = tape.gradient([o for o, _ in pairs], list(tensors.values()), output_gradients=[g for _, g in pairs],
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)  # fmt: skip
        result = Backward({})
        for name, g in zip(tensors, grads, strict=True):
            g = tf.convert_to_tensor(g)  # an IndexedSlices (a gather's gradient) made dense
            result.grads[name] = _to_numpy(g)
            result.shapes[name], result.dtypes[name] = tuple(g.shape), g.dtype.name
        return result

    def double_vjp(self, values: dict, douts: list, w: dict) -> tuple[dict, dict]:
        """Gradients of h = sum_i <vjp(x, u)_i, w_i> with respect to x (by name) and each driven u_k
        (by output index), through nested tapes."""
        tensors = self._tensors(values)
        driven = [k for k, d in enumerate(douts) if d is not None]
        zero = tf.UnconnectedGradients.ZERO
        with tf.GradientTape(persistent=True) as outer:
            outer.watch(list(tensors.values()))
            with tf.GradientTape() as inner:
                inner.watch(list(tensors.values()))
                outs = self._call(tensors)
            us = [tf.reshape(tf.cast(tf.constant(douts[k], tf.float64), outs[k].dtype), outs[k].shape) for k in driven]
            outer.watch(us)
            grads = inner.gradient([outs[k] for k in driven], list(tensors.values()), output_gradients=us,
                                   unconnected_gradients=zero)  # fmt: skip
            h = tf.add_n([tf.reduce_sum(tf.cast(g, tf.float64) * w[n]) for n, g in zip(tensors, grads, strict=True)])
        gx = outer.gradient(h, list(tensors.values()), unconnected_gradients=zero)
        gu = outer.gradient(h, us, unconnected_gradients=zero)
        return ({n: _to_numpy(tf.convert_to_tensor(g)) for n, g in zip(tensors, gx, strict=True)},
                {k: _to_numpy(tf.convert_to_tensor(g)) for k, g in zip(driven, gu, strict=True)})  # fmt: skip

    def quantize_gradient(self, array: np.ndarray, name: str) -> np.ndarray:
        return tf.cast(tf.cast(tf.constant(np.asarray(array, np.float64)), self.dtypes[name]), tf.float64).numpy()

    def output_dtype_is_float64(self, k: int) -> bool:
        return self._output_dtypes[k] == tf.float64

    def quantize(self, array: np.ndarray, k: int) -> np.ndarray:
        t = tf.cast(tf.constant(np.asarray(array, dtype=np.float64)), self._output_dtypes[k])
        return tf.cast(t, tf.float64).numpy()

    def _tensors(self, values: dict) -> dict:
        out = {}
        for name, array in values.items():
            t = tf.constant(array)
            out[name] = tf.cast(t, self.dtypes[name]) if array.dtype == np.float32 else t
        return out

    def _call(self, tensors: dict) -> list:
        args = [tensors[self.input_names[i]] if i in self.input_names else v for i, v in enumerate(self.inputs)]
        leaves = tf.nest.flatten(self.fn(*args))
        return [o for o in leaves if isinstance(o, tf.Tensor) and (o.dtype.is_floating or o.dtype.is_complex)]


def _is_floating(value) -> bool:
    if isinstance(value, tf.Tensor | tf.Variable):
        return value.dtype.is_floating
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _to_numpy(t) -> np.ndarray:
    if t.dtype in (tf.bfloat16, tf.float16):
        t = tf.cast(t, tf.float32)
    return np.array(t.numpy(), copy=True)
