"""Pins of group testing's pieces (group_testing.py) on stand-in problems whose projections are scripted
here: halves at row boundaries, even spreads, blocks, the |D| / T ratio, the "mostly wrong" rule, the
certification loop (clean / dirty / unresolved, and its draws), the initial cut by predicted rounding,
and the patterns followed from wrong elements (shared columns, blocks of wrong rows)."""

from types import SimpleNamespace

import numpy as np

from reference_nn.gradcheck import group_testing as gt
from reference_nn.gradcheck.projection import DIRECTIONS, LEAF_SIZE


def test_halves_cut_at_a_row_boundary_when_the_set_spans_rows():
    idx = np.arange(12)
    assert [h.tolist() for h in gt._halves(idx, 1)] == [list(range(6)), list(range(6, 12))], "a vector: the middle"
    # rows of 5: the middle element (6) is in row 1, which starts at 5
    assert [h.tolist() for h in gt._halves(idx, 5)] == [list(range(5)), list(range(5, 12))], "at row 1's start"
    # within one row (size <= row_length): the middle
    assert [h.tolist() for h in gt._halves(np.arange(3, 9), 8)] == [[3, 4, 5], [6, 7, 8]], "inside a row"
    # the middle element's row starts the set: no boundary inside, the middle is kept
    assert [h.tolist() for h in gt._halves(np.array([0, 1, 2, 3, 10]), 4)] == [[0, 1], [2, 3, 10]], "boundary 0"


def test_spread_and_blocks():
    assert gt._spread(np.arange(10, 20), 4).tolist() == [10, 13, 16, 19], "evenly, both ends"
    assert gt._spread(np.arange(3), 4).tolist() == [0, 1, 2], "all of them if fewer"
    assert [b.tolist() for b in gt._blocks(np.arange(7), 3)] == [[0, 1, 2], [3, 4, 5], [6]], "blocks of 3"
    assert [b.tolist() for b in gt._blocks(np.arange(2), 0)] == [[0], [1]], "size at least 1"


def test_ratio_and_mostly_wrong():
    assert gt._ratio(SimpleNamespace(discrepancy=-3.0, threshold=2.0)) == 1.5, "|D| / T"
    assert gt._ratio(SimpleNamespace(discrepancy=1e-290, threshold=0.0)) == 1e10, "T floored at 1e-300"
    out = gt.SearchOutcome(np.zeros(2, bool), np.zeros(2, bool))
    assert not gt._mostly_wrong(out), "nothing sampled"
    out.sampled, out.sample_failing = 24, 12
    assert not gt._mostly_wrong(out), "half is not most"
    out.sample_failing = 13
    assert gt._mostly_wrong(out), "more than half"


def test_unverified_is_neither_certified_estimated_nor_unresolvable():
    out = gt.SearchOutcome(np.array([True, False, False, False]), np.array([False, False, True, False]))
    problem = SimpleNamespace(values=np.array([np.nan, 1.0, np.nan, np.nan]))
    assert out.unverified(problem).tolist() == [False, False, False, True], out.unverified(problem)


class Scripted:
    """A stand-in TensorProblem: project() passes unless the set holds a wrong element (then |D| = 2 T),
    and is unresolved on sets larger than ``resolves``; predicted rounding grows with the set's size."""

    def __init__(self, n, wrong=(), resolves=10**9, rounding_per_element=0.0):
        self.n, self.wrong, self.resolves = n, set(wrong), resolves
        self.values = np.full(n, np.nan)
        self.rounding_per_element = rounding_per_element
        self.draws = []

    def project(self, idx, draw, generated_on=None):
        self.draws.append(draw)
        dirty = bool(self.wrong & set(int(i) for i in idx))
        return SimpleNamespace(passed=not dirty, resolved=idx.size <= self.resolves, discrepancy=2.0 if dirty else 0.5,
                               threshold=1.0, tight=not dirty, tight_threshold=1.0)  # fmt: skip

    def predicted_rounding(self, idx):
        return self.rounding_per_element * idx.size

    def tolerance_threshold(self, idx, size, tier="fail"):
        return 1.0


