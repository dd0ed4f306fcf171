"""Pins of the directional check's two caps (check.directional_check) at 0.95x / 1.05x, on f = sum(w) over
16 elements with direction v = 1 and g = 1 (so scale_i = 1, |v_i| = 1 and complex step is exact):

* resolution: a single element wrong by e moves g.v by e; the projection resolves 2 (required + E) with
  required = PROJECTION_SPREAD ||rtol scale v|| = 4 rtol sqrt(16) = 16 rtol, i.e. 32 rtol relative, which
  must be within VERIFIED_SHARE (0.5%): rtol = 0.95 / 1.05 x 0.005 / 32;
* floors: PROJECTION_SPREAD ||floor v|| = 16 floor must stay within PROJECTION_FLOOR_SHARE (5%) of
  ||scale v|| = 4: floor = 0.95 / 1.05 x 0.0125.
Beyond either cap the projection verifies nothing (None: the caller checks element by element).
"""

import numpy as np
import pytest

from reference_nn.gradcheck import PASS
from reference_nn.gradcheck import tolerances as tol
from reference_nn.gradcheck.check import PROJECTION_FLOOR_SHARE, PROJECTION_SPREAD, directional_check, make_evaluator

N = 16
ONES = np.ones(N)


def _check(rtol, auto_floor=0.0):
    ev, _ = make_evaluator(lambda p: np.sum(p["w"]), {"w": np.linspace(-0.5, 0.5, N)}, None, None)
    return directional_check(ev, "w", ONES.copy(), "dw", np.float64, "complex", ONES.copy(), rtol, 0.0, auto_floor)


@pytest.mark.parametrize("share, verified", [(0.95, True), (1.05, False)])
def test_the_resolution_cap(share, verified):
    assert PROJECTION_SPREAD == 4.0 and tol.VERIFIED_SHARE == 5e-3, "the constants the numbers below use"
    rtol = share * tol.VERIFIED_SHARE / (2 * PROJECTION_SPREAD * np.sqrt(N))
    row = _check(rtol)
    assert (row is not None) is verified, f"resolution {share} x the cap: {row}"
    if verified:
        assert row.status == PASS and row.method == "directional(complex)" and row.worst_index is None, row
        assert row.tolerance == pytest.approx(PROJECTION_SPREAD * rtol * np.sqrt(N), rel=1e-6), row.tolerance
        assert row.analytic == pytest.approx(N) and row.numeric == pytest.approx(N), row


@pytest.mark.parametrize("share, verified", [(0.95, True), (1.05, False)])
def test_the_floor_share(share, verified):
    assert PROJECTION_FLOOR_SHARE == 0.05, "the share the numbers below use"
    floor = share * PROJECTION_FLOOR_SHARE * np.sqrt(N) / (PROJECTION_SPREAD * np.sqrt(N))
    row = _check(1e-6, floor)
    assert (row is not None) is verified, f"floors {share} x their share: {row}"


def test_the_error_ratio_when_the_estimate_is_exactly_zero():
    # f ignores w: complex step gives exactly 0 with a bound of 0 (E = 100 eps |0|); g.v = 1e-10 lies within
    # required = 4 ||1.5e-8 v|| = 2.4e-7, so the single projection passes, and err/tol is 1e-10 / 2.4e-7, not 0
    ev, _ = make_evaluator(lambda p: np.sum(p["w"] * 0.0) + 1.0, {"w": np.linspace(-0.5, 0.5, N)}, None, None)
    g = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    g[0] += 1e-10
    row = directional_check(ev, "w", g, "dw", np.float64, "complex", ONES.copy(), None, 0.0)
    assert row is not None and row.numeric == 0.0 and row.numeric_error == 0.0, row
    assert row.max_abs_error > 0 and row.error_ratio == pytest.approx(row.max_abs_error / row.tolerance, rel=1e-12), row


def test_the_error_ratio_when_nothing_is_allowed_and_nothing_differs():
    # rtol = atol = 0 and f constant: complex step gives exactly 0 with a bound of 0, g.v = 0 exactly (g alternates
    # +-1), so required + E = 0 and the projection passes with |g.v - 0| = 0: err/tol is 0, not 0 / 0
    ev, _ = make_evaluator(lambda p: np.sum(p["w"] * 0.0) + 1.0, {"w": np.linspace(-0.5, 0.5, N)}, None, None)
    g = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    row = directional_check(ev, "w", g, "dw", np.float64, "complex", ONES.copy(), 0.0, 0.0)
    assert row is not None and row.tolerance == 0.0 and row.error_ratio == 0.0, row
    assert row.max_rel_error == 0.0, f"0 / max(|0|, |0|) is stated 0: {row.max_rel_error!r}"
