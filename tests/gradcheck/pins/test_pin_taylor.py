"""Pins of the Taylor test (taylor.py, tolerances.TAYLOR_*) by what its report says (mutation-testing
survivors of issue 26): the step grid, a linear f (remainder at the noise floor everywhere) verified,
and a non-deterministic f named before anything else."""

import itertools

import numpy as np

from reference_nn.gradcheck import INCONCLUSIVE, PASS
from reference_nn.gradcheck.taylor import taylor_test

rng = np.random.default_rng(2)
C = rng.standard_normal((4, 3))
W = rng.standard_normal((4, 3))


def test_the_steps_are_half_decades_from_a_third_to_1e_minus_10():
    """The documented grid (tolerances.py: h = 10^-0.5 ... 10^-10 in half decades, 20 steps) is what the
    report lists: the crossover of a 1e-4 relative error sits inside it, as the module explains."""
    report = taylor_test(lambda p: np.sum(np.sin(p["w"])), lambda p: {"w": np.cos(p["w"])}, {"w": W.copy()})
    steps = np.asarray(report.results["w"].steps)
    expected = 10.0 ** (-0.5 * np.arange(1, 21))
    assert steps.shape == (20,) and np.allclose(steps, expected, rtol=1e-12, atol=0), f"steps {steps}"
    assert report.results["w"].status == PASS, f"sin's right gradient\n{report}"


def test_a_linear_f_is_verified_at_the_noise_floor():
    """f = sum(C * w): the remainder is rounding at every step, so no slope can be fitted; the linear
    term is then at most the floor over the largest step (~1e-16 / 0.3), far inside the allowance: PASS
    with that reason. A planted 1e-3 error is a remainder of 3e-4 at h = 0.3 and FAILs."""
    report = taylor_test(lambda p: np.sum(C * p["w"]), lambda p: {"w": C.copy()}, {"w": W.copy()})
    row = report.results["w"]
    assert row.status == PASS and row.note == "remainder at the noise floor at every step", f"linear f\n{report}"
    wrong = taylor_test(lambda p: np.sum(C * p["w"]), lambda p: {"w": C + 1e-3}, {"w": W.copy()})
    assert wrong.results["w"].status == "FAIL", f"a 1e-3 error on every element of a linear f\n{wrong}"


def test_a_non_deterministic_f_is_named_first():
    """f and grad_f both change between two calls at the same point: each tensor's note is the first
    problem found, f's (the gradient's nondeterminism is listed after it in the report's notes)."""
    counter = itertools.count()

    def f(p):
        return np.sum(C * p["w"]) + 1e-3 * next(counter)

    def grad_f(p):
        return {"w": C + 1e-3 * next(counter)}

    report = taylor_test(f, grad_f, {"w": W.copy()})
    row = report.results["w"]
    assert row.status == INCONCLUSIVE, f"nothing is judged when f is not deterministic\n{report}"
    assert row.note.startswith("f is not deterministic"), f"note {row.note!r}"
    assert [n.split(":")[0] for n in report.notes] == ["f is not deterministic", "grad_f is not deterministic"], (
        f"both problems reported, f's first: {report.notes}")
