"""check_vjp on course-assignment layers (forward(...) -> (out, cache), backward(dout, cache)):
each layer written from scratch in tests/gradcheck/user_code, checked in one call with no wrapper,
right (every element verified) and with one planted bug (the wrong tensor and element named)."""

import numpy as np
import pytest
from user_code import buggy
from user_code import layers as L

from reference_nn.gradcheck import check_vjp


def away_from_zero(rng, shape, margin=0.3):
    """Values with |v| in [margin, margin + 1]: ReLU / hinge inputs no finite-difference step crosses."""
    return rng.choice([-1.0, 1.0], size=shape) * (margin + rng.uniform(size=shape))


def distinct_windows(rng, shape):
    """Pooling input whose values are a shuffled grid 0.5 apart: a window's max is never tied."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.5).reshape(shape)


# name -> (forward, right backward, buggy backward, inputs(rng), tensor the bug breaks)
CASES = {
    "affine": (L.affine_forward, L.affine_backward, buggy.affine_backward,
               lambda r: (r.standard_normal((4, 2, 3)), r.standard_normal((6, 3)), r.standard_normal(3)), "w"),
    "relu": (L.relu_forward, L.relu_backward, buggy.relu_backward, lambda r: (away_from_zero(r, (3, 4)),), "x"),
    "batchnorm": (L.batchnorm_forward, L.batchnorm_backward, buggy.batchnorm_backward,
                  lambda r: (r.standard_normal((5, 3)) * 2 + 1, r.standard_normal(3), r.standard_normal(3),
                             {"mode": "train"}), "x"),
    "layernorm": (L.layernorm_forward, L.layernorm_backward, buggy.layernorm_backward,
                  lambda r: (r.standard_normal((4, 5)), r.standard_normal(5), r.standard_normal(5), {"eps": 1e-5}),
                  "x"),
    "dropout": (L.dropout_forward, L.dropout_backward, buggy.dropout_backward,
                lambda r: (r.standard_normal((6, 5)), {"mode": "train", "p": 0.6, "seed": 123}), "x"),
    "conv": (L.conv_forward_naive, L.conv_backward_naive, buggy.conv_backward_naive,
             lambda r: (r.standard_normal((2, 2, 4, 4)), r.standard_normal((3, 2, 3, 3)), r.standard_normal(3),
                        {"stride": 1, "pad": 1}), "b"),
    "max_pool": (L.max_pool_forward_naive, L.max_pool_backward_naive, buggy.max_pool_backward_naive,
                 lambda r: (distinct_windows(r, (2, 2, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2}),
                 "x"),
    "rnn_step": (L.rnn_step_forward, L.rnn_step_backward, buggy.rnn_step_backward,
                 lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 5)), 0.3 * r.standard_normal((4, 5)),
                            0.3 * r.standard_normal((5, 5)), r.standard_normal(5)), "Wh"),
    "lstm_step": (L.lstm_step_forward, L.lstm_step_backward, buggy.lstm_step_backward,
                  lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 2)), r.standard_normal((3, 2)),
                             0.5 * r.standard_normal((4, 8)), 0.5 * r.standard_normal((2, 8)), r.standard_normal(8)),
                  "prev_c"),
    "word_embedding": (L.word_embedding_forward, L.word_embedding_backward, buggy.word_embedding_backward,
                       lambda r: (np.array([[0, 3, 1], [3, 2, 3]]), r.standard_normal((5, 4))), "W"),
}


@pytest.mark.parametrize("name", CASES)
def test_right_layer_passes_with_every_input_gradient_checked(name):
    forward, backward, _, make_inputs, _ = CASES[name]
    inputs = make_inputs(np.random.default_rng(0))
    report = check_vjp(forward, backward, *inputs)
    assert report.passed and not report.inconclusive, f"{name}: a right backward must PASS\n{report}"
    float_inputs = [i for i, v in enumerate(inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    assert len(report.results) == len(float_inputs), f"{name}: every float input is checked\n{report}"
    checked = sum(r.n_elements for r in report.results.values())
    assert checked == sum(inputs[i].size for i in float_inputs), f"{name}: every element is checked\n{report}"


@pytest.mark.parametrize("name", CASES)
def test_planted_bug_fails_and_names_the_tensor(name):
    forward, _, wrong_backward, make_inputs, broken = CASES[name]
    inputs = make_inputs(np.random.default_rng(0))
    report = check_vjp(forward, wrong_backward, *inputs)
    assert report.failed_parameters == [broken], f"{name}: the bug is in {broken!r}\n{report}"
    result = report[broken]
    assert result.worst_index is not None and len(result.worst_index) == inputs_shape(inputs, forward, broken), (
        f"{name}: the failing element is named by a full index\n{report}"
    )
    assert abs(result.analytic - result.numeric) > result.tolerance, f"{name}: the named element is off\n{report}"


def inputs_shape(inputs, forward, name):
    import inspect

    names = list(inspect.signature(forward).parameters)
    return np.ndim(inputs[names.index(name)])


def test_gradients_are_named_after_forwards_parameters_and_outputs_are_said():
    rng = np.random.default_rng(1)
    x, prev_h, prev_c = rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    Wx, Wh, b = rng.standard_normal((3, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8)
    report = check_vjp(L.lstm_step_forward, L.lstm_step_backward, x, prev_h, prev_c, Wx, Wh, b)
    assert list(report.results) == ["x", "prev_h", "prev_c", "Wx", "Wh", "b"], str(report)
    assert report["prev_h"].gradient_key == "dprev_h", str(report)
    assert "next_h (2, 2)" in report.notes[0] and "next_c (2, 2)" in report.notes[0], report.notes


def test_only_one_output_driven_when_asked():
    """outputs=0 drives next_h alone: a bug in how dnext_c enters backward is then invisible,
    and the report says so (the note names the undriven output)."""
    rng = np.random.default_rng(2)
    inputs = (rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2)),
              rng.standard_normal((3, 8)), rng.standard_normal((2, 8)), rng.standard_normal(8))

    def ignores_dnext_c(dnext_h, dnext_c, cache):
        return L.lstm_step_backward(dnext_h, 0 * dnext_c, cache)

    assert not check_vjp(L.lstm_step_forward, ignores_dnext_c, *inputs).passed, "both outputs driven: caught"
    report = check_vjp(L.lstm_step_forward, ignores_dnext_c, *inputs, outputs=0)
    assert report.passed, str(report)
    assert "not driven (zero upstream gradient): next_c" in report.notes[0], report.notes


def test_static_inputs_are_passed_unchanged_and_said():
    rng = np.random.default_rng(3)
    bn_param = {"mode": "train"}
    report = check_vjp(L.batchnorm_forward, L.batchnorm_backward, rng.standard_normal((4, 3)),
                       rng.standard_normal(3), rng.standard_normal(3), bn_param)
    assert bn_param == {"mode": "train"}, f"the caller's config dict is not written to: {bn_param}"
    assert "passed unchanged on every call: bn_param (dict)" in report.notes, report.notes


def test_test_mode_batchnorm_uses_the_running_statistics():
    rng = np.random.default_rng(4)
    bn_param = {"mode": "test", "running_mean": rng.standard_normal(3), "running_var": rng.uniform(0.5, 2, 3)}
    report = check_vjp(L.batchnorm_forward, L.batchnorm_backward, rng.standard_normal((4, 3)),
                       rng.standard_normal(3), rng.standard_normal(3), bn_param)
    assert report.passed and not report.inconclusive, str(report)


def test_float32_layer_passes_and_its_bug_fails():
    rng = np.random.default_rng(5)
    inputs = [a.astype(np.float32) for a in (rng.standard_normal((4, 5)), rng.standard_normal((5, 3)),
                                             rng.standard_normal(3))]
    right = check_vjp(L.affine_forward, L.affine_backward, *inputs)
    assert right.passed and not right.inconclusive, str(right)
    assert right["w"].dtype == "float32", str(right)
    assert check_vjp(L.affine_forward, buggy.affine_backward, *inputs).failed_parameters == ["w"]


def test_embedding_bug_is_localized_to_the_repeated_word():
    """dW[x] = dout keeps one of the repeated word's terms: only row 3 (three uses) is wrong."""
    rng = np.random.default_rng(0)
    x, W = np.array([[0, 3, 1], [3, 2, 3]]), rng.standard_normal((5, 4))
    report = check_vjp(L.word_embedding_forward, buggy.word_embedding_backward, x, W)
    assert report["W"].worst_index[0] == 3 and report["W"].n_failed == 4, str(report)
    assert list(report.results) == ["W"] and "x (int64 array (2, 3))" in report.notes[1], str(report)


