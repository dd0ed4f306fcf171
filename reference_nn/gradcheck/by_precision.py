"""check_gradients on float32 (or mixed) parameters in two steps, where the code also runs in float64.

A float32 gradient judged directly against numerical derivatives of f carries floors for the rounding
the float32 backward may have (tolerances.loss_resolution_floor: 100 float32 ulps of max(|f|, 1), since
a float64 evaluation of f shows nothing of the float32 intermediates). Beside small gradients (a loss
scaled by 1e-12, weights before a normalization) the floors are far above the cap: a x2 or a sign
there was INCONCLUSIVE ("tolerance floor too large"), and a float32 layer's large batch made the input
gradient's floor 1-5% of it. Where f and grad_f also compute in float64 on float64 copies of the
parameters (NumPy code that follows its inputs' dtype), the question splits, as for check_torch
(frameworks/float64_rule.py) and check_vjp:

1. the gradient's math in float64: check_gradients on the float64 copies, every element verified to
   RULE_SHARE (0.1%) of max(|g|, RMS); results "W (rule in float64)". A FAIL is the report, at the
   parameters' own names (the float32 run is not judged: FAIL_NOTE);
2. the float32 gradient (the one grad_f returned at the given parameters) against that verified
   float64 gradient, element by element, within the cap less RULE_SHARE (float64_rule.compare_gradients:
   rounding-level zeros in both are the same zero; small elements within the cross-tensor floor of G
   are INCONCLUSIVE, never verified).

Step 1 INCONCLUSIVE, or code that does not run in float64 (it casts, refuses, or f measures as
float32 inside): the direct check at the given dtypes, as before. The float64 probe call of grad_f is
part of step 1's determinism check.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from .determinism import Recorded
from .frameworks import float64_rule as rule
from .report import FAIL, PASS, GradientReport
from .validation import UserCodeError, call_user, validate_gradients

# set while the direct check runs (after a step 1 that was INCONCLUSIVE) and inside entry points that
# split themselves or cannot (no_split): no split here
DIRECT: ContextVar[bool] = ContextVar("reference_nn_gradcheck_direct", default=False)
@dataclass(frozen=True)
class StepNotes:
    """What a report that is step 1's says first, in the entry point's words (copies of its "parameters"
    or "float32 inputs", run by its "f and grad_f" or "forward and backward")."""

    fail: str  # step 1 FAIL: where it was checked and why nothing else was judged
    problem: str  # step 1 not deterministic
    budget: str  # step 1 INCONCLUSIVE within a budget given: not spent again on a direct check


def step_notes(copies: str, code: str) -> StepNotes:
    where = f"checked on float64 copies of the {copies}"
    return StepNotes(
        fail=f"{where} ({code} run in float64): the gradient is wrong there, so its float32 run was not judged",
        problem=f"{where} first ({code} run in float64): see the problem there",
        budget=f"{where} ({code} run in float64), within the budget given: not everything was verified there, and "
               "the budget is not spent twice on a direct check")  # fmt: skip


NOTES = step_notes("parameters", "f and grad_f")
FAIL_NOTE, PROBLEM_NOTE, BUDGET_NOTE = NOTES.fail, NOTES.problem, NOTES.budget


def candidate(params: dict, ev, method: str) -> bool:
    """Some parameter below float64, and f resolves float64 moves of every tensor (measured)."""
    return method != "directional" and any(p.dtype != np.float64 for p in params.values()) and \
        all(np.dtype(ev.precision_of(k)) == np.float64 for k in params) and ev.eval_dtype == np.float64  # fmt: skip


def float64_gradients(f, grad_f, params: dict, extra_keys: str) -> dict | None:
    """grad_f on float64 copies, by parameter key, where every gradient comes back float64; else None.
    f is called there first, as call_twice orders them: a grad_f that reads a cache f fills (a forward
    pass kept in a global) must see the copies' forward, not the last one at the given dtypes."""
    wide = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    try:
        call_user(f, "f", {k: v.copy() for k, v in wide.items()}, "at float64 copies of the params")
        raw = call_user(grad_f, "grad_f", wide, "at float64 copies of the params")
        if not isinstance(raw, dict):
            return None
        grads, grad_keys, _ = validate_gradients(raw, wide, extra_keys=extra_keys)
    except (UserCodeError, TypeError, ValueError, KeyError):
        return None
    if any(np.asarray(raw[grad_keys[k]]).dtype != np.float64 for k in grads):
        return None
    return grads


def check_in_two_steps(f, grad_f, params: dict, low_grads: dict, wide_grads: dict, options: dict,
                       direct) -> GradientReport:  # fmt: skip
    """Step 1, then by its verdict step 2 / the report as is / direct() (the module docstring)."""
    from .check import check_gradients

    wide = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    # what earlier calls at the given dtypes returned (check_layer's discovery pass) was compared already
    # (call_twice, before the split); at the float64 copies only the probe's call is earlier
    f, grad_f = (g.function if isinstance(g, Recorded) else g for g in (f, grad_f))
    recorded = Recorded(grad_f, [("the float64 probe", dict(wide_grads))])
    first = check_gradients(f, recorded, wide, **rule.rule_options(options))

    def compare() -> GradientReport:
        precisions = coarsest_precisions({k: g.dtype for k, g in low_grads.items()}, [p.dtype for p in params.values()])
        shapes = {k: np.shape(p) for k, p in params.items()}
        second = rule.compare_gradients(low_grads, wide_grads, shapes, precisions, options.get("verified_share"),
                                        options.get("seed", 0), "gradient")  # fmt: skip
        for key, result in second.results.items():
            result.gradient_key = first.results[key].gradient_key
        return second

    return split(first, compare, direct, NOTES, options)


def split(first: GradientReport, compare, direct, notes: StepNotes, options: dict) -> GradientReport:
    """By step 1's verdict: FAIL, or a problem (a function that changes between calls): that report, at
    the tensors' own names, with its note (nothing else is judged); PASS: compare() (step 2) with step
    1's results renamed "NAME (rule in float64)"; INCONCLUSIVE: direct(), the check at the given dtypes,
    unless a budget (max_evaluations, time_budget) was given: step 1 had it, a second check would
    spend it again (step 1's report then, with notes.budget)."""
    if first.verdict == FAIL or first.problems:
        first.notes.insert(0, notes.fail if first.verdict == FAIL else notes.problem)
        return first
    if first.verdict != PASS:
        if options.get("max_evaluations") is not None or options.get("time_budget") is not None:
            first.notes.insert(0, notes.budget)
            return first
        return direct()
    return rule.merged(compare(), rule.renamed(first))


def coarsest_precisions(gradient_dtypes: dict, input_dtypes) -> dict:
    """Each gradient judged at the coarser of its dtype and the coarsest input's: a float64 gradient of
    a mixed run (float32 x, float64 W) is computed from float32 intermediates (its rounding, its cap)."""
    coarsest = max((np.dtype(d) for d in input_dtypes), key=lambda d: np.finfo(d).eps)
    return {k: max(np.dtype(d), coarsest, key=lambda d: np.finfo(d).eps) for k, d in gradient_dtypes.items()}


def direct(check_gradients, f, grad_f, params: dict, options: dict) -> GradientReport:
    """check_gradients at the given dtypes, not split again."""
    with no_split():
        return check_gradients(f, grad_f, params, **options)


@contextmanager
def no_split():
    """check_gradients inside does not split by precision: check_vjp and the framework adapters split
    themselves (at their own inputs), and check_layer's parameters live in the layer object, whose
    float64 twin this module cannot make."""
    token = DIRECT.set(True)
    try:
        yield
    finally:
        DIRECT.reset(token)
