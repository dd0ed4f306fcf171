"""The modern op set (issue 17): every hand-written backward passes reference_nn.gradcheck, and a
planted bug in it fails, naming the wrong tensor. Activations, losses, BatchNorm / LayerNorm /
Dropout as layer objects, and the functional L-layer model with a normalization."""

import numpy as np
import pytest

import reference_nn as rn
from reference_nn.gradcheck import check_gradients, check_layer
from reference_nn.gradcheck.report import SMALL_BESIDE_LARGEST

SMOOTH = ["gelu", "gelu_tanh", "elu", "selu", "softplus", "silu"]


@pytest.fixture
def rng():
    return np.random.default_rng(17)


def _off_kink(rng, shape, scale=2.0):
    """Pre-activations at least 0.05 from 0 (selu's kink; elu's second derivative jumps there)."""
    Z = rng.standard_normal(shape) * scale
    return np.where(np.abs(Z) < 0.05, 0.05 * np.sign(Z) + (Z == 0) * 0.05, Z)


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_backward_passes(rng, name):
    for Z in (_off_kink(rng, (3, 5)), _off_kink(rng, (4, 1), scale=8.0)):  # typical and saturated, batch 1
        report = check_layer(rn.get_activation(name), Z)
        assert report.passed, f"{name}: {report}"


class _Wrong:
    """Wrap an activation with a backward that is off by a planted bug."""

    def __init__(self, activation, bug):
        self.activation, self.bug = activation, bug

    def forward(self, x):
        self.x = x
        return self.activation.evaluate(x)

    def backward(self, dy):
        right = self.activation.backpropagate(dy, self.x, self.activation.evaluate(self.x))
        return self.bug(right, self.x, dy)


BUGS = {
    "gelu": lambda right, Z, dy: dy * rn.GELU().evaluate(Z) / Z,  # Phi(Z) only: the Z phi(Z) term dropped
    "gelu_tanh": lambda right, Z, dy: right * 1.001,
    "elu": lambda right, Z, dy: np.where(Z < 0, dy * np.exp(Z) * 1.01, right),  # wrong negative slope
    "selu": lambda right, Z, dy: right / rn.layers.SELU_SCALE,  # scale forgotten
    "softplus": lambda right, Z, dy: dy * (1 - rn.Sigmoid().evaluate(Z)),  # sigmoid(-Z)
    "silu": lambda right, Z, dy: dy * rn.Sigmoid().evaluate(Z),  # the product rule's second term dropped
}


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_with_planted_bug_fails(rng, name):
    report = check_layer(_Wrong(rn.get_activation(name), BUGS[name]), _off_kink(rng, (3, 5)))
    assert not report.passed and report.failed_parameters == ["input"], f"{name} bug not caught: {report}"


def test_selu_and_elu_take_the_left_slope_at_zero():
    zero, one = np.zeros((1, 1)), np.ones((1, 1))
    selu_slope = rn.SELU().backpropagate(one, zero, zero)[0, 0]
    assert selu_slope == pytest.approx(rn.layers.SELU_SCALE * rn.layers.SELU_ALPHA, rel=1e-15), \
        f"selu'(0) must be scale * alpha (torch's choice), got {selu_slope}"
    assert rn.ELU().backpropagate(one, zero, zero)[0, 0] == 1.0, "elu'(0) with alpha 1 must be 1"


# ---------------------------------------------------------------------------------- losses
def _loss_case(name, rng):
    if name == "kl_div":
        P = rn.Softmax().evaluate(rng.standard_normal((3, 4)))
        Y = rn.Softmax().evaluate(rng.standard_normal((3, 4)))
        return P, Y
    AL = rng.standard_normal((2, 5)) * 2
    Y = AL + np.where(rng.random((2, 5)) < 0.5, 0.4, 1.8) * rng.choice([-1, 1], (2, 5))  # both Huber branches
    return AL, Y


@pytest.mark.parametrize("name", ["huber", "l1", "kl_div"])
def test_loss_gradient_passes_and_planted_bug_fails(rng, name):
    AL, Y = _loss_case(name, rng)
    loss = rn.get_loss(name)
    f = lambda p: loss.value(p["AL"], Y.astype(p["AL"].real.dtype))  # noqa: E731
    right = check_gradients(f, lambda p: {"AL": loss.gradient(p["AL"], Y)}, {"AL": AL})
    assert right.passed, f"{name}: {right}"
    wrong = check_gradients(f, lambda p: {"AL": loss.gradient(p["AL"], Y) * AL.shape[0]}, {"AL": AL})  # 1/m vs 1/N
    assert not wrong.passed and wrong.failed_parameters == ["AL"], f"{name}: reduction bug not caught: {wrong}"


