"""A hint at what a failing tensor's error looks like, as a person would describe it.

    diagnose(analytic, numeric, failed) -> "every element x 8: the batch size? a missing 1/m" or ""

analytic, numeric: the tensor's hand-written and numerical gradients (same shape); failed: boolean
mask of the failing elements (same shape). The hint is a guess from the pattern of the numbers, never
a verdict, and the report marks it as such. Patterns, most specific first: all zeros; one constant
factor between the two (sign flip, factor 2 or 1/2, an integer such as the batch size, or any other
constant); the transpose of the right matrix; only the diagonal right; one element, one row or one
column wrong.
"""

from __future__ import annotations

import numpy as np

from . import tolerances as tol

# How closely a pattern must fit to be named: residual / size of the numbers. A real pattern (a
# missing 1/m, a transpose) fits to the rounding of the gradient (1e-7 in float32); 1e-3 leaves room
# for the tolerance-level noise of the numerical side and rejects a coincidental fit among 2+ values.
FIT = 1e-3
# How close to an integer a factor must be to be called one (a batch size): a missing 1/m is exact
# to the gradient's rounding (k * 1e-7 in float32, 4e-4 at a batch of 4096), while FIT * k alone grows
# with k until every factor above ~500 counts as an integer (QA: 777.3 was hinted "777 = the batch size").
INTEGER_SLACK = 0.01


def diagnose(analytic: np.ndarray, numeric: np.ndarray, failed: np.ndarray) -> str:
    """See the module docstring; "" when no pattern is recognised."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if not (np.all(np.isfinite(n)) and failed.any()):
        return ""
    size = tol.finite_norm(n)
    if size == 0.0:
        return ""
    if not a.any():
        return "every element is 0: the gradient is never computed, or not accumulated into this array?"
    for hint in (_constant_factor(a, n, size), _transposed(a, n, size), _diagonal_only(a, n, failed, size)):
        if hint:
            return hint
    return _where(failed)


def _constant_factor(a, n, size) -> str:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        c = float(np.sum(a * n) / np.sum(n * n))
    if not np.isfinite(c) or c == 0.0:  # garbage (1e252, a subnormal): no factor worth naming
        return ""
    if tol.finite_norm(a - c * n) > FIT * size * max(1.0, abs(c)) or abs(c - 1.0) <= FIT:
        return ""
    nonzero = int(np.count_nonzero(n))
    if nonzero < 2 and not _nice(c):  # one number is always "a constant factor" of another
        return ""
    every = "every element" if nonzero >= 2 else "the element"
    sign = "sign flipped and " if c < 0 else ""
    k = abs(c)
    if abs(c + 1.0) <= FIT:
        return f"{every} has the wrong sign (x -1): a sign flipped, e.g. Y - A for A - Y?"
    if abs(k - 2.0) <= 2 * FIT:
        return f"{sign}{every} x 2: a factor of 2 (the derivative of x**2 / 2 taken as 2x, or the loss's 1/2 dropped)?"
    if abs(k - 0.5) <= FIT:
        return f"{sign}{every} x 1/2: a factor of 2 missing (d(x**2) = 2x dx)?"
    if k > 2 and _near_integer(k, min(FIT * k, INTEGER_SLACK)):
        m = round(k)
        return f"{sign}{every} x {m}: {m} = the batch size? a missing 1/m"
    if k < 0.5 and _near_integer(1 / k, min(FIT / k, INTEGER_SLACK)):
        m = round(1 / k)
        return f"{sign}{every} x 1/{m}: {m} = the batch size? 1/m applied twice (in dZ and again in dW)?"
    return f"{sign}{every} x {c:.4g}: a constant factor (a scale or normalization missing or applied twice?)"


def _nice(c: float) -> bool:
    """A ratio worth naming even for a single element: -1, 2, 1/2, an integer or 1/integer."""
    k = abs(c)
    return any(abs(k - r) <= FIT * max(1.0, r) for r in (1.0, 2.0, 0.5)) or (
        k > 2 and _near_integer(k, min(FIT * k, INTEGER_SLACK))) or (
        k < 0.5 and _near_integer(1 / k, min(FIT / k, INTEGER_SLACK)))  # fmt: skip


def _near_integer(x: float, slack: float) -> bool:
    """x lies within slack of an integer; False for inf (1 / a subnormal factor overflows, and
    round(inf) raises OverflowError: fuzz finding 16)."""
    return bool(np.isfinite(x)) and abs(x - round(x)) <= slack


def _transposed(a, n, size) -> str:
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
        return ""
    symmetric = tol.finite_norm(n - n.T) <= FIT * size
    if not symmetric and tol.finite_norm(a - n.T) <= FIT * size:
        return "the gradient is the transpose of the right one: W.T for W, or the product in the wrong order?"
    return ""


def _diagonal_only(a, n, failed, size) -> str:
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
        return ""
    diagonal = np.eye(a.shape[0], dtype=bool)
    # most off-diagonal elements wrong, every diagonal one right: one wrong off-diagonal element is
    # "one element wrong", not a dropped Jacobian
    if not failed[diagonal].any() and failed[~diagonal].mean() >= 0.5 and failed[~diagonal].sum() >= 2:
        return ("only the diagonal is right: the off-diagonal terms of a Jacobian dropped (an element-wise "
                "derivative used where outputs are coupled, as in softmax)?")  # fmt: skip
    return ""


def _where(failed: np.ndarray) -> str:
    count = int(failed.sum())
    where = np.argwhere(failed)
    if count == 1 and failed.size > 1:  # (a one-element tensor: "the rest agree" would say nothing)
        return f"one element wrong, {tuple(int(i) for i in where[0])}; the rest agree: an indexing slip?"
    if failed.ndim == 2 and failed.shape[0] > 1 and len(set(where[:, 0])) == 1:
        return f"only row {int(where[0, 0])} is wrong ({count} elements): one unit's or one output's term?"
    if failed.ndim == 2 and failed.shape[1] > 1 and len(set(where[:, 1])) == 1:
        return f"only column {int(where[0, 1])} is wrong ({count} elements): one input's or one sample's term?"
    return ""
