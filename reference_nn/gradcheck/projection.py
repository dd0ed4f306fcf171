"""Random projections of one gradient tensor: a check whose cost grows with the number of tensors,
not of elements, when the gradient is right.

A projection test on a set S of a tensor's (flat) elements draws a direction v, zero outside S,

    v_i = s_i u_i c_i / sqrt(|S|),   s_i = +-1 (fair coin), u_i ~ U(0.5, 1.5), c_i = max(1, |x_i|),

measures d/dt f(x + t v) at t = 0 numerically (complex step where f allows: one evaluation; else
Richardson along v: 12) as m with error bound E (ESTIMATE_SAFETY times the method's estimate), and
compares it with the hand-written g.v. With D = g.v - m the test

    passes  iff  |D| <= T = max(T_tol, E),     T_tol = MISS * min_{i in S}(tol_i c_i) / (4 sqrt(|S|))

where tol_i = atol_i + rtol * max(|g_i|, RMS of g) is the element-wise tolerance (tolerances.py,
the same rtol / atol as the element-wise check). Its floors (atol) only widen what FAILs: the same
test at T_v, with tol_i capped at the cap (verified_share * max(|g_i|, RMS), 0.5%), is the one a
verification rests on (``Projection.tight``); a set passed at T but not at T_v is certified only to
T's resolution, above the cap where the floors are (scale.FLOOR_TOO_LARGE).

Detection guarantee (one direction). Let e = g - g_true and j be an element with |e_j| > delta_j,

    delta_j = 2 (T + E) sqrt(|S|) / (MISS c_j)     (= tol_j or less when E <= T_tol).

e.v = s_j u_j e_j c_j / sqrt(|S|) + R, with R independent of (s_j, u_j). A pass means |e.v| <= T + E
(the measurement is off by at most E), i.e. u_j in an interval of length 2 (T + E) sqrt(|S|) /
(|e_j| c_j) < MISS, whatever R is, so whatever the other elements' errors are (no cancellation by
other wrong elements can help more than that). u_j has density 1: the test misses element j with
probability < MISS. K directions are drawn independently, so a tensor passed by K projections holds
an element wrong beyond delta_j with probability < MISS^K (8^-8 = 6e-8 with the defaults). (T depends
on v only through E, the method's error bound, which moves by at most E's relative size times
|g_j v_j|: far below delta_j.)

A test with |D| > T shows an error whatever else holds. A test with |D| <= T whose delta_j exceeds
tol_j + MAX_RMS_SHARE * RMS for some j is *unresolved* (the method's own error is too large for this
many elements at once) and verifies nothing: the set is cut into blocks sized from the measured
resolution (E does not shrink with |S|, delta grows as sqrt(|S|), so blocks (r / r_target)^2 times
smaller reach r_target = MAX_RMS_SHARE / 4), down to element-wise estimates.
MAX_RMS_SHARE (1%) is the no-vacuous-tolerance cap: a projection may state a per-element tolerance
up to 1% of the tensor's gradient RMS beyond the element-wise one, never more. What it states is
measured: ``resolution`` below is max_j delta_j / RMS over the certified sets (a Richardson
projection over 200k elements of a float() loss resolves ~1e-5 of the RMS; complex step ~1e-7).
A failing or unresolved test never fails an element: every FAIL is confirmed by an element-wise
estimate judged exactly as ``check_gradients(method="elementwise")`` judges it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import tolerances as tol
from .evaluation import LossEvaluator
from .numerical import Estimate, central_difference, directional_derivative, richardson

# A single direction misses an element wrong beyond its tolerance with probability < 1/8; eight
# independent directions miss it with probability < 8^-8 = 6e-8. One more direction costs one
# evaluation (complex step) and buys another factor 8.
MISS_PER_DIRECTION = 1.0 / 8.0
DIRECTIONS = 8
# Sets of at most this many elements are estimated element by element: with complex step that costs
# as many evaluations as DIRECTIONS projections and gives a verdict per element.
LEAF_SIZE = DIRECTIONS
# The largest per-element tolerance a projection may state, as a share of the tensor's gradient RMS
# (beyond the element-wise tolerance): the no-vacuous-tolerance cap. 1% still makes every gross error
# (x2, sign, transpose, a missing 1/m, a 3% wrong row) a FAIL, and it is what a real-difference
# projection of a large tensor of a float() loss needs (measured 2e-5..5e-5 of the RMS over 200k-800k
# elements in float64: benchmarks/scale_cases.py); the stated figure is the measured one, usually far
# below the cap. A set that resolves less is split, never passed.
MAX_RMS_SHARE = 1e-2
# Blocks of an unresolved set are sized to resolve this share of the cap: E varies from block to
# block (its rounding part with f's value along the direction), a block sized to the edge would
# often miss it and be split again.
SPLIT_TARGET = 0.25


# Rounding of a hand-written gradient that is right: each element carries a few ulps of its scale
# (a sum over the batch and a chain of products; measured 0.3-3 ulps of max(|g|, RMS) on float32
# MLPs). Summed over a projection they add like a random walk; a set is split *before* it is tested
# when this predicted rounding exceeds half the threshold (a float32 tensor of 1M elements without
# an absolute floor). The model only saves wasted tests: a larger real rounding fails a test, and
# the split that follows copes with it.
GRADIENT_ROUNDING_ULPS = 4.0


@dataclass
class Projection:
    """One test: D = g.v - m, its threshold T, the method's bound E and the verdict."""

    discrepancy: float
    threshold: float
    error: float
    resolved: bool
    passed: bool  # |D| <= T: no error seen (a *verification* only where also resolved)
    shrink: float  # resolved: 1; else how many times smaller a set must be to resolve (>= 2)
    analytic: float
    numeric: float
    generated_size: int  # size of the set the direction was drawn on (its 1 / sqrt scale)
    tight: bool = False  # |D| <= T_v as well (the verification tier; T_v = T where no floor exceeds the cap)
    tight_threshold: float = 0.0  # T_v


