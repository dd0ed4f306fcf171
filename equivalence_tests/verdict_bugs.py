"""Planted gradient bugs and the probe that applies them and records every gradient the checker saw.

Every hand gradient of a fuzzed case is computed through :meth:`Probe.gradient`: it runs the honest
NumPy backward, applies the planted bug (if any) to one tensor, and records the point, the upstream
gradient and what was returned, so that verdict_fuzz.py can measure afterwards, against the torch
twin, how wrong each returned gradient really was (first-call-only and nondeterministic bugs
included: they are wrong on some calls only).

Bugs (``BUGS``): sizes are relative to the honest tensor's scale, max(max |g|, RMS g) (or, for an
all-zero tensor, the largest gradient RMS of the case):

    one_element       g[i] += size * scale  (size 0.02, 0.1, 1 or 10: drawn)
    one_row           row r of a 2-D tensor (the whole of a 1-D one) times (1 + size)
    x1.01 x1.05 x2    the whole tensor times the factor (a missing 1/N is a factor too)
    sign              -g
    transpose         g.T of a square tensor (dW = dout.T @ x written the wrong way round)
    zero              all zeros (a forgotten gradient)
    garbage           one element replaced by the contents of an uninitialised buffer (1.26e252,
                      a subnormal, float32's 1.7e38)
    first_call        x2 on the first call only (a lazily initialised buffer, a stale cache)
    nondeterministic  5% of the scale of N(0, 1) noise, different on every call
    tie_all           not a corruption: the max-pairs block gives the gradient to every tied
                      maximum (verdict_models.Block "all"), measured against a subgradient
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BUGS = ("one_element", "one_row", "x1.01", "x1.05", "x2", "sign", "transpose", "zero", "garbage",
        "first_call", "nondeterministic", "tie_all")  # fmt: skip
GARBAGE = {"float64": (1.26e252, -3.1e-310, -7.7e200), "float32": (1.7e38, -2.5e-42, 3.3e33)}


def safe_rms(a) -> float:
    """Root mean square without overflow or underflow (scaled by the largest magnitude first)."""
    a = np.abs(np.asarray(a, dtype=np.float64)).reshape(-1)
    top = float(a.max()) if a.size else 0.0
    if top == 0.0 or not np.isfinite(top):
        return top
    return top * float(np.sqrt(np.mean(np.square(a / top))))


@dataclass
class Probe:
    """The planted bug and the record of every gradient handed to the checker at a real point.

    bug: a name from BUGS or None; key: the tensor it corrupts; size: one_element / one_row size;
    index: the flat index (one_element, garbage) or row (one_row), reduced modulo the tensor's size."""

    bug: str | None = None
    key: str = ""
    size: float = 0.1
    index: int = 0
    garbage: float = 1.26e252
    seed: int = 0
    calls: int = 0
    records: list = field(default_factory=list)  # (point, dout, returned gradients)
    max_records: int = 8

    def gradient(self, point: dict, dout, compute) -> dict:
        """compute() -> the honest gradient dict; return it with the bug applied, and record it."""
        grads = compute()
        call, self.calls = self.calls, self.calls + 1
        if self.bug not in (None, "tie_all") and self.key in grads:
            grads = dict(grads)
            grads[self.key] = self._corrupt(np.array(grads[self.key], copy=True), grads, call)
        real = not any(np.iscomplexobj(v) for v in point.values()) and not np.iscomplexobj(dout)
        if real and len(self.records) < self.max_records:
            self.records.append(({k: np.array(v, copy=True) for k, v in point.items()}, np.array(dout, copy=True),
                                 {k: np.array(v, copy=True) for k, v in grads.items()}))  # fmt: skip
        return grads

    def _corrupt(self, g: np.ndarray, grads: dict, call: int) -> np.ndarray:
        scale = max(float(np.max(np.abs(g.astype(np.float64)))) if g.size else 0.0, safe_rms(g))
        if scale == 0.0:  # an all-zero tensor (a bias before a normalization): the case's gradient size
            scale = max(safe_rms(v) for v in grads.values()) or 1.0
        flat = g.reshape(-1)
        kind = self.bug
        if kind == "one_element":
            flat[self.index % flat.size] += g.dtype.type(self.size * scale)
        elif kind == "one_row":
            rows = g.reshape(g.shape[0], -1) if g.ndim >= 2 else g.reshape(1, -1)
            rows[self.index % rows.shape[0]] *= g.dtype.type(1 + self.size)
        elif kind in ("x1.01", "x1.05", "x2"):
            g *= g.dtype.type(float(kind[1:]))
        elif kind == "sign":
            g = -g
        elif kind == "transpose":
            g = np.ascontiguousarray(g.T) if g.ndim == 2 and g.shape[0] == g.shape[1] else g[::-1].copy()
        elif kind == "zero":
            g = np.zeros_like(g)
        elif kind == "garbage":
            flat[self.index % flat.size] = g.dtype.type(self.garbage)
        elif kind == "first_call":
            g = g * g.dtype.type(2) if call == 0 else g
        elif kind == "nondeterministic":
            noise = np.random.default_rng([self.seed, call]).standard_normal(g.shape) * (0.05 * scale)
            g = g + noise.astype(g.dtype)
        return g
