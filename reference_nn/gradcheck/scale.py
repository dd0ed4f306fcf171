"""The default check of a large tensor: projections and group testing (projection.py,
group_testing.py), the final element verdicts, and a description of where the wrong elements are.

    result = check_tensor_by_projection(ev, key, analytic, grad_key, dtype, "complex", rtol, atol, seed, budget)

Every element estimated element-wise (leaves, samples) is judged by check.judge_elements, exactly as
``method="elementwise"`` judges it (kinks, second opinions, unresolved estimates); elements certified
by projections pass; the rest (failing sets not explored, a spent budget) are INCONCLUSIVE, counted.
"""

from __future__ import annotations

import numpy as np

from . import tolerances as tol
from .budget import Budget
from .group_testing import FALLBACK_ELEMENTS, SearchOutcome, search
from .judge import judge_elements
from .projection import DIRECTIONS, MAX_RMS_SHARE, MISS_PER_DIRECTION, TensorProblem
from .report import FAIL, FLOOR_TOO_LARGE, INCONCLUSIVE, PASS, ParameterResult

BUDGET_EXHAUSTED = "budget exhausted"  # reasons elements are not verified (ParameterResult.inconclusive_reasons)
NOT_EXPLORED = "in a set that failed a projection, not explored further"
UNRESOLVABLE = "projection error bound too large for this loss"

# "auto" checks a tensor by projections from this many elements on. A right tensor costs DIRECTIONS
# projections (1 evaluation each with complex step, 12 with Richardson), element-wise costs one
# (12) per element, so element-wise is cheaper below DIRECTIONS elements; 4x that leaves room for
# the localization of a failure (about DIRECTIONS + 1 per halving) and keeps a per-element verdict,
# with no miss probability at all, on small tensors (biases, toy networks).
PROJECTION_MIN_ELEMENTS = 4 * DIRECTIONS  # 32


def use_projection(n_elements: int) -> bool:
    return n_elements >= PROJECTION_MIN_ELEMENTS


def miss_probability() -> float:
    """Probability that a tensor passed by projections holds one element wrong beyond its tolerance."""
    return MISS_PER_DIRECTION**DIRECTIONS


def check_tensor_by_projection(ev, key, analytic, grad_key, dtype, inner, rtol, atol, seed, budget: Budget,
                               largest_rms: float = 0.0, auto_floor=0.0) -> ParameterResult:
    """Check one tensor by projections + group testing; a ParameterResult (see module docstring).

    analytic: the hand-written gradient (tensor shape); atol: scalar or flat per-element floor;
    seed: a tuple of ints (the directions are seeded by it, the set and the draw); largest_rms,
    auto_floor: as judge.judge_elements takes them (the floors' share rule applies to every element)."""
    start = ev.count
    problem = TensorProblem(ev, key, analytic, dtype, inner, rtol, atol, tuple(seed))
    budget.label = f"{key} (projections)"
    row_length = int(np.prod(analytic.shape[1:])) if analytic.ndim >= 2 else 1
    outcome = search(problem, budget, row_length)
    pending = np.flatnonzero(outcome.certified & ~np.isfinite(problem.values))
    if outcome.resolution > ev.verified_share and 0 < pending.size <= FALLBACK_ELEMENTS:
        # projections resolve less than the cap (their thresholds carry the floors; issue 21): a small
        # set is estimated element by element, where a PASS rests on the proven bound instead
        problem.estimate_elements(pending)
    result = judge_elements(ev, key, np.asarray(analytic), grad_key, dtype, problem.full_estimate(), rtol, atol,
                            largest_rms, auto_floor)
    # judge_elements judges the estimated elements; the others have n = a there and count as verified
    # by it. Of those, the unverified ones, and the certified ones whose projections resolve less
    # than the cap, are not.
    # The cap (tolerances.VERIFIED_SHARE): projections certify an element to their relative
    # resolution (floors included); beyond the cap they verify nothing
    coarse = outcome.resolution > ev.verified_share
    floor_bound = outcome.certified & coarse & ~np.isfinite(problem.values)
    unverified = outcome.unverified(problem)
    result.method = f"projection({inner})"
    result.n_evaluations = ev.count - start
    notes = [result.note] if result.note else []
    if result.status != FAIL:
        if unverified.any():
            result.status = INCONCLUSIVE
    reasons = dict(result.inconclusive_reasons)
    unresolvable = outcome.unresolvable & ~np.isfinite(problem.values)
    for reason, mask in ((BUDGET_EXHAUSTED if outcome.exhausted else NOT_EXPLORED, unverified),
                         (FLOOR_TOO_LARGE, floor_bound), (UNRESOLVABLE, unresolvable)):
        if mask.any():
            result.n_inconclusive += int(mask.sum())
            reasons[reason] = reasons.get(reason, 0) + int(mask.sum())
    result.inconclusive_reasons = reasons
    if (floor_bound.any() or unresolvable.any()) and result.status == PASS:
        result.status = INCONCLUSIVE
    if unresolvable.any():
        notes.append(unresolvable_advice(problem, int(unresolvable.sum()), budget,
                                         tol.verification_allowance(dtype, largest_rms)))
    if unverified.any():
        first = np.flatnonzero(unverified)[:5]
        result.inconclusive_indices = (result.inconclusive_indices + [_unravel(i, analytic.shape) for i in first])[:5]
        why = outcome.exhausted or "inside sets that failed a projection and were not explored further"
        notes.append(f"{int(unverified.sum())} element(s) not verified: {why}")
    if result.status == FAIL:
        notes.append(describe(problem, outcome, row_length))
    if outcome.certified.any():
        result.tolerance_rms_share = outcome.rms_share
        notes.append(
            f"{int((outcome.certified & ~floor_bound).sum())} element(s) verified by {DIRECTIONS} random "
            f"projections each to {outcome.rms_share:.1e} x the gradient RMS ({outcome.rms_share * problem.rms:.1e}) "
            f"per element (an element wrong beyond it passes all of them with probability < "
            f"{miss_probability():.0e}), {int(np.isfinite(problem.values).sum())} element-wise"
        )
    if result.status == PASS and outcome.certified.all() and outcome.closest is not None:
        # nothing was compared element by element: show the projection closest to its threshold
        closest = outcome.closest
        result.worst_index, result.step = None, 0.0
        result.analytic, result.numeric, result.numeric_error = closest.analytic, closest.numeric, closest.error
        result.tolerance, result.max_abs_error = closest.threshold, abs(closest.discrepancy)
        result.max_rel_error = abs(closest.discrepancy) / max(abs(closest.analytic), abs(closest.numeric), 1e-300)
        result.error_ratio = abs(closest.discrepancy) / max(closest.threshold, 1e-300)  # err/tol of what is shown
    result.note = "; ".join(notes)
    return result


