"""check_vjp and check_layer on float32 inputs (issue 21): the common case of a student's float32 layer.

Measured before (main 8a436dd): a right float32 tanh layer, x (50, 40), W (40, 30), checked by
check_vjp was INCONCLUSIVE on x, "tolerance floor too large for this loss": the floor of a float32
gradient is 100 ulps of f's scale, and check_vjp's f is sum(out * dout) over all 1500 outputs
(sum |out * dout| = 670), 1.5% of x's gradient RMS, although one x element feeds 30 outputs only.
It blocked PASS (the projections' threshold carried the floor) and a 5% error of one x element
(200 x 100 inputs) was INCONCLUSIVE, never FAIL.

Now (vjp._by_precision): where forward and backward also run in float64 on float64 copies, the
backward's math is verified there ("x (rule in float64)", to RULE_SHARE 0.1%), then the float32
backward against it element by element (0.4% of max(|g|, RMS)); a FAIL in float64 is the report,
at the inputs' own names. Code that computes in float32 whatever it is given is checked directly,
where projections now verify at a tier whose tolerances are capped at the cap (projection.py): the
floor only widens what FAILs.
"""

import numpy as np
import pytest

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_layer, check_vjp
from reference_nn.gradcheck.frameworks.float64_rule import RULE_SHARE, SUFFIX
from reference_nn.gradcheck.vjp import FLOAT64_FAIL_NOTE, FLOAT64_PROBLEM_NOTE

SHAPES = [(50, 40, 30), (200, 100, 50), (1, 64, 64)]


def tanh_layer(bug=None, share=0.0, seed=0, cast=False, float32_only_bug=False):
    """A dense tanh layer as course code writes it: samples in rows, x (n, d), W (d, h), b (h,);
    cache (x, W, out). bug: "x" or "W" gets one element moved by share * max(|g|, RMS) (seeded
    position and sign); float32_only_bug: only when the gradient is float32; cast: forward casts
    to float32 (it computes in float32 whatever it is given)."""

    def forward(x, W, b):
        if cast:
            x, W, b = (a.astype(np.float32) for a in (x, W, b))
        out = np.tanh(x @ W + b)
        return out, (x, W, out)

    def backward(dout, cache):
        x, W, out = cache
        dz = dout * (1 - out**2)
        dx, dW, db = dz @ W.T, x.T @ dz, dz.sum(axis=0)
        if bug and (not float32_only_bug or dx.dtype == np.float32):
            g = {"x": dx, "W": dW}[bug]
            rng = np.random.default_rng(seed)
            k = tuple(int(rng.integers(0, s)) for s in g.shape)
            size = max(abs(float(g[k])), float(np.sqrt(np.mean(g.astype(np.float64) ** 2))))
            g[k] += g.dtype.type(share * size * (1 if rng.random() < 0.5 else -1))
        return dx, dW, db

    return forward, backward


def inputs(shape, seed):
    n, d, h = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    W = (rng.standard_normal((d, h)) / np.sqrt(d)).astype(np.float32)
    b = (0.1 * rng.standard_normal(h)).astype(np.float32)
    return x, W, b


def planted_index(shape, tensor, seed):
    n, d, h = shape
    rng = np.random.default_rng(seed)
    return tuple(int(rng.integers(0, s)) for s in {"x": (n, d), "W": (d, h)}[tensor])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_right_float32_layer_passes_in_two_steps(shape, seed):
    forward, backward = tanh_layer()
    report = check_vjp(forward, backward, *inputs(shape, seed), seed=seed)
    assert report.verdict == PASS, f"a right float32 layer is verified\n{report}"
    for name in ("x", "W", "b"):
        assert report[name].method == "vs float64 rule", f"{name}: the float32 run judged against float64\n{report}"
        assert report[name + SUFFIX].status == PASS, f"{name}: the rule's math verified in float64\n{report}"
    assert RULE_SHARE <= 1e-3, "the float64 step is held to 0.1%, leaving 0.4% of the 0.5% cap to float32"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("tensor, share", [("x", 0.05), ("x", 0.01), ("W", 0.01)])
def test_one_wrong_element_fails_named_at_its_own_name(shape, tensor, share):
    """1% and 5% of max(|g|, RMS) in one element: FAIL in the float64 step, reported as the input itself
    (x, not "x (rule in float64)"), at the planted element; the float32 run is not judged."""
    seed = 3
    forward, backward = tanh_layer(bug=tensor, share=share, seed=seed)
    report = check_vjp(forward, backward, *inputs(shape, seed), seed=seed)
    assert report.verdict == FAIL and report.failed_parameters == [tensor], f"{tensor} is wrong\n{report}"
    assert report[tensor].worst_index == planted_index(shape, tensor, seed), f"the planted element\n{report}"
    assert report.notes[0] == FLOAT64_FAIL_NOTE, f"the note says where it was checked\n{report.notes}"
    assert report[tensor].dtype == "float64", f"the FAIL is the float64 run's\n{report}"