def test_singleton_shape_difference_is_compared_by_value_with_a_note():
    def forward(x, b):  # b (1, 1): one bias shared by every element
        return x + b, None

    def backward(dout, cache):
        return dout, dout.sum()  # db of shape (): the same single number

    x, b = np.random.default_rng(6).standard_normal((3, 2)), np.array([[0.5]])
    report = check_vjp(forward, backward, x, b)
    assert report.passed and not report.inconclusive, str(report)
    assert any("b: gradient of shape () for a parameter of shape (1, 1)" in n for n in report.notes), report.notes

    def wrong_backward(dout, cache):
        return dout, dout.sum() * 2

    assert check_vjp(forward, wrong_backward, x, b).failed_parameters == ["b"], "a reshaped gradient is still judged"


def test_truly_different_shape_is_an_error_naming_both_shapes():
    def transposed_dw(dout, cache):
        dx, dw, db = L.affine_backward(dout, cache)
        return dx, dw.T, db

    rng = np.random.default_rng(7)
    with pytest.raises(ValueError, match=r"shape \(3, 5\) but 'w' has shape \(5, 3\)"):
        check_vjp(L.affine_forward, transposed_dw, rng.standard_normal((4, 5)), rng.standard_normal((5, 3)),
                  rng.standard_normal(3))


