"""Diagnosis hints on failing tensors: what the error looks like, said as a person would, marked as
a guess, in the table and in JSON. Each planted bug below is a classic slip in user-style code
(samples in columns, a softmax regression), checked through check_gradients."""

import json

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, check_gradients
from reference_nn.gradcheck.diagnosis import diagnose

rng = np.random.default_rng(21)
X = rng.standard_normal((4, 8))  # 4 features, 8 samples in columns
labels = rng.integers(0, 4, size=8)
Y = np.eye(4)[:, labels]
PARAMS = {"W": rng.standard_normal((4, 4)), "b": rng.standard_normal((4, 1))}


def loss(p):
    Z = p["W"] @ X + p["b"]
    Z = Z - Z.max(axis=0, keepdims=True)
    return -np.sum(Y * (Z - np.log(np.exp(Z).sum(axis=0, keepdims=True)))) / X.shape[1]


def right(p):
    Z = p["W"] @ X + p["b"]
    P = np.exp(Z - Z.max(axis=0, keepdims=True))
    dZ = (P / P.sum(axis=0, keepdims=True) - Y) / X.shape[1]
    return {"dW": dZ @ X.T, "db": dZ.sum(axis=1, keepdims=True)}


def planted(change):
    def grad(p):
        g = right(p)
        g["dW"] = change(g["dW"].copy())
        return g

    return grad


def _one_row(g):
    g[2] *= 1.5
    return g


def _one_column(g):
    g[:, 1] += 0.3
    return g


def _one_element(g):
    g[3, 0] -= 0.4
    return g


def _off_diagonal_zeroed(g):
    return np.diag(np.diag(g))


BUGS = {
    "missing 1/m": (lambda g: g * 8, "every element x 8: 8 = the batch size? a missing 1/m"),
    "1/m twice": (lambda g: g / 8, "every element x 1/8: 8 = the batch size? 1/m applied twice"),
    "sign flipped": (lambda g: -g, "has the wrong sign (x -1)"),
    "factor 2": (lambda g: 2 * g, "every element x 2: a factor of 2"),
    "transposed": (lambda g: g.T.copy(), "the transpose of the right one"),
    "diagonal only": (_off_diagonal_zeroed, "only the diagonal is right"),
    "one row": (_one_row, "only row 2 is wrong"),
    "one column": (_one_column, "only column 1 is wrong"),
    "one element": (_one_element, "one element wrong, (3, 0)"),
    "never filled": (np.zeros_like, "every element is 0"),
}


@pytest.mark.parametrize("bug", BUGS, ids=list(BUGS))
def test_the_hint_names_the_pattern_in_the_table_and_in_json(bug):
    change, expected = BUGS[bug]
    report = check_gradients(loss, planted(change), PARAMS)
    assert report.verdict == FAIL and report.failed_parameters == ["W"], str(report)
    assert expected in report["W"].hint, f"{bug}: hint {report['W'].hint!r}"
    assert f"W: hint (a guess from the pattern, not a verdict): {report['W'].hint}" in str(report), str(report)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["parameters"]["W"]["hint"] == report["W"].hint, data["parameters"]["W"]
    assert data["parameters"]["b"]["hint"] is None, "a passing tensor gets no hint"


def test_no_hint_without_a_pattern_and_none_on_a_passing_tensor():
    noise = np.random.default_rng(3).standard_normal((4, 4))
    report = check_gradients(loss, planted(lambda g: g + 0.05 * noise), PARAMS)
    assert report.verdict == FAIL and report["W"].hint == "", report["W"].hint
    assert check_gradients(loss, right, PARAMS)["W"].hint == "", "no hint on PASS"


def test_one_number_is_named_only_when_the_ratio_is_a_nice_one():
    failed = np.array([True])
    assert "x 8" in diagnose(np.array([8.0]), np.array([1.0]), failed)
    assert diagnose(np.array([1.37]), np.array([1.0]), failed) == "", "1.37 x of one number says nothing"



@pytest.mark.parametrize("garbage", [-3.1e-310, 5e-324, 1e-300, -1.26e252, 1e308])
def test_garbage_single_element_gets_a_verdict_not_a_crash(garbage):
    """np.empty garbage in a one-element gradient (subnormal or huge): the factor a/n is subnormal or
    huge and its inverse overflows; the hint machinery must say nothing rather than raise (fuzz
    finding 16: round(inf) raised OverflowError after the checker had decided FAIL)."""
    assert isinstance(diagnose(np.array([garbage]), np.array([0.3]), np.array([True])), str), "diagnose raised"

    def one_bias_loss(p):
        return float(np.sum((p["W"] @ X + p["c"]) ** 2)) / X.shape[1]

    def bad(p, g=garbage):
        Z = p["W"] @ X + p["c"]
        return {"W": 2 * Z @ X.T / X.shape[1], "c": np.array([g])}

    report = check_gradients(one_bias_loss, bad, {"W": PARAMS["W"], "c": np.array([0.7])})
    assert report.verdict == FAIL, f"garbage {garbage} in dc: verdict {report.verdict}\n{report}"
    assert report.failed_parameters == ["c"], f"garbage element not named:\n{report}"
