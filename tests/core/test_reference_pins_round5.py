"""Pins of reference_nn values that its derivative pins cannot see (mutation survivors of issue 26, the
`reference_nn` samples): a constant offset of a value leaves its derivative alone, so these are checked
against hand-computed numbers (math.log1p, the documented formulas written out here): softplus and the
complex stable sigmoid, Huber's linear region, inverted dropout's scale, the running statistics of batch
norm (torch's momentum update with the unbiased variance) through the functional model, the cross entropy's
output-scaled gradient, the optimizers' documented defaults, and the functional model's gradient names and
values with a normalized hidden layer (verified by reference_nn.gradcheck, complex step)."""

import math
import warnings

import numpy as np
import pytest

from reference_nn import optim
from reference_nn.gradcheck import PASS, check_gradients
from reference_nn.layers import ACTIVATIONS, stable_sigmoid
from reference_nn.losses import CrossEntropy, Huber, OutputPairingWarning
from reference_nn.model import compute_cost, initialize_parameters, model_backward, model_forward
from reference_nn.normalization import Dropout, initialize_norm_state, update_running_stats
from reference_nn.train import fit


def test_softplus_values():
    z = np.array([[-2.0, 3.0, 0.5]])
    expected = [math.log1p(math.exp(v)) for v in (-2.0, 3.0, 0.5)]
    got = ACTIVATIONS["softplus"]().evaluate(z)
    assert np.allclose(got, [expected], rtol=1e-15, atol=0), f"softplus {got} vs log1p(exp(z)) {expected}"


def test_the_stable_sigmoid_of_complex_logits_is_the_sigmoid():
    # complex step differentiates through it: 1 / (1 + exp(-z)) for moderate complex z, both branches
    z = np.array([2.0 + 1e-3j, -1.5 + 2e-3j, 0.3 - 1e-3j])
    assert np.allclose(stable_sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14, atol=0), stable_sigmoid(z)


def test_huber_beyond_delta_is_linear_from_half_delta_squared():
    # residuals 5, -3 (beyond delta = 2: delta (|r| - delta / 2) = 8, 4) and 0.5 (inside: r^2 / 2 = 0.125)
    got = Huber(2.0).value(np.array([[5.0, -3.0, 0.5]]), np.zeros((1, 3)))
    assert got == pytest.approx((8.0 + 4.0 + 0.125) / 3, rel=1e-15), f"Huber(2) mean {got!r}"


def test_inverted_dropout_scales_kept_units_by_one_over_one_minus_p():
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [True, True]])
    layer = Dropout(0.25, mask=mask)
    assert np.array_equal(layer.forward(x), np.array([[4 / 3, 0.0], [4.0, 16 / 3]])), layer.forward(x)
    dy = np.array([[3.0, 3.0], [-6.0, 0.75]])
    assert np.array_equal(layer.backward(dy), np.array([[4.0, 0.0], [-8.0, 1.0]])), layer.backward(dy)
    layer.eval()
    assert np.array_equal(layer.forward(x), x) and np.array_equal(layer.backward(dy), dy), "eval: the identity"
    assert Dropout(0.5).p == 0.5, "p in [0, 1)"


def test_running_statistics_follow_torchs_momentum_update():
    mean, var = update_running_stats(np.array([1.0]), np.array([2.0]), np.array([3.0]), np.array([0.6]), 4, 0.1)
    # 0.9 * 1 + 0.1 * 3 = 1.2; the batch variance made unbiased 0.6 * 4 / 3 = 0.8: 0.9 * 2 + 0.1 * 0.8 = 1.88
    assert mean[0] == pytest.approx(1.2, rel=1e-15) and var[0] == pytest.approx(1.88, rel=1e-15), (mean, var)


def test_the_functional_model_updates_both_running_statistics_from_two_samples():
    params = initialize_parameters([2, 3, 1], seed=0, normalization="batch")
    state = initialize_norm_state(params)
    X = np.array([[1.0, -1.0], [0.5, 2.0]])
    model_forward(X, params, ["relu", "sigmoid"], normalization="batch", norm_state=state)
    Z = params["W1"] @ X  # a normalized layer has no bias (beta1 shifts instead)
    mean, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    assert np.allclose(state["running_mean1"], 0.1 * mean, rtol=1e-14, atol=0), state["running_mean1"]
    assert np.allclose(state["running_var1"], 0.9 + 0.1 * 2 * var, rtol=1e-14, atol=0), state["running_var1"]


