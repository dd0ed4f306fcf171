"""The element verdict: verified, failed, or inconclusive with a reason.

For element i with analytic value a, numerical estimate n and the estimate's own error bound E
(ESTIMATE_SAFETY times the method's estimate), the stated tolerance is T = atol + rtol * scale
(tolerances.py: the dtype's and the method's allowances and floors), and

* verified      |a - n| <= T + E and the bound it proves, |a - n| + E, is within the cap: 0.5% of
                max(|a|, |n|, RMS) (tolerances.VERIFIED_SHARE; an exactly-zero a: ZERO_SHARE
                sqrt(eps) G, G the largest gradient RMS of the check);
* failed        |a - n| >  T + E (after a re-estimate at smaller steps, and not explained by a kink
                of f at the point);
* inconclusive  f not finite nearby; at a kink (a value within the one-sided slopes); E alone above
                the cap ("error bound too large for this loss": f's rounding at its precision, a
                large constant offset, cancellation); or agreement within T + E that proves less
                than the cap ("tolerance floor too large for these gradients"). A central estimate whose bound is
                too large is first redone by Richardson from 2^-10 s (ESCALATION_STEP), kept only
                where it agrees with the central estimate.

A kink explains an element only where f has a kink at the point at all (kinks.kinked_at_point, one
probe per check): on a smooth f a failing element is a failure, and no note speaks of kinks.
"""

from __future__ import annotations

import numpy as np

from . import tolerances as tol
from .diagnosis import diagnose
from .kinks import explained_by_kink, is_kink, kinked_at_point, one_sided_differences
from .numerical import Estimate, richardson
from .report import (
    AT_KINK,
    BOUND_TOO_LARGE,
    FAIL,
    FLOOR_TOO_LARGE,
    INCONCLUSIVE,
    NOT_FINITE,
    PASS,
    SMALL_BESIDE_LARGEST,
    ParameterResult,
)
from .ties import judge_ties

SECOND_OPINION_LEVELS = 4  # steps 1e-3 s .. 1.2e-4 s (then 1.5e-5 s .. 1.9e-6 s): ~1e-10 accurate after extrapolation
# Unresolved elements whose one-sided slopes are examined for a kink (6 evaluations each), only to
# name the reason; the rest of a larger set keep "error bound too large".
KINK_LABEL_MAX_ELEMENTS = 64
# First step of the Richardson re-estimate of a central element whose rounding bound is too large:
# 2^-10 s, 64x below Richardson's usual 2^-4 s (which crossed ReLU kinks 1e-2 away in the property
# runs) and ~170x above the central step (2^-17.4 s), so its rounding is ~100x smaller.
ESCALATION_STEP = 2.0**-10
# Agreeing elements not proven within the cap get second opinions at smaller steps (_resolve_unproven):
# 16 evaluations each, on 8 elements first, then on up to 256 more if one of those was resolved.
UNPROVEN_PROBE = 8
# A value within this many ulps of G (the largest gradient RMS) is rounding, indistinguishable from 0
# (_within_cap): a centering sum over a batch of terms of size G rounds to a few ulps of G (hand-written
# biases before batch norm: 1e-17 G in float64, 1e-8 G in float32, both under one ulp of G); 32 leaves
# room for sums of tens of terms and stays below 1% of 1e-3 G in float32 (84 ulps of G), the smallest
# error the verdict fuzzer labels wrong on a zero tensor. 1000 ulps (the cross-tensor floor) verified
# a planted error of 1.3e-5 G on a float32 input gradient that is 0 by structure (fuzz matrix, seed 0).
ZERO_ROUNDING_ULPS = 32.0
UNPROVEN_MAX = 264


