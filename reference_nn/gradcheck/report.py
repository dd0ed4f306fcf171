"""GradientReport: the verdict per parameter, a short table for people, a dict for machines."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


@dataclass
class ParameterResult:
    """The check of one parameter tensor.

    Errors are over the elements judged (kinks excluded). max_rel_error is |a - n| / scale with
    scale = max(|a|, |n|, RMS of the tensor's gradient) (see tolerances). worst_index is the element
    with the largest error-to-tolerance ratio, None when only a projection was computed
    (directional method, passing); analytic / numeric / tolerance are the values there.
    """

    name: str
    gradient_key: str
    shape: tuple
    dtype: str
    eval_dtype: str
    method: str
    step: float
    status: str
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

    @property
    def passed(self) -> bool:
        return self.status != FAIL

    def to_dict(self) -> dict:
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["worst_index"] = None if self.worst_index is None else list(self.worst_index)
        d["inconclusive_indices"] = [list(i) for i in self.inconclusive_indices]
        return {k: _json_number(v) for k, v in d.items()}


@dataclass
class GradientReport:
    """Result of check_gradients / check_layer: ``passed`` is False only for a real mismatch.

    inconclusive: some elements could not be judged (a kink of f, or f undefined nearby); they are
    listed per parameter and never count as failures.
    """

    results: dict[str, ParameterResult]
    method: str
    seed: int = 0
    n_evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    @property
    def inconclusive(self) -> bool:
        return any(r.n_inconclusive for r in self.results.values())

    @property
    def failed_parameters(self) -> list[str]:
        return [name for name, r in self.results.items() if not r.passed]

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
            "passed": self.passed,
            "inconclusive": self.inconclusive,
            "method": self.method,
            "seed": self.seed,
            "n_evaluations": self.n_evaluations,
            "failed_parameters": self.failed_parameters,
            "notes": list(self.notes),
            "parameters": {name: r.to_dict() for name, r in self.results.items()},
        }

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else f"FAILED ({', '.join(self.failed_parameters)})"
        if self.passed and self.inconclusive:
            verdict += " with inconclusive elements"
        head = (
            f"Gradient check {verdict}: method={self.method}, {self.n_evaluations} evaluations of f, seed={self.seed}"
        )
        columns = [
            "param",
            "status",
            "abs err",
            "rel err",
            "worst index",
            "analytic",
            "numeric",
            "method",
            "step",
            "dtype",
        ]
        rows = [columns] + [_row(r) for r in self.results.values()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        notes = [f"  note: {n}" for n in self.notes]
        notes += [f"  {r.name}: {r.note}" for r in self.results.values() if r.note]
        return "\n".join([head, *table, *notes])

    def __repr__(self) -> str:
        return f"<GradientReport passed={self.passed} inconclusive={self.inconclusive} params={list(self.results)}>"


def _row(r: ParameterResult) -> list[str]:
    status = r.status.upper() if r.status == FAIL else r.status
    if r.n_inconclusive:
        status += f" ({r.n_inconclusive} inconclusive)" if r.status != INCONCLUSIVE else f" ({r.n_inconclusive})"
    index = "-" if r.worst_index is None else str(r.worst_index)
    return [
        r.name,
        status,
        f"{r.max_abs_error:.2e}",
        f"{r.max_rel_error:.2e}",
        index,
        f"{r.analytic:.6g}",
        f"{r.numeric:.6g}",
        r.method,
        f"{r.step:.1e}",
        r.dtype,
    ]


def _json_number(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v