def test_wrong_number_of_gradients_is_an_error_naming_the_inputs():
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError, match=r"backward returned 2 gradient\(s\) but forward has 3 differentiable "
                                         r"input\(s\) \(x, w, b\).*wrt="):
        check_vjp(L.affine_forward, lambda dout, cache: L.affine_backward(dout, cache)[1:],
                  rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3))


def test_wrt_names_the_inputs_backward_differentiates():
    def masked_forward(x, mask):  # mask: a float array that is data, not a parameter
        return x * mask, mask

    def masked_backward(dout, mask):
        return dout * mask

    rng = np.random.default_rng(9)
    x, mask = rng.standard_normal((3, 3)), (rng.uniform(size=(3, 3)) > 0.5).astype(float)
    report = check_vjp(masked_forward, masked_backward, x, mask, wrt="x")
    assert list(report.results) == ["x"] and report.passed, str(report)
    assert "passed unchanged on every call: mask (float64 array (3, 3))" in report.notes, report.notes


def test_forward_without_a_cache_is_a_clear_error():
    rng = np.random.default_rng(10)
    with pytest.raises(TypeError, match=r"forward must return \(out, cache\).*got ndarray"):
        check_vjp(lambda x: np.tanh(x), lambda dout, cache: dout, rng.standard_normal(3))
    with pytest.raises(TypeError, match="backward must be callable.*check_value_and_grad"):
        check_vjp(L.softmax_loss, None, rng.standard_normal((2, 3)), np.array([0, 1]))


