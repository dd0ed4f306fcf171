"""GradientReport: the verdict per parameter, a short table for people, a dict for machines.

The verdict contract:

* PASS: every element of every tensor with a gradient was verified within a stated tolerance by a
  method whose own error bound is below that tolerance. ``report.passed`` is True only then.
* FAIL: at least one element is wrong; the report names the parameter, the element and both values
  (and, where the pattern suggests one, a diagnosis hint, marked as a guess).
* INCONCLUSIVE: no wrong element was found but some were not verified; ``report.inconclusive`` is
  True and ``report.reasons`` says why (f or grad_f not deterministic, elements at a kink, an error
  bound too large for this loss, f not finite nearby).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum


class Verdict(str, Enum):
    """The verdict of a report or of one tensor: its value is the word printed (and it equals that
    string: ``report.verdict == "PASS"``). A str-Enum rather than StrEnum: Python 3.10 is supported."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


PASS = Verdict.PASS
FAIL = Verdict.FAIL
INCONCLUSIVE = Verdict.INCONCLUSIVE

# Why elements were not verified (keys of ParameterResult.inconclusive_reasons, and in JSON).
NOT_DETERMINISTIC = "not deterministic"
AT_KINK = "at a kink"
BOUND_TOO_LARGE = "error bound too large for this loss"
NOT_FINITE = "f not finite nearby"
# An agreeing element proves less than the cap (tolerances.VERIFIED_SHARE) and the floors of its
# tolerance are what keep it from failing: f's rounding at the precision f computes in (the loss
# floor, 100 ulps of |f| per unit step), or the largest gradients' rounding (the cross-tensor floor:
# this tensor's gradients are tiny beside them)
FLOOR_TOO_LARGE = "tolerance floor too large for this loss (its rounding beside gradients this small)"
SMALL_BESIDE_LARGEST = "tolerance floor too large for this tensor (its gradients far below the largest ones)"


@dataclass
class ParameterResult:
    """The check of one parameter tensor.

    Errors are over the elements judged (inconclusive ones excluded). max_rel_error is |a - n| /
    scale with scale = max(|a|, |n|, RMS of the tensor's gradient) (see tolerances); error_ratio is
    the largest |a - n| / tolerance (<= 1 for a verified tensor). worst_index is the element with
    the largest error-to-tolerance ratio, None when only a projection was computed (directional
    method, passing); analytic / numeric / tolerance are the values there. Counts: n_elements =
    n_verified + n_inconclusive + n_failed; inconclusive_reasons maps a reason to its count.
    hint: a guess at what the error looks like (set only on a failing tensor).
    tolerance_rms_share: see the field's comment (projections only).
    """

    name: str
    gradient_key: str
    shape: tuple
    dtype: str
    eval_dtype: str
    method: str
    step: float
    status: Verdict
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple | None
    analytic: float
    numeric: float
    numeric_error: float
    tolerance: float
    n_elements: int
    n_failed: int = 0
    n_inconclusive: int = 0
    inconclusive_indices: list = field(default_factory=list)
    n_evaluations: int = 0
    note: str = ""
    error_ratio: float = 0.0
    inconclusive_reasons: dict = field(default_factory=dict)
    hint: str = ""
    # The per-element tolerance stated for the elements certified by projections, as a share of the
    # tensor's gradient RMS (the measured resolution, <= projection.MAX_RMS_SHARE); nan: none were.
    tolerance_rms_share: float = math.nan

    @property
    def n_verified(self) -> int:
        return self.n_elements - self.n_failed - self.n_inconclusive

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @classmethod
    def unchecked(cls, name: str, gradient_key: str, shape: tuple, dtype: str, reason: str, note: str):
        """A tensor none of whose elements was judged (for instance f is not deterministic)."""
        size = int(math.prod(shape))
        return cls(name, gradient_key, tuple(shape), dtype, "-", "-", math.nan, INCONCLUSIVE, math.nan, math.nan,
                   None, math.nan, math.nan, math.nan, math.nan, size, 0, size, [], 0, note, math.nan,
                   {reason: size})  # fmt: skip

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = str(self.status)
        d["shape"] = list(self.shape)
        d["worst_index"] = None if self.worst_index is None else list(self.worst_index)
        d["inconclusive_indices"] = [list(i) for i in self.inconclusive_indices]
        d["n_verified"] = self.n_verified
        d["hint"] = self.hint or None
        return {k: _json_number(v) for k, v in d.items()}