def unresolvable_advice(problem: TensorProblem, count: int, budget: Budget, allowance: float) -> str:
    """Why ``count`` elements stay unverified, and what would verify them: element-wise estimates only
    where one element's projection resolves its tolerance (then their cost, from the evaluations so
    far), never a minutes-long run that would end INCONCLUSIVE too."""
    text = (f"{count} element(s) not verified: real-difference projections cannot resolve "
            f"{MAX_RMS_SHARE:.0%} of this tensor's gradient RMS for this loss (its rounding is large next to these "
            "gradients)")
    one = problem.single_element_resolves(allowance)
    if problem.inner == "complex" or one is None:
        return text
    if not one:
        return (text + ", nor would one element at a time: a complex-safe f (no float(), .real or scipy.special "
                "functions on the parameters' path) is checked by complex step, which has no rounding of differences")
    evaluations = 2 * tol.RICHARDSON_LEVELS * count
    seconds = evaluations * budget.elapsed / max(budget.evaluations, 1)
    return (text + f", method='elementwise' checks them one by one ({evaluations} evaluations, about {seconds:.0f} s "
            "at this check's pace), or a complex-safe f by complex step")


def describe(problem: TensorProblem, outcome: SearchOutcome, row_length: int) -> str:
    """Where the wrong elements are, as a person would say it: rows / columns / fraction / sample."""
    shape = problem.shape
    failing = sorted(set(outcome.failing))
    worst = sorted(failing, key=lambda i: -abs(problem.a[i] - problem.values[i]) / problem.tol[i])
    named = ", ".join(str(_unravel(i, shape)) for i in worst[:5])
    parts = [f"{len(failing)} wrong element(s) confirmed element-wise, worst {named}"]
    if outcome.wrong_columns:
        parts.append(f"wrong elements share column(s) {', '.join(map(str, outcome.wrong_columns[:6]))} "
                     "(of the trailing axes, flattened)")
    if outcome.wrong_rows:
        runs = _merge([(r, r + 1) for r in outcome.wrong_rows])
        parts.append(f"rows failing a projection: {_ranges_text(runs, shape[0])}")
    elif row_length == 1 and failing:
        parts.append(f"at flat indices {_ranges_text(_merge([(i, i + 1) for i in failing]), problem.n)}")
    if outcome.sampled:
        parts.append(f"{outcome.sample_failing} of {outcome.sampled} elements sampled at random in the failing "
                     f"set are wrong (about {outcome.sample_failing / outcome.sampled:.0%})")
    return "; ".join(parts)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _ranges_text(ranges: list[tuple[int, int]], total: int, most: int = 6) -> str:
    covered = sum(hi - lo for lo, hi in ranges)
    text = ", ".join(f"{lo}" if hi - lo == 1 else f"{lo}-{hi - 1}" for lo, hi in ranges[:most])
    if len(ranges) > most:
        text += f", ... ({len(ranges)} runs)"
    return f"{text} ({covered} of {total})"


def _unravel(flat_index: int, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(int(flat_index), shape)) if shape else ()
