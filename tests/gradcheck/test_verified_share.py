"""check_gradients' verified_share: the cap an element is verified under, raised only for gradients
coarser than the default cap (the framework adapters pass 4 bfloat16 ulps); never wide enough to
verify a 5% error, and refused in one line when out of range."""

from pathlib import Path

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_gradients
from reference_nn.gradcheck.check import MAX_VERIFIED_SHARE

rng = np.random.default_rng(5)
X, Y = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
PARAMS = {"W": rng.standard_normal((4, 2))}


def loss(p):
    r = X @ p["W"] - Y
    return 0.5 * np.sum(r * r) / X.shape[0]


def grad(p, factor=1.0):
    return {"W": factor * X.T @ (X @ p["W"] - Y) / X.shape[0]}


@pytest.mark.parametrize("share", [None, 5e-3, MAX_VERIFIED_SHARE])
def test_right_gradient_passes_under_every_allowed_cap(share):
    report = check_gradients(loss, grad, PARAMS, verified_share=share)
    assert report.verdict == PASS, f"verified_share={share}: right gradient must PASS\n{report}"


@pytest.mark.parametrize("factor", [1.05, 1.5, 2.0, -1.0])
def test_the_widest_cap_never_passes_an_error_of_5_percent(factor):
    # the widest cap (3.1%) is below 5%: the element errors are 5% and up, so PASS is impossible
    report = check_gradients(loss, lambda p: grad(p, factor), PARAMS, verified_share=MAX_VERIFIED_SHARE)
    assert report.verdict in (FAIL, INCONCLUSIVE) and report.verdict != PASS, (
        f"x{factor} passed under verified_share={MAX_VERIFIED_SHARE}\n{report}")
    if abs(factor - 1) >= 0.5:
        assert report.verdict == FAIL, f"a gross error (x{factor}) must FAIL\n{report}"


@pytest.mark.parametrize("share, error", [(0.0, ValueError), (-1e-3, ValueError), (0.05, ValueError),
                                          (float("nan"), ValueError), ("1%", TypeError), (True, TypeError)])
def test_out_of_range_cap_is_a_one_line_error_naming_the_argument(share, error):
    with pytest.raises(error, match=r"^verified_share must") as info:
        check_gradients(loss, grad, PARAMS, verified_share=share)
    assert "\n" not in str(info.value), f"not one line: {info.value}"


def test_readme_states_the_widest_cap_the_code_enforces():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    stated = f"never above **{100 * MAX_VERIFIED_SHARE:.1f}%** (4 x 2^-7)"
    assert stated in readme.replace("\n  ", " "), f"README's verified_share paragraph must say: {stated}"
    with pytest.raises(ValueError, match="verified_share"):
        check_gradients(loss, grad, PARAMS, verified_share=np.nextafter(MAX_VERIFIED_SHARE, 1.0))


def test_a_tighter_share_binds_projections_too():
    """2000 elements checked by projections: a tighter share (0.1%) is the cap of the projections'
    verification tier too (their tolerances are capped at it), so the per-element tolerance a right
    gradient's PASS states is within 0.1% of the RMS; with user floors of 1% (atol) the PASS still
    rests on that tier, not on the floors."""
    g = np.random.default_rng(3).uniform(0.5, 1.5, 2000)
    point = {"w": np.random.default_rng(4).uniform(-0.9, 0.9, 2000)}
    for atol in (0.0, 1e-2):
        report = check_gradients(lambda p: np.sum(g * p["w"]), lambda p: {"w": g.copy()}, point, verified_share=1e-3,
                                 method="projection", atol=atol)
        assert report.verdict == PASS and report["w"].tolerance_rms_share <= 1e-3, f"atol={atol}\n{report}"
