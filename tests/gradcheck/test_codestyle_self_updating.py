"""Issue 23: check_layer on layers as tutorials write them when the layer updates itself
(backward(grad, learning_rate) taking an SGD step), with other method names, an optimizer object,
forward returning (out, attention_map), a list of arrays as input, a training flag. Each in one
call: right code PASS, a planted bug FAIL naming tensor and element. The layers are
tests/gradcheck/user_code/self_updating.py."""

import re

import numpy as np
import pytest
from user_code import self_updating as S

from reference_nn.gradcheck import UserCodeError, check_layer, layer_step

RNG = np.random.default_rng(0)
COLUMNS, ROWS = RNG.standard_normal((4, 3)), RNG.standard_normal((5, 4))
LIST = [RNG.standard_normal((2, 3)) for _ in range(3)]

# name -> (make(bug), the call's arguments and options, checked tensors, planted bug, broken tensor, element)
STYLES = {
    "backward(output_gradient, learning_rate), columns": (
        lambda bug=None: S.Dense(4, 3, bug=bug), ((COLUMNS,), {}), ["input", "weights", "bias"],
        "weights_one_element", "weights", (1, 0)),
    "the same, bias sign": (lambda bug=None: S.Dense(4, 3, bug=bug), ((COLUMNS,), {}), ["input", "weights", "bias"],
                            "bias_sign", "bias", None),
    "backprop(d, learn_rate), float32 rows": (
        lambda bug=None: S.DenseRows32(4, 3, bug=bug), ((ROWS.astype(np.float32),), {"backward": "backprop"}),
        ["input", "W", "b"], "weights_one_element", "W", (1, 0)),
    "forward_pass / backward_pass": (
        lambda bug=None: S.PassDense(4, 3, bug=bug),
        ((ROWS,), {"forward": "forward_pass", "backward": "backward_pass"}), ["input", "W", "b"],
        "weights_one_element", "W", (1, 0)),
    "optimizer.update(W, dW)": (lambda bug=None: S.OptimizerDense(4, 3, bug=bug), ((ROWS,), {}), ["input", "W", "b"],
                                "weights_one_element", "W", (1, 0)),
    "opt.step(params, grads), Adam": (lambda bug=None: S.AdamDense(4, 3, bug=bug), ((ROWS,), {}),
                                      ["input", "params.W", "params.b"], "weights_one_element", "params.W", (1, 0)),
    "forward -> (out, attention_map)": (lambda bug=None: S.SelfAttention(4, bug=bug), ((ROWS,), {}),
                                        ["input", "Wq", "Wk", "Wv"], "weights_one_element", "Wq", (1, 0)),
    "forward(list of arrays)": (lambda bug=None: S.WeightedSum(3, bug=bug), ((LIST,), {}),
                                ["input[0]", "input[1]", "input[2]", "w"], "second_input", "input[1]", (0, 1)),
    "forward(x, training=True)": (lambda bug=None: S.Dropout(bug=bug), ((ROWS,), {"training": True}), ["input"],
                                  "no_scale", "input", None),
}


@pytest.mark.parametrize("style", STYLES)
def test_right_layer_passes_in_one_call(style):
    make, (args, options), checked, *_ = STYLES[style]
    report = check_layer(make(), *args, **options)
    assert report.passed and not report.inconclusive, f"{style}: right code must PASS\n{report}"
    assert list(report.results) == checked, f"{style}: every tensor checked\n{report}"


@pytest.mark.parametrize("style", STYLES)
def test_planted_bug_fails_naming_tensor_and_element(style):
    make, (args, options), _, bug, broken, index = STYLES[style]
    report = check_layer(make(bug=bug), *args, **options)
    assert report.failed_parameters == [broken], f"{style}: {bug} breaks {broken}\n{report}"
    assert report[broken].worst_index is not None, str(report)
    if index is not None:
        assert report[broken].worst_index == index, f"{style}: the planted element\n{report}"


def test_the_sgd_step_is_said_and_the_layer_is_restored_bit_for_bit():
    layer = S.Dense(4, 3)
    weights, bias = layer.weights, layer.bias
    saved = weights.tobytes(), bias.tobytes()
    report = check_layer(layer, COLUMNS)
    assert any("driven as an SGD step with learning_rate=2**" in n for n in report.notes), report.notes
    assert layer.weights is weights and layer.bias is bias, "same objects after the check"
    assert (weights.tobytes(), bias.tobytes()) == saved, "same bits after the check"


