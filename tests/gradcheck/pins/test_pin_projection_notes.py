"""Pins of what a projection check reports (scale.py), by the report a person reads: the order of the
worst elements, the miss probability stated for a PASS, and the count of elements a note says were
verified when the floors leave projections too coarse (mutation-testing survivors of issue 26)."""

import re

import numpy as np

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_gradients
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.budget import Budget
from reference_nn.gradcheck.evaluation import LossEvaluator
from reference_nn.gradcheck.projection import TensorProblem
from reference_nn.gradcheck.scale import unresolvable_advice

N = 64
rng = np.random.default_rng(3)
G = rng.choice([-1.0, 1.0], N) * rng.uniform(0.5, 1.5, N)
G[50] = 1000.0  # its tolerance is relative to |1000|, ~8x the others' (relative to the RMS, ~125)
X = rng.uniform(-0.9, 0.9, N)


def linear(p):
    return np.sum(G * p["w"])


def test_the_worst_elements_are_listed_by_error_over_tolerance():
    """Errors 0.01 at element 50 (|g| = 1000: about 80 of its tolerances), 3e-3 at 30 and 1e-3 at 10 (about
    200 and 70 tolerances of an RMS-sized element): worst first by error / tolerance, (30, 50, 10), which is
    neither index order, nor error order (50, 30, 10), nor the reverse, nor any order of error ** tolerance."""
    wrong = G.copy()
    wrong[50] += 0.01
    wrong[30] += 3e-3
    wrong[10] += 1e-3
    report = check_gradients(linear, lambda p: {"w": wrong.copy()}, {"w": X.copy()}, method="projection")
    assert report.verdict == FAIL and report["w"].passed is False, f"three planted errors\n{report}"
    assert "3 wrong element(s) confirmed element-wise, worst (30,), (50,), (10,)" in report["w"].note, (
        f"worst first by error / tolerance: note {report['w'].note!r}")


def test_more_than_six_runs_of_wrong_elements_are_counted():
    """Eight isolated wrong elements of a vector: the note lists the first six runs and says how many there
    are, "... (8 runs)" (scale._ranges_text, most=6)."""
    wrong = G.copy()
    for index in (3, 9, 15, 21, 27, 33, 39, 45):
        wrong[index] += 0.01
    report = check_gradients(linear, lambda p: {"w": wrong.copy()}, {"w": X.copy()}, method="projection")
    assert "at flat indices 3, 9, 15, 21, 27, 33, ... (8 runs) (8 of 64)" in report["w"].note, (
        f"eight runs: note {report['w'].note!r}")


def test_a_pass_by_projections_states_the_miss_probability_of_eight_directions():
    """The stated miss probability is MISS_PER_DIRECTION ** DIRECTIONS = (1/8) ** 8 = 6.0e-8 (the module's
    documented values; test_pin_projection pins each by its effect): a probability, printed as 6e-08."""
    report = check_gradients(linear, lambda p: {"w": G.copy()}, {"w": X.copy()}, method="projection")
    assert report["w"].passed is True, f"a right tensor's row is passed\n{report}"
    found = re.search(r"passes all of them with probability < (\S+)\)", report["w"].note)
    assert found, f"a PASS by projections should state its miss probability: {report['w'].note!r}"
    assert found.group(1) == f"{(1 / 8) ** 8:.0e}", f"stated {found.group(1)}, expected (1/8)^8 = 6e-08"
    share = re.search(r"each to (\S+) x the gradient RMS \((\S+)\) per element", report["w"].note)
    rms = float(np.sqrt(np.mean(G * G)))
    # both figures are printed to 2 digits: 10% covers their rounding; share / RMS would be off by RMS^2
    assert share and abs(float(share.group(2)) - float(share.group(1)) * rms) <= 0.1 * float(share.group(1)) * rms, (
        f"the absolute figure is the share x RMS(g) = {rms:.3g}: {report['w'].note!r}")


def test_a_floor_that_leaves_projections_coarse_verifies_no_element():
    """2000 gradients of ~1e-3 with atol=1e-4 (10% of each): the floor tier of the projections resolves
    ~5% of the RMS, beyond the cap a PASS must meet. One element 0.15% off moves a projection by
    2e-8..7e-8 (its direction's weight 0.5-1.5 / sqrt(2000)): inside the floor tier's threshold (T >= 7e-8:
    1/8 of the 1e-4 floor / (4 sqrt(2000))) but beyond the verification tier's (tolerances capped at
    the cap: 1.7e-9). Too many elements (> FALLBACK_ELEMENTS) to estimate one by one: INCONCLUSIVE, every
    element counted 'tolerance floor too large', the note says 0 verified. The right gradient passes
    both tiers: PASS (the floor only widens what FAILs), certified to under the cap. A 3% error is beyond
    the floor tier: found and named (INCONCLUSIVE, inside the user's 10% atol), the rest verified."""
    m = 2000
    gradient = np.random.default_rng(4).uniform(0.5, 1.5, m) * 1e-3
    point = {"w": np.random.default_rng(5).uniform(-0.9, 0.9, m)}
    wrong = gradient.copy()
    wrong[7] *= 1.0015
    report = check_gradients(lambda p: np.sum(gradient * p["w"]), lambda p: {"w": wrong.copy()}, point,
                             method="projection", atol=1e-4)
    row = report["w"]
    assert report.verdict == INCONCLUSIVE, f"a 0.15% error inside floors of 10% is not verified, nor failed\n{report}"
    assert sum(row.inconclusive_reasons.values()) == m and row.n_verified == 0, (
        f"every element unverified: {row.inconclusive_reasons}, {row.n_verified} verified")
    # (?<!\d): "2000 element(s) verified" holds "0 element(s) verified" too
    assert re.search(r"(?<!\d)0 element\(s\) verified by 8 random projections", row.note), f"note {row.note!r}"
    assert row.step == 0.0, f"no element was estimated, so no step is reported: step {row.step}"
    right = check_gradients(lambda p: np.sum(gradient * p["w"]), lambda p: {"w": gradient.copy()}, point,
                            method="projection", atol=1e-4)
    assert right.verdict == PASS and right["w"].tolerance_rms_share <= tol.VERIFIED_SHARE, (
        f"the right gradient passes the verification tier, under the cap\n{right}")
    wrong[7] = gradient[7] * 1.03
    found = check_gradients(lambda p: np.sum(gradient * p["w"]), lambda p: {"w": wrong.copy()}, point,
                            method="projection", atol=1e-4)
    assert found.verdict == INCONCLUSIVE and found["w"].inconclusive_indices == [(7,)], (
        f"a 3% error fails the floor tier: element 7 estimated, inside the 10% atol\n{found}")
    assert found["w"].n_verified == m - 1, f"the other elements are verified\n{found}"


def test_the_advice_for_unresolvable_elements_states_richardsons_cost():
    """Where one element at a time would resolve what projections cannot (its error bound, about a
    projection's, within its tolerance), the advice prices method='elementwise': Richardson's 12
    evaluations per element (6 levels, two sides: scale.py's cost note), 10 elements -> 120."""
    ev = LossEvaluator(lambda p: float(np.sum(G * p["w"])), {"w": X.copy()}, np.float64)
    problem = TensorProblem(ev, "w", G.copy(), np.float64, "richardson", None, 0.0, (1, 2))
    problem.unresolved_error = 5e-4  # the error bound an unresolved projection measured: half the allowance
    advice = unresolvable_advice(problem, 10, Budget(), allowance=1e-3)
    assert "method='elementwise' checks them one by one (120 evaluations" in advice, f"advice {advice!r}"
