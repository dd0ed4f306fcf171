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
# Per-element rtol in units of eps, over values and VJPs. Why each number: the frameworks evaluate the same
# formula with their own exp/erf/tanh (each within 1-2 ulp) and derive the backward from a few products:
# a handful of roundings, 64 eps covers them with margin (measured below 20 eps of the rms-floored error,
# except silu's backward: s (1 + z (1 - s)) against torch's s + z s (1 - s), 12 eps).
ACTIVATION_EPS = 64
# tf.nn.gelu casts its constants (sqrt(1/2), 0.044715) with tf.cast of a Python float, which goes through
# float32 even for float64 tensors: sqrt(1/2) is off by 2.2e-8 relative, which moves values by up to 4e-9
# and the VJP by up to 2.4e-8 (measured, per element, on these inputs); 1e-7 = 4x margin, and still far
# below the 1e-3 size of a real bug.
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