@dataclass
class GradientReport:
    """Result of check_gradients / check_layer; see the module docstring for the verdict contract.

    notes: remarks about the whole check; problems: report-level reasons nothing could be verified
    (f or grad_f not deterministic), which make the verdict INCONCLUSIVE.
    """

    results: dict[str, ParameterResult]
    method: str
    seed: int = 0
    n_evaluations: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cost: dict = field(default_factory=dict)  # {"determinism": {"evaluations": .., "seconds": ..}, ...}

    @property
    def verdict(self) -> Verdict:
        statuses = [r.status for r in self.results.values()]
        if FAIL in statuses:
            return FAIL
        if self.problems or INCONCLUSIVE in statuses:
            return INCONCLUSIVE
        return PASS

    @property
    def passed(self) -> bool:
        """True only if every element of every tensor was verified (verdict PASS)."""
        return self.verdict == PASS

    @property
    def failed(self) -> bool:
        """True if some element is wrong (verdict FAIL)."""
        return self.verdict == FAIL

    @property
    def inconclusive(self) -> bool:
        """No wrong element found, but some elements were not verified (verdict INCONCLUSIVE)."""
        return self.verdict == INCONCLUSIVE

    @property
    def failed_parameters(self) -> list[str]:
        return [name for name, r in self.results.items() if r.status == FAIL]

    @property
    def reasons(self) -> list[str]:
        """Why elements were not verified: report-level problems, then one line per tensor."""
        lines = list(self.problems)
        if not self.problems:
            for name, r in self.results.items():
                for reason, count in r.inconclusive_reasons.items():
                    lines.append(f"{name}: {count} of {r.n_elements} element(s) {reason}")
        return lines

    def __getitem__(self, name: str) -> ParameterResult:
        return self.results[name]

    @property
    def reproducer(self) -> str:
        """Code that reproduces the check and shows the worst failing element, for a bug report."""
        lines = [f"report = check_gradients(f, grad_f, params, method={self.method!r}, seed={self.seed})"]
        for name, r in self.results.items():
            if r.status == FAIL and r.worst_index is not None:
                method = r.method.split("(")[-1].rstrip(")").split("->")[-1].strip()
                lines.append(
                    f"numerical_gradient(f, params, method={method!r})[{name!r}][{r.worst_index}]"
                    f"  # expect {r.numeric:.10g}, grad_f gives {r.analytic:.10g}"
                )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready (json.dumps with allow_nan=False works): plain floats, lists, str, None."""
        return {
            "verdict": str(self.verdict),
            "passed": self.passed,
            "inconclusive": self.inconclusive,
            "reasons": self.reasons,
            "method": self.method,
            "seed": self.seed,
            "n_evaluations": self.n_evaluations,
            "failed_parameters": self.failed_parameters,
            "notes": list(self.notes),
            "cost": {k: {kk: _json_number(vv) for kk, vv in v.items()} for k, v in self.cost.items()},
            "parameters": {name: r.to_dict() for name, r in self.results.items()},
        }

    def headline(self) -> str:
        verdict = self.verdict
        if verdict == FAIL:
            what = f"FAIL ({', '.join(self.failed_parameters)})"
        elif verdict == INCONCLUSIVE:
            unverified = sum(r.n_inconclusive for r in self.results.values())
            what = f"INCONCLUSIVE (no wrong element found; {unverified} element(s) not verified)"
        else:
            what = "PASS (every element verified)"
        return f"Gradient check {what}: method={self.method}, {self.n_evaluations} evaluations of f, seed={self.seed}"

    def __str__(self) -> str:
        columns = ["param", "verdict", "verified", "err/tol", "worst index", "analytic", "numeric", "method", "dtype"]
        rows = [columns] + [_row(r) for r in self.results.values()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines = [self.headline(), *table]
        lines += [f"  INCONCLUSIVE: {reason}" for reason in self.reasons]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  {', '.join(names)}: {part}" for part, names in _grouped_notes(self.results).items()]
        lines += [f"  {r.name}: hint (a guess from the pattern, not a verdict): {r.hint}"
                  for r in self.results.values() if r.hint]  # fmt: skip
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<GradientReport verdict={self.verdict} params={list(self.results)}>"


def _grouped_notes(results: dict) -> dict[str, list[str]]:
    """Each distinct note part ("; "-separated) once, with the tensors it applies to: a reason that
    holds for every tensor (complex step not used) is one line, not one per tensor."""
    grouped: dict[str, list[str]] = {}
    for r in results.values():
        for part in filter(None, r.note.split("; ")):
            grouped.setdefault(part, []).append(r.name)
    return grouped


def _row(r: ParameterResult) -> list[str]:
    """err/tol: the worst error over its tolerance among the judged elements (<= 1 where verified),
    so a passing row never shows a number that reads as a failure."""
    verified = f"{r.n_verified}/{r.n_elements}"  # the inconclusive ones are counted in report.reasons
    index = "-" if r.worst_index is None else str(r.worst_index).replace(" ", "")
    ratio = "-" if math.isnan(r.error_ratio) else f"{r.error_ratio:.2g}"
    values = ["-", "-"] if math.isnan(r.analytic) else [f"{r.analytic:.6g}", f"{r.numeric:.6g}"]
    return [r.name, str(r.status), verified, ratio, index, *values, r.method, r.dtype]


def _json_number(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v
