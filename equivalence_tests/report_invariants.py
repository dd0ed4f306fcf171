"""What a gradient report states, checked against the case's truth and against itself.

    problems = report_problems(case, report)     # [] when every statement holds; else one line each

For a fuzzed case (strategies_verdicts.Case, already run through its entry point so that its probe
holds every gradient the checker received), each ParameterResult with a worst element is read as a
set of claims, and each claim is checked by something other than the checker:

* the element: ``worst_index`` lies in the tensor; ``analytic`` is the value the user's code
  returned there (the probe's records: any call, since a float32 result's float64 twin reads the
  call on float64 copies);
* the arithmetic: ``error_ratio`` is |analytic - numeric| / tolerance there; it is <= 1 on a row
  with no failed element and > 1 on a FAIL row; ``max_abs_error`` is at least the error there;
  ``max_rel_error`` at least that error over max(|a|, |n|, RMS of the user's gradient) and at most 2;
  on a row with no failed element, ``max_abs_error`` is within CAP_BOUND of the largest value;
* the counts: failed + inconclusive <= elements, the reasons add up to the inconclusive count, the
  indices listed are inconclusive ones (at most 5, in the tensor), the status follows the counts;
* the truth (the torch float64 twin at the real point, ``case.chain.true_gradient``): where the
  number compared is a numerical estimate of a smooth loss (not a kink, tie or normalization case),
  it lies within its own stated error bound (times ESTIMATE_SAFETY, as the tolerance uses it) of the
  true derivative, up to the loss's own rounding (TRUTH_SLACK); and the worst element of a FAIL row
  is truly off by more than its tolerance less that bound;
* the report: its verdict follows its rows and problems, ``failed_parameters`` names exactly the FAIL
  rows, and its text shows every row's name and, for a FAIL, the values the reproducer line states.

Used by tests/gradcheck/test_verdict_corpus.py over a committed corpus of cases whose verdicts the
truth decides (tests/gradcheck/verdict_corpus.py builds it).
"""

from __future__ import annotations

import math

import numpy as np

from equivalence_tests.verdict_bugs import safe_rms
from reference_nn.gradcheck.tolerances import ESTIMATE_SAFETY

# A numerical estimate is compared with the float64 twin's derivative, not with the derivative of the
# loss the checker evaluated: that loss rounds (float32 inside: 6e-8 of |f| per evaluation; float64:
# 1e-16) and the checker's bound covers the estimate of *its* loss. The twin and the NumPy loss differ
# by their rounding, whose derivative the bound also covers only where the step resolves it, so the
# slack is 1e-6 of the element scale (max(|t|, RMS t)) for float32 arithmetic (~10 ulps) and 1e-12 for
# float64: 1e-10 (a loss scaled by 1e-290 measured 1.4e-12 between the NumPy estimate and the twin). Both
# are far below the 1% cap and every planted bug (>= 1%): a bound that claims 10x less than the estimate's
# true error shows wherever that error is above the slack.
TRUTH_SLACK = {"low": 1e-6, "float64": 1e-10}
TWO_STEP_SUFFIX = " (rule in float64)"
# A judged element that did not fail agrees within its tolerance, which is capped at the verified share
# (0.5% by default, tolerances.VERIFIED_SHARE) of max(|a|, |n|, RMS) <= the largest |value|: 2% leaves 4x.
CAP_BOUND = 0.02
# Both sides of a pair within this share of the case's largest true-gradient RMS, with a stated error of 0,
# read as the same zero: the checker's rounding-level zero is ZERO_ROUNDING_ULPS (32) ulps of G in the
# coarsest precision (float32: 3.8e-6 G); 1e-4 G also admits the float32 numerical side's rounding there.
SAME_ZERO = 1e-4


def tensor_key(case, name: str) -> str:
    """The model's key ("x", "W1", ...) of a report row's name ("input", "[2]", "ps[0] (rule in float64)")."""
    name = name.removesuffix(TWO_STEP_SUFFIX)
    names = list(case.params)
    if case.entry == "layer":
        return "x" if name == "input" else name
    if case.entry == "vjp":
        return "x" if name == "x" else names[int(name.removeprefix("ps[").rstrip("]"))]
    if case.entry in ("list", "grad_list"):
        return names[int(name.strip("[]"))]
    return name


def report_name(case, key: str) -> str:
    """The report row's name of model key ``key`` (tensor_key's inverse, without the suffix)."""
    names = list(case.params)
    if case.entry == "layer":
        return "input" if key == "x" else key
    if case.entry == "vjp":
        return "x" if key == "x" else f"ps[{names.index(key)}]"
    if case.entry in ("list", "grad_list"):
        return f"[{names.index(key)}]"
    return key


def _returned_values(case, key: str, index: tuple) -> list[float]:
    values = []
    for _point, _dout, returned in case.probe.records:
        g = np.asarray(returned[key])
        if g.shape and len(index) == g.ndim and all(0 <= i < s for i, s in zip(index, g.shape, strict=True)):
            values.append(float(g[index]))
        elif not g.shape and not index:
            values.append(float(g))
    return values