def judge_elements(ev, key, analytic, grad_key, dtype, estimate: Estimate, rtol, atol,
                   largest_rms: float = 0.0, auto_floor=0.0) -> ParameterResult:  # fmt: skip
    """Per-element verdicts for one tensor (see the module docstring); a ParameterResult.

    analytic: the tensor's gradient (its shape); estimate: over the flattened elements; rtol: the
    user's (None: tolerances.default_rtol per element); atol: absolute floor, scalar or (n,);
    largest_rms: G, the largest RMS of any gradient of the check (tolerances.verification_allowance);
    auto_floor: the part of atol the checker added (not the user), scalar or (n,)."""
    # (sqrt(eps) G, the rounding level ZERO_ROUNDING_ULPS of G in the gradient's dtype, and in the precision f
    # computes in): what an element whose hand-written value is 0 or rounding is verified against (_within_cap)
    allowance = (tol.verification_allowance(dtype, largest_rms),
                 ZERO_ROUNDING_ULPS * tol.eps(dtype) * largest_rms,
                 ZERO_ROUNDING_ULPS * tol.eps(ev.precision_of(key)) * largest_rms)
    a = analytic.astype(np.float64).reshape(-1)
    n, numeric_error, steps = estimate.values.copy(), _finite_or_infinite(estimate.errors), estimate.steps.copy()
    rtols = _rtols(estimate, dtype, ev.precision_of(key), rtol, a.size)
    undefined = ~np.isfinite(n)
    failed = ~undefined & ~(np.abs(a - n) <= _required(a, n, rtols, atol) + tol.ESTIMATE_SAFETY * numeric_error)
    # agreeing but not proven within the cap: a central estimate is redone by Richardson first
    unresolved = ~undefined & ~failed & ~_within_cap(a, n, numeric_error, allowance, ev.verified_share)
    notes = []
    central_values, central_errors = n.copy(), numeric_error.copy()
    if estimate.method == "central" and unresolved.any():
        idx = np.flatnonzero(unresolved)
        better = richardson(ev, key, tol.RICHARDSON_LEVELS, idx, ESCALATION_STEP)
        # taken only where more precise and consistent with the central estimate: Richardson's larger
        # steps can straddle a kink the central step does not (a false FAIL in the stress runs: ReLU
        # pre-activations 1e-3 away); there the element stays unresolved
        keep = (better.errors < numeric_error[idx]) & (
            np.abs(better.values - n[idx]) <= tol.ESTIMATE_SAFETY * (better.errors + numeric_error[idx]))
        take = idx[keep]
        n[take], numeric_error[take], steps[take] = better.values[keep], better.errors[keep], better.steps[keep]
        rtols[take] = np.maximum(rtols[take], _rtols(better, dtype, ev.precision_of(key), rtol, idx.size)[keep])
        if take.size:
            notes.append(f"{take.size} element(s) re-estimated by Richardson from a step of 2^-10: the central "
                         "difference's rounding bound was larger than the tolerance")  # fmt: skip
    required = _required(a, n, rtols, atol)
    failed = ~undefined & ~(np.abs(a - n) <= required + tol.ESTIMATE_SAFETY * numeric_error)
    if failed.any():  # complex step too: the probe confirms it along one direction only (see _second_opinion)
        before = int(failed.sum())
        n, numeric_error, steps, failed, disputed = _second_opinion(ev, key, a, n, numeric_error, steps, failed,
                                                                    rtols, atol, estimate.method == "complex")
        before -= disputed
        if disputed:
            notes.append(f"{disputed} element(s) failed at the method's steps but agree at smaller ones, and the two "
                         "estimates disagree beyond their stated bounds though within "
                         f"{tol.ESTIMATE_SAFETY:g}x them: their error is taken as that disagreement (a kink or fast "
                         "curvature within the steps)")  # fmt: skip
        if before > failed.sum() and estimate.method == "complex":
            notes.append(f"{before - int(failed.sum())} element(s) failed by complex step agree with real differences, "
                         "which disagree with complex step beyond both error bounds (f is not complex-analytic "
                         "there: abs, max or .real on some path)")  # fmt: skip
        elif before > failed.sum():
            notes.append(f"{before - int(failed.sum())} element(s) failed at the method's steps and agree at smaller "
                         "ones, which disagree with the first estimate beyond both error bounds (f curves on a finer "
                         "scale there)")  # fmt: skip
    n, numeric_error, steps, improved = _resolve_unproven(ev, key, a, n, numeric_error, steps, failed | undefined,
                                                          allowance)
    if improved:
        notes.append(f"{improved} element(s) not proven within the cap at the method's steps were re-estimated by "
                     "Richardson from smaller steps, consistent with the first estimate and more precise")
    # a re-estimate taken there is more precise: where it now shows the hand-written value beyond T + E (a wrong
    # value the first bound hid), the element fails, as any element does, and a kink at the point may explain it
    failed |= ~undefined & ~(np.abs(a - n) <= _required(a, n, rtols, atol) + tol.ESTIMATE_SAFETY * numeric_error)
    if estimate.method == "central":
        # A central difference that agrees with the analytic value within its own bound cannot be
        # overruled by a Richardson re-estimate: Richardson's wider steps (from 2^-4 s) can cross a
        # kink 1e-3 away that the central step never reaches, with an error estimate that does not
        # see it (CI 2026-11-29: a dead ReLU unit, f flat within 1e-3, analytic 0, Richardson 2e-10).
        # Estimates that contradict each other verify nothing: such an element is unresolved, never
        # failed and never verified.
        contradicted = failed & (np.abs(a - central_values) <= _required(a, central_values, rtols, atol)
                                 + tol.ESTIMATE_SAFETY * central_errors)  # fmt: skip
        if contradicted.any():
            failed &= ~contradicted
            n[contradicted], numeric_error[contradicted] = central_values[contradicted], central_errors[contradicted]
            notes.append(f"{int(contradicted.sum())} element(s) agree with the central difference within its "
                         "bound but not with Richardson's wider steps (a kink or fast curvature nearby): "
                         "not verified")  # fmt: skip
    required = _required(a, n, rtols, atol)
    bounds = required + tol.ESTIMATE_SAFETY * numeric_error
    over_cap = ~_within_cap(a, n, numeric_error, allowance, ev.verified_share)
    scale = tol.element_scale(a, n)
    # unproven mostly because of the estimate's own bound (E at least the disagreement |a - n|); else
    # the disagreement, which only the floors keep from failing (FLOOR_TOO_LARGE below)
    unresolved = ~undefined & ~failed & over_cap & (tol.ESTIMATE_SAFETY * numeric_error >= np.abs(a - n))
    at_kink = np.zeros_like(failed)
    coincident = kinks_without_excuse = 0
    if (failed.any() or unresolved.any()) and kinked_at_point(ev):
        for count, i in enumerate(np.flatnonzero(failed)):
            explained, kink, _, together = explained_by_kink(ev, key, int(i), float(a[i]), float(bounds[i]),
                                                             probe_pieces=count < tol.NEARBY_MAX_ELEMENTS)
            at_kink[i], failed[i], coincident = explained, not explained, coincident + together
            kinks_without_excuse += kink and not explained
        for i in np.flatnonzero(unresolved)[:KINK_LABEL_MAX_ELEMENTS]:
            sides = one_sided_differences(ev, key, int(i))
            if is_kink(sides, float(required[i]), ev.scale_of(key), ev.precision_of(key)):
                at_kink[i], unresolved[i] = True, False
    if ev.kinked and (failed | at_kink).any():  # tie sets judged together (ties.py)
        failed, at_kink, tie_notes = judge_ties(ev, key, a, failed, at_kink, bounds)
        notes += tie_notes
        kinks_without_excuse = min(kinks_without_excuse, int(failed.sum()))
    # coarse: the stated tolerance is above the cap because of its floors (f's rounding at its
    # precision, the largest gradients' rounding), not because of the estimate's bound
    coarse = ~(undefined | at_kink | unresolved | failed) & over_cap
    inconclusive = undefined | at_kink | unresolved | coarse
    by_loss = np.broadcast_to(np.asarray(auto_floor, dtype=np.float64), a.shape) >= \
        np.broadcast_to(np.asarray(atol, dtype=np.float64), a.shape) / 2  # the loss floor is most of atol
    reasons = {reason: int(mask.sum()) for reason, mask in
               ((AT_KINK, at_kink), (BOUND_TOO_LARGE, unresolved), (NOT_FINITE, undefined),
                (FLOOR_TOO_LARGE, coarse & by_loss), (SMALL_BESIDE_LARGEST, coarse & ~by_loss)) if mask.any()}
    if coincident:
        notes.append(f"{coincident} element(s) where several kinks meet: analytic value outside the coordinate's "
                     "one-sided slopes but within the slopes just off the point (a convention such as ReLU'(0) = 0 "
                     "for every unit at 0)")  # fmt: skip
    if kinks_without_excuse:  # only where f has a kink at the point: never on a smooth f
        notes.append(f"{kinks_without_excuse} failing element(s) with a kink of f at or near them: the analytic value "
                     "is outside the one-sided slopes and outside every slope seen just off the point")  # fmt: skip
    if unresolved.any():
        precision = ev.precision_of(key)
        why = f"f computes in {precision}: its rounding over the steps" if tol.eps(precision) > tol.eps(np.float64) \
            else "f's rounding over the steps: a large constant in f, or cancellation"  # fmt: skip
        bound = tol.ESTIMATE_SAFETY * float(np.max(numeric_error[unresolved]))
        size = float(np.max(scale[unresolved]))
        notes.append(f"{int(unresolved.sum())} element(s) not verified: the numerical derivative's error bound (up "
                     f"to {bound:.1e}, gradients up to {size:.1e}) is above the cap of {ev.verified_share:.1%} of "
                     f"their size ({why})")  # fmt: skip
    return _result(ev, key, grad_key, analytic.shape, dtype, estimate.method, a, n, numeric_error, steps, bounds,
                   failed, inconclusive, reasons, notes)  # fmt: skip