@pytest.mark.parametrize("share, verdict", [(0.01, FAIL), (0.002, PASS)])
def test_a_bug_of_the_float32_path_only_is_judged_by_the_comparison(share, verdict):
    """A backward wrong only when its gradient is float32: the float64 step PASSes; the comparison FAILs
    1% (beyond 0.4% of max(|g|, RMS)) at the element, and lets 0.2% pass (within the float32 share of the
    cap: the true gradient is then within 0.2% + RULE_SHARE of it, under the 0.5% cap)."""
    shape, seed = (50, 40, 30), 5
    forward, backward = tanh_layer(bug="x", share=share, seed=seed, float32_only_bug=True)
    report = check_vjp(forward, backward, *inputs(shape, seed), seed=seed)
    assert report.verdict == verdict, f"a {share:.1%} error of the float32 run only\n{report}"
    assert report["x" + SUFFIX].status == PASS, f"the float64 math is right\n{report}"
    if verdict == FAIL:
        assert report.failed_parameters == ["x"], f"named at x\n{report}"
        assert report["x"].worst_index == planted_index(shape, "x", seed), f"at the planted element\n{report}"


def test_a_backward_wrong_on_its_first_call_only_is_not_passed():
    """The float64 probe is the user's first call: it is part of the determinism check."""
    forward, right = tanh_layer()
    calls = []

    def backward(dout, cache):
        dx, dW, db = right(dout, cache)
        calls.append(1)
        return (2 * dx if len(calls) == 1 else dx), dW, db

    report = check_vjp(forward, backward, *inputs((8, 5, 4), 0))
    assert report.verdict == INCONCLUSIVE and report.problems, f"the first call differs from the others\n{report}"
    assert report.notes[0] == FLOAT64_PROBLEM_NOTE, f"{report.notes}"


def test_code_that_computes_in_float32_is_checked_directly_with_a_note():
    """forward casts to float32: the float64 copies run in float32; the direct check, said in a note;
    the right layer is not FAILed, a 5% element of W is not PASSed."""
    shape = (50, 40, 30)
    forward, backward = tanh_layer(cast=True)
    report = check_vjp(forward, backward, *inputs(shape, 0))
    assert report.verdict != FAIL, f"right code\n{report}"
    assert any("backward computes below float64 on float64 copies" in n for n in report.notes), f"{report.notes}"
    forward, backward = tanh_layer(bug="W", share=0.05, seed=2, cast=True)
    wrong = check_vjp(forward, backward, *inputs(shape, 0))
    assert wrong.verdict != PASS, f"a 5% element is never verified\n{wrong}"


def test_code_that_refuses_float64_is_checked_directly_with_a_note():
    """The direct check of a right layer of 2000 x elements in float32 PASSes (was INCONCLUSIVE: the
    floors of its projections)."""
    forward, right = tanh_layer()

    def backward(dout, cache):
        if cache[0].dtype != np.float32:
            raise TypeError("this layer is float32 only")
        return right(dout, cache)

    report = check_vjp(forward, backward, *inputs((50, 40, 30), 0))
    assert report.verdict == PASS, f"right code, checked at float32\n{report}"
    assert any("raised on float64 copies" in n and "float32 only" in n for n in report.notes), f"{report.notes}"
    # x (2000 elements) is verified by projections whose floor tier resolves 1.5% of its RMS (the floor is
    # f's scale, 670, in 100 float32 ulps): only the verification tier, capped at the cap, can pass it
    assert report["x"].method == "projection(complex)" and report["x"].n_verified == 2000, f"{report}"
    assert report["x"].tolerance_rms_share <= 5e-3, f"stated within the cap\n{report}"


class Float32Dense:
    """A course-style float32 layer object caching x and out: W (d, h), b (h,), samples in rows."""

    def __init__(self, d, h, seed, bug=None):
        rng = np.random.default_rng(seed)
        self.W = (rng.standard_normal((d, h)) / np.sqrt(d)).astype(np.float32)
        self.b = np.zeros(h, np.float32)
        self.bug = bug

    def forward(self, x):
        self.x = x
        self.out = np.tanh(x @ self.W + self.b)
        return self.out

    def backward(self, dout):
        dz = dout * (1 - self.out**2)
        self.dW, self.db, dx = self.x.T @ dz, dz.sum(axis=0), dz @ self.W.T
        if self.bug == "x2":
            dx = 2 * dx
        elif self.bug == "row":
            dx[3] *= 1.1
        elif self.bug == "sign":
            self.dW = -self.dW
        elif self.bug == "missing_m":
            self.dW = self.dW / len(self.x)
        return dx


@pytest.mark.parametrize("shape", [(50, 40, 30), (200, 100, 50)])
@pytest.mark.parametrize("bug, wrong", [(None, None), ("x2", "input"), ("row", "input"), ("sign", "W"),
                                        ("missing_m", "W")])
def test_float32_layer_object_right_passes_gross_errors_fail(shape, bug, wrong):
    """check_layer on a float32 layer of a batch of 50 or 200 (the direct check: no float64 twin of an
    object): right PASS (was INCONCLUSIVE 8 of 8 before the projections' verification tier: the
    input's floor, sized by all outputs, exceeded the cap); x2, one row 10% off, a sign, a missing
    1/m FAIL naming the tensor."""
    n, d, h = shape
    x = np.random.default_rng(1).standard_normal((n, d)).astype(np.float32)
    report = check_layer(Float32Dense(d, h, 1, bug), x)
    if bug is None:
        assert report.verdict == PASS, f"right float32 layer\n{report}"
    else:
        assert report.verdict == FAIL and wrong in report.failed_parameters, f"{bug} names {wrong}\n{report}"