def test_huber_branches_and_reductions():
    AL, Y = np.array([[0.5, 3.0, -2.0, 0.0]]), np.zeros((1, 4))
    # 0.5 * 0.25, 3 - 0.5, 2 - 0.5, 0: mean over the 4 elements
    assert rn.get_loss("huber").value(AL, Y) == pytest.approx((0.125 + 2.5 + 1.5) / 4, rel=1e-15), "huber value"
    np.testing.assert_array_equal(rn.get_loss("huber").gradient(AL, Y), [[0.125, 0.25, -0.25, 0.0]],
                                  err_msg="huber gradient is clip(r, -1, 1) / N")
    np.testing.assert_array_equal(rn.get_loss("l1").gradient(AL, Y), [[0.25, 0.25, -0.25, 0.0]],
                                  err_msg="l1 gradient is sign(r) / N with sign(0) = 0")


def test_kl_div_is_zero_at_the_target_and_handles_zero_targets():
    P = np.array([[0.5, 0.2], [0.5, 0.8]])
    assert rn.compute_cost(P, P, "kl_div") == pytest.approx(0.0, abs=1e-16), "KL(P || P) must be 0"
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    expected = (np.log(1 / 0.5) + np.log(1 / 0.8)) / 2  # 0 log 0 = 0; averaged over the m = 2 columns
    assert rn.compute_cost(P, Y, "kl_div") == pytest.approx(expected, rel=1e-15), "KL with one-hot targets"


# --------------------------------------------------------------------- normalization layers
def _with_random_affine(layer, rng):
    layer.params["gamma"] = rng.standard_normal(layer.params["gamma"].shape) + 1.0
    layer.params["beta"] = rng.standard_normal(layer.params["beta"].shape)
    return layer