def _result(ev, key, grad_key, shape, dtype, method, a, n, numeric_error, steps, bounds, failed, inconclusive,
            reasons, notes) -> ParameterResult:  # fmt: skip
    errors = np.abs(a - n)
    judged = ~inconclusive
    ratio = np.divide(errors, bounds, out=np.where(errors > 0, np.inf, 0.0), where=bounds > 0)
    worst = worst_element(ratio, failed, judged)
    scale = tol.element_scale(a, n)
    rel = np.divide(errors, scale, out=np.zeros_like(errors), where=scale > 0)
    status = FAIL if failed.any() else INCONCLUSIVE if inconclusive.any() else PASS
    shown = judged.any()  # an element was judged: its values mean something; else the row shows "-"
    hint = diagnose(a.reshape(shape), n.reshape(shape), failed.reshape(shape)) if status == FAIL else ""
    return ParameterResult(
        name=key, gradient_key=grad_key, shape=tuple(shape), dtype=str(dtype), eval_dtype=str(ev.precision_of(key)),
        method=method, step=float(steps[worst]), status=status,
        max_abs_error=float(np.nanmax(np.where(judged, errors, 0.0))) if judged.any() else float("nan"),
        max_rel_error=float(np.nanmax(np.where(judged, rel, 0.0))) if judged.any() else float("nan"),
        worst_index=_unravel(worst, shape) if shown else None, analytic=float(a[worst]) if shown else float("nan"),
        numeric=float(n[worst]) if shown else float("nan"),
        numeric_error=float(numeric_error[worst]), tolerance=float(bounds[worst]), n_elements=a.size,
        n_failed=int(failed.sum()), n_inconclusive=int(inconclusive.sum()),
        inconclusive_indices=[_unravel(int(i), shape) for i in np.flatnonzero(inconclusive)[:5]],
        note="; ".join(notes),
        error_ratio=float(np.nanmax(np.where(judged, ratio, 0.0))) if judged.any() else float("nan"),
        inconclusive_reasons=reasons, hint=hint,
    )  # fmt: skip


