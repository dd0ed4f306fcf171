"""Issue 21 item 5, ties and kinks judged honestly (ties.py): a max pool that gives the full gradient to
every tied maximum (a blank image background is full of ties) is FAIL, where each element alone sat
between its one-sided slopes ("at a kink"); the conventions frameworks use (the first maximum, an
even split, relu'(0) = 0 or 1) are never FAIL. Pools written the way course code writes them."""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, check_gradients


def pool_forward(x):
    """2x2 max pool, stride 2, x (N, C, H, W)."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def _up(a):
    return np.repeat(np.repeat(a, 2, axis=2), 2, axis=3)


def backward_every_tie(dout, x):  # the bug: mask = (x == max) routes dout to every tied maximum
    return (x == _up(pool_forward(x))) * _up(dout)


def backward_first(dout, x):  # the first maximum of each window, loops as in course code
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H // 2):
                for j in range(W // 2):
                    window = x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                    k, m = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, 2 * i + k, 2 * j + m] = dout[n, c, i, j]
    return dx


def backward_split(dout, x):  # an even split over the tie
    N, C, H, W = x.shape
    mask = (x == _up(pool_forward(x))).astype(float)
    return mask / _up(mask.reshape(N, C, H // 2, 2, W // 2, 2).sum(axis=(3, 5))) * _up(dout)


def blank_with_object(seed):
    """An 8x8 image, blank (0) but for a 2x3 bright patch: most 2x2 windows are four tied zeros."""
    rng = np.random.default_rng(seed)
    x = np.zeros((1, 1, 8, 8))
    x[0, 0, 2:4, 3:6] = rng.uniform(0.5, 1.5, (2, 3))
    return x, rng.standard_normal((1, 1, 4, 4))


def _check(backward, seed):
    x, dout = blank_with_object(seed)

    def loss(p):
        return float(np.sum(pool_forward(p["x"]) * dout))

    return check_gradients(loss, lambda p: {"x": backward(dout, p["x"])}, {"x": x})


@pytest.mark.parametrize("seed", range(3))
def test_full_gradient_to_every_tied_maximum_fails_on_a_blank_background(seed):
    report = _check(backward_every_tie, seed)
    assert report.verdict == FAIL and report.failed_parameters == ["x"], str(report)
    assert "tie of" in report["x"].note and "no subgradient" in report["x"].note, report["x"].note


@pytest.mark.parametrize("backward", [backward_first, backward_split], ids=["first", "split"])
@pytest.mark.parametrize("seed", range(3))
def test_a_subgradient_at_the_ties_is_never_failed(backward, seed):
    report = _check(backward, seed)
    assert report.verdict != FAIL, str(report)
    assert set(report["x"].inconclusive_reasons) <= {"at a kink"}, str(report)


def test_maxout_with_duplicated_columns_and_the_first_maximum_is_not_failed():
    """maxout over two duplicated weight columns: every sample ties, upstream gradients of both signs;
    the first maximum's gradient (torch's) is outside some coordinates' one-sided slopes, but the tie's
    summed gradient is right (FUZZ_FINDINGS 7: it FAILed)."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    column = rng.standard_normal(3)
    params = {"W": np.stack([column, column], axis=1), "v": np.array(0.7)}

    def loss(p):
        return float(np.mean((np.max(X @ p["W"], axis=1) * p["v"] - y) ** 2))

    def grads(p, every=False):
        Z = X @ p["W"]
        h = Z.max(axis=1)
        d = 2 * (h * p["v"] - y) / len(y)
        pick = (Z == h[:, None]) if every else np.eye(2)[np.argmax(Z, axis=1)]
        return {"W": X.T @ (pick * (d * p["v"])[:, None]), "v": np.array(np.sum(d * h))}

    right = check_gradients(loss, grads, params)
    assert right.verdict != FAIL, str(right)
    wrong = check_gradients(loss, lambda p: grads(p, every=True), params)
    assert wrong.failed_parameters == ["W"], str(wrong)


@pytest.mark.parametrize("slope_at_zero, fails", [(0.0, False), (1.0, False), (0.5, False), (-1.0, True)])
def test_relu_at_exactly_zero(slope_at_zero, fails):
    """Zero weights and bias (an untrained unit) put the pre-activation exactly at 0 for every sample:
    relu'(0) = 0, 1 or 1/2 are conventions (not FAIL); -1 is outside the one-sided slopes (FAIL)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 2))
    params = {"w": np.zeros(2), "b": np.array(0.0)}

    def loss(p):
        return float(np.sum(np.maximum(X @ p["w"] + p["b"], 0.0) * np.arange(1, 6)))

    def grads(p):
        z = X @ p["w"] + p["b"]
        d = np.where(z > 0, 1.0, np.where(z < 0, 0.0, slope_at_zero)) * np.arange(1, 6)
        return {"w": X.T @ d, "b": np.array(d.sum())}

    report = check_gradients(loss, grads, params)
    assert (report.verdict == FAIL) == fails, str(report)