def test_certify_stops_at_the_first_dirty_or_unresolved_projection():
    status, _, draw = gt._certify(Scripted(40), np.arange(40), DIRECTIONS)
    assert (status, draw) == ("clean", DIRECTIONS - 1), "every direction passes: clean after the last"
    problem = Scripted(40, wrong=[3])
    status, projection, draw = gt._certify(problem, np.arange(40), DIRECTIONS)
    assert (status, draw, problem.draws) == ("dirty", 0, [0]), "the first failing direction ends it"
    status, _, draw = gt._certify(Scripted(40, resolves=20), np.arange(40), DIRECTIONS)
    assert (status, draw) == ("unresolved", 0), "an unresolved direction verifies nothing"


def test_initial_blocks_halve_until_rounding_is_below_half_the_threshold():
    # predicted rounding 0.01 per element against half a threshold of 1: blocks of at most 50 elements
    blocks = gt.initial_blocks(Scripted(200, rounding_per_element=0.01))
    assert sorted(b.size for b in blocks) == [50, 50, 50, 50], [b.size for b in blocks]
    assert np.array_equal(np.sort(np.concatenate(blocks)), np.arange(200)), "every index once"
    assert [b.size for b in gt.initial_blocks(Scripted(200))] == [200], "no rounding: one block"
    tiny = gt.initial_blocks(Scripted(LEAF_SIZE, rounding_per_element=10.0))
    assert [b.size for b in tiny] == [LEAF_SIZE], "a leaf is never cut"


def _outcome(n, failing, sampled=0, sample_failing=0):
    out = gt.SearchOutcome(np.zeros(n, bool), np.zeros(n, bool), failing=list(failing))
    out.sampled, out.sample_failing = sampled, sample_failing
    return out


def test_follow_patterns_extends_a_block_of_wrong_rows():
    # rows of 10; elements of rows 4-6 are wrong (every projection touching them fails); found: one in row 5
    problem = Scripted(100, wrong=range(40, 70))
    out = _outcome(100, [52])
    gt._follow_patterns(problem, out, 10)
    assert out.wrong_rows == [4, 5, 6] and out.wrong_columns == [], (out.wrong_rows, out.wrong_columns)


def test_follow_patterns_names_a_shared_column():
    problem = Scripted(100, wrong=[3, 13, 23])
    out = _outcome(100, [3, 13, 23])
    gt._follow_patterns(problem, out, 10)
    assert out.wrong_columns == [3], f"column 3 in three rows: {out.wrong_columns}"
    assert out.wrong_rows == [], "a column pattern: its rows are not followed"
    two = _outcome(100, [3, 13])
    gt._follow_patterns(Scripted(100, wrong=[3, 13]), two, 10)
    assert two.wrong_columns == [3] and two.wrong_rows == [0, 1], "two rows: followed (rows 0 and 1 only fail)"


def test_follow_patterns_skips_vectors_and_mostly_wrong_tensors():
    out = _outcome(100, [52])
    gt._follow_patterns(Scripted(100, wrong=range(40, 70)), out, 1)
    assert out.wrong_rows == [] and out.wrong_columns == [], "a vector"
    mostly = _outcome(100, [52], sampled=10, sample_failing=6)
    gt._follow_patterns(Scripted(100, wrong=range(40, 70)), mostly, 10)
    assert mostly.wrong_rows == [], "most sampled elements wrong: the fraction is the pattern"


def _search(wrong):
    """search() on a real 16 x 16 problem (complex step, exact to rounding) with the given elements 10% off."""
    from reference_nn.gradcheck.budget import Budget
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.projection import TensorProblem

    rng = np.random.default_rng(1)
    c, x = rng.normal(size=(16, 16)), rng.uniform(-1, 1, (16, 16))
    analytic = c * np.cos(x)
    for ij in wrong:
        analytic[ij] *= 1.1
    ev = LossEvaluator(lambda p: np.sum(c * np.sin(p["w"])), {"w": x}, np.float64)
    problem = TensorProblem(ev, "w", analytic, np.float64, "complex", None, 0.0, (0, 0))
    return problem, gt.search(problem, Budget(), 16)


def _settled(problem, out):
    return int(out.certified.sum() + np.isfinite(problem.values).sum())


def test_search_names_one_wrong_element_and_settles_every_other():
    problem, out = _search([(4, 9)])
    assert sorted(set(out.failing)) == [73] and out.wrong_rows == [4] and out.wrong_columns == [], out
    assert out.sampled == gt.SAMPLE_SIZE and out.sample_failing == 0 and out.rounds == 1, out
    assert _settled(problem, out) == 256 and out.exhausted is None and out.failing_sets == [], "nothing left over"