def test_scalar_output_gets_upstream_gradient_one():
    """A loss written as a pair: forward(x, y) -> (loss, cache), backward(dloss, cache) -> dx."""

    def softmax_loss_forward(x, y):
        loss, dx = L.softmax_loss(x, y)
        return loss, dx

    def softmax_loss_backward(dloss, dx):
        return dloss * dx

    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((4, 5)), np.array([0, 3, 1, 4])
    report = check_vjp(softmax_loss_forward, softmax_loss_backward, x, y)
    assert report.passed and not report.inconclusive, str(report)
    assert report.notes[0] == "drove output(s) loss (a scalar: upstream gradient 1)", report.notes

    def backward_drops_dloss(dloss, dx):
        return 2.0 * dx  # as if the upstream gradient were 2

    assert check_vjp(softmax_loss_forward, backward_drops_dloss, x, y).failed_parameters == ["x"]


def test_none_for_an_input_is_not_checked_and_warned():
    def mse_forward(pred, target):
        return 0.5 * np.sum((pred - target) ** 2), (pred, target)

    def mse_backward(dloss, cache):
        pred, target = cache
        return dloss * (pred - target), None  # no gradient for the target

    rng = np.random.default_rng(12)
    report = check_vjp(mse_forward, mse_backward, rng.standard_normal(4), rng.standard_normal(4))
    assert report.passed and list(report.results) == ["pred"], str(report)
    assert report.notes[0] == "WARNING: backward returned None for target: not checked", report.notes


def test_none_and_int_inputs_are_passed_as_given():
    seen = []

    def scaled_forward(x, power, mask):
        seen.append((power, mask))
        return x**power, x

    def scaled_backward(dout, x):
        return dout * 3 * x**2

    rng = np.random.default_rng(13)
    report = check_vjp(scaled_forward, scaled_backward, rng.standard_normal((2, 3)), 3, None)
    assert report.passed and list(report.results) == ["x"], str(report)
    assert set(seen) == {(3, None)}, f"every call got power=3 and mask=None: {set(seen)}"
    assert "passed unchanged on every call: power (int), mask (NoneType)" in report.notes, report.notes


def test_an_exception_in_forward_or_backward_is_reported_as_the_users():
    from reference_nn.gradcheck import UserCodeError

    def backward_typo(dout, cache):
        x, w, b = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=0) + undefined_name  # noqa: F821

    rng = np.random.default_rng(14)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    with pytest.raises(UserCodeError, match=r"NameError: .*undefined_name.*\(in test_an_exception.*backward_typo\)"):
        check_vjp(L.affine_forward, backward_typo, x, w, b)
    with pytest.raises(UserCodeError, match=r"ValueError: .*\(in affine_forward\)") as caught:
        check_vjp(L.affine_forward, L.affine_backward, x, rng.standard_normal((4, 3)), b)  # w of the wrong shape
    assert caught.value.function == "f" and isinstance(caught.value.__cause__, ValueError), caught.value


def test_unseeded_dropout_is_inconclusive_not_passed():
    """Without a seed each call draws a fresh mask: nothing can be verified (issue 12, case 1)."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((6, 5))

    def wrong_backward(dout, cache):
        return -5 * L.dropout_backward(dout, cache) + 3

    for backward in (L.dropout_backward, wrong_backward):
        report = check_vjp(L.dropout_forward, backward, x, {"mode": "train", "p": 0.6})
        assert not report.passed and report.inconclusive, str(report)
        assert any("not deterministic" in r for r in report.reasons), report.reasons


def test_methods_of_an_object_with_parameters_get_a_warning():
    """check_vjp(layer.forward, layer.backward, x) perturbs x only: the layer's own W and b are not
    inputs, so the report warns and points at check_layer."""
    from user_code import layer_objects

    layer = layer_objects.CacheDense(4, 3)
    report = check_vjp(layer.forward, layer.backward, np.random.default_rng(16).standard_normal((5, 4)))
    assert report.passed and list(report.results) == ["x"], str(report)
    assert report.notes[0].startswith("WARNING: forward is a method of a CacheDense that keeps parameters (W, b)"), (
        report.notes
    )