def worst_element(ratio: np.ndarray, failed: np.ndarray, judged: np.ndarray) -> int:
    """The flat index a row shows: the largest error-to-tolerance ratio (nan counts as infinite) among the
    failed elements if any, else among the judged ones, else among all."""
    ratio, failed, judged = ratio.reshape(-1), failed.reshape(-1), judged.reshape(-1)
    pool = failed if failed.any() else judged if judged.any() else np.ones_like(judged)
    return int(np.flatnonzero(pool)[np.argmax(np.nan_to_num(ratio[pool], nan=np.inf))])


def _second_opinion(ev, key, a, n, numeric_error, steps, failed, rtols, atol, by_complex=False):
    """A failing element is re-estimated before it is declared wrong: Richardson with steps 64x
    smaller than its usual first step (SECOND_OPINION_LEVELS levels), then 4096x smaller for what
    still fails (tolerances.PROBE_SMALLER_STEPS). Richardson's larger steps (from 6e-2 s) can
    straddle a kink yet look self-consistent, and where f curves on a scale below the step (a
    saturated network: the derivative changes by 1% over 1e-5 relative) both Richardson and a
    central difference are off by more than their error model says. Where a re-estimate disagrees
    with the first estimate beyond both error bounds and agrees with the analytic value within its
    own, it is believed. A wrong gradient agrees with the first estimate at every scale and stays
    failed. A complex-step element is re-estimated the same way: the support probe confirms complex
    step along one direction, to 1e-6 of the directional derivative, so an f that loses the imaginary
    part on a small term (log1p(exp(-|z|)) in a saturated BCE: 1e-5 of some elements) passes the probe
    and gives those elements a value off by more than complex step's own bound (fuzz, saturated:
    a right W1 FAILed at 5.68e-4 against 5.68e-4 (1 + 1e-5)). Once one element of the tensor is
    shown so (``by_complex``: complex step contradicted beyond both bounds), f is not complex-analytic
    along it and complex step's bounds prove nothing for the rest of the tensor: its failing elements
    are then judged by the real differences wherever those agree with the hand-written value (an
    element off by 1e-11 of 6.6e-6 had real differences good to 9e-11, unable to contradict complex
    step yet agreeing with the hand-written value). Returns updated (values, numeric errors, steps,
    failed, how many were disputed: see _re_estimate)."""
    if not by_complex:
        n, numeric_error, steps, failed, _, disputed = _re_estimate(ev, key, a, n, numeric_error, steps, failed,
                                                                    rtols, atol, False)  # fmt: skip
        return n, numeric_error, steps, failed, disputed
    # complex step: only elements failing within the cap (|a - n| <= VERIFIED_SHARE of their scale): the probe
    # holds complex step to 1e-6 of the directional derivative along weights |v_i| >= 0.5 RMS, so a term it
    # loses shows in an element as a small share (1e-5 above); a disagreement beyond the cap is a wrong
    # gradient's, judged as before at no extra cost. UNPROVEN_PROBE of them first, those closest to
    # agreeing; the rest only if one of them showed complex step wrong (a wrong 640-element row block
    # costs 16 re-estimates, not 640: group testing stays O(k log n))
    small = np.abs(a - n) <= ev.verified_share * tol.element_scale(a, n)
    idx = np.flatnonzero(failed & small)
    if idx.size == 0:
        return n, numeric_error, steps, failed, 0
    closest = idx[np.argsort(np.abs(a - n)[idx] / tol.element_scale(a, n)[idx], kind="stable")[:UNPROVEN_PROBE]]
    head = np.zeros_like(failed)
    head[closest] = True
    n, numeric_error, steps, still, void, disputed = _re_estimate(ev, key, a, n, numeric_error, steps, failed & head,
                                                                  rtols, atol, True)  # fmt: skip
    rest, beyond = failed & small & ~head, failed & ~small
    if not void or not rest.any():
        return n, numeric_error, steps, still | rest | beyond, disputed
    n, numeric_error, steps, rest, _, more = _re_estimate(ev, key, a, n, numeric_error, steps, rest, rtols, atol,
                                                          True, void=True)  # fmt: skip
    return n, numeric_error, steps, still | rest | beyond, disputed + more