def test_search_names_a_wrong_row():
    problem, out = _search([(3, j) for j in range(16)])
    assert sorted(set(out.failing)) == list(range(48, 64)) and out.wrong_rows == [3], out
    assert _settled(problem, out) == 256 and out.wrong_columns == [], out


def test_search_names_a_wrong_column():
    problem, out = _search([(2, 5), (11, 5), (7, 5)])
    assert sorted(set(out.failing)) == [37, 117, 181] and out.wrong_columns == [5] and out.wrong_rows == [], out
    assert out.rounds == 3 and _settled(problem, out) == 256, "one bisection per wrong element (3 rows)"


class Graded(Scripted):
    """Every set passes, |D| / T shrinking with the set's first index (the sets are certified last block
    first: the closest comes last); resolution and share per set."""

    def project(self, idx, draw, generated_on=None):
        return SimpleNamespace(passed=True, resolved=True, discrepancy=(64 - idx[0]) / 100, threshold=1.0, tight=True,
                               tight_threshold=1.0)  # fmt: skip

    def resolution(self, idx, projection):
        return projection.discrepancy / 10

    def rms_share(self, idx, projection):
        return projection.discrepancy / 20


def test_a_clean_search_keeps_the_projection_closest_to_its_threshold():
    from reference_nn.gradcheck.budget import Budget

    # predicted rounding 1/32 per element against half a threshold of 1: four blocks of 16, each certified
    problem = Graded(64, rounding_per_element=1 / 32)
    out = gt.search(problem, Budget(), 1)
    assert out.certified.all() and out.failing == [], out
    assert out.closest.discrepancy == 0.64, f"the block from 0 has the largest |D| / T: {out.closest}"
    assert out.resolution == 0.064 and out.rms_share == 0.032, "the largest resolution and share over the sets"


def test_follow_patterns_stops_at_the_last_row_of_a_tall_matrix():
    # 300 rows of 2 (more than the 256 small ints Python caches: the bound must be compared by value)
    problem = Scripted(600, wrong=range(596, 600))
    out = _outcome(600, [599])
    gt._follow_patterns(problem, out, 2)
    assert out.wrong_rows == [298, 299], out.wrong_rows


class LooseAt(Scripted):
    """Every direction passes; the ones in ``loose`` only at T (not at the verification tier T_v)."""

    def __init__(self, n, loose):
        super().__init__(n)
        self.loose = set(loose)

    def project(self, idx, draw, generated_on=None):
        return SimpleNamespace(passed=True, resolved=True, discrepancy=0.1 * draw, threshold=1.0,
                               tight=draw not in self.loose, tight_threshold=0.5, draw=draw)  # fmt: skip


def test_a_clean_set_is_certified_to_its_weakest_test():
    status, projection, draw = gt._certify(LooseAt(40, []), np.arange(40), DIRECTIONS)
    assert (status, projection.draw, draw) == ("clean", DIRECTIONS - 1, DIRECTIONS - 1), "all tight: the last"
    status, projection, _ = gt._certify(LooseAt(40, [2, 5]), np.arange(40), DIRECTIONS)
    assert (status, projection.draw) == ("clean", 2), "the first test passed at T only sets the resolution"


class SecondDrawSees(Scripted):
    """Row 6 (of rows of 10) fails only the second direction of a test; the ``wrong`` elements fail every one."""

    def project(self, idx, draw, generated_on=None):
        if draw == 1 and set(range(60, 70)) & set(int(i) for i in idx):
            return SimpleNamespace(passed=False, resolved=True, discrepancy=2.0, threshold=1.0, tight=False,
                                   tight_threshold=1.0)  # fmt: skip
        return super().project(idx, draw, generated_on)


def test_an_extent_row_is_tested_by_two_directions():
    out = _outcome(100, [52])
    gt._follow_patterns(SecondDrawSees(100, wrong=range(50, 60)), out, 10)
    assert gt.EXTENT_DIRECTIONS == 2 and out.wrong_rows == [5, 6], f"row 6 fails the second direction: {out.wrong_rows}"


