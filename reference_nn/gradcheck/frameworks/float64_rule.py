"""A low-precision rule checked in two steps where its forward also runs in float64.

A float32 / bfloat16 / float16 backward compared with numerical derivatives directly is judged by
what its dtype can resolve: a bfloat16 gradient is rounded to 0.4% of itself, so its cap is 4 ulps
(3.1%) of max(|g|, the tensor's RMS), and a 10% error in one small element can sit inside that; at
100k+ elements the numerical side also needs thousands of evaluations at that precision. When fn
computes in float64 on float64 copies of the same (quantized) inputs, the question splits:

1. **The rule's math**, in float64: check_gradients on the float64 copies (the framework's backward
   in float64 against this checker's numerical derivatives), every element verified to within
   RULE_SHARE of max(|g|, |n|, RMS). A wrong element, a missing term, a factor is FAIL here, named,
   at any size: these are bugs of the rule, whatever dtype runs it.
2. **The low-precision run**, against that verified float64 gradient g64, element by element (one
   backward, no numerical derivatives): |g_low - g64| must stay within (cap - RULE_SHARE) of
   max(|g64|, |g_low|, RMS(g64)), cap the share a PASS at that dtype is held to; the RULE_SHARE
   deducted is what step 1 leaves open about g64, so each element's distance from the true gradient
   is within the cap. A tensor whose float64 gradient is exactly zero everywhere has no size of its
   own: ZERO_SHARE sqrt(eps) of the largest RMS, as the verdict contract says for exact zeros; an
   element that is rounding in both runs (ZERO_ROUNDING_ULPS of the largest RMS in each dtype) is
   the same zero.

Step 1 PASS: step 2 judges the low-precision run. Step 1 FAIL: the verdict is FAIL, the element
named there; the low-precision run is not judged (INCONCLUSIVE: there is no verified gradient to
compare it with, and a direct check would spend its time budget on a verdict already known). Step 1
INCONCLUSIVE, or fn does not run in float64: the direct check at the low precision, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import tolerances as tol
from ..judge import ZERO_ROUNDING_ULPS, worst_element
from ..report import FAIL, INCONCLUSIVE, PASS, SMALL_BESIDE_LARGEST, GradientReport, ParameterResult
from ..validation import UserCodeError
from .base import dense, rms, run_user

# The cap the float64 check of the rule is held to: 0.1% of max(|g|, |n|, RMS). Right float64 rules
# verify far below it (errors ~1e-8 of the RMS by complex step or Richardson), and it leaves 0.4 of
# the 0.5% default cap (float32, float16) and 3.0 of bfloat16's 3.1% for the low-precision run.
RULE_SHARE = 1e-3
SUFFIX = " (rule in float64)"


@dataclass
class Float64Probe:
    """fn on float64 copies of its inputs, tried once per check: wide (the copies), runs (every driven
    output came out float64), why_not (the reason when not), refused (fn raised on them: every
    evaluation must then be at the inputs' own dtypes)."""

    wide: dict
    runs: bool
    why_not: str = ""
    refused: bool = False


def probe_float64(adapter, values: dict, precisions: dict, driven: list) -> Float64Probe | None:
    """None where every input is float64 (nothing below it to split); else the probe."""
    if all(np.dtype(d) == np.float64 for d in precisions.values()):
        return None
    wide = {name: np.asarray(v, dtype=np.float64) for name, v in values.items()}
    try:
        outs = run_user("f", adapter.outputs, wide)
    except UserCodeError as error:
        return Float64Probe(wide, False, f"fn raised on float64 copies of its inputs ({error}); evaluated at their "
                                         "own dtypes", refused=True)  # fmt: skip
    narrow = [f"output{k} {np.asarray(outs[k]).dtype}" for k in driven if np.asarray(outs[k]).dtype != np.float64]
    return Float64Probe(wide, not narrow, "fn computes below float64 on float64 copies: " + ", ".join(narrow)
                        if narrow else "")  # fmt: skip


def two_steps(step_one, compare, direct, shapes: dict, precisions: dict, seed: int, what: str) -> GradientReport:
    """Step 1 (step_one(): the check on the float64 copies, renamed here); then, by its verdict, PASS:
    compare() (step 2); FAIL: the low-precision run not judged; INCONCLUSIVE: direct(), the check at
    the low precision. One report with both."""
    first = renamed(step_one())
    if first.verdict == PASS:
        low = compare()
    elif first.verdict == FAIL:
        low = not_judged(shapes, precisions, seed, what)
    else:
        low = direct()
    return merged(low, first)


def rule_options(options: dict) -> dict:
    """check_gradients' options for a float64 step: the cap RULE_SHARE (or the caller's, if tighter)."""
    return {**options, "verified_share": min(RULE_SHARE, options.get("verified_share") or RULE_SHARE)}


def renamed(report: GradientReport) -> GradientReport:
    """A float64 step's results named "NAME (rule in float64)", its notes and problems marked."""
    by_name = {}
    for name, result in report.results.items():
        result.name = result.gradient_key = name + SUFFIX
        by_name[result.name] = result
    report.results = by_name
    report.notes = [f"rule in float64: {n}" for n in report.notes]
    report.problems = [f"rule in float64: {p}" for p in report.problems]
    return report


def compare_with_float64_rule(adapter, values: dict, wide: dict, douts: list, precisions: dict,
                              verified_share: float | None, seed: int) -> GradientReport:  # fmt: skip
    """Step 2: the backward at the inputs' own dtypes against the (verified) float64 backward."""
    low = run_user("grad_f", adapter.vjp, values, douts).grads
    high = run_user("grad_f", adapter.vjp, wide, douts).grads
    return compare_gradients(low, high, {n: v.shape for n, v in wide.items()}, precisions, verified_share, seed,
                             "backward")  # fmt: skip


def compare_gradients(low: dict, high: dict, shapes: dict, precisions: dict, verified_share: float | None,
                      seed: int, what: str) -> GradientReport:  # fmt: skip
    """Per tensor: |low - high| within (cap - RULE_SHARE) max(|high|, |low|, RMS(high)), high the
    verified float64 gradients (None: zero), cap the dtype's (verified_share if given)."""
    verified = {n: dense(high.get(n), shapes[n]) for n in shapes}
    largest_rms = max((rms(g) for g in verified.values()), default=0.0)
    # the low run computes at its coarsest input's precision (a float64 tensor of a mixed run included);
    # its floors below are float32's at most, as the direct check's are for 16-bit gradients (common.py:
    # 1000 ulps of bfloat16 would be 7.8x the largest gradient itself)
    coarsest = min(max((tol.eps(d) for d in precisions.values()), default=tol.eps(np.float64)), tol.eps(np.float32))
    results = {}
    for name in shapes:
        g64, g = verified[name], dense(low.get(name), shapes[name])
        dtype = np.dtype(precisions[name])
        cap = verified_share if verified_share is not None else max(tol.VERIFIED_SHARE, 4 * tol.eps(dtype))
        share = cap - RULE_SHARE
        own_rms = rms(g64)
        size = np.maximum(np.abs(g64), np.abs(g))
        scale = np.maximum(size, own_rms) if own_rms > 0 else np.full(g.shape, largest_rms)
        allowed = share * scale if own_rms > 0 else tol.ZERO_SHARE * np.sqrt(tol.eps(dtype)) * scale
        error = np.abs(g - g64)
        # a zero of the math (a bias before a normalization) comes out as rounding in both runs (1e-16 G in
        # float64, 1e-7 G in float32): within ZERO_ROUNDING_ULPS of G in each, as judge._within_cap reads
        # a hand-written rounding-level value, it is the same zero
        zero = (np.abs(g64) <= ZERO_ROUNDING_ULPS * tol.eps(np.float64) * largest_rms) & \
            (np.abs(g) <= ZERO_ROUNDING_ULPS * coarsest * largest_rms)  # fmt: skip
        # a small element of a tensor far below the largest gradients (a weight before a normalization:
        # 1e-5 G) carries the low run's rounding of G-sized terms: within the cross-tensor floor (the same
        # floor the direct check gives it) it is neither verified nor wrong (SMALL_BESIDE_LARGEST)
        beside = ~zero & np.isfinite(g) & (error > allowed) & (error <= tol.CROSS_TENSOR_ULPS * coarsest * largest_rms)
        bad = ~np.isfinite(g) | ((error > allowed) & ~zero & ~beside)
        error = np.where(zero, 0.0, error)
        ratio_all = np.where(allowed > 0, error / np.where(allowed > 0, allowed, 1.0), np.where(error > 0, np.inf, 0))
        ratio_all = np.where(np.isfinite(g), ratio_all, np.inf)
        # as judge._result: the errors are over the judged elements (the `beside` ones are inconclusive), the
        # worst is a failed element if any, else a judged one; max_rel_error over max(|a|, |n|, RMS)
        judged = ~beside
        worst = tuple(int(i) for i in np.unravel_index(worst_element(ratio_all, bad, judged), g.shape)) \
            if g.size else None  # fmt: skip
        with np.errstate(invalid="ignore"):
            rel = np.where(judged, error / np.maximum(tol.element_scale(g, g64), np.finfo(float).tiny), 0.0)
        judged_error = np.where(judged, error, 0.0)
        results[name] = ParameterResult(
            name=name, gradient_key=name, shape=tuple(shapes[name]), dtype=dtype.name, eval_dtype="float64",
            method="vs float64 rule", step=float("nan"),
            status=FAIL if bad.any() else INCONCLUSIVE if beside.any() else PASS,
            n_inconclusive=int(beside.sum()), inconclusive_reasons={SMALL_BESIDE_LARGEST: int(beside.sum())}
            if beside.any() else {},
            inconclusive_indices=[tuple(int(i) for i in np.unravel_index(int(k), g.shape))
                                  for k in np.flatnonzero(beside.reshape(-1))[:5]],
            max_abs_error=float(judged_error.max()) if g.size else 0.0,
            max_rel_error=float(rel.max()) if g.size else 0.0,
            worst_index=worst, analytic=float(g[worst]) if worst is not None else float("nan"),
            numeric=float(g64[worst]) if worst is not None else float("nan"), numeric_error=0.0,
            tolerance=float(allowed[worst]) if worst is not None else 0.0, n_elements=int(g.size),
            n_failed=int(bad.sum()), error_ratio=float(np.where(judged, ratio_all, 0.0).max()) if g.size else 0.0,
            note=f"{dtype.name} {what} against the float64 {what} of the same rule (verified to "
                 f"{RULE_SHARE:.1%}): within {share:.2%} of max(|g|, RMS)")
    kinds = ", ".join(sorted({np.dtype(d).name for d in precisions.values()}))
    note = (f"{kinds} {what} judged against the rule's own float64 {what}, which is verified first "
            f"(\"{SUFFIX.strip(' ()')}\")")
    return GradientReport(results, "vs float64 rule", seed, 0, [note], [])


def not_judged(shapes: dict, precisions: dict, seed: int, what: str) -> GradientReport:
    """Step 1 FAILed: the low-precision run has no verified gradient to be compared with, and its
    direct check would spend the time budget on a verdict already FAIL. Each tensor INCONCLUSIVE."""
    reason = f"not judged: the rule's {what} is wrong in float64 (\"{SUFFIX.strip(' ()')}\"), fix that first"
    results = {name: ParameterResult.unchecked(name, name, tuple(shapes[name]), np.dtype(precisions[name]).name,
                                               reason, reason) for name in shapes}  # fmt: skip
    return GradientReport(results, "vs float64 rule", seed, 0, [], [])


def merged(first: GradientReport, second: GradientReport) -> GradientReport:
    """One report with both checks' results, notes, problems and evaluations."""
    return GradientReport({**first.results, **second.results}, first.method, first.seed,
                          first.n_evaluations + second.n_evaluations, first.notes + second.notes,
                          first.problems + second.problems, {**first.cost, **second.cost})  # fmt: skip
