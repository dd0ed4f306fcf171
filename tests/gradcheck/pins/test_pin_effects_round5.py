"""Pins by effect of survivors of the gradcheck mutation sample seed 20261211 (issue 26): what the report
says when an unread array only has an input's shape (layer._equal_to_any), and where group testing halves
a set of rows of two elements (group_testing._halves). Two more tests state behaviour next to survivors
they do not kill, because a fallback covers the mutant's path: the stored input under an attribute name
built at run time (``is`` instead of ``==``: forward reassigns it, so it is a cache either way), and a
parameter dict that a property builds anew on every access (a mutant calling it a stable container writes
into the new dict, sees the output not move, and moves the arrays in place)."""

import numpy as np
import pytest

from reference_nn.gradcheck import INCONCLUSIVE, PASS, check_layer
from reference_nn.gradcheck.group_testing import _halves

X = np.random.default_rng(0).standard_normal((4, 3))


class ScaleLayer:
    """out = x * s (s of x's shape); an extra array ``unused`` of x's shape that forward never reads,
    with a nonzero gradient: it is no cache of x (other values), so it is reported unverified."""

    def __init__(self, unused):
        self.s = np.random.default_rng(1).uniform(0.5, 1.5, X.shape)
        self.unused = unused
        self.dunused = np.ones(X.shape)

    def forward(self, x):
        self.cache = x
        return x * self.s

    def backward(self, dout):
        self.ds = dout * self.cache
        return dout * self.s


def test_an_unread_array_of_the_inputs_shape_is_not_a_cache_of_it():
    report = check_layer(ScaleLayer(np.full(X.shape, 7.0)), X)
    assert report.verdict == INCONCLUSIVE and any("unused" in p for p in report.problems), \
        f"an unread array with other values than x, and a nonzero gradient, is not verified\n{report}"  # fmt: skip
    same = check_layer(ScaleLayer(X.copy()), X)
    assert not any("unused" in p for p in same.problems), f"an array equal to x is a cache of it\n{same}"


class StoredInput:
    """A layer that keeps its input as ``inputs`` (the stored-input convention) under a key built at run
    time (not an interned string), beside a weight ``W`` with its gradient ``dW``."""

    def __init__(self):
        self.W = np.random.default_rng(2).standard_normal((3, 2))

    def forward(self, x):
        self.__dict__["".join(["in", "puts"])] = x  # the same name, another string object
        return x @ self.W

    def backward(self, dout):
        self.dW = self.inputs.T @ dout
        self.dinputs = dout @ self.W.T
        return None


def test_the_stored_input_is_no_parameter_whatever_string_names_it():
    layer = StoredInput()
    layer.backward(np.ones((X.shape[0], 2)) * 0 + layer.forward(X))  # a pass first: inputs and dinputs exist
    report = check_layer(layer, X)
    assert report.verdict == PASS and list(report.results) == ["input", "W"], \
        f"layer.inputs is the stored input, not a parameter with gradient dinputs\n{report}"  # fmt: skip


class PropertyParams:
    """``params`` is a property that builds a new dict on every access (the arrays are the layer's own):
    the dict is no stable container, so the check moves the arrays themselves."""

    def __init__(self):
        rng = np.random.default_rng(3)
        self.W, self.b = rng.standard_normal((3, 2)), rng.standard_normal(2)
        self.grads = {}

    @property
    def params(self):
        return {"W": self.W, "b": self.b}

    def forward(self, x):
        self.x = x
        return np.tanh(x @ self.W + self.b)

    def backward(self, dout):
        dz = dout * (1 - np.tanh(self.x @ self.W + self.b) ** 2)
        self.grads = {"W": self.x.T @ dz, "b": dz.sum(axis=0)}
        return dz @ self.W.T


def test_a_parameter_property_that_builds_a_new_dict_is_checked_right():
    report = check_layer(PropertyParams(), X)
    assert report.verdict == PASS and set(report.results) == {"input", "W", "b"}, f"a right layer\n{report}"


def test_group_testing_halves_rows_of_two_at_a_row_boundary():
    first, second = _halves(np.arange(6), 2)  # three rows of two: the middle element 3 is in row 1
    assert first.tolist() == [0, 1] and second.tolist() == [2, 3, 4, 5], f"cut at row 1's start: {first}, {second}"
    first, second = _halves(np.arange(6), 1)  # rows of one element: the plain middle
    assert first.tolist() == [0, 1, 2], f"rows of one: the middle, {first}"


def test_the_taylor_test_counts_every_call_of_f():
    from reference_nn.gradcheck import taylor_test

    calls = []
    w = np.random.default_rng(4).standard_normal((3, 2))

    def f(p):
        calls.append(1)
        return float(np.sum(np.sin(p["w"])))

    report = taylor_test(f, lambda p: {"w": np.cos(p["w"])}, {"w": w})
    assert report.passed, str(report)
    assert report.n_evaluations == len(calls), f"report says {report.n_evaluations} evaluations, f ran {len(calls)}"


