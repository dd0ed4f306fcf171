"""Evaluate a scalar loss at perturbed parameters, on private copies, counting every call.

The user's arrays are never handed to ``f``: the evaluator owns a working copy of every tensor in
the evaluation dtype, perturbs one element in place, evaluates, and writes the saved original value
back (an exact restore, not ``x + h - h``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np

from .validation import loss_value

# numpy >= 1.25 moved the class to np.exceptions
_ComplexWarning = getattr(getattr(np, "exceptions", np), "ComplexWarning")


class LossEvaluator:
    """``f`` bound to a working copy of ``params``; ``count`` is the number of calls made so far.

    params: dict of arrays (any float dtype); copies are made in ``eval_dtype``.
    f_scale: magnitude used by the rounding-error model (default |f(x)|); pass the sum of the
    absolute terms when f is a sum with cancellation (check_layer does).
    """

    def __init__(self, f: Callable, params: Mapping[str, np.ndarray], eval_dtype, f_scale: float | None = None):
        self.f = f
        self.eval_dtype = np.dtype(eval_dtype)
        self.complex_dtype = np.result_type(self.eval_dtype, np.complex64)
        self.point = {k: np.array(v, dtype=self.eval_dtype, copy=True) for k, v in params.items()}
        self.count = 0
        self._complex_copies: dict[str, np.ndarray] = {}
        self.value0 = self._real(self.point, at="the given params")
        self.f_scale = abs(self.value0) if f_scale is None else float(f_scale)

    # -- real evaluations --------------------------------------------------------------------

    def _real(self, point, at: str | None = None) -> float:
        """f(point) as a float; at the base point (``at`` given) a bad value raises, else it is nan."""
        self.count += 1
        return loss_value(self.f(point), at=at)

    def with_element(self, key: str, flat_index: int, value: float) -> float:
        """f with ``params[key].flat[flat_index] = value``, all else unchanged."""
        flat = self.point[key].reshape(-1)  # a view: the working copy is contiguous
        saved = flat[flat_index]
        flat[flat_index] = value
        try:
            return self._real(self.point)
        finally:
            flat[flat_index] = saved

    def along(self, key: str, direction: np.ndarray, t: float) -> float:
        """f with ``params[key] + t * direction``; direction has the tensor's shape."""
        moved = dict(self.point)
        moved[key] = self.point[key] + t * direction
        return self._real(moved)

    # -- complex evaluations -----------------------------------------------------------------

    def complex_with_element(self, key: str, flat_index: int, imag: float) -> complex:
        """f with ``params[key].flat[flat_index] += i * imag`` (the tensor made complex)."""
        z = self._complex_copies.get(key)
        if z is None:  # one complex copy per tensor, perturbed in place and restored
            z = self._complex_copies[key] = np.array(self.point[key], dtype=self.complex_dtype)
        flat = z.reshape(-1)
        flat[flat_index] = complex(flat[flat_index].real, imag)
        moved = dict(self.point)
        moved[key] = z
        try:
            return self._complex(moved)
        finally:
            flat[flat_index] = flat[flat_index].real

    def complex_along(self, key: str, direction: np.ndarray, imag: float) -> complex:
        """f with ``params[key] + i * imag * direction``."""
        moved = dict(self.point)
        moved[key] = self.point[key] + 1j * imag * direction.astype(self.complex_dtype)
        return self._complex(moved)

    def _complex(self, point) -> complex:
        """f at a complex point; a ComplexWarning (f casting to real) is raised as an error."""
        self.count += 1
        with warnings.catch_warnings():
            warnings.simplefilter("error", _ComplexWarning)
            out = self.f(point)
        arr = np.asarray(out)
        if arr.size != 1:
            raise ValueError(f"f returned an array of shape {arr.shape} for complex input")
        if not np.iscomplexobj(arr):
            raise TypeError(f"f returned a real {arr.dtype} for complex input, dropping the imaginary part")
        return complex(arr.reshape(()))
