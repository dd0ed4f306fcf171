"""The modern op set (issue 17) against torch and TensorFlow/Keras, op by op, in both dtypes:
activations (value and vector-Jacobian product), losses (value and gradient), BatchNorm (train and
eval, running statistics after k steps), LayerNorm, and the optimizers' trajectories.

Errors are normalized as the harness does (equivalence_tests.tolerances): ``|r - c| / max(|r|, |c|,
rms(r))``, so an entry that is ~0 after cancellation is judged against the tensor's size."""

from __future__ import annotations

import numpy as np
import pytest

import reference_nn as rn

torch = pytest.importorskip("torch")
F = torch.nn.functional
EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}


def _tf():
    from equivalence_tests.oracles.base import import_quietly, import_tensorflow

    return import_tensorflow(), import_quietly("keras")


def normalized_error(reference: np.ndarray, other: np.ndarray) -> float:
    reference, other = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    scale = np.sqrt(np.mean(reference * reference))
    floor = np.maximum(np.maximum(np.abs(reference), np.abs(other)), scale)
    return float(np.max(np.abs(reference - other) / np.where(floor > 0, floor, 1.0)))


def _inputs(dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activations: normal(0, 3) plus a grid over [-30, 30], none within 1e-3 of 0 (selu's kink);
    an upstream gradient of the same shape."""
    rng = np.random.default_rng(seed)
    Z = np.concatenate([rng.standard_normal(400) * 3, np.linspace(-30, 30, 241)])
    Z = Z[np.abs(Z) > 1e-3].reshape(1, -1).astype(dtype)
    return Z, rng.standard_normal(Z.shape).astype(dtype)


TORCH_ACTIVATIONS = {
    "gelu": lambda z: F.gelu(z),
    "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
    "elu": F.elu,
    "selu": F.selu,
    # threshold 40 in float64: beyond 20 torch's default returns z itself, exp(-20) = 2e-9 from softplus
    "softplus": lambda z: F.softplus(z, threshold=40.0 if z.dtype == torch.float64 else 20.0),
    "silu": F.silu,
}
TF_ACTIVATIONS = {
    "gelu": lambda tf, z: tf.nn.gelu(z, approximate=False),
    "gelu_tanh": lambda tf, z: tf.nn.gelu(z, approximate=True),
    "elu": lambda tf, z: tf.nn.elu(z),
    "selu": lambda tf, z: tf.nn.selu(z),
    "softplus": lambda tf, z: tf.math.softplus(z),
    "silu": lambda tf, z: tf.nn.silu(z),
}
# Per-element rtol in units of eps, over values and VJPs: the frameworks evaluate the same formula with
# their own exp/erf/tanh (each within 1-2 ulp) and derive the backward from a few products, a handful of
# roundings. Measured worst (each test's errors recorded on 2026-11-29): 24 eps (gelu_tanh float32,
# the cubic inside tanh), 14 eps (silu backward: s (1 + z (1 - s)) against s + z s (1 - s)), <= 3 eps for the
# rest; 64 eps = 2.6x margin.
ACTIVATION_EPS = 64
# tf.nn.gelu casts its constants (sqrt(1/2), 0.044715) with tf.cast of a Python float, which goes through
# float32 even for float64 tensors: sqrt(1/2) is off by 2.2e-8 relative, which moves values by up to 4e-9
# and the VJP by up to 2.4e-8 (measured, per element, on these inputs; gelu_tanh's 0.044715: 2.3e-9);
# 1e-7 = 4x margin, and still far below the 1e-3 size of a real bug.
TF_GELU_FLOAT64 = 1e-7


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_activation_matches_torch_and_tensorflow(name, dtype):
    Z, dA = _inputs(dtype)
    activation = rn.get_activation(name)
    A = activation.evaluate(Z)
    dZ = activation.backpropagate(dA, Z, A)
    z = torch.tensor(Z, requires_grad=True)
    out = TORCH_ACTIVATIONS[name](z)
    out.backward(torch.tensor(dA))
    tolerance = ACTIVATION_EPS * EPS[dtype]
    for what, ours, theirs in (("value", A, out.detach().numpy()), ("vjp", dZ, z.grad.numpy())):
        error = normalized_error(ours, theirs)
        assert error <= tolerance, f"{name} {dtype} {what} vs torch: {error:.3g} > {tolerance:.3g}"
    tf, _ = _tf()
    zt = tf.constant(Z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        out_tf = TF_ACTIVATIONS[name](tf, zt)
    dz_tf = tape.gradient(out_tf, zt, output_gradients=tf.constant(dA))
    tf_tolerance = TF_GELU_FLOAT64 if name.startswith("gelu") and dtype == "float64" else tolerance
    for what, ours, theirs in (("value", A, out_tf.numpy()), ("vjp", dZ, dz_tf.numpy())):
        error = normalized_error(ours, theirs)
        assert error <= tf_tolerance, f"{name} {dtype} {what} vs tensorflow: {error:.3g} > {tf_tolerance:.3g}"


# ----------------------------------------------------------------------------------- losses
def _loss_inputs(name: str, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """``AL, Y (3, 8)`` in the reference's layout; KL: softmax columns against dyadic distributions."""
    rng = np.random.default_rng(1)
    if name == "kl_div":
        P = rn.Softmax().evaluate(rng.standard_normal((3, 8)))
        Y = np.floor(rng.dirichlet(np.ones(3), size=8).T * 2**20) / 2**20
        Y[-1] = 1 - Y[:-1].sum(axis=0)
        return P.astype(dtype), Y.astype(dtype)
    AL = rng.standard_normal((3, 8)) * 2
    return AL.astype(dtype), (AL + rng.standard_normal((3, 8)) * 1.5).astype(dtype)  # both Huber branches


TORCH_LOSSES = {
    "huber": lambda AL, Y: F.huber_loss(AL, Y, delta=1.0),
    "l1": F.l1_loss,
    "kl_div": lambda AL, Y: F.kl_div(torch.log(AL), Y, reduction="batchmean"),
}
KERAS_LOSSES = {
    "huber": lambda keras, dtype: keras.losses.Huber(delta=1.0, dtype=dtype),
    "l1": lambda keras, dtype: keras.losses.MeanAbsoluteError(dtype=dtype),
    "kl_div": lambda keras, dtype: keras.losses.KLDivergence(dtype=dtype),
}
# A mean of 24 terms and its gradient (one product each): the sum's rounding grows like sqrt(24) = 5 ulp at
# worst-typical, the log of a probability adds one. Measured worst 1.3 eps (KL, float64); 16 eps = 12x margin.
LOSS_EPS = 16


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(TORCH_LOSSES))
def test_loss_matches_torch_and_keras(name, dtype):
    AL, Y = _loss_inputs(name, dtype)
    loss = rn.get_loss(name)
    value, gradient = loss.value(AL, Y), loss.gradient(AL, Y)
    tolerance = LOSS_EPS * EPS[dtype]
    al = torch.tensor(AL.T.copy(), requires_grad=True)
    torch_value = TORCH_LOSSES[name](al, torch.tensor(Y.T.copy()))
    torch_value.backward()
    tf, keras = _tf()
    al_tf = tf.Variable(AL.T)
    with tf.GradientTape() as tape:
        keras_value = KERAS_LOSSES[name](keras, dtype)(tf.constant(Y.T), al_tf)
    keras_gradient = tape.gradient(keras_value, al_tf)
    for framework, their_value, their_gradient in (("torch", torch_value.detach().numpy(), al.grad.numpy()),
                                                    ("keras", keras_value.numpy(), keras_gradient.numpy())):
        error = normalized_error(value, their_value)
        assert error <= tolerance, f"{name} {dtype} value vs {framework}: {error:.3g} > {tolerance:.3g}"
        error = normalized_error(gradient, their_gradient.T)
        assert error <= tolerance, f"{name} {dtype} gradient vs {framework}: {error:.3g} > {tolerance:.3g}"


# ---------------------------------------------------------------------------- normalization
# Each output is a mean, a variance (sums of 8), a square root and a division: ~sqrt(8) + 3 roundings; the
# VJP adds two more batch means. Measured worst 12 eps (LayerNorm float64, Keras' rearranged formula
# x inv gamma + (beta - mean inv gamma)); 64 eps = 5x margin.
NORM_EPS = 64
NORM_STEPS = 3


def _batches(dtype: str, n: int = 4, m: int = 8) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    return [(rng.standard_normal((n, m)) * 2 + 1).astype(dtype) for _ in range(NORM_STEPS + 1)]


def _affine(dtype: str, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return (1 + 0.3 * rng.standard_normal((n, 1))).astype(dtype), (0.5 * rng.standard_normal((n, 1))).astype(dtype)


def _reference_steps(layer, batches, upstream):
    """Train forwards on all but the last batch, then forward + backward on the last one."""
    for X in batches[:-1]:
        layer.forward(X)
    out = layer.forward(batches[-1])
    dx = layer.backward(upstream)
    return out, dx, layer.grads["gamma"], layer.grads["beta"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_matches_torch_with_running_stats_after_k_steps(dtype, mode):
    batches, (gamma, beta) = _batches(dtype), _affine(dtype)
    upstream = np.random.default_rng(4).standard_normal(batches[-1].shape).astype(dtype)
    layer = rn.BatchNorm(4, dtype=dtype)
    layer.params["gamma"], layer.params["beta"] = gamma, beta
    module = torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.1, dtype=getattr(torch, dtype))
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma.ravel()))
        module.bias.copy_(torch.from_numpy(beta.ravel()))
    for X in batches[:-1]:
        layer.forward(X)
        module(torch.from_numpy(X.T.copy()))
    tolerance = NORM_EPS * EPS[dtype]
    for name, ours, theirs in (("running_mean", layer.running_mean, module.running_mean),
                               ("running_var", layer.running_var, module.running_var)):
        error = normalized_error(ours.ravel(), theirs.numpy())
        assert error <= tolerance, f"{name} after {NORM_STEPS} steps ({dtype}): {error:.3g} > {tolerance:.3g}"
    if mode == "eval":
        layer.eval()
        module.eval()
    out = layer.forward(batches[-1])
    dx = layer.backward(upstream)
    x = torch.tensor(batches[-1].T.copy(), requires_grad=True)
    torch_out = module(x)
    torch_out.backward(torch.from_numpy(upstream.T.copy()))
    pairs = (("output", out, torch_out.detach().numpy().T), ("dx", dx, x.grad.numpy().T),
             ("dgamma", layer.grads["gamma"].ravel(), module.weight.grad.numpy()),
             ("dbeta", layer.grads["beta"].ravel(), module.bias.grad.numpy()))
    for name, ours, theirs in pairs:
        error = normalized_error(ours, theirs)
        assert error <= tolerance, f"BatchNorm {mode} {dtype} {name} vs torch: {error:.3g} > {tolerance:.3g}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layernorm_matches_torch_and_keras(dtype):
    X = _batches(dtype)[0]
    gamma, beta = _affine(dtype)
    upstream = np.random.default_rng(5).standard_normal(X.shape).astype(dtype)
    layer = rn.LayerNorm(4, dtype=dtype)
    layer.params["gamma"], layer.params["beta"] = gamma, beta
    out, dx = layer.forward(X), layer.backward(upstream)
    module = torch.nn.LayerNorm(4, eps=1e-5, dtype=getattr(torch, dtype))
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma.ravel()))
        module.bias.copy_(torch.from_numpy(beta.ravel()))
    x = torch.tensor(X.T.copy(), requires_grad=True)
    torch_out = module(x)
    torch_out.backward(torch.from_numpy(upstream.T.copy()))
    tf, keras = _tf()
    keras_layer = keras.layers.LayerNormalization(axis=-1, epsilon=1e-5, dtype=dtype)
    keras_layer.build((None, 4))
    keras_layer.gamma.assign(gamma.ravel())
    keras_layer.beta.assign(beta.ravel())
    x_tf = tf.constant(X.T)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        keras_out = keras_layer(x_tf)
    keras_dx, keras_dgamma = tape.gradient(keras_out, [x_tf, keras_layer.gamma], output_gradients=upstream.T)
    tolerance = NORM_EPS * EPS[dtype]
    for framework, their_out, their_dx, their_dgamma in (
            ("torch", torch_out.detach().numpy(), x.grad.numpy(), module.weight.grad.numpy()),
            ("keras", keras_out.numpy(), keras_dx.numpy(), keras_dgamma.numpy())):
        for name, ours, theirs in (("output", out, their_out.T), ("dx", dx, their_dx.T),
                                   ("dgamma", layer.grads["gamma"].ravel(), their_dgamma)):
            error = normalized_error(ours, theirs)
            assert error <= tolerance, f"LayerNorm {dtype} {name} vs {framework}: {error:.3g} > {tolerance:.3g}"


