"""FrameworkReport: a GradientReport plus the contract checks of a framework's backward.

The verdict is the worst of the value check's and the contracts': a contract FAIL (a backward not
linear in its upstream gradient, one that mutates its input) is FAIL even where every value agreed,
an INCONCLUSIVE contract (a backward that is not deterministic) makes a passing check INCONCLUSIVE.
order=2 adds the backward's own derivative (second_order.py) as results named "NAME (order 2)".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..report import FAIL, INCONCLUSIVE, PASS, GradientReport, Verdict

ORDER_TWO = " (order 2)"


@dataclass
class ContractCheck:
    """One contract check: its name, verdict and what it found (the element and values on a FAIL)."""

    name: str
    status: Verdict
    message: str

    def to_dict(self) -> dict:
        return {"name": self.name, "status": str(self.status), "message": self.message}


@dataclass
class FrameworkReport(GradientReport):
    """GradientReport of check_torch / check_jax / check_tf: ``contracts`` holds the contract checks,
    ``framework`` the framework's name; results of order 2 are keyed "NAME (order 2)"."""

    contracts: list = field(default_factory=list)
    framework: str = ""

    @classmethod
    def from_report(cls, base: GradientReport, contracts: list, framework: str) -> FrameworkReport:
        return cls(dict(base.results), base.method, base.seed, base.n_evaluations, list(base.notes),
                   list(base.problems), dict(base.cost), list(contracts), framework)  # fmt: skip

    def add_second_order(self, second: GradientReport) -> None:
        renamed = {}
        for name, result in second.results.items():
            result.name = name + ORDER_TWO
            renamed[result.name] = result
        second.results = renamed
        second.problems = [p + ORDER_TWO for p in second.problems]
        second.notes = [f"order 2: {n}" for n in second.notes]
        self.add_results(second, "order 2")

    def add_results(self, other: GradientReport, label: str = "") -> None:
        """Another check's results (already named apart), problems, notes and cost join this report."""
        self.results.update(other.results)
        self.problems += other.problems
        self.notes += other.notes
        self.n_evaluations += other.n_evaluations
        if label:
            self.cost[label] = {"evaluations": other.n_evaluations}

    @property
    def verdict(self) -> Verdict:
        statuses = [c.status for c in self.contracts]
        base = super().verdict if self.results or self.problems else PASS
        if FAIL in statuses or base == FAIL:
            return FAIL
        if INCONCLUSIVE in statuses or base == INCONCLUSIVE:
            return INCONCLUSIVE
        return PASS

    @property
    def failed_parameters(self) -> list[str]:
        return super().failed_parameters + [f"contract: {c.name}" for c in self.contracts if c.status == FAIL]

    @property
    def reasons(self) -> list[str]:
        contract = [f"contract '{c.name}': {c.message}" for c in self.contracts if c.status == INCONCLUSIVE]
        return contract + super().reasons

    def headline(self) -> str:
        return f"[{self.framework}] " + super().headline()

    def __str__(self) -> str:
        lines = str(super().__str__()).split("\n")
        failing = [f"  contract FAIL ({c.name}): {c.message}" for c in self.contracts if c.status == FAIL]
        passed = [c.name for c in self.contracts if c.status == PASS]
        summary = [f"  contracts verified: {', '.join(passed)}"] if passed else []
        return "\n".join(lines[:1] + failing + lines[1:] + summary)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["framework"] = self.framework
        out["contracts"] = [c.to_dict() for c in self.contracts]
        out["failed_parameters"] = self.failed_parameters
        return out