def test_one_wrong_element_in_the_sample_is_not_widespread():
    """40 scattered wrong elements of 32 x 32 (seeded): the sample of 24 finds one of them, fewer than
    MANY_WRONG = 2, so bisection rounds go on to MAX_ROUNDS (naming sparse errors), and every one is found."""
    from reference_nn.gradcheck.budget import Budget
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.projection import TensorProblem

    rng = np.random.default_rng(1)
    c, x = rng.normal(size=(32, 32)), rng.uniform(-1, 1, (32, 32))
    analytic = c * np.cos(x)
    wrong = np.random.default_rng(0).choice(1024, 40, replace=False)
    analytic.reshape(-1)[wrong] *= 1.1
    ev = LossEvaluator(lambda p: np.sum(c * np.sin(p["w"])), {"w": x}, np.float64)
    out = gt.search(TensorProblem(ev, "w", analytic, np.float64, "complex", None, 0.0, (0, 0)), Budget(), 32)
    assert (gt.MANY_WRONG, gt.MAX_ROUNDS) == (2, 8), "the constants this case is built around"
    assert out.sample_failing == 1 and out.rounds == 8, (out.sample_failing, out.rounds)
    assert sorted(set(out.failing)) == sorted(wrong.tolist()), "every wrong element named"


class Recording(Scripted):
    """Scripted, with element-wise estimates recorded (all right) and clean sets' resolution and share 0."""

    def __init__(self, n, wrong=()):
        super().__init__(n, wrong)
        self.estimated = []

    def estimate_elements(self, idx):
        self.estimated.extend(int(i) for i in idx)
        self.values[idx] = 0.0
        return np.zeros(idx.size, dtype=bool)

    def resolution(self, idx, projection):
        return 0.0

    def rms_share(self, idx, projection):
        return 0.0


def test_a_set_smaller_than_a_leaf_is_estimated_element_wise_without_projecting():
    from reference_nn.gradcheck.budget import Budget

    problem = Recording(LEAF_SIZE - 3)
    out = gt.search(problem, Budget(), 1)
    assert problem.draws == [], f"a set of {LEAF_SIZE - 3} < LEAF_SIZE was projected: draws {problem.draws}"
    assert problem.estimated == list(range(LEAF_SIZE - 3)) and out.failing == [], problem.estimated


def test_narrowing_stops_when_its_budget_of_sets_is_spent(monkeypatch):
    from reference_nn.gradcheck.budget import Budget

    # MAX_ROUNDS 0: a failing set is narrowed at once; NARROW_SETS 4: two narrowings (two halves each).
    # 1024 elements, wrong at 0 and 1023: halves of 512 (both fail), the second one's halves of 256
    # (768-1023 fails, 512-767 is certified), and then no budget is left: 768-1023 and 0-511 stay failing sets.
    monkeypatch.setattr(gt, "MAX_ROUNDS", 0)
    monkeypatch.setattr(gt, "NARROW_SETS", 4)
    problem = Recording(1024, wrong=[0, 1023])
    out = gt.search(problem, Budget(), 1)
    sets = [(int(s[0]), int(s[-1])) for s in out.failing_sets]
    assert sets == [(768, 1023), (0, 511)], f"failing sets {sets}"
    assert out.certified[512:768].all() and not out.certified[:512].any(), "the clean quarter certified, no more"


class ResolvesBelow(Recording):
    """Recording; a projection resolves sets of at most ``resolves`` elements, and an unresolved one says to
    shrink the set ``shrink`` times."""

    def __init__(self, n, resolves, shrink):
        super().__init__(n)
        self.resolves, self.shrink = resolves, shrink

    def project(self, idx, draw, generated_on=None):
        projection = super().project(idx, draw, generated_on)
        projection.shrink = self.shrink
        return projection


def test_an_unresolved_set_may_spend_the_whole_split_budget():
    from reference_nn.gradcheck.budget import Budget

    # 1024 elements, resolved only in sets of 16: shrink 64 gives 64 blocks of 16, 64 x DIRECTIONS = 512
    # projections, exactly SPLIT_PROJECTIONS: allowed (<=), and each block is then certified
    assert (gt.SPLIT_PROJECTIONS, DIRECTIONS) == (512, 8), "the constants this case is built around"
    problem = ResolvesBelow(1024, resolves=16, shrink=64)
    out = gt.search(problem, Budget(), 1)
    assert out.certified.all() and not out.unresolvable.any(), (out.certified.sum(), out.unresolvable.sum())
    one_more = ResolvesBelow(1040, resolves=16, shrink=65)  # 65 blocks: 520 projections, over the budget
    out = gt.search(one_more, Budget(), 1)
    assert out.unresolvable.all() and not out.certified.any(), (out.certified.sum(), out.unresolvable.sum())