class TensorProblem:
    """One tensor under test: flat analytic gradient ``a (n,)``, tolerances ``tol (n,)``, scales
    ``c (n,)`` of the direction, the numerical method ``inner`` ('complex', 'richardson', 'central'),
    and the element-wise estimates made so far (``values``/``errors``/``steps``, nan where none)."""

    def __init__(self, ev: LossEvaluator, key: str, analytic: np.ndarray, dtype, inner: str,
                 rtol: float | None, atol, seed) -> None:
        self.ev, self.key, self.inner, self.dtype = ev, key, inner, np.dtype(dtype)
        self.a = np.asarray(analytic, dtype=np.float64).reshape(-1)
        self.n = self.a.size
        self.shape = tuple(analytic.shape)
        self.rms = rms = tol.finite_rms(self.a)  # overflow-safe
        self.scale = np.maximum(np.abs(self.a), rms)
        self.rtol = tol.default_rtol(dtype, inner, ev.precision_of(key)) if rtol is None else rtol
        self.tol = np.broadcast_to(np.asarray(atol, dtype=np.float64), self.a.shape) + self.rtol * self.scale
        self.c = np.maximum(1.0, np.abs(ev.point[key].reshape(-1).astype(np.float64)))
        self.tc = self.tol * self.c
        # the verification tier: tolerances no wider than the cap (a PASS rests on the cap, never on the
        # floors; tolerances.VERIFIED_SHARE). Where the floors widen tol beyond it (a float32 gradient
        # judged against many outputs' rounding: check_vjp of a large layer), a test that passes only the
        # floor tier shows no error but verifies nothing (scale.FLOOR_TOO_LARGE); one that passes this
        # tier too verifies to under the cap.
        self.verify_tc = np.minimum(self.tol, ev.verified_share * self.scale) * self.c
        self.limit = self.c * (self.tol + MAX_RMS_SHARE * rms)
        self.seed = seed
        self.tests = 0
        self.unresolved_error: float | None = None  # the largest E of an unresolved projection so far
        self.values = np.full(self.n, np.nan)
        self.errors = np.zeros(self.n)
        self.steps = np.zeros(self.n)

    def direction(self, generated_on: np.ndarray, draw: int) -> np.ndarray:
        """Direction number ``draw`` of the set ``generated_on`` (flat indices), zero elsewhere, flat.
        Seeded by (seed, the set's first index, size and last index, draw): the same on every run."""
        rng = np.random.default_rng([*self.seed, int(generated_on[0]), generated_on.size, int(generated_on[-1]), draw])
        size = generated_on.size
        v = np.zeros(self.n)
        v[generated_on] = rng.choice([-1.0, 1.0], size) * rng.uniform(0.5, 1.5, size) * self.c[generated_on]
        return v / math.sqrt(size)

    def predicted_rounding(self, idx: np.ndarray) -> float:
        """Typical |e.v| of a right float gradient on ``idx`` (GRADIENT_ROUNDING_ULPS model)."""
        terms = self.scale[idx] * self.c[idx]
        return GRADIENT_ROUNDING_ULPS * tol.eps(self.dtype) * tol.finite_rms(terms)

    def tolerance_threshold(self, idx: np.ndarray, generated_size: int, tier: str = "fail") -> float:
        """T_tol of the module docstring for a direction drawn on a set of ``generated_size``; tier
        "verify": the same with the tolerances capped at the cap (T_v)."""
        tc = self.verify_tc if tier == "verify" else self.tc
        return MISS_PER_DIRECTION * float(np.min(tc[idx])) / (4.0 * math.sqrt(generated_size))

    def project(self, idx: np.ndarray, draw: int, generated_on: np.ndarray | None = None) -> Projection:
        """One projection test of the elements ``idx`` with direction ``draw`` of ``generated_on``
        (default idx itself) restricted to idx; 1 (complex) or 12 (Richardson) evaluations."""
        generated_on = idx if generated_on is None else generated_on
        self.tests += 1
        v = self.direction(generated_on, draw)
        if generated_on is not idx:
            keep = np.zeros(self.n, dtype=bool)
            keep[idx] = True
            v[~keep] = 0.0
        analytic = float(np.dot(self.a[idx], v[idx]))
        method = "complex" if self.inner == "complex" else "richardson"
        estimate = directional_derivative(self.ev, self.key, v.reshape(self.shape), method)
        numeric, error = float(estimate.values), tol.ESTIMATE_SAFETY * float(estimate.errors)
        return self.judge(idx, generated_on.size, analytic, numeric, error)

    def judge(self, idx: np.ndarray, generated_size: int, analytic: float, numeric: float, error: float) -> Projection:
        """The verdict of a measured (or inferred: a parent's minus a sibling's) projection of idx."""
        if not (math.isfinite(numeric) and math.isfinite(error)):
            return Projection(math.inf, 0.0, math.inf, False, False, math.inf, analytic, numeric, generated_size)
        threshold = max(self.tolerance_threshold(idx, generated_size), error)
        # resolved iff delta_j <= tol_j + COARSEST * scale_j for every j: 2 (T + E) sqrt|S| / MISS <= min limit
        needed = 2.0 * (threshold + error) * math.sqrt(generated_size) / MISS_PER_DIRECTION
        available = float(np.min(self.limit[idx]))
        resolved = needed <= available
        if not resolved:
            self.unresolved_error = max(self.unresolved_error or 0.0, error)
        # delta grows as sqrt(|S|): a set (needed / available)^2 times smaller is at the cap, SPLIT_TARGET^-2 more
        shrink = 1.0 if resolved else max(2.0, (needed / (SPLIT_TARGET * available)) ** 2)
        discrepancy = analytic - numeric
        tight_threshold = max(self.tolerance_threshold(idx, generated_size, "verify"), error)
        return Projection(discrepancy, threshold, error, resolved, abs(discrepancy) <= threshold,
                          shrink, analytic, numeric, generated_size, abs(discrepancy) <= tight_threshold,
                          tight_threshold)

    def delta(self, idx: np.ndarray, projection: Projection) -> np.ndarray:
        """delta_j (idx's shape): the error of element j that a passing test rules out (module docstring):
        at T_v where the test passed that tier too, else at T."""
        threshold = projection.tight_threshold if projection.tight else projection.threshold
        delta = 2.0 * (threshold + projection.error) * math.sqrt(projection.generated_size)
        return delta / (MISS_PER_DIRECTION * self.c[idx])

    def resolution(self, idx: np.ndarray, projection: Projection) -> float:
        """Largest delta_j / scale_j over idx: the relative error a passing test rules out."""
        return float(np.max(self.delta(idx, projection) / np.maximum(self.scale[idx], 1e-300)))

    def rms_share(self, idx: np.ndarray, projection: Projection) -> float:
        """Largest delta_j / RMS over idx: the stated per-element tolerance as a share of the RMS."""
        return float(np.max(self.delta(idx, projection))) / max(self.rms, 1e-300)

    def single_element_resolves(self, allowance: float) -> bool | None:
        """Would element-wise estimates verify these elements? Their error bound is about a
        projection's E (the same steps, a direction of one element's size): they verify where
        E <= max(tol_j, allowance) (judge.py's rule) for most elements. None: no projection was unresolved."""
        if self.unresolved_error is None:
            return None
        return bool(np.median(self.unresolved_error / np.maximum(self.tol, allowance)) <= 1.0)

    def estimate_elements(self, indices: np.ndarray) -> np.ndarray:
        """Element-wise estimates of ``indices`` (flat) by the tensor's method, stored; returns
        which of them disagree with the analytic value beyond tol + ESTIMATE_SAFETY * error (a
        preliminary verdict: the final one, kinks included, is check.judge_elements')."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size == 0:
            return np.zeros(0, dtype=bool)
        estimate = _elementwise(self.ev, self.key, self.inner, idx)
        self.values[idx], self.errors[idx], self.steps[idx] = estimate.values, estimate.errors, estimate.steps
        bound = self.tol[idx] + tol.ESTIMATE_SAFETY * np.nan_to_num(estimate.errors, nan=0.0, posinf=0.0)
        return ~(np.abs(self.a[idx] - estimate.values) <= bound) & np.isfinite(estimate.values)

    def full_estimate(self) -> Estimate:
        """An Estimate over the whole tensor: the element-wise values where estimated, the analytic
        value (error 0) elsewhere, so that judge_elements judges exactly the estimated elements."""
        done = np.isfinite(self.values)
        values = np.where(done, self.values, self.a)
        return Estimate(values, np.where(done, self.errors, 0.0), np.where(done, self.steps, 0.0), self.inner)


def _elementwise(ev: LossEvaluator, key: str, inner: str, idx: np.ndarray) -> Estimate:
    if inner == "complex":
        x = ev.point[key].reshape(-1)[idx].astype(np.float64)
        h = tol.complex_step_size(ev.eval_dtype) * np.maximum(1.0, np.abs(x))
        values = np.array([ev.complex_with_element(key, int(i), hi).imag for i, hi in zip(idx, h, strict=True)]) / h
        return Estimate(values, tol.method_rtol("complex", ev.eval_dtype) * np.abs(values), h, "complex")
    if inner == "central":
        return central_difference(ev, key, indices=idx)
    return richardson(ev, key, indices=idx)