def _re_estimate(ev, key, a, n, numeric_error, steps, failed, rtols, atol, by_complex, void=False):
    """_second_opinion's re-estimates of the ``failed`` elements; (values, errors, steps, failed, void,
    disputed). A re-estimate that agrees with the analytic value and disagrees with the first estimate
    beyond their two stated bounds, but within ESTIMATE_SAFETY times them, contradicts nothing and
    proves nothing: one of the bounds is wrong (a float32 loss with a ReLU unit 7e-3 from its kink:
    Richardson from 2^-4 s averaged the two slopes, 2% off, stating 0.2%; at smaller steps it agreed
    with the right hand-written value). The FAIL rests on the first bound, so it is not proven: the
    element takes the re-estimate with the disagreement as its error bound (``disputed``, counted);
    the verdict then follows from that bound (above the cap: INCONCLUSIVE)."""
    n, numeric_error, steps, failed = n.copy(), numeric_error.copy(), steps.copy(), failed.copy()
    disputed = 0
    for factor in tol.PROBE_SMALLER_STEPS:
        idx = np.flatnonzero(failed)
        if idx.size == 0:
            break
        second = richardson(ev, key, SECOND_OPINION_LEVELS, idx, tol.RICHARDSON_FIRST_STEP / factor)
        required = _required(a, n, rtols, atol)[idx]
        agrees = np.abs(a[idx] - second.values) <= required + tol.ESTIMATE_SAFETY * second.errors
        contradicts = np.abs(second.values - n[idx]) > tol.ESTIMATE_SAFETY * (second.errors + numeric_error[idx])
        void |= by_complex and bool(np.any(agrees & contradicts))
        gap = np.abs(second.values - n[idx])
        doubt = agrees & ~contradicts & (gap > second.errors + numeric_error[idx]) & (not void)
        agrees &= contradicts | void
        take = idx[agrees]
        n[take], numeric_error[take] = second.values[agrees], second.errors[agrees]
        steps[take], failed[take] = second.steps[agrees], False
        moot = idx[doubt]
        n[moot], numeric_error[moot], steps[moot], failed[moot] = second.values[doubt], gap[doubt], \
            second.steps[doubt], False  # fmt: skip
        disputed += int(doubt.sum())
    return n, numeric_error, steps, failed, void, disputed