def test_cross_entropys_output_scaled_gradient_is_minus_y_over_m():
    AL = np.array([[0.2, 0.7, 0.5, 0.9], [0.8, 0.3, 0.5, 0.1]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]])
    assert np.array_equal(CrossEntropy().output_scaled_gradient(AL, Y), -Y / 4), "-Y / m, m = 4 samples"


@pytest.mark.parametrize("make, explicit", [
    (lambda: optim.AdamW(), lambda: optim.AdamW(0.001, 0.9, 0.999, 1e-8, 0.01)),
    (lambda: optim.Adagrad(), lambda: optim.Adagrad(0.01, 0.0, 0.0, 0.0, 1e-10)),
    (lambda: optim.Adam(), lambda: optim.Adam(0.001, 0.9, 0.999, 1e-8, 0.0)),
], ids=["AdamW", "Adagrad", "Adam"])  # fmt: skip
def test_optimizer_defaults_are_torchs(make, explicit):
    params = {"W1": np.array([[0.5, -1.0]]), "b1": np.array([[0.25]])}
    grads = {"dW1": np.array([[0.3, 0.2]]), "db1": np.array([[-0.4]])}
    a, b = make(), explicit()
    pa, pb = dict(params), dict(params)
    for _ in range(3):
        pa, pb = a.step(pa, grads), b.step(pb, grads)
    assert all(np.array_equal(pa[k], pb[k]) for k in params), f"{a!r}: {pa} vs {pb}"


def test_adams_repr_shows_its_coupled_weight_decay():
    assert "weight_decay=0.1, decoupled=False" in repr(optim.Adam(weight_decay=0.1)), repr(optim.Adam(weight_decay=0.1))


def test_a_normalized_model_returns_every_gradient_by_name_and_right():
    params = initialize_parameters([3, 4, 2], seed=1, normalization="batch")
    params["b2"] = params["b2"] + 0.1
    X = np.random.default_rng(2).standard_normal((3, 5))
    Y = (np.random.default_rng(3).random((2, 5)) < 0.5).astype(float)
    AL, caches = model_forward(X, params, ["tanh", "sigmoid"], normalization="batch")
    grads = model_backward(AL, Y, caches, "bce")
    assert list(grads) == ["dW1", "dgamma1", "dbeta1", "dW2", "db2"], f"names and order: {list(grads)}"

    def f(p):
        return compute_cost(model_forward(X, p, ["tanh", "sigmoid"], normalization="batch")[0], Y, "bce")

    def grad_f(p):
        out, c = model_forward(X, p, ["tanh", "sigmoid"], normalization="batch")
        return {k[1:]: v for k, v in model_backward(out, Y, c, "bce").items()}

    report = check_gradients(f, grad_f, params)
    assert report.verdict == PASS, str(report)


def test_fit_names_x_when_it_is_not_two_dimensional():
    with pytest.raises(ValueError, match=r"X must be 2-D with shape \(n_features, m\)"):
        fit(np.ones(3), np.ones((1, 3)), [3, 1], num_iterations=1)


# ---- the reference_nn sample seed 20261212's survivors


def test_xavier_initialization_has_glorots_spread():
    params = initialize_parameters([400, 300, 1], init="xavier", seed=0)
    std, expected = float(np.std(params["W1"])), math.sqrt(2.0 / (400 + 300))
    # 120,000 draws: the sample std is within 1% of sigma (its relative standard error is 0.2%)
    assert abs(std / expected - 1) < 0.01, f"xavier W1 std {std:.5f} vs sqrt(2 / (n_in + n_out)) = {expected:.5f}"


@pytest.mark.parametrize("output, loss", [("sigmoid", "cross_entropy"), ("softmax", "bce"), ("sigmoid", "mse")])
def test_an_output_not_fused_with_its_loss_is_differentiated_right(output, loss):
    """model_backward's output-scaled path (A dA given by the loss, then the sigmoid's A (1 - A) or the
    softmax's Jacobian): verified by reference_nn.gradcheck."""
    rng = np.random.default_rng(9)
    params = initialize_parameters([3, 4, 3], seed=9)
    X = rng.standard_normal((3, 5))
    Y = np.eye(3)[:, rng.integers(0, 3, 5)] if loss == "cross_entropy" else (rng.random((3, 5)) < 0.5) * 1.0

    def f(p):
        return compute_cost(model_forward(X, p, ["tanh", output])[0], Y, loss)

    def grad_f(p):
        out, caches = model_forward(X, p, ["tanh", output])
        return {k[1:]: v for k, v in model_backward(out, Y, caches, loss).items()}

    with warnings.catch_warnings():  # softmax + bce is multi-label on purpose here: its pairing warning
        warnings.simplefilter("ignore", OutputPairingWarning)
        report = check_gradients(f, grad_f, params)
    assert report.verdict == PASS, f"{output} + {loss}\n{report}"


