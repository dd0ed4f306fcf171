"""The accuracy claim of layer_step.py, measured: a gradient recovered from an SGD step
W - lr * g with the chosen power-of-two lr is within 1.5 ulps of max(|g_i|, RMS(g)) of g itself, in
float32 and float64, for weights far larger and far smaller than their gradients; with lr = 1 it is
not (the reason the rate is chosen). Truth: the g handed to the step, known here exactly."""

import numpy as np
import pytest

from reference_nn.gradcheck import layer_step


def worst_recovery_error(dtype, w_scale, g_scale, seed, rate=None):
    """max |recovered - g| / (eps(dtype) * max(|g_i|, RMS(g))) over one (W, g) pair."""
    rng = np.random.default_rng(seed)
    W = (w_scale * rng.standard_normal((30, 20))).astype(dtype)
    g = (g_scale * rng.standard_normal((30, 20)) * rng.uniform(0.01, 1, (30, 20))).astype(dtype)
    lr = layer_step.choose_rate({"W": W}, {"W": g.astype(np.float64)}) if rate is None else rate
    after = W.copy()
    after -= lr * g  # the layer's own update, in its dtype
    recovered = layer_step.recovered(W, after, lr)
    g64 = g.astype(np.float64)
    scale = np.maximum(np.abs(g64), np.sqrt(np.mean(g64**2)))
    return float(np.max(np.abs(recovered - g64) / (np.finfo(dtype).eps * scale)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("w_scale, g_scale", [(1.0, 1.0), (3e4, 1e-3), (1e-4, 10.0), (1e3, 1e-6)])
def test_recovered_gradient_is_within_one_and_a_half_ulps(dtype, w_scale, g_scale):
    for seed in range(5):
        ulps = worst_recovery_error(dtype, w_scale, g_scale, seed)
        assert ulps <= 1.5, f"{np.dtype(dtype)} |W|~{w_scale} |g|~{g_scale} seed {seed}: {ulps:.2f} ulps"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_learning_rate_of_one_would_lose_the_gradient_to_the_weights_rounding(dtype):
    ulps = worst_recovery_error(dtype, 3e4, 1e-3, 0, rate=1.0)
    assert ulps > 1e3, f"{np.dtype(dtype)}: lr = 1 keeps {ulps:.3g} ulps of error: the chosen rate matters"
