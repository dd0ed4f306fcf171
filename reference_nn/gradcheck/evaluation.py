"""Evaluate a scalar loss at perturbed parameters, on private copies, counting every call.

The user's arrays are never handed to ``f``: the evaluator owns a working copy of every tensor in
the evaluation dtype, perturbs one element in place, evaluates, and writes the saved original value
back (an exact restore, not ``x + h - h``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .tolerances import VERIFIED_SHARE, finite_rms
from .validation import call_user, loss_value

# numpy >= 1.25 moved the class to np.exceptions
_ComplexWarning = getattr(np, "exceptions", np).ComplexWarning


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
        # C order: perturbations are written through reshape(-1), which is a view only of a C-contiguous
        # array; a transposed view or Fortran-ordered parameter kept its order, the write went into a
        # copy, f never moved, and every numerical derivative was 0 (a zero gradient PASSED)
        self.point = {k: np.array(v, dtype=self.eval_dtype, copy=True, order="C") for k, v in params.items()}
        self.count = 0
        self.budget: Any = None  # a budget.Budget: every evaluation is charged to it (it may stop the check)
        self.kinked: bool | None = None  # f has a kink at the point (kinks.kinked_at_point); None: not probed
        # per tensor, what the complex-step support probe proved: (window, |direction|) (numerical.complex_step)
        self.complex_probe: dict[str, tuple[float, np.ndarray]] = {}
        self._complex_copies: dict[str, np.ndarray] = {}
        self.value0 = self._real(self.point, at="the given params")
        self.given_scale = abs(self.value0) if f_scale is None else max(abs(self.value0), float(f_scale))
        self.flat = False
        self.noise = self.measure_noise()
        # The precision f computes each tensor in, measured (precision.measure_input_precision sets it):
        # a loss that casts its float64 parameters to float32 is a float32 function of them, and its
        # steps, rounding model and floors are float32's. Until measured: the evaluation dtype.
        self.precision: dict[str, np.dtype] = dict.fromkeys(self.point, self.eval_dtype)
        self.f_scale = self.scale_of(None, self.eval_dtype)
        # the cap a verified element is held to (check_gradients' verified_share; judge._within_cap)
        self.verified_share = VERIFIED_SHARE

    def precision_of(self, key: str | None = None) -> np.dtype:
        """The measured precision of tensor ``key`` (None: the coarsest of all tensors)."""
        if key is None:
            return max(self.precision.values(), key=lambda d: float(np.finfo(d).eps), default=self.eval_dtype)
        return self.precision[key]

    def scale_of(self, key: str | None = None, dtype=None) -> float:
        """The size of f for the rounding model at tensor ``key``'s precision: f's absolute rounding
        noise is eps(precision) * scale_of(key), so the measured noise enters once, whatever the
        precision (max(|f| or the given f_scale, noise / eps); at least 1 for a flat f)."""
        dtype = self.precision_of(key) if dtype is None else np.dtype(dtype)
        scale = max(self.given_scale, self.noise / float(np.finfo(dtype).eps))
        # f did not move under 1.5e-2 relative steps: its resolution is unknown, assume O(1)
        return max(scale, 1.0) if self.flat else scale

    def measure_noise(self, directions: int = 2, widenings: int = 9) -> float:
        """Rounding noise of f at the point, measured: |f(x + t v) + f(x - t v) - 2 f(x)|.

        A loss computed with cancellation (softplus(z) - y z at large z, log-sum-exp of large
        logits) is noisier than eps * |f|, and can even be flat: quantized to ulps of its large
        intermediates, so small steps change nothing at all. Starting at t = 1e-2 sqrt(eps) relative
        (1.5e-10 in float64), where the smooth part t^2 v.Hv is far below any rounding, t grows 10x
        while f does not change at all (at most to 1.5e-2); the second difference at the first t that
        moves f gives the noise (see below), or the quantum of a flat f. Cost: 2 evaluations per try,
        usually 12 in all.
        """
        rng = np.random.default_rng(20240601)
        t0 = 1e-2 * np.sqrt(float(np.finfo(self.eval_dtype).eps))
        worst, moved = 0.0, False
        self.still_at_first_step = True  # f did not move at t0 (a result rounded coarser than eval_dtype?)
        for _ in range(directions):
            v = {}
            for key, x in self.point.items():
                rms = finite_rms(x) or 1.0
                v[key] = rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 1.5, size=x.shape) * rms
            for k in range(widenings):
                t = t0 * 10.0**k
                plus, minus = self._moved(v, t), self._moved(v, -t)
                if not (np.isfinite(plus) and np.isfinite(minus)):
                    break
                if plus != self.value0 or minus != self.value0:
                    self.still_at_first_step &= k > 0
                    # S(t) = f(x + t v) + f(x - t v) - 2 f(x) = noise + |jump| t + (v.Hv) t^2: a kink of f
                    # at x (a ReLU input exactly 0) adds a term linear in t, which is not rounding and
                    # must not inflate the noise (it made the float32 floor O(1) for every element).
                    # S(4t) - 6 S(2t) + 8 S(t) cancels both the linear and the quadratic term and leaves
                    # only noise: with independent noise sigma per evaluation its std is ~15 sigma (the
                    # coefficients 1, 6, 8 on two evaluations each, and -6 on f(x)), S's alone ~2.4 sigma,
                    # so /6 keeps the scale of the second difference this probe always measured.
                    # The antisymmetric part catches a quantized f, which can round f(x+tv) up and
                    # f(x-tv) down by one quantum each (S = 0 while the slopes at t and 2t differ by a
                    # quantum / t); it is linear in t at a kink too, and the same difference cancels it.
                    plus2, minus2 = self._moved(v, 2 * t), self._moved(v, -2 * t)
                    plus4, minus4 = self._moved(v, 4 * t), self._moved(v, -4 * t)
                    s1, s2, s4 = (p + m - 2 * self.value0 for p, m in ((plus, minus), (plus2, minus2), (plus4, minus4)))
                    second = abs(s4 - 6 * s2 + 8 * s1) / 6
                    anti = abs((plus - minus) - (plus2 - minus2) / 2)
                    found = [x for x in (second, anti) if np.isfinite(x)]
                    worst, moved = max(worst, *found) if found else worst, True
                    break
        self.flat = not moved
        return worst

    def _moved(self, v, t: float) -> float:
        """f at the point moved by t * v (v: a dict like the point)."""
        return self._real({key: (x + t * v[key]).astype(self.eval_dtype) for key, x in self.point.items()})

    # -- real evaluations --------------------------------------------------------------------

    def _real(self, point, at: str | None = None) -> float:
        """f(point) as a float; at the base point (``at`` given) a bad value raises, else it is nan."""
        if self.budget is not None:
            self.budget.spend()  # may stop the check: then f is not called
        self.count += 1
        return loss_value(call_user(self.f, "f", point, at or "at a perturbed point"), at=at)

    def at(self, point: Mapping[str, np.ndarray]) -> float:
        """f at another point (a dict like ``self.point``); nan if f is not finite there."""
        return self._real(dict(point))

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
        if self.budget is not None:
            self.budget.spend()  # may stop the check: then f is not called
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