def test_complex_step_elements_beyond_the_first_eight_keep_their_fail_unless_complex_step_was_shown_wrong():
    """judge._second_opinion on a complex-step estimate: the UNPROVEN_PROBE (8) failing elements closest to
    agreeing are re-estimated by real differences first; only if one of them shows complex step wrong
    (the real differences agree with the hand-written value and contradict complex step) are the rest
    judged by real differences too. Here all 12 elements are truly off by 1e-3 (within the cap), complex
    step is exact, and real differences under float32's rounding model state ~3e-4, wide enough to
    agree with the wrong values: none contradicts complex step, so all 12 stay failed."""
    from reference_nn.gradcheck import tolerances as tol
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.judge import UNPROVEN_PROBE, judge_elements
    from reference_nn.gradcheck.numerical import Estimate

    w = np.random.default_rng(5).uniform(0.2, 0.6, (3, 4))
    true = np.cos(w)
    ev = LossEvaluator(lambda p: float(np.sum(np.sin(p["w"]))), {"w": w.copy()}, np.float64)
    ev.precision["w"] = np.dtype(np.float32)  # as if measured: real differences state float32's rounding
    values = true.reshape(-1).copy()
    estimate = Estimate(values, 100 * np.finfo(float).eps * np.abs(values), np.full(12, 1e-20), "complex")
    row = judge_elements(ev, "w", true + 1e-3, "dw", np.float64, estimate, 1e-6, 0.0, tol.finite_rms(true))
    assert UNPROVEN_PROBE == 8 and row.n_failed == 12, f"every element is off by 1e-3: {row.n_failed} failed\n{row}"


def test_complex_steps_real_part_may_move_by_1000_ulps_of_fs_scale():
    """numerical.complex_step_support rejects complex step when the real part of f(x + i h v) moves from
    f(x) by more than 1000 eps max(f_scale, |f|) (f must be complex-analytic: Re f(x + ih v) = f(x) +
    O(h^2)). Here f = sum(sin w) + c sum(Im(w)^2): the c term is 0 for real w and moves only the real
    part, by c h^2 |v|^2; f_scale = 1000 makes the threshold 2.2e-10, a million ulps of f, so 1000.5 and
    999.5 eps f_scale are told apart."""
    from reference_nn.gradcheck import tolerances as tol
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.numerical import complex_step_support

    w = np.random.default_rng(6).uniform(0.2, 0.6, (2, 3))
    v = np.random.default_rng(7).choice([-1.0, 1.0], w.shape)
    h = tol.complex_step_size(np.float64)
    for ulps, rejected in ((1000.5, True), (999.5, False)):
        c = ulps * np.finfo(float).eps * 1000.0 / (h * h * float(np.sum(v * v)))
        ev = LossEvaluator(lambda p, c=c: np.sum(np.sin(p["w"])) + c * np.sum(np.imag(p["w"]) ** 2),
                           {"w": w.copy()}, np.float64, f_scale=1000.0)  # fmt: skip
        reason, _ = complex_step_support(ev, "w", v)
        said = reason is not None and "real part of f changed" in reason
        assert said == rejected, f"real part moved by {ulps} eps f_scale: {reason!r}"


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_an_unresolved_element_at_a_kink_is_named_a_kink(precision):
    """judge.judge_elements: f = sum relu(w) at w = 0, the hand-written relu'(0) = 0, an estimate of 0.5 (the
    central difference across the kink) stated to 0.2: within T + 4E, so not failed, but above the cap
    (unresolved). The re-estimate at smaller steps is 0.5 again, precisely: the element now fails by 0.5,
    and the kink at the point explains it (0 lies within the one-sided slopes 0 and 1): INCONCLUSIVE "at a
    kink", the true reason, not "error bound too large" nor "tolerance floor too large"; the elements away
    from the kink are verified. With f's precision marked float32 no re-estimate is made at smaller steps
    (its rounding would only grow): the element stays unresolved, and its one-sided slopes name the kink."""
    from reference_nn.gradcheck import tolerances as tol
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.judge import judge_elements
    from reference_nn.gradcheck.numerical import Estimate
    from reference_nn.gradcheck.report import AT_KINK

    w = np.array([0.0, 0.5, -0.3, 0.0, 0.8, -0.6])
    ev = LossEvaluator(lambda p: float(np.sum(np.maximum(p["w"], 0.0))), {"w": w.copy()}, np.float64)
    ev.precision["w"] = np.dtype(precision)
    analytic = (w > 0).astype(float)  # relu'(0) = 0
    values = np.where(w == 0, 0.5, analytic)
    errors = np.where(w == 0, 0.2, 1e-12)
    estimate = Estimate(values, errors, np.full(6, 1e-3), "richardson")
    row = judge_elements(ev, "w", analytic, "dw", np.float64, estimate, None, 0.0, tol.finite_rms(analytic))
    assert row.n_failed == 0 and row.inconclusive_reasons == {AT_KINK: 2}, f"{row.inconclusive_reasons}\n{row}"
    assert sorted(tuple(i) for i in row.inconclusive_indices) == [(0,), (3,)], row.inconclusive_indices