def _resolve_unproven(ev, key, a, n, numeric_error, steps, excluded, allowance):
    """Second opinions for the agreeing elements whose proven bound is above the cap (issue 21: a smooth
    float64 loss that is not complex-safe, batch norm + float(), had Richardson bounds of 1e-3 at
    2^-4 s where central differences at 1e-4..1e-6 agree to 1e-10): Richardson from first steps
    tolerances.PROBE_SMALLER_STEPS times smaller, taken where its bound is smaller and it agrees
    with the first estimate within both bounds (so a kink crossed by one of them never decides).
    Only where f computes in float64 (in float32 smaller steps only add rounding), on up to
    UNPROVEN_PROBE elements first; the rest only if one of those improved (a loss whose rounding
    no step resolves pays UNPROVEN_PROBE x 16 evaluations, not 16 per element).
    Returns (values, errors, steps, how many improved)."""
    n, numeric_error, steps = n.copy(), numeric_error.copy(), steps.copy()
    if tol.eps(ev.precision_of(key)) > tol.eps(np.float64):
        return n, numeric_error, steps, 0
    todo = np.flatnonzero(~excluded & ~_within_cap(a, n, numeric_error, allowance, ev.verified_share))
    improved = 0
    for start, stop in ((0, UNPROVEN_PROBE), (UNPROVEN_PROBE, UNPROVEN_MAX)):
        if start and not improved:
            break
        for factor in tol.PROBE_SMALLER_STEPS:
            unproven = ~_within_cap(a, n, numeric_error, allowance, ev.verified_share)
            idx = todo[start:stop][unproven[todo[start:stop]]]
            if idx.size == 0:
                break
            second = richardson(ev, key, SECOND_OPINION_LEVELS, idx, tol.RICHARDSON_FIRST_STEP / factor)
            take = (second.errors < numeric_error[idx]) & (
                np.abs(second.values - n[idx]) <= tol.ESTIMATE_SAFETY * (second.errors + numeric_error[idx]))
            chosen = idx[take]
            n[chosen], numeric_error[chosen], steps[chosen] = second.values[take], second.errors[take], \
                second.steps[take]  # fmt: skip
            proven = _within_cap(a, n, numeric_error, allowance, ev.verified_share)
            improved += int(np.sum(unproven[chosen] & proven[chosen]))
    return n, numeric_error, steps, improved


