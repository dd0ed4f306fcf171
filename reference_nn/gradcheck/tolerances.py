"""Every default step size and tolerance of the gradient checker, with the reasoning.

Nothing here is a magic constant: each number is derived from ``np.finfo(dtype).eps`` and from
the error model of the numerical method. Notation: ``eps`` is the machine epsilon of the dtype
named, ``a`` the analytic (hand-written) gradient element, ``n`` the numerical one, ``s = max(1, |x|)``
the size of the parameter element being perturbed, ``|f|`` the size of the loss.

An element agrees when

    |a - n| <= T + E,   T = atol + rtol * scale + CROSS_TENSOR_ULPS * eps * G + LOSS_NOISE_ULPS * eps * |f| / s,
                        E = ESTIMATE_SAFETY * numeric_error

    scale = max(|a|, |n|, RMS of the tensor's gradient),  G = largest RMS of any gradient tensor

and it counts as *verified* (judge.py) only if moreover what the estimate proves about it is within the
cap, |a - n| + E <= VERIFIED_SHARE * scale (0.5%; an a that is 0 or rounding, with n unresolved from
0: <= ZERO_SHARE sqrt(eps) G, judge._within_cap); an element that agrees without that is
INCONCLUSIVE, one that disagrees is FAIL (after the re-estimates and the kink test). eps, the steps
and the rounding model are those of the precision f is measured to compute in
(precision.measure_input_precision: a loss that casts to float32 inside is float32's).

* The per-element part ``max(|a|, |n|)`` makes the test relative where the gradient is sizeable.
* The tensor RMS floor makes it robust where entries are ~0: an element that is small because of
  cancellation (a sum over the batch whose terms nearly cancel) carries an absolute rounding error
  of order eps times the size of the terms, i.e. of the tensor's typical entry, not of the entry
  itself. Without the floor, such elements would be flagged by a relative test (crying wolf).
  The RMS (not the max) is used so that one large entry does not loosen the test for the rest.
* The cross-tensor floor covers a tensor whose whole gradient is ~0 in its own dtype: float32
  tanh or sigmoid saturated by large weights gives 1 - A^2 = 0 exactly, so dW1 = 0 while the true
  value is 1e-11. The rounding error there is eps times the size of the backward pass's
  intermediates (dA1 ~ W2^T dZ2, X), which are of the size of the largest gradients times weights
  and inputs; 1000 ulps of G covers weights and inputs up to ~30 with sums over ~30 terms, and
  stays negligible in float64 (2e-13 G: a 1e-4 error is still caught in a tensor whose gradients
  are 1e-8 of the largest).
* ``numeric_error`` is the numerical method's own per-element error estimate (rounding error for
  central and complex step, the extrapolation error for Richardson), so a noisy estimate widens
  its own tolerance instead of producing a false failure.
* ``rtol`` is the larger of what the analytic side and the numerical method can promise:
  ``rtol = max(analytic_rtol(gradient dtype), METHOD_RTOL[method](evaluation dtype))``.

Smallest planted relative error caught (float64, measured in tests/gradcheck/test_gradcheck_zoo.py,
a whole layer scaled by 1 + delta / its largest element alone): central 1e-5 / 1e-5 (its truncation
allowance eps^(1/3) ~ 6e-6), richardson and complex 1e-7 / 1e-7 (the analytic allowance sqrt(eps)
~ 1.5e-8 times the RMS floor), directional 1e-7 / 1e-6 (one projection loses about sqrt(n) on a
single element of an n-element tensor), taylor_test 1e-5 / 1e-5 (1e-4 for one element on some
seeds: its noise floor is set from the remainder at the smallest steps, which a tiny linear term
also raises).
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------------
# Step sizes
# ---------------------------------------------------------------------------------------------


def eps(dtype) -> float:
    """Machine epsilon of a floating dtype (float32: 1.19e-7, float64: 2.22e-16)."""
    return float(np.finfo(dtype).eps)


def central_step(x: np.ndarray, eval_dtype) -> np.ndarray:
    """Step per element for central differences, shape of ``x``.

    The central difference has truncation error h^2 |f'''| / 6 and rounding error ~ eps |f| / h;
    their sum is smallest near h = eps^(1/3) * s (s = max(1, |x|) keeps the step relative for
    large parameters and absolute near zero). Rounded down to a power of two so that x + h is
    exact in binary for all but the largest x.
    """
    target = eps(eval_dtype) ** (1.0 / 3.0) * np.maximum(1.0, np.abs(x))
    return np.exp2(np.floor(np.log2(target)))


# Richardson (Ridders) extrapolation starts at h0 = 2^-4 * s and halves the step
# RICHARDSON_LEVELS - 1 times (smallest step 2^-9 * s ~ 2e-3 s). A start this large is what makes
# extrapolation pay off: the tableau cancels the h^2, h^4, ... terms, and rounding error at a large
# step is only eps |f| / h ~ 1e-14 |f|. Six levels (12 evaluations per element) reach ~1e-12
# relative on analytic functions; fewer levels lose about a digit each.
RICHARDSON_FIRST_STEP = 2.0**-4
RICHARDSON_LEVELS = 6
# Where f computes in a coarser precision (measured: precision.measure_input_precision) rounding,
# eps |f| / h, dominates, and a larger first step buys resolution: 2^-3 s for float32 halves the
# error bound (measured on float32 tanh/softmax MLPs: median bound 0.29% -> 0.27% of max(|g|, RMS)
# for the smallest tensor, 0.17% -> 0.11% for the others, the actual error staying below 8% of the
# bound); 2^-2 made Ridders' own estimate unreliable there (actual error up to 38% of it). float16
# (eps 1e-3) starts at 2^-2 s: its rounding is 8000x float32's.
COARSE_FIRST_STEPS = {np.dtype(np.float32): 2.0**-3, np.dtype(np.float16): 2.0**-2}


def richardson_first_step(precision) -> float:
    """Richardson's first step (times s) for a tensor f computes at ``precision``."""
    return COARSE_FIRST_STEPS.get(np.dtype(precision), RICHARDSON_FIRST_STEP)


def complex_step_size(eval_dtype) -> float:
    """Imaginary step for complex-step differentiation (times s = max(1, |x|)).

    Im f(x + ih) / h = f'(x) - h^2 f'''(x) / 6 + ...: no subtraction, so h can be tiny. It must
    make h^2 negligible against eps (h^2 << eps) while h * f' stays a normal number: 1e-20 for
    float64 evaluation (h^2 = 1e-40), 1e-10 for float32 (h^2 = 1e-20 << 1.2e-7).
    """
    return 1e-20 if np.dtype(eval_dtype) == np.float64 else 1e-10


# ---------------------------------------------------------------------------------------------
# Error models of the numerical methods
# ---------------------------------------------------------------------------------------------

# Rounding error of one evaluation of f is taken as ROUNDING_FACTOR * eps * |f|: a loss is a mean
# of many terms and a few ulps of accumulated error per evaluation are normal; 10 covers that
# with room. A central difference divides the difference of two such values by 2h.
ROUNDING_FACTOR = 10.0
# A loss computed in float32 (or float16) is rounded to that precision at the end, and that rounding
# dominates every other: measured on float32 tanh/softmax MLPs of 8, 64 and 1024 samples, |f32 - f64|
# was at most 0.88 ulp of |f| over 900 points (median 0.23), and a float32 central difference's
# scatter about 1 ulp of |f| over 2h. 3 ulps covers it 3x; a loss with more rounding (cancellation)
# shows it in the measured noise, which enters f_scale (LossEvaluator.scale_of). 10 ulps made every
# float32 bound 3x wider than needed: right float32 MLPs with gradients of 1% of |f| unverifiable.
COARSE_ROUNDING_FACTOR = 3.0


def rounding_error(f_scale, step, precision):
    """Rounding error bound of a central difference with step ``step``, same shape as step, for f
    computing at ``precision`` (ROUNDING_FACTOR ulps of f_scale in float64, COARSE_ROUNDING_FACTOR
    in float32 and float16)."""
    factor = ROUNDING_FACTOR if eps(precision) <= eps(np.float64) else COARSE_ROUNDING_FACTOR
    return factor * eps(precision) * np.asarray(f_scale) / np.asarray(step)


def analytic_rtol(gradient_dtype) -> float:
    """Relative accuracy we demand of the hand-written gradient itself: sqrt(eps).

    The analytic gradient is computed in its own dtype through a forward and a backward pass; sums
    over the batch and products of Jacobians lose digits (a condition number of 1e3 costs three).
    Half the digits of the dtype is a generous bound for well-posed networks: 1.5e-8 in float64
    (so a 1e-4 planted error is caught with a factor ~7000 to spare) and 3.5e-4 in float32
    (about 3000 ulps: float32 gradients of saturated sigmoids or long sums stay well inside).
    """
    return float(np.sqrt(eps(gradient_dtype)))


def method_rtol(method: str, eval_dtype) -> float:
    """Relative error the numerical method may have beyond its own per-element estimate.

    * central: the truncation term h^2 |f'''| / 6 is unknown (3 points cannot estimate it). With
      h = eps^(1/3) s the relative truncation error is eps^(2/3) s^2 |f'''/f'| / 6; allowing
      eps^(1/3) (6e-6 in float64) admits |f'''/f'| up to ~1e5 / s^2, i.e. curvature on length
      scales down to ~3e-3 s, and still catches a 1e-4 error with a factor 16 to spare.
    * richardson: the extrapolation reports its own error, so only a floor of 100 eps is added.
    * complex: no subtraction; the result is as accurate as one evaluation, 100 eps covers the
      accumulated rounding of the imaginary part.
    """
    e = eps(eval_dtype)
    table = {"central": e ** (1.0 / 3.0), "richardson": 100.0 * e, "complex": 100.0 * e}
    return table[method]


def default_rtol(gradient_dtype, method: str, eval_dtype) -> float:
    """rtol used by the element verdict: the larger of the analytic and the numerical allowance."""
    return max(analytic_rtol(gradient_dtype), method_rtol(method, eval_dtype))


# A method's error estimate can itself be off by a small factor (Ridders' estimate compares two
# tableau entries; the rounding model assumes a few ulps); 4x covers that without hiding a 1e-4
# error, since estimates are 1e-10 relative or smaller away from kinks.
ESTIMATE_SAFETY = 4.0


CROSS_TENSOR_ULPS = 1000.0

# Loss-resolution floor: no test built on f can see a gradient error smaller than f's own rounding
# noise over a unit step, eps * f_scale / s (f_scale = |f| or the measured noise / eps, which
# reveals the size of f's intermediates when f is computed with cancellation). It is also what the
# analytic side can promise where the backward pass cancels: at a saturated output, dZ = A - Y
# loses everything below eps * |A| while the loss itself is ~1e-14. 100 ulps covers the chain of a
# few layers; in float64 it is ~2e-14 |f| / s, far below any gradient worth checking.
LOSS_NOISE_ULPS = 100.0


def loss_resolution_floor(gradient_dtype, f_scale: float, x, eval_dtype=np.float64) -> np.ndarray:
    """Per-element absolute floor LOSS_NOISE_ULPS * eps * f_scale / max(1, |x|), x's shape.

    A float32 gradient evaluated against a float64 loss: the float64 loss does not show the float32
    forward pass's intermediates (probabilities, activations), which are O(1) in any normalized
    network, so f_scale is taken as at least 1 (100 ulps of 1 = 1.2e-5 / s).
    """
    if eps(gradient_dtype) > eps(eval_dtype):
        f_scale = max(f_scale, 1.0)
    s = np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))
    return LOSS_NOISE_ULPS * eps(gradient_dtype) * f_scale / s


# Verification is judged against the cap (VERIFIED_SHARE, above): what the estimate proves about an
# element must be small beside the element. Two earlier rules are subsumed by it: "E within T" (E
# may exceed the dtype's analytic allowance as long as the proven bound stays under the cap: float32
# losses) and a 5% share for the floors, with an agreement-to-5% clause that let a 1.05x float32
# gradient PASS (issue 21). An element whose true gradient is 0 (a tensor f does not depend on at
# this point: a dead unit's weights) is judged against sqrt(eps) G (ZERO_SHARE): an error that small
# changes no step of any optimizer; a large constant in f (E ~ eps |f| / h far above it) leaves it
# unverified.


# The cap (no vacuous tolerance): an element is verified only where what the estimate proves about
# it, |a - true| <= |a - n| + E, is at most VERIFIED_SHARE of max(|a|, |n|, the tensor's RMS)
# (judge._within_cap); beyond, it is FAIL (|a - n| > T + E) or INCONCLUSIVE with the reason. 0.5%,
# half the smallest relative error the contract promises never to pass (1%): a tensor scaled by
# 1.01 is off by 0.99% of its largest elements, which no proven bound of 0.5% admits, with 2x room
# for an error estimate that is itself off; a 5% error is 10x beyond it. Reached: ~1e-8 where f
# computes in float64; 0.01%-0.4% of max(|g|, RMS) where f computes in float32 with gradients of
# 1% of |f| and up (float32 Richardson from 2^-3 s; smaller gradients: INCONCLUSIVE, the true reason).
VERIFIED_SHARE = 5e-3
# An element whose hand-written value is exactly 0 has no size of its own to be judged against; it
# is judged against the check's largest gradient RMS G instead: verified where |n| + E <= ZERO_SHARE
# sqrt(eps) G (the analytic allowance of the largest gradient, verification_allowance): the claim
# "|true gradient| <= 2 sqrt(eps) G" (7e-4 G in float32, 3e-8 G in float64), an error no larger
# than the rounding the largest gradients are allowed.
ZERO_SHARE = 2.0


def verification_allowance(gradient_dtype, largest_rms: float) -> float:
    """The largest estimate error bound that still verifies an element: analytic_rtol(dtype) * G."""
    return analytic_rtol(gradient_dtype) * largest_rms


def cross_tensor_floor(gradient_dtype, largest_rms: float) -> float:
    """Absolute floor CROSS_TENSOR_ULPS * eps * G shared by every tensor (see module docstring)."""
    return CROSS_TENSOR_ULPS * eps(gradient_dtype) * largest_rms


def element_tolerance(analytic, numeric, numeric_error, rtol: float, atol: float) -> np.ndarray:
    """Per-element tolerance (see module docstring); atol includes the cross-tensor floor."""
    return atol + rtol * element_scale(analytic, numeric) + ESTIMATE_SAFETY * np.asarray(numeric_error)


def element_scale(analytic, numeric) -> np.ndarray:
    """max(|a|, |n|, RMS of the tensor): the relative-error denominator, robust where a ~ 0.
    Over the finite values only (a non-finite analytic element is a failure of its own, judge.py),
    and overflow-safe (an element of 1e200 gives a scale of 1e200, not inf)."""
    a = np.abs(np.asarray(analytic, dtype=np.float64))
    n = np.abs(np.asarray(numeric, dtype=np.float64))
    a_finite = np.where(np.isfinite(a), a, 0.0)
    n_finite = np.where(np.isfinite(n), n, 0.0)
    rms = max(finite_rms(a_finite), finite_rms(n_finite))
    return np.maximum(np.maximum(a_finite, n_finite), rms)


def finite_rms(x) -> float:
    """Root mean square of the finite elements of x (0 for none), overflow-safe: scaled by the
    largest |x| before squaring (1e200 squared is inf; 1e200 / 1e200 squared is 1). The mean is
    over every element, so a non-finite one counts as 0."""
    x = np.abs(np.asarray(x, dtype=np.float64)).reshape(-1)
    if x.size == 0:
        return 0.0
    x = np.where(np.isfinite(x), x, 0.0)
    largest = float(np.max(x))
    if largest == 0.0:
        return 0.0
    return largest * float(np.sqrt(np.mean(np.square(x / largest))))


def finite_norm(x) -> float:
    """Euclidean norm of the finite elements of x, overflow-safe (see finite_rms)."""
    x = np.asarray(x).reshape(-1)
    return finite_rms(x) * float(np.sqrt(x.size)) if x.size else 0.0


def _rms(x: np.ndarray) -> float:
    return finite_rms(x)


# ---------------------------------------------------------------------------------------------
# Complex-step probe
# ---------------------------------------------------------------------------------------------

# The complex-step probe (numerical.complex_step_support) re-examines a disagreement with real
# Richardson derivatives from first steps 64x and 4096x smaller (2^-10 and 2^-16 relative), and the
# second opinion on a failing element (check._second_opinion) uses the same two factors: small
# enough to resolve a derivative that changes by 1% over 1e-5 (a saturated tanh network), large
# enough that the smallest step (2^-21 ~ 5e-7) keeps rounding error (eps |f| / h ~ 5e-10 |f|) far
# below the probe's 1e-6 agreement allowance.
PROBE_SMALLER_STEPS = (64.0, 4096.0)


# ---------------------------------------------------------------------------------------------
# Kinks
# ---------------------------------------------------------------------------------------------

# A kink is declared where the one-sided differences disagree in a way a smooth function cannot
# explain. For smooth f, D(h) = f'_+(h) - f'_-(h) = h f''(x) + O(h^3) is proportional to h; at a
# kink it tends to the jump in slope. Comparing D at h, h/2 and h/4: if D(h/2) or D(h/4) departs
# from the proportional value by more than KINK_NONLINEARITY * |D(h)|, the derivative jumps inside
# [x - h, x + h]. 0.1 is far above the O(h^2) curvature terms of smooth f (~1e-10 relative) and far
# below the departure at a kink (a jump at distance d < h gives >= 1/4 for one of the two ratios).
KINK_NONLINEARITY = 0.1

# D(h) must also stand out of the rounding noise of D at the smallest step s, 2 eps f_scale / s
# (f_scale includes f's measured second-difference noise), by this factor before a kink is believed.
KINK_NOISE_MARGIN = 3.0

# Coincident kinks (two ReLU units at 0 moved by the same weight, a whole unit at 0): the
# derivative of f then depends on the direction of approach in the full parameter space, and a
# convention such as ReLU'(0) = 0 for every unit can differ from the coordinate's partial derivative
# (which may even exist: two units switching on in opposite directions with equal effect make f
# linear along the coordinate) while still being the derivative of one of the smooth pieces that
# meet at x. A failing element is therefore also compared with the slopes of the same coordinate
# inside those pieces: central differences at x + r d and x + r d / 2 for NEARBY_PAIRS random sign
# patterns d (and -d), scaled by each tensor's magnitude. A direction counts only if it shows a
# piece: the slope moved by more than the element's tolerance and the noise, and by the same at r
# and r / 2 (for smooth f the move is proportional to r, so a departure of KINK_NONLINEARITY from
# proportionality is impossible there: it is ~r times the ratio of third to second derivatives,
# 1e-5 relative). A smooth f never excuses a wrong value this way. The analytic value is
# inconclusive when it lies within the range of the one-sided slopes and the pieces' slopes.
# r = NEARBY_STEP_RATIO central steps (eps^(1/3) relative: r = 1e-4 in float64): far enough that the
# element's own step straddles a kink only by chance (then the direction fails the r / 2 test or
# gives an average of two pieces, inside the range anyway), close enough that the pieces' slopes
# differ from their values at x by ~r of their curvature scale.
# 16 pairs: k coincident kinks make 2^k pieces; for two (4 pieces, the common case) all are seen
# with probability 1 - 4 (3/4)^32 > 0.9995, and the probes are seeded (the same on every run).
# Cost: 16 pairs x 2 signs x 2 radii x 2 evaluations + 2 = 130 evaluations per element, so the
# probe runs only where f has a kink at x at all: one-sided differences along KINK_PROBE_DIRECTIONS
# seeded random directions of the whole parameter space, judged as a coordinate's are (is_kink),
# once per check (12 evaluations). At coincident kinks a random direction sees the sum of the
# units' jumps |c_k . d|, zero only on a set of directions of measure zero; a smooth f (the usual
# case: a wrong gradient away from kinks) never passes that test, and pays 12 evaluations in all.
# At most NEARBY_MAX_ELEMENTS failing elements per tensor are probed: a wrong tensor fails on its
# first unexplained element; the rest keep their failure unexamined.
KINK_PROBE_DIRECTIONS = 2
KINK_PROBE_SEED = 20261123
NEARBY_STEP_RATIO = 16.0
NEARBY_PAIRS = 16
NEARBY_MAX_ELEMENTS = 8


# ---------------------------------------------------------------------------------------------
# Taylor remainder test
# ---------------------------------------------------------------------------------------------

# Steps h = 10^-0.5 ... 10^-10 (half decades) along a direction scaled by each tensor's RMS: wide
# enough that a 1e-4 relative error dominates the remainder (crossover at h ~ 1e-4) and the
# remainder of a right gradient stays above rounding for several points.
TAYLOR_STEPS = 10.0 ** (-0.5 * np.arange(1, 21))
# The rounding noise of f is also measured: the largest symmetric remainder at steps <= 1e-6, where
# its h^2 part is below 1e-12 |v.Hv|. This catches losses computed with cancellation (log-sum-exp of
# large logits) whose noise far exceeds eps * |f|.
TAYLOR_NOISE_STEP = 1e-6
TAYLOR_NOISE_SAMPLES = 4  # the remainder at the 4 smallest steps (<= 10^-8.5) also bounds the noise

# A point enters the slope fit only if its remainder exceeds the estimated noise of f by this
# factor: the estimate is a max over a few samples and can miss a larger spike by a few times; at
# 10x a point is off by at most 10%, which moves a slope fitted over a decade by at most 0.04.
# (No "monotone run" rule: where a wrong gradient's linear term crosses the quadratic one with the
# opposite sign, the remainder dips towards 0, and the points after the dip are the informative ones.)
TAYLOR_NOISE_MARGIN = 10.0
# Points fitted: the three smallest-h valid ones (one decade), closest to the asymptotic regime,
# where a wrong gradient's linear term dominates and a right one's remainder is purely quadratic.
TAYLOR_FIT_POINTS = 3
# Slope 2 means right, slope 1 wrong; the midpoint separates them with the most room either way.
TAYLOR_SLOPE_THRESHOLD = 1.5