class NestedParams:
    """params = {"block": {"W": ...}, "b": ...} with grads of the same structure: the nested dict first,
    then an array beside it; both are parameters."""

    def __init__(self):
        rng = np.random.default_rng(8)
        self.params = {"block": {"W": rng.standard_normal((3, 2))}, "b": rng.standard_normal(2)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x @ self.params["block"]["W"] + self.params["b"]

    def backward(self, dout):
        self.grads = {"block": {"W": self.x.T @ dout}, "b": dout.sum(axis=0)}
        return dout @ self.params["block"]["W"].T


def test_parameters_after_a_nested_container_are_found():
    report = check_layer(NestedParams(), X)
    assert report.verdict == PASS and len(report.results) == 3 and "b" in report.results, \
        f"input, block.W and b: {list(report.results)}\n{report}"  # fmt: skip


def test_a_wrong_value_an_imprecise_first_estimate_hid_fails_once_re_estimated():
    """f = sum(sin w) in float64; the hand-written value of element 1 is off by 4e-3 (0.43%, far beyond any
    rounding); the first estimate is exact but states 1.1e-3, so |a - n| <= T + 4 E and the element is not
    failed, and |a - n| + 4 E = 8.4e-3 is above the 0.5% cap (4.6e-3): unproven. Richardson at smaller
    steps re-estimates it to ~1e-10: the element is judged again and FAILs. Before, it was never judged
    again: it PASSed (0.43% is within the cap) with err/tol 4324 on its row. The right value with the same
    estimates PASSes."""
    from reference_nn.gradcheck import FAIL
    from reference_nn.gradcheck import tolerances as tol
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.judge import judge_elements
    from reference_nn.gradcheck.numerical import Estimate

    w = np.array([0.3, -0.4, 0.5, 0.6])
    ev = LossEvaluator(lambda p: float(np.sum(np.sin(p["w"]))), {"w": w.copy()}, np.float64)
    analytic = np.cos(w)
    analytic[1] += 4e-3
    errors = np.where(np.arange(4) == 1, 1.1e-3, 1e-12)
    estimate = Estimate(np.cos(w), errors, np.full(4, 1e-3), "richardson")
    row = judge_elements(ev, "w", analytic, "dw", np.float64, estimate, 1e-6, 0.0, tol.finite_rms(analytic))
    assert row.status == FAIL and row.n_failed == 1 and row.worst_index == (1,), str(row)
    right = judge_elements(ev, "w", np.cos(w), "dw", np.float64, estimate, 1e-6, 0.0, tol.finite_rms(analytic))
    assert right.status == PASS, f"the right value with the same estimates\n{right}"


def test_the_complex_step_elements_re_estimated_first_are_the_closest_relatively():
    """judge._second_opinion picks the UNPROVEN_PROBE (8) failing complex-step elements closest to agreeing
    relative to their scale (tol.element_scale: max(|a|, |n|, the tensor's RMS)). Four elements of size ~2
    hold a complex-step value 1e-5 off (the hand-written value is right); eight of size ~0.01 hold a
    hand-written value 3e-3 off (complex step is right), 2.6e-3 of the RMS floor of their scale. The four are
    relatively closest, so they are re-estimated first: real differences contradict complex step there, and
    then every failing element is judged by real differences: the four PASS, the eight stay failed. An order
    by scale alone would re-estimate the eight small ones first, find complex step right, and keep the four
    right elements failed."""
    from reference_nn.gradcheck import tolerances as tol
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.judge import UNPROVEN_PROBE, judge_elements
    from reference_nn.gradcheck.numerical import Estimate

    w = np.random.default_rng(8).uniform(0.2, 0.6, 12)
    four = np.arange(12) < 4
    c = np.where(four, 2.0, 0.01)
    true = c * np.cos(w)
    ev = LossEvaluator(lambda p: float(np.sum(c * np.sin(p["w"]))), {"w": w.copy()}, np.float64)
    values = np.where(four, true * (1 + 1e-5), true)  # complex step "wrong" on the four
    analytic = np.where(four, true, true + 3e-3)  # the hand-written value wrong on the eight
    estimate = Estimate(values, 100 * np.finfo(float).eps * np.abs(values), np.full(12, 1e-20), "complex")
    row = judge_elements(ev, "w", analytic, "dw", np.float64, estimate, 1e-6, 0.0, tol.finite_rms(true))
    assert UNPROVEN_PROBE == 8 and (row.n_failed, row.n_inconclusive) == (8, 0), f"the eight only\n{row}"
