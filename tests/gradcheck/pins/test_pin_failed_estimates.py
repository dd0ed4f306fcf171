"""Pin of what a FAILed element reports (judge.judge_elements), by its effect (a mutation-testing survivor
of issue 26): the failing element keeps the estimate of the method asked for, with its step and bound;
the re-estimation from smaller steps (for elements agreeing but not proven within the cap) is not
spent on an element already failed, so method="central" reports the central step 2^floor(log2(eps^(1/3)
max(1, |x|))) (tolerances.central_step) for it, not a Richardson step."""

import numpy as np

from reference_nn.gradcheck import FAIL, check_gradients

W = np.array([0.3, -1.2, 2.0, 0.7])
EPS = np.finfo(np.float64).eps


def test_a_failed_element_keeps_the_central_estimate():
    def grad_f(p):
        gradient = np.cos(p["w"]).copy()
        gradient[0] *= 1.01
        return {"w": gradient}

    report = check_gradients(lambda p: float(np.sum(np.sin(p["w"]))), grad_f, {"w": W.copy()}, method="central")
    row = report["w"]
    central_step = 2.0 ** np.floor(np.log2(EPS ** (1 / 3) * max(1.0, abs(W[0]))))
    assert report.verdict == FAIL and row.worst_index == (0,), f"w[0] x 1.01\n{report}"
    assert row.step == central_step, f"the failed element's step {row.step!r}, central step {central_step!r}"
    assert abs(row.numeric - np.cos(W[0])) <= row.numeric_error, (
        f"the central estimate {row.numeric!r} within its bound {row.numeric_error!r} of cos(0.3)")
    assert not any(n.startswith("0 element(s)") for n in row.note.split("; ")), (
        f"no second opinion cleared a failure: no note counts zero of them: {row.note!r}")
    assert report.cost["determinism"]["extra_f_evaluations"] == 2, (
        f"f once more at the start and once after the check: {report.cost['determinism']}")


def test_a_non_deterministic_f_stops_the_check_after_one_extra_call():
    calls = iter(range(100))

    def f(p):
        return float(np.sum(np.sin(p["w"]))) + 1e-3 * next(calls)

    report = check_gradients(f, lambda p: {"w": np.cos(p["w"])}, {"w": W.copy()})
    assert report.problems and report.cost["determinism"]["extra_f_evaluations"] == 1, (
        f"f called once more, then nothing is computed: {report.cost['determinism']}\n{report}")
