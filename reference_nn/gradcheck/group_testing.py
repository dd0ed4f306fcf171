"""Group testing on one gradient tensor: certify it with a few projections, and where a projection
disagrees, split the set and follow the half that disagrees, down to the wrong element.

Sets are arrays of the tensor's flat (C-order) indices, halved at a row boundary where they span
whole rows. Elements estimated element-wise are left out of every later projection. A set

* of at most LEAF_SIZE elements is estimated element by element;
* passing DIRECTIONS projections is certified (projection.py gives the miss probability);
* with an unresolved projection is cut into blocks small enough to resolve;
* failing a projection is *bisected* with that same direction: the left half is measured (one
  evaluation), the right half's discrepancy is the parent's minus the left's (projections are
  linear in the direction), and the half further beyond its threshold is followed, down to one
  element, which is then estimated element-wise (found: ~log2(n) evaluations). The set, less what
  was estimated, goes back to be certified again: every wrong element costs about
  log2(n) + DIRECTIONS evaluations (k wrong elements: O(k log n)).

A failing set of at most FINISH_SIZE elements is estimated element by element. In a matrix, the
row of a wrong element found by bisection is then set apart from the rest (one failing set for a
wrong row instead of a bisection per element). After the first wrong element of a larger set,
SAMPLE_SIZE random elements of the rest are estimated: where many are wrong, that names enough of
them and measures the fraction; bisection rounds then stop. With few wrong, rounds go on up to
MAX_ROUNDS. A set still failing then is *narrowed*: its halves are certified, the failing halves
halved again down to one row (at most NARROW_SETS sets), so that after a FAIL the elements outside
the failing blocks are still certified. Finally, for a matrix, the rows (and shared columns) of the
wrong elements are followed as sets to their extent (a block of rows).
Everything stops when the check's Budget is spent; what is left is unverified, never passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .budget import Budget, BudgetExhausted
from .projection import DIRECTIONS, LEAF_SIZE, Projection, TensorProblem

MAX_ROUNDS = 8  # bisections per tensor: names up to 8 sparse wrong elements, ~8 * (log2 n + 8) evaluations
SAMPLE_SIZE = 24  # the fraction of wrong elements to about +-20% (binomial), 24 evaluations with complex step
MANY_WRONG = 2  # sampled wrong elements (of SAMPLE_SIZE) from which errors count as widespread
EXTENT_DIRECTIONS = 2  # a row or column with no error seen by 2 projections ends an extent
EXTENT_TESTS = 64  # row / column tests per tensor when following a pattern
# A failing set this small is finished element by element (at most 64 evaluations with complex
# step: about what naming one element by bisection and certifying the rest would cost) so that a
# small wrong tensor gets a verdict for every element instead of a sample.
FINISH_SIZE = 8 * LEAF_SIZE
# Elements per tensor that may be estimated element by element because projections cannot resolve
# them (real differences of a loss whose gradients are tiny next to its rounding: a projection over
# n elements resolves ~16 sqrt(n) times less than one element's difference). Beyond it they are
# INCONCLUSIVE ("error bound too large"): element-wise would cost 12 evaluations per element
# (2.8 million for a 235k-parameter autoencoder: the 17-minute check this default replaces), which
# method="elementwise" still does on request. 512 elements: 6k evaluations at most with Richardson.
FALLBACK_ELEMENTS = 512
# Likewise, projections spent certifying the smaller blocks an unresolved set is cut into, per
# tensor: 512 (6k evaluations with Richardson). The autoencoder above needed ~6000 blocks of ~40
# elements (600k evaluations): beyond the cap its elements are INCONCLUSIVE at once.
SPLIT_PROJECTIONS = 512
# Sets a failing set may be narrowed into (halves, at row boundaries) once bisection has named what it
# will name: halves that pass are certified, failing ones are followed down to one row. One wrong
# row of a 1M tensor costs ~2 log2(rows) ~ 20 sets; widespread errors stop here, the rest counted
# "in a set that failed a projection" (never passed).
NARROW_SETS = 64
# Elements of a failing row (the row of a wrong element found by bisection) estimated element-wise,
# spread along it: a wrong row is then reported with several confirmed elements (48 evaluations with
# Richardson), not as one element wrong and the rest unverified.
ROW_CONFIRM = 4


@dataclass
class SearchOutcome:
    """What group testing established about one tensor (flat indices)."""

    certified: np.ndarray  # (n,) bool: in a set passed by DIRECTIONS projections
    unresolvable: np.ndarray  # (n,) bool: projections cannot resolve them, element-wise budget spent
    failing: list = field(default_factory=list)  # flat indices failing the preliminary element verdict
    failing_sets: list = field(default_factory=list)  # index arrays that failed a projection, left there
    sampled: int = 0
    sample_failing: int = 0
    wrong_rows: list = field(default_factory=list)  # rows that failed a projection as a set
    wrong_columns: list = field(default_factory=list)
    resolution: float = 0.0  # largest relative error a passing projection ruled out (0: none passed)
    rms_share: float = 0.0  # largest error a passing projection ruled out, as a share of the tensor's RMS
    closest: Projection | None = None  # the passing projection nearest its threshold (for the report)
    exhausted: str | None = None
    rounds: int = 0

    def unverified(self, problem: TensorProblem) -> np.ndarray:
        """(n,) bool: neither certified by projections nor estimated element-wise."""
        return ~self.certified & ~np.isfinite(problem.values) & ~self.unresolvable


def search(problem: TensorProblem, budget: Budget, row_length: int) -> SearchOutcome:
    """Certify, bisect, sample and follow patterns on ``problem`` (see the module docstring)."""
    out = SearchOutcome(np.zeros(problem.n, dtype=bool), np.zeros(problem.n, dtype=bool))
    fallback_left, split_left, narrow_left = FALLBACK_ELEMENTS, SPLIT_PROJECTIONS, NARROW_SETS
    # (indices, kind): "new" sets are bisected when they fail; a failing "row" (the rest of a row that
    # held a wrong element) or "narrow" set (a half of a set left failing) is not bisected again
    work: list[tuple[np.ndarray, str]] = [(block, "new") for block in initial_blocks(problem)]
    try:
        while work:
            idx, kind = work.pop()
            idx = idx[~np.isfinite(problem.values[idx])]
            if idx.size <= LEAF_SIZE:
                _estimate(problem, out, idx, budget)
                continue
            status, projection, draw = _certify(problem, idx, DIRECTIONS)
            if status == "clean":
                out.certified[idx] = True
                out.resolution = max(out.resolution, problem.resolution(idx, projection))
                out.rms_share = max(out.rms_share, problem.rms_share(idx, projection))
                if out.closest is None or _ratio(projection) > _ratio(out.closest):
                    out.closest = projection
                budget.advance(idx.size)
            elif status == "unresolved":
                size = math.ceil(idx.size / projection.shrink)
                blocks = math.ceil(idx.size / size)
                if size > LEAF_SIZE and blocks * DIRECTIONS <= split_left:
                    split_left -= blocks * DIRECTIONS
                    work.extend((block, kind) for block in _blocks(idx, size))
                elif idx.size <= fallback_left:
                    fallback_left -= idx.size
                    _estimate(problem, out, idx, budget)
                else:
                    out.unresolvable[idx] = True
            elif idx.size <= FINISH_SIZE:
                _estimate(problem, out, idx, budget)
            elif kind != "new" or out.rounds >= MAX_ROUNDS or (out.sampled and out.sample_failing >= MANY_WRONG):
                # narrowed: the halves that pass are certified, the failing ones followed down to a row
                if narrow_left >= 2 and idx.size > max(row_length, FINISH_SIZE) and not _mostly_wrong(out):
                    narrow_left -= 2
                    work.extend((half, "narrow") for half in _halves(idx, row_length))
                else:
                    if kind == "row":  # a few more of the row element-wise: "row 7", not "one element"
                        _estimate(problem, out, _spread(idx, ROW_CONFIRM), budget)
                    out.failing_sets.append(idx[~np.isfinite(problem.values[idx])])
            else:
                out.rounds += 1
                found = _bisect(problem, idx, projection, draw, row_length)
                if found is None:  # the failure did not survive splitting: look closer, in halves
                    work.extend((half, "new") for half in _halves(idx, row_length))
                    continue
                before = len(out.failing)
                _estimate(problem, out, found, budget)
                if len(out.failing) == before:  # right element-wise: rounding of a large set, not an error
                    out.rounds -= 1
                    work.extend((half, "new") for half in _halves(idx, row_length))
                    continue
                if out.sampled == 0:
                    _sample(problem, out, idx, budget)
                # the rest is certified again (or bisected again); in a matrix the wrong element's row
                # is set apart first: a wrong row then costs one failing set, not MAX_ROUNDS bisections
                row = found[0] // row_length
                in_row = (idx // row_length) == row
                if row_length > 1 and not in_row.all():
                    work.append((idx[in_row], "row"))
                    idx = idx[~in_row]
                work.append((idx, "new"))
        if out.failing:
            _follow_patterns(problem, out, row_length)
    except BudgetExhausted as stop:
        out.exhausted = stop.reason
    return out


def _mostly_wrong(out: SearchOutcome) -> bool:
    """Most sampled elements are wrong: certifying the rest in ever smaller halves would find little."""
    return out.sampled > 0 and out.sample_failing > out.sampled / 2


def initial_blocks(problem: TensorProblem) -> list[np.ndarray]:
    """All indices, cut (without evaluating anything) until each block's predicted rounding of a
    right gradient is below half its tolerance threshold: a right float32 gradient of a very large
    tensor then does not fail its first projections on rounding alone."""
    blocks, work = [], [np.arange(problem.n)]
    while work:
        idx = work.pop()
        if idx.size > LEAF_SIZE and problem.predicted_rounding(idx) > 0.5 * problem.tolerance_threshold(idx, idx.size,
                                                                                                       "verify"):
            work.extend(_blocks(idx, (idx.size + 1) // 2))
        else:
            blocks.append(idx)
    return blocks


def _certify(problem: TensorProblem, idx: np.ndarray, directions: int):
    """('clean' | 'dirty' | 'unresolved', last projection, its draw number)."""
    projection, loose = None, None
    for draw in range(directions):
        projection = problem.project(idx, draw)
        if not projection.passed:  # |D| > T >= E: an error, whatever the resolution
            return "dirty", projection, draw
        if not projection.resolved:
            return "unresolved", projection, draw
        loose = loose or (None if projection.tight else projection)
    # the set's resolution is its weakest test's: a test passed at T only (not at T_v) certifies to T's
    return "clean", loose or projection, directions - 1


def _bisect(problem: TensorProblem, idx: np.ndarray, failed: Projection, draw: int, row_length: int):
    """Follow the failing direction down to one element; None if neither half stays beyond its threshold."""
    generated_on, current = idx, failed
    while idx.size > 1:
        left, right = _halves(idx, row_length)
        measured = problem.project(left, draw, generated_on)
        inferred = problem.judge(right, generated_on.size, current.analytic - measured.analytic,
                                 current.numeric - measured.numeric, current.error + measured.error)
        candidates = [(p, half) for p, half in ((measured, left), (inferred, right)) if not p.passed]
        if not candidates:
            return None
        current, idx = max(candidates, key=lambda c: abs(c[0].discrepancy) / max(c[0].threshold, 1e-300))
    return idx


def _estimate(problem: TensorProblem, out: SearchOutcome, idx: np.ndarray, budget: Budget) -> None:
    fails = problem.estimate_elements(idx)
    out.failing.extend(int(i) for i in idx[fails])
    budget.advance(idx.size)


def _sample(problem: TensorProblem, out: SearchOutcome, idx: np.ndarray, budget: Budget) -> None:
    """SAMPLE_SIZE random elements of ``idx`` not yet estimated, element-wise (seeded)."""
    pool = idx[~np.isfinite(problem.values[idx])]
    rng = np.random.default_rng([*problem.seed, 7])
    for i in np.sort(rng.choice(pool, size=min(SAMPLE_SIZE, pool.size), replace=False)):
        failed = bool(problem.estimate_elements(np.array([i]))[0])  # one at a time: a budget stop keeps them
        out.sampled += 1
        out.sample_failing += failed
        out.failing.extend([int(i)] if failed else [])
    budget.advance(out.sampled)


def _follow_patterns(problem: TensorProblem, out: SearchOutcome, row_length: int) -> None:
    """For a matrix: the rows holding wrong elements, followed up and down while neighbouring rows
    fail a projection too (a block of rows), and a column shared by wrong elements of several rows."""
    if row_length <= 1 or (out.sampled and out.sample_failing > out.sampled / 2):
        return  # a vector, or most elements wrong: the sampled fraction is the pattern
    rows_total = problem.n // row_length
    failing = np.array(sorted(set(out.failing)))
    spent = [0]

    def fails(indices: np.ndarray) -> bool:
        indices = indices[~np.isfinite(problem.values[indices])]
        if indices.size == 0 or spent[0] >= EXTENT_TESTS:
            return False
        spent[0] += 1
        status, _, _ = _certify(problem, indices, EXTENT_DIRECTIONS)
        return status == "dirty"  # an unresolved row shows no error

    columns, counts = np.unique(failing % row_length, return_counts=True)
    shared = columns[(counts >= 2) & (len(np.unique(failing // row_length)) >= 2)]
    if shared.size <= row_length // 2:  # most columns "shared": whole rows are wrong, not a column
        out.wrong_columns.extend(int(column) for column in shared)
    rows = set(int(r) for r in failing // row_length)
    if out.wrong_columns and len(rows) > 2:
        return  # a column pattern: its rows are all "wrong", following them would say nothing more
    found = set(rows)
    for row in sorted(rows):
        for step in (-1, 1):
            r = row + step
            while 0 <= r < rows_total and r not in found and fails(np.arange(r * row_length, (r + 1) * row_length)):
                found.add(r)
                r += step
    out.wrong_rows = sorted(found)


def _ratio(projection: Projection) -> float:
    """|D| / T: how far a projection is from (or beyond) its threshold."""
    return abs(projection.discrepancy) / max(projection.threshold, 1e-300)


def _halves(idx: np.ndarray, row_length: int) -> list[np.ndarray]:
    """Two halves of idx, cut at a row boundary when idx spans more than a row."""
    mid = idx.size // 2
    if row_length > 1 and idx.size > row_length:
        rows = idx // row_length
        boundary = int(np.searchsorted(rows, rows[mid]))  # first element of the middle element's row
        if 0 < boundary < idx.size:
            mid = boundary
    return [idx[:mid], idx[mid:]]


def _spread(idx: np.ndarray, count: int) -> np.ndarray:
    """``count`` elements of idx spread evenly along it (all of them if fewer)."""
    return idx[np.unique(np.linspace(0, idx.size - 1, min(count, idx.size)).astype(np.int64))]


def _blocks(idx: np.ndarray, size: int) -> list[np.ndarray]:
    size = max(1, size)
    return [idx[a:a + size] for a in range(0, idx.size, size)]