def _truth(case):
    """(truth by key at the real point, the case's precision class) from the first recorded call."""
    point, dout, _ = case.probe.records[0]
    params = {k: v for k, v in point.items() if k != "x"}
    return case.chain.true_gradient(point["x"], params, dout)


def row_problems(case, r, truth) -> list[str]:
    """The claims of one ParameterResult that do not hold (module docstring)."""
    out, name = [], r.name
    size = int(math.prod(r.shape))
    if r.n_failed + r.n_inconclusive > r.n_elements or r.n_elements != size:
        out.append(f"{name}: counts failed {r.n_failed} + inconclusive {r.n_inconclusive} of {r.n_elements} "
                   f"elements (tensor of {size})")  # fmt: skip
    if sum(r.inconclusive_reasons.values()) != r.n_inconclusive:
        out.append(f"{name}: reasons {r.inconclusive_reasons} do not add up to {r.n_inconclusive} inconclusive")
    unchecked = r.method == "-"  # ParameterResult.unchecked: no element was judged (f not deterministic)
    if len(r.inconclusive_indices) != (0 if unchecked else min(r.n_inconclusive, 5)):
        out.append(f"{name}: {len(r.inconclusive_indices)} inconclusive indices listed for {r.n_inconclusive}")
    expected_status = "FAIL" if r.n_failed else ("INCONCLUSIVE" if r.n_inconclusive else "PASS")
    if str(r.status) != expected_status:
        out.append(f"{name}: status {r.status} with {r.n_failed} failed, {r.n_inconclusive} inconclusive")
    if math.isnan(r.analytic):
        return out
    if r.worst_index is None:  # a projection summarises the tensor: the one closest to its threshold is shown
        return out + _projection_problems(r)
    index = tuple(r.worst_index)
    if len(index) != len(r.shape) or not all(0 <= i < s for i, s in zip(index, r.shape, strict=True)):
        return [*out, f"{name}: worst_index {index} outside shape {r.shape}"]
    if index in {tuple(i) for i in r.inconclusive_indices} and r.n_inconclusive < r.n_elements:
        out.append(f"{name}: worst_index {index} is listed inconclusive")
    key = tensor_key(case, name)
    returned = _returned_values(case, key, index)
    if r.analytic not in returned:
        out.append(f"{name}: analytic {r.analytic!r} at {index} is not what the code returned there ({returned[:3]})")
    error = abs(r.analytic - r.numeric)
    largest = max(safe_rms(np.asarray(t)) for t in truth.values())
    if r.max_abs_error == 0.0 and max(abs(r.analytic), abs(r.numeric)) <= SAME_ZERO * largest:
        error = 0.0  # both sides rounding-level: judged as the same zero (judge._within_cap, compare_gradients)
    if r.tolerance > 0 and math.isfinite(r.error_ratio):
        if not math.isclose(r.error_ratio, error / r.tolerance, rel_tol=1e-9, abs_tol=1e-300):
            out.append(f"{name}: error_ratio {r.error_ratio!r} != |a - n| / tol = {error / r.tolerance!r}")
        if (r.n_failed > 0) != (r.error_ratio > 1.0):
            out.append(f"{name}: error_ratio {r.error_ratio:.3g} with {r.n_failed} failed element(s)")
    if not (r.error_ratio >= 0 or math.isnan(r.error_ratio)):
        out.append(f"{name}: error_ratio {r.error_ratio!r} is negative")
    sizes = max(float(np.max(np.abs(truth[key]))), abs(r.analytic), abs(r.numeric), SAME_ZERO * largest / CAP_BOUND)
    if str(r.status) != "FAIL" and not r.max_abs_error <= CAP_BOUND * sizes:
        out.append(f"{name}: max_abs_error {r.max_abs_error!r} on a row with no failed element, beyond "
                   f"{CAP_BOUND} of its largest value {sizes:.3g}")  # fmt: skip
    if r.max_abs_error < error * (1 - 1e-12):
        out.append(f"{name}: max_abs_error {r.max_abs_error!r} below the error at the worst element {error!r}")
    # the scale is max(|a|, |n|, RMS of a, RMS of n) (tolerances.element_scale); the numerical estimate's
    # RMS is the truth's within the estimates' errors (<< 1% on the rows checked here)
    user = np.asarray(case.probe.records[0][2][key], dtype=np.float64)
    scale = max(abs(r.analytic), abs(r.numeric), safe_rms(user), safe_rms(np.asarray(truth[key])))
    # at kinks and through a centering a few estimates are far off, and a rounding-level pair's relative
    # error means nothing: there the element's own ratio is no lower bound
    sane = case.recipe.structure == "smooth" and max(abs(r.analytic), abs(r.numeric)) > SAME_ZERO * largest
    # 1.25: a large tensor's estimated elements are a subset (scale.py), whose RMS can exceed the whole's
    if scale > 0 and not (error / (1.25 * scale) if sane else 0.0) <= r.max_rel_error <= 2.0:
        out.append(f"{name}: max_rel_error {r.max_rel_error!r} vs {error / scale!r} at the worst element")
    out += _truth_problems(case, r, truth, key, index)
    return out


