"""check_gradients on float32 parameters in two steps (reference_nn/gradcheck/by_precision.py).

Measured before the split (fuzz matrix `--examples 500 --seed 0`, category tiny: a loss scaled by
1e-12 or 1e-6 with float32 or mixed parameters): 105 of 233 wrong gradients (x2, sign, transpose, one
row) INCONCLUSIVE "tolerance floor too large for this loss" (the float32 floor is 100 ulps of
max(|f|, 1), far above gradients of 1e-13); after it 14. Here: a tanh / softmax MLP written as course
code writes it, its loss scaled by 1e-12, float32 parameters.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_gradients
from reference_nn.gradcheck.by_precision import BUDGET_NOTE, FAIL_NOTE, PROBLEM_NOTE, no_split
from reference_nn.gradcheck.frameworks.float64_rule import SUFFIX


def scaled_mlp(scale=1e-12, seed=0, bug=None):
    """X (6, 3), one tanh layer of 4, softmax over 3 classes; loss = scale * mean cross-entropy. Every
    array follows the parameters' dtype (float32 in, float32 out; float64 copies compute in float64)."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    params = {"W1": rng.standard_normal((3, 4)) / np.sqrt(3), "b1": 0.1 * rng.standard_normal(4),
              "W2": rng.standard_normal((4, 3)) / 2, "b2": 0.1 * rng.standard_normal(3)}  # fmt: skip
    params = {k: v.astype(np.float32) for k, v in params.items()}

    def forward(p):
        x = X.astype(p["W1"].dtype)
        h = np.tanh(x @ p["W1"] + p["b1"])
        z = h @ p["W2"] + p["b2"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return x, h, e / e.sum(axis=1, keepdims=True)

    def loss(p):
        _, _, probs = forward(p)
        return scale * -np.mean(np.log(probs[np.arange(6), y]))

    def grads(p):
        x, h, probs = forward(p)
        dz = probs.copy()
        dz[np.arange(6), y] -= 1
        dz *= probs.dtype.type(scale / 6)
        dh = dz @ p["W2"].T * (1 - h**2)
        g = {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}
        if bug == "x2":
            g["W1"] = 2 * g["W1"]
        elif bug == "sign":
            g["b2"] = -g["b2"]
        elif bug == "element":
            g["W2"][1, 2] *= 1.05
        elif bug == "float32_only" and g["W1"].dtype == np.float32:
            g["W1"][0, 1] *= 1.05
        return g

    return loss, grads, params


def test_right_float32_gradients_of_a_tiny_loss_pass_in_two_steps():
    loss, grads, params = scaled_mlp()
    report = check_gradients(loss, grads, params)
    assert report.verdict == PASS, str(report)
    for key in params:
        assert report[key].method == "vs float64 rule" and report[key + SUFFIX].status == PASS, str(report)


@pytest.mark.parametrize("bug, tensor", [("x2", "W1"), ("sign", "b2"), ("element", "W2")])
def test_wrong_float32_gradients_of_a_tiny_loss_fail_at_their_own_names(bug, tensor):
    """Was INCONCLUSIVE ('tolerance floor too large for this loss') through the direct check."""
    loss, grads, params = scaled_mlp(bug=bug)
    report = check_gradients(loss, grads, params)
    assert report.verdict == FAIL and report.failed_parameters == [tensor], str(report)
    assert report.notes[0] == FAIL_NOTE, report.notes
    if bug == "element":
        assert report[tensor].worst_index == (1, 2), str(report)
    with no_split():
        direct = check_gradients(loss, grads, params)
    assert direct.verdict == INCONCLUSIVE, f"the direct check cannot resolve it (why the split exists)\n{direct}"


def test_an_error_of_the_float32_run_only_fails_in_the_comparison():
    loss, grads, params = scaled_mlp(bug="float32_only")
    report = check_gradients(loss, grads, params)
    assert report.verdict == FAIL and report.failed_parameters == ["W1"], str(report)
    assert report["W1"].worst_index == (0, 1) and report["W1" + SUFFIX].status == PASS, str(report)


def test_a_gradient_wrong_on_its_float64_probe_call_only_is_not_passed():
    """The probe on float64 copies is compared with step 1's calls (determinism)."""
    loss, right, params = scaled_mlp(scale=1.0)
    calls = []

    def grads(p):
        g = right(p)
        if p["W1"].dtype == np.float64:
            calls.append(1)
            if len(calls) == 1:
                g["W1"] = 2 * g["W1"]
        return g

    report = check_gradients(loss, grads, params)
    assert report.verdict == INCONCLUSIVE and report.problems, str(report)
    assert report.notes[0] == PROBLEM_NOTE, report.notes


def test_code_that_casts_to_float32_inside_is_checked_directly():
    """grad_f returning float32 whatever it is given: no float64 run to verify, the direct check."""
    loss, right, params = scaled_mlp(scale=1.0)

    def grads(p):
        return {k: v.astype(np.float32) for k, v in right(p).items()}

    report = check_gradients(loss, grads, params)
    assert report.verdict == PASS and all(SUFFIX not in k for k in report.results), str(report)


def test_a_gradient_that_reads_the_forward_pass_f_cached_is_split_too():
    """grad_f reading what f stored (a course's forward-then-backward script with a global cache): the
    float64 probe calls f first, so the cache is the copies' own; no false 'not deterministic'."""
    loss, right, params = scaled_mlp(scale=1.0)
    cache = {}

    def f(p):
        cache["p"] = {k: v.copy() for k, v in p.items()}
        return loss(p)

    def grads(p):
        return right(cache["p"])

    report = check_gradients(f, grads, params)
    assert report.verdict == PASS and not report.problems, str(report)
    assert report["W1"].method == "vs float64 rule", str(report)


def test_a_budget_is_spent_once():
    """max_evaluations too small for the float64 step: its INCONCLUSIVE report, not a second check that
    would spend the budget again at float32."""
    loss, grads, params = scaled_mlp(scale=1.0)
    report = check_gradients(loss, grads, params, max_evaluations=20)
    assert report.verdict == INCONCLUSIVE and report.notes[0] == BUDGET_NOTE, str(report)
    assert report.n_evaluations <= 20 + 8, f"the budget (plus the first calls) is not spent twice\n{report}"