def _within_cap(a, n, numeric_error, allowance, share: float) -> np.ndarray:
    """Whether each agreeing element is verified: what the estimate proves about the hand-written
    value, |a - true| <= |a - n| + E, is small against what it judges (the cap, no vacuous
    tolerance): at most ``share`` (tolerances.VERIFIED_SHARE unless check_gradients' verified_share says
    otherwise) of max(|a|, |n|, the tensor's RMS). The stated
    tolerance T + E (``bounds``, floors included) only decides FAIL; a PASS rests on the proven
    bound, never above the cap. An exactly-zero analytic element (a tensor f does not depend on, a
    bias before a normalization) has no size to be judged against: it is verified where the numerical
    side cannot tell the gradient from 0 either (|n| <= E) and the proven bound is within
    tolerances.ZERO_SHARE sqrt(eps) G (``allowance`` = (sqrt(eps) G, rounding level)). Without
    |n| <= E, a forgotten small term PASSed: a float32 loss with 3e-5 sum(tanh(v)), dv returned as
    zeros, complex step giving 2.95e-5 exactly (the cross-tensor floor kept it from failing; 2 sqrt(eps32)
    G = 6.9e-4 G verified it). A hand-written value that is rounding, within the cross-tensor floor
    (ZERO_ROUNDING_ULPS of G: a bias before batch norm computed by hand is 1e-17 G in float64, 1e-8 G in
    float32, never exactly 0; fuzz finding 20), is indistinguishable from 0 and judged the same way;
    so is a numerical value within the rounding level of the precision f computes in."""
    root_eps_g, rounding_level, numeric_rounding = allowance
    proven = np.abs(a - n) + tol.ESTIMATE_SAFETY * numeric_error
    scale = tol.element_scale(a, n)
    # the numerical side's own rounding level too: complex step through a centering computes a sum that
    # cancels to 0 (1e-17 G beside terms of size G) and states 100 eps of that tiny value as its error
    zero = (np.abs(a) <= rounding_level) & (np.abs(n) <= np.maximum(tol.ESTIMATE_SAFETY * numeric_error,
                                                                    numeric_rounding))
    zero &= proven <= tol.ZERO_SHARE * root_eps_g
    return (proven <= share * scale) | zero


def _required(a, n, rtols, atol) -> np.ndarray:
    """The stated tolerance T = atol + rtol * max(|a|, |n|, RMS) per element (without E)."""
    return np.asarray(atol) + rtols * tol.element_scale(a, n)


def _rtols(estimate: Estimate, dtype, eval_dtype, rtol, size) -> np.ndarray:
    """Per-element rtol: the user's, else max(analytic allowance of the dtype, the allowance of the
    method that produced each element (a Richardson element that fell back to a central difference
    has the central method's truncation allowance))."""
    if rtol is not None:
        return np.full(size, float(rtol))
    method_rtols = estimate.rtols if estimate.rtols is not None else tol.method_rtol(estimate.method, eval_dtype)
    return np.maximum(tol.analytic_rtol(dtype), np.broadcast_to(method_rtols, (size,))).astype(np.float64)


def _finite_or_infinite(errors) -> np.ndarray:
    """A method that could not bound its error (nan) has an infinite bound: never verified by it."""
    errors = np.asarray(errors, dtype=np.float64)
    return np.where(np.isfinite(errors), errors, np.inf)


def _unravel(flat_index: int, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()