def _projection_problems(r) -> list[str]:
    """A PASS row certified by projections: its numbers are those of the projection closest to its
    threshold (analytic g.v, numeric estimate, threshold); they must say what the row says."""
    error, out = abs(r.analytic - r.numeric), []
    if str(r.status) != "PASS":
        out.append(f"{r.name}: no worst element on a {r.status} row")
    if not math.isclose(r.max_abs_error, error, rel_tol=1e-12, abs_tol=1e-300):
        out.append(f"{r.name}: max_abs_error {r.max_abs_error!r} != |g.v - estimate| = {error!r}")
    scale = max(abs(r.analytic), abs(r.numeric))
    if scale > 0 and not math.isclose(r.max_rel_error, error / scale, rel_tol=1e-12, abs_tol=1e-300):
        out.append(f"{r.name}: max_rel_error {r.max_rel_error!r} != {error / scale!r}")
    if not (r.tolerance > 0 and error <= r.tolerance and r.error_ratio <= 1.0):
        out.append(f"{r.name}: projection error {error:.3g} vs threshold {r.tolerance:.3g}, ratio {r.error_ratio!r}")
    elif not math.isclose(r.error_ratio, error / r.tolerance, rel_tol=1e-9, abs_tol=1e-300):
        out.append(f"{r.name}: error_ratio {r.error_ratio!r} != |g.v - estimate| / threshold = {error / r.tolerance!r}")
    return out


def _truth_problems(case, r, truth, key: str, index: tuple) -> list[str]:
    low = "float64" if case.chain.mode == "float64" else "low"
    t_all = np.asarray(truth[key], dtype=np.float64)
    t = float(t_all[index])
    slack = TRUTH_SLACK[low] * max(abs(t), safe_rms(t_all))
    out = []
    estimate = not r.method.startswith("vs ") and r.method != "-"
    smooth = case.recipe.structure == "smooth" and case.recipe.magnitude != "saturated"
    bound = ESTIMATE_SAFETY * r.numeric_error
    # a ReLU unit of a random point can sit within the step of its kink: the estimate then is of a
    # piecewise function (its FAIL rows are still checked against the truth below)
    differentiable = smooth and case.recipe.hidden != "relu"
    if estimate and differentiable and math.isfinite(bound) and abs(r.numeric - t) > bound + slack:
        out.append(f"{r.name}{list(index)}: numeric {r.numeric!r} is {abs(r.numeric - t):.3g} from the true "
                   f"{t!r}, beyond its stated bound {r.numeric_error:.3g} x {ESTIMATE_SAFETY}")  # fmt: skip
    if str(r.status) == "FAIL" and smooth and abs(r.analytic - t) <= r.tolerance - bound - slack:
        out.append(f"{r.name}{list(index)}: FAIL, but the code's {r.analytic!r} is within tolerance {r.tolerance:.3g} "
                   f"of the true {t!r}")  # fmt: skip
    return out


def report_problems(case, report) -> list[str]:
    """Every claim of ``report`` (checked on ``case``) that does not hold; [] when all do."""
    out = []
    truth = _truth(case) if case.probe.records else None
    for r in report.results.values():
        out += row_problems(case, r, truth) if truth is not None else []
    statuses = [str(r.status) for r in report.results.values()]
    expected = ("FAIL" if "FAIL" in statuses else
                "INCONCLUSIVE" if "INCONCLUSIVE" in statuses or report.problems else "PASS")  # fmt: skip
    if str(report.verdict) != expected:
        out.append(f"report: verdict {report.verdict} with rows {statuses} and problems {report.problems}")
    failed = [r.name for r in report.results.values() if str(r.status) == "FAIL"]
    if list(report.failed_parameters) != failed:
        out.append(f"report: failed_parameters {report.failed_parameters} != the FAIL rows {failed}")
    text = str(report)
    for r in report.results.values():
        if r.name not in text:
            out.append(f"report: the text does not show row {r.name!r}")
        stated = f"grad_f gives {r.analytic:.10g}"
        if str(r.status) == "FAIL" and r.worst_index is not None and stated not in report.reproducer:
            out.append(f"report: the reproducer of {r.name} does not state grad_f's {r.analytic:.10g}")
    if not report.problems:
        for r in report.results.values():
            for reason, count in r.inconclusive_reasons.items():
                if f"{r.name}: {count} of {r.n_elements} element(s) {reason}" not in report.reasons:
                    out.append(f"report: reasons {report.reasons} do not give {r.name}'s {count} {reason!r}")
    return out