def test_the_layer_is_restored_when_it_raises_midway():
    class Fragile(S.Dense):
        calls = 0

        def backward(self, output_gradient, learning_rate):
            Fragile.calls += 1
            if Fragile.calls == 4:
                raise RuntimeError("out of memory")
            return super().backward(output_gradient, learning_rate)

    layer = Fragile(4, 3)
    weights, saved = layer.weights, layer.weights.tobytes()
    with pytest.raises(UserCodeError, match="out of memory"):
        check_layer(layer, COLUMNS)
    assert layer.weights is weights and weights.tobytes() == saved, "restored after the exception"


class BigBias(S.DenseRows32):
    """A float32 bias of ~3e4 whose gradient is ~1: an ulp of the bias (0.002) is 0.2% of the gradient,
    ~16000 float32 ulps of it, so a step of learning rate 1 would bury the gradient in the bias's
    rounding; the bias does not enter the input gradient, so nothing else hides it."""

    def __init__(self, bug=None):
        super().__init__(4, 3, bug=bug)
        self.b = (3e4 + np.arange(3)).astype(np.float32).reshape(1, 3)

    def backprop(self, d, learn_rate):
        db = d.sum(axis=0, keepdims=True)
        if self.bug == "db_one_element":
            db[0, 1] *= 1.05
        self.b -= learn_rate * db
        dx = d @ self.W.T
        self.W -= learn_rate * (self.x.T @ d)
        return dx


def test_recovered_float32_gradient_keeps_its_precision_with_large_weights(monkeypatch):
    x = ROWS.astype(np.float32)
    report = check_layer(BigBias(), x, backward="backprop")
    assert report.passed and not report.inconclusive, str(report)
    rates = [int(m) for n in report.notes for m in re.findall(r"learn_rate=2\*\*(\d+),", n)]
    assert rates and rates[0] >= 12, f"lr * RMS(db) >= 3e4 with RMS(db) of a few units: lr >= 2**12\n{report.notes}"
    report = check_layer(BigBias(bug="db_one_element"), x, backward="backprop")
    assert report.failed_parameters == ["b"] and report["b"].worst_index == (0, 1), str(report)
    # the rate is what makes the recovery exact: with learning rate 1 the recovered db carries an ulp
    # of the bias (2e-3 here), hundreds of times the error left with the chosen rate
    chosen = check_layer(BigBias(), x, backward="backprop")["b"].max_abs_error
    monkeypatch.setattr(layer_step, "choose_rate", lambda parameters, gradients: 1.0)
    at_one = check_layer(BigBias(), x, backward="backprop")["b"].max_abs_error
    assert 1e-4 < at_one and chosen < at_one / 100, f"error of db: chosen rate {chosen:.3g}, rate 1 {at_one:.3g}"


def test_an_update_that_is_no_sgd_step_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"backward's update of weights is not an SGD step .*weight decay, momentum"):
        check_layer(S.MomentumDense(4, 3), COLUMNS)


def test_a_learning_rate_under_another_name_is_named_by_an_option():
    class Mu(S.Dense):
        def backward(self, grad, mu):
            return super().backward(grad, mu)

    report = check_layer(Mu(4, 3), COLUMNS, learning_rate="mu")
    assert report.passed and list(report.results) == ["input", "weights", "bias"], str(report)


def test_an_unknown_keyword_names_the_check_options_and_forwards_parameters():
    with pytest.raises(TypeError, match=r"check_layer got trainig=\.\.\., which is neither a check option"):
        check_layer(S.Dropout(), ROWS, trainig=True)


def test_a_missing_method_name_says_which_option_names_it():
    with pytest.raises(TypeError, match=r"layer must have a forward method \(name it: forward=\.\.\.\)"):
        check_layer(S.PassDense(4, 3), ROWS)


def test_driving_an_output_backward_takes_no_gradient_for_is_an_error():
    with pytest.raises(ValueError, match=r"outputs=1 drives output 1, but backward takes 1 upstream gradient"):
        check_layer(S.SelfAttention(4), ROWS, outputs=1)