def test_the_batchnorm_layer_takes_two_samples_and_a_complex_probe_leaves_its_statistics():
    from reference_nn.normalization import BatchNorm

    layer = BatchNorm(2)
    x = np.array([[1.0, 3.0], [-2.0, 2.0]])
    layer.forward(x)  # m = 2 is a batch
    assert np.allclose(layer.running_mean.ravel(), [0.2, 0.0], rtol=1e-14, atol=1e-15), layer.running_mean
    before = (layer.running_mean.copy(), layer.running_var.copy(), layer.num_batches_tracked)
    layer.forward(x + 1e-20j)  # complex step probes the function: no training batch
    assert np.array_equal(layer.running_mean, before[0]) and np.array_equal(layer.running_var, before[1]) \
        and layer.num_batches_tracked == before[2], "a complex forward changed the running statistics"  # fmt: skip
    with pytest.raises(ValueError, match="x for BatchNorm must have shape"):
        layer.forward(np.ones((2, 2, 1)))


def test_a_normalization_with_momentum_one_is_valid():
    from reference_nn.normalization import Normalization, get_normalization

    spec = Normalization("batch", 1e-5, 1.0)
    assert get_normalization(spec) is spec, "momentum in [0, 1], 1 included"


def test_fit_on_integer_labels_in_mini_batches_and_its_progress_lines(capsys):
    rng = np.random.default_rng(10)
    X, labels = rng.standard_normal((2, 12)), rng.integers(0, 3, 12)
    params, costs = fit(X, labels, [2, 3], ["identity"], loss="softmax_cross_entropy", num_iterations=5,
                        batch_size=4, print_every=2)  # fmt: skip
    assert len(costs) == 5 and all(np.isfinite(costs)), costs
    printed = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()]
    assert printed == [f"Cost after iteration {i}" for i in (0, 2, 4)], printed


def test_fit_names_a_batch_size_below_one():
    with pytest.raises(ValueError, match=r"batch_size must be None or an int >= 1, got 0"):
        fit(np.ones((2, 3)), np.ones((1, 3)), [2, 1], num_iterations=1, batch_size=0)


def test_a_loss_refuses_float_targets_of_another_precision():
    with pytest.raises(TypeError, match="Y has dtype float64 but AL has dtype float32"):
        compute_cost(np.full((1, 2), 0.5, np.float32), np.ones((1, 2)), "bce")


def test_empty_parameters_are_named():
    with pytest.raises(ValueError, match=r"params must have keys W1, b1, ..., WL, bL; got \[\]"):
        model_forward(np.ones((2, 3)), {}, ["sigmoid"])


def test_bad_targets_are_reported_at_the_first_one():
    AL = np.full((3, 4), 1 / 3)
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\], got 5"):
        compute_cost(AL, np.array([0, 5, 1, 7]), "cross_entropy")
    Y = np.array([[0.5, 0.0, 1.0, 0.2], [0.5, 1.0, 0.0, -0.2], [0.0, 0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"got -0.2 < 0 at \(1, 3\)"):
        compute_cost(AL, Y, "cross_entropy")


def test_matmul_keeps_a_real_invalid_operation_and_drops_nothing_else():
    from reference_nn.layers import matmul

    a, b = np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])
    assert matmul(a, b).tolist() == [[11.0]], "the product"
    with pytest.raises(FloatingPointError):  # 0 * inf is invalid: the caller's errstate decides, as for a @ b
        with np.errstate(invalid="raise"):
            matmul(np.array([[0.0, 1.0]]), np.array([[np.inf], [1.0]]))
    with np.errstate(invalid="ignore"):
        assert np.isnan(matmul(np.array([[0.0, 1.0]]), np.array([[np.inf], [1.0]]))).all(), "0 * inf is nan"