# ------------------------------------------------------------------------------- optimizers
OPTIMIZER_CASES = {
    "rmsprop": (lambda: rn.RMSprop(learning_rate=0.01),
                lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "rmsprop centered momentum wd": (
        lambda: rn.RMSprop(learning_rate=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5,
                                      centered=True)),
    "adagrad": (lambda: rn.Adagrad(learning_rate=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "adagrad lr_decay init wd": (
        lambda: rn.Adagrad(learning_rate=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2,
                           eps=1e-6),
        lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2,
                                      eps=1e-6)),
    "adamw": (lambda: rn.AdamW(learning_rate=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    "adamw wd 0.1": (lambda: rn.AdamW(learning_rate=0.01, weight_decay=0.1, beta1=0.8),
                     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, betas=(0.8, 0.999))),
}
OPTIMIZER_STEPS = 6
# Displacements after 6 steps, each a handful of element-wise operations (square, average, sqrt, divide):
# ~10 roundings per step, accumulated over 6 steps. Measured worst 12.8 eps (float32 Adagrad with lr_decay,
# 12.0 float32 centered RMSprop, where v - a^2 cancels); float64 agrees bit for bit. 64 eps = 5x margin.
OPTIMIZER_EPS = 64


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_optimizer_trajectory_matches_torch(case, dtype):
    make_reference, make_torch = OPTIMIZER_CASES[case]
    rng = np.random.default_rng(6)
    theta0 = rng.standard_normal((3, 2)).astype(dtype)
    gradients = [(rng.standard_normal((3, 2)) * 10.0 ** rng.integers(-3, 1)).astype(dtype)
                 for _ in range(OPTIMIZER_STEPS)]
    optimizer = make_reference()
    params = {"W1": theta0, "b1": np.zeros((3, 1), dtype=dtype)}
    theta = torch.tensor(theta0.copy(), requires_grad=True)
    torch_optimizer = make_torch([theta])
    tolerance = OPTIMIZER_EPS * EPS[dtype]
    for step, g in enumerate(gradients, start=1):
        params = optimizer.step(params, {"dW1": g, "db1": np.zeros((3, 1), dtype=dtype)})
        theta.grad = torch.from_numpy(g.copy())
        torch_optimizer.step()
        error = normalized_error(params["W1"] - theta0, theta.detach().numpy() - theta0)
        assert error <= tolerance, f"{case} {dtype} step {step}: displacement error {error:.3g} > {tolerance:.3g}"
