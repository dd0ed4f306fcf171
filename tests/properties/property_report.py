"""Failure reports of the property suite: what a person needs to act on a red test.

Every property failure raises ``AssertionError(report)`` where the report names the property, the
model (``ModelExample.describe()``: dims, activations, loss, l2, optimizer, dtype, batch, weight
scale), the oracle and its version, the dtype and shapes, the worst element (parameter, index, both
values, absolute and relative error, tolerance), how many elements fail, and a line of Python that
rebuilds the example. Hypothesis adds the falsifying example and the ``@reproduce_failure`` blob.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equivalence_tests.strategies import ModelExample


@dataclass(frozen=True)
class Mismatch:
    """The worst element of one compared quantity, and how many elements are out of tolerance."""

    name: str  # "gradient W2", "forward", "cost", ...
    index: tuple[int, ...]
    expected: float
    actual: float
    abs_error: float
    rel_error: float
    tolerance: float
    n_failed: int
    n_elements: int

    @property
    def failed(self) -> bool:
        return self.n_failed > 0

    def describe(self, expected_label: str, actual_label: str) -> str:
        index = f"[{', '.join(str(i) for i in self.index)}]" if self.index else ""
        return (
            f"{self.name}{index}: {expected_label} {self.expected:.17g}, {actual_label} {self.actual:.17g}, "
            f"abs err {self.abs_error:.3g}, rel err {self.rel_error:.3g}, tolerance {self.tolerance:.3g} "
            f"({self.n_failed} of {self.n_elements} elements out of tolerance)"
        )


def worst_mismatch(name: str, expected, actual, tolerance) -> Mismatch:
    """Compare element-wise: ``|actual - expected| <= tolerance`` (arrays of one shape, or scalars).

    The worst element is the one with the largest error-to-tolerance ratio. NaN anywhere fails."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if expected.shape != actual.shape:
        raise AssertionError(f"{name}: shapes differ, expected {expected.shape}, got {actual.shape}")
    tolerance = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), expected.shape)
    error = np.abs(actual - expected)
    error = np.where(np.isnan(error), np.inf, error)
    ratio = error / np.where(tolerance > 0, tolerance, np.finfo(np.float64).tiny)
    ratio = np.where(error == 0, 0.0, ratio)
    flat = int(np.argmax(ratio)) if ratio.size else 0
    index = tuple(int(i) for i in np.unravel_index(flat, expected.shape)) if expected.ndim else ()
    scale = max(abs(float(expected.flat[flat])), abs(float(actual.flat[flat]))) if expected.size else 0.0
    abs_error = float(error.flat[flat]) if error.size else 0.0
    return Mismatch(
        name=name,
        index=index,
        expected=float(expected.flat[flat]) if expected.size else 0.0,
        actual=float(actual.flat[flat]) if actual.size else 0.0,
        abs_error=abs_error,
        rel_error=abs_error / scale if scale > 0 else (0.0 if abs_error == 0 else np.inf),
        tolerance=float(tolerance.flat[flat]) if tolerance.size else 0.0,
        n_failed=int(np.count_nonzero(error > tolerance)),
        n_elements=int(expected.size),
    )


def failure_report(
    prop: str,
    example: ModelExample | None,
    headline: str,
    details: list[str],
    oracle: str = "",
    reproduce_call: str = "",
) -> str:
    """The text of one property failure (see the module docstring)."""
    lines = [f"property {prop!r} failed: {headline}"]
    if example is not None:
        lines += [
            f"  model:      {example.describe()}",
            f"  dtype:      {example.config.dtype}",
            f"  shapes:     {example.shapes()}",
        ]
    if oracle:
        lines.append(f"  oracle:     {oracle}")
    lines += [f"  {line}" for line in details]
    if example is not None:
        lines.append(f"  reproduce:  {example.recipe.reproducer()}")
        if reproduce_call:
            lines.append(f"              {reproduce_call}")
    return "\n".join(lines)


def assert_no_mismatch(prop: str, example: ModelExample | None, mismatches: list[Mismatch], expected_label: str,
                       actual_label: str, oracle: str = "", reproduce_call: str = "",
                       extra: list[str] | None = None) -> None:
    """Raise AssertionError with a report if any of ``mismatches`` failed; the worst first."""
    failed = sorted((m for m in mismatches if m.failed), key=lambda m: -m.abs_error / max(m.tolerance, 1e-300))
    if not failed:
        return
    worst = failed[0]
    details = [f"worst:      {worst.describe(expected_label, actual_label)}"]
    details += [f"also:       {m.describe(expected_label, actual_label)}" for m in failed[1:6]]
    if len(failed) > 6:
        details.append(f"            ... and {len(failed) - 6} more quantities out of tolerance")
    details += extra or []
    headline = f"{worst.name} differs between {expected_label} and {actual_label}"
    raise AssertionError(failure_report(prop, example, headline, details, oracle, reproduce_call))