@pytest.mark.parametrize("make", [lambda: rn.BatchNorm(3), lambda: rn.BatchNorm(3).eval(), lambda: rn.LayerNorm(3)],
                         ids=["batchnorm-train", "batchnorm-eval", "layernorm"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalization_backward_passes(rng, make, dtype):
    layer = _with_random_affine(make(), rng)
    layer.params = {k: v.astype(dtype) for k, v in layer.params.items()}
    if isinstance(layer, rn.BatchNorm):
        layer.running_mean = rng.standard_normal((3, 1)).astype(dtype)
        layer.running_var = rng.uniform(0.5, 2.0, (3, 1)).astype(dtype)
    for m in (2, 6):  # m = 2: the smallest batch BatchNorm trains on (each row normalizes to +-1)
        report = check_layer(layer, rng.standard_normal((3, m)).astype(dtype) * 3 + 1)
        if m == 2 and dtype is np.float32 and isinstance(layer, rn.BatchNorm) and layer.training:
            # each row normalizes to +-1 whatever the input: d input is ~1e-8 of d gamma, which float32
            # computes as rounding noise; no tolerance within issue 21's cap (0.5% of its own size) can
            # verify it, so it is INCONCLUSIVE with that reason (it used to PASS within 1.5e-8 of G)
            assert not report.failed and report["gamma"].passed and report["beta"].passed, str(report)
            assert set(report["input"].inconclusive_reasons) <= {SMALL_BESIDE_LARGEST}, str(report)
        else:
            assert report.passed, f"{layer!r} m={m} {dtype.__name__}: {report}"


class _BatchNormWithoutMeanTerm(rn.BatchNorm):
    """A classic bug: dZ = gamma dout / std, as if the batch statistics did not depend on Z."""

    def backward(self, dy):
        dx = super().backward(dy)
        return self.params["gamma"] * dy * self._cache.inv_std if dx is not None else dx


def test_batchnorm_with_planted_bug_fails(rng):
    report = check_layer(_with_random_affine(_BatchNormWithoutMeanTerm(3), rng), rng.standard_normal((3, 5)))
    assert not report.passed and report.failed_parameters == ["input"], f"bug not caught: {report}"


def test_dropout_backward_passes_and_uses_the_forward_mask(rng):
    x = rng.standard_normal((4, 6))
    mask = rng.random((4, 6)) >= 0.25
    layer = rn.Dropout(0.25, mask=mask)
    assert check_layer(layer, x).passed, "dropout with an explicit mask"
    # x times the scaled mask mask / (1 - p), the order torch computes it in
    np.testing.assert_array_equal(layer.forward(x), x * (mask / 0.75), err_msg="inverted scaling 1 / (1 - p)")
    seeded = rn.Dropout(0.25, seed=3)
    first, second = seeded.forward(x), rn.Dropout(0.25, seed=3).forward(x)
    np.testing.assert_array_equal(first, second, err_msg="one seed, one mask")
    np.testing.assert_array_equal(seeded.backward(np.ones_like(x)), (first != 0) / 0.75,
                                  err_msg="backward must use the last forward's mask")
    assert rn.Dropout(0.25).eval().forward(x) is x, "eval mode is the identity"


# --------------------------------------------------------------- the functional L-layer model
@pytest.mark.parametrize("kind", ["batch", "layer"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalized_functional_model_gradients_pass(rng, kind, dtype):
    params = rn.initialize_parameters([3, 4, 5, 2], init="xavier", seed=rng, dtype=dtype, normalization=kind)
    for name in params:
        if name.startswith(("gamma", "beta")):
            params[name] = (rng.standard_normal(params[name].shape) * 0.3 + (name[0] == "g")).astype(dtype)
    X = rng.standard_normal((3, 7)).astype(dtype)
    first = np.round(rng.uniform(0.05, 0.95, (1, 7)) * 2**20) / 2**20  # dyadic: columns sum to 1 in both dtypes
    Y = np.vstack([first, 1 - first]).astype(dtype)
    activations = ["gelu", "silu", "softmax"]

    def cost(p):  # the numerical side hands one perturbed (float64 or complex) tensor among the others
        common = np.result_type(*p.values())
        p = {name: value.astype(common) for name, value in p.items()}
        AL, _ = rn.model_forward(X.astype(common), p, activations, kind)
        return rn.compute_cost(AL, Y.astype(AL.real.dtype), "kl_div", p, l2=0.1)

    def gradients(p):
        AL, caches = rn.model_forward(X, p, activations, kind)
        return rn.model_backward(AL, Y, caches, "kl_div", l2=0.1)

    assert set(gradients(params)) == {f"d{k}" for k in params}, "one gradient per parameter, no db for normed layers"
    report = check_gradients(cost, gradients, params)
    assert report.passed, str(report)

    def wrong(p):  # dgamma1 off by 5%
        grads = gradients(p)
        grads["dgamma1"] = grads["dgamma1"] * 0.95  # 5%: above the float32 tolerance
        return grads

    assert check_gradients(cost, wrong, params).failed_parameters == ["gamma1"], "a wrong dgamma1 must be named"


def test_batchnorm_running_stats_follow_torch_update(rng):
    params = rn.initialize_parameters([3, 4, 1], seed=0, normalization="batch")
    state = rn.initialize_norm_state(params)
    X = rng.standard_normal((3, 5))
    Z = params["W1"] @ X
    rn.model_forward(X, params, ["relu", "sigmoid"], "batch", state)
    rn.model_forward(X, params, ["relu", "sigmoid"], "batch", state)
    mean, unbiased = Z.mean(axis=1, keepdims=True), Z.var(axis=1, ddof=1, keepdims=True)
    # two updates from (0, 1) with momentum 0.1: r2 = 0.9 (0.9 r0 + 0.1 s) + 0.1 s = 0.81 r0 + 0.19 s
    np.testing.assert_allclose(state["running_mean1"], 0.19 * mean, rtol=1e-14, err_msg="running mean")
    np.testing.assert_allclose(state["running_var1"], 0.81 + 0.19 * unbiased, rtol=1e-14, err_msg="running var")
    assert set(state) == {"running_mean1", "running_var1"}, f"state only for the hidden layer: {sorted(state)}"
    with pytest.raises(ValueError, match="m >= 2"):
        rn.model_forward(X[:, :1], params, ["relu", "sigmoid"], "batch")
    with pytest.raises(ValueError, match="norm_state"):
        rn.model_forward(X, params, ["relu", "sigmoid"], "batch", training=False)
    with pytest.raises(ValueError, match="does not match params"):
        rn.model_forward(X, params, ["relu", "sigmoid"])
