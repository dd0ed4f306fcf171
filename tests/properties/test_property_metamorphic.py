"""Metamorphic properties of the reference alone: relations between gradients that hold for any
input, checked without any other oracle (cores in property_checks.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, note
from hypothesis import strategies as st
from property_checks import (
    check_backward_linearity,
    check_batch_mean_gradient,
    check_batch_permutation,
    check_l2_adds_lambda_w,
    check_sgd_step,
    check_softmax_ce_gradient_sums,
)

import reference_nn as rn
from equivalence_tests.profiles import property_settings
from equivalence_tests.strategies import dtypes, hidden_activation_names, model_configs, models, seeds

# Widths up to 16: these properties are about the algebra, not size; small models keep them fast.
SMALL = {"max_width": 16}


@property_settings("metamorphic/softmax_ce_gradient_sums")
@given(models(model_configs(loss=st.sampled_from(["softmax_cross_entropy", "cross_entropy"]), **SMALL), max_batch=8))
def test_softmax_cross_entropy_gradient_sums_to_zero_over_classes(example):
    check_softmax_ce_gradient_sums(example)


@property_settings("metamorphic/l2_adds_lambda_w")
@given(models(model_configs(**SMALL)), st.sampled_from([1e-4, 1e-2, 0.1, 1.0, 7.5]))
def test_l2_penalty_adds_exactly_lambda_w(example, lambd):
    check_l2_adds_lambda_w(example, lambd)


@property_settings("metamorphic/sgd_step")
@given(models(model_configs(optimizers=("sgd",), **SMALL)))
def test_sgd_step_is_theta_minus_lr_g(example):
    check_sgd_step(example)


# Not the saturating scale: a saturated softmax / sigmoid backward, A (dA - sum(dA A)) or A (1 - A), cancels
# to a relative accuracy of eps / (1 - A), so two summation orders of the same gradient legitimately
# differ far beyond sqrt(eps) (3-2-1-1 softmax hidden, float64: 2.3e-5). Permutation keeps every
# per-sample term and only reorders the batch sum, so it keeps all scales.
@property_settings("metamorphic/batch_mean_gradient")
@given(models(model_configs(**SMALL), max_batch=8, scales=st.sampled_from(["tiny", "classic", "he"])))
def test_batch_gradient_is_mean_of_per_sample_gradients(example):
    check_batch_mean_gradient(example)


@property_settings("metamorphic/batch_permutation")
@given(models(model_configs(**SMALL)), st.data())
def test_permuting_the_batch_changes_no_gradient(example, data):
    permutation = np.array(data.draw(st.permutations(range(example.X.shape[1])), label="permutation"))
    check_batch_permutation(example, permutation)


# ------------------------------------------------------------------------ layer backward
LAYER_NAMES = ["linear", *hidden_activation_names()]


@st.composite
def layer_cases(draw):
    """``(layer, x, u, v, a, b, label)``: a layer from the op table (Linear or an activation) after a
    forward pass on x, two upstream gradients and two scalars. Arrays from a seed (speed)."""
    name = draw(st.sampled_from(LAYER_NAMES))
    dtype = np.dtype(draw(dtypes()))
    n_in, n_out, m = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(seeds()))
    x = (rng.standard_normal((n_in, m)) * draw(st.sampled_from([0.1, 1.0, 10.0]))).astype(dtype)
    if name == "linear":
        W, b = rng.standard_normal((n_out, n_in)), rng.standard_normal((n_out, 1))
        layer = rn.Linear(W.astype(dtype), b.astype(dtype))
        y_shape = (n_out, m)
    else:
        layer = rn.LeakyReLU(draw(st.sampled_from([0.01, 0.2]))) if name == "leaky_relu" else rn.get_activation(name)
        y_shape = x.shape
    u = rng.standard_normal(y_shape).astype(dtype)
    v = rng.standard_normal(y_shape).astype(dtype)
    # Exact zeros, equal and opposite upstream gradients: the edge cases of a linear map.
    special = draw(st.sampled_from(["none", "u_zero", "v_equals_u", "v_opposite_u"]))
    u = np.zeros_like(u) if special == "u_zero" else u
    v = u.copy() if special == "v_equals_u" else -u if special == "v_opposite_u" else v
    # |a|, |b| >= 1e-3 (or 0): a scalar like 8e-32 would push float32 products into the subnormal range.
    scalars = st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.5]),
                        st.floats(-8, 8, allow_subnormal=False, width=32).filter(lambda t: abs(t) >= 1e-3))
    a, b = draw(scalars), draw(scalars)
    label = f"{name} n_in={n_in} n_out={n_out} m={m} special={special}"
    note(f"layer case: {label} dtype={dtype} a={a!r} b={b!r}")
    event(f"layer {name}")
    return layer, x, u, v, a, b, label


@property_settings("metamorphic/backward_linearity")
@given(layer_cases())
def test_backward_is_linear_in_the_upstream_gradient(case):
    layer, x, u, v, a, b, label = case
    check_backward_linearity(layer, x, u, v, a, b, label)


def _float32_tiny_weights_example(input_kind: str):
    """The model of the thorough failure below (4-13-14-2, float32, tiny weights, batch 4, seed 24)."""
    from equivalence_tests.config import ModelConfig, OptimizerConfig
    from equivalence_tests.strategies import ExampleRecipe

    config = ModelConfig(layer_dims=(4, 13, 14, 2), activations=("identity", "identity", "softmax"),
                         loss="cross_entropy", optimizer=OptimizerConfig(name="sgd", learning_rate=0.001),
                         dtype="float32")  # fmt: skip
    return ExampleRecipe(config=config, batch_size=4, seed=24, weight_scale="tiny", input_kind=input_kind,
                         bias_kind="small", kinks=False, kink_layers=3).build()  # fmt: skip


def test_permutation_of_cancelling_samples_on_former_thorough_failure():
    """Found by the thorough profile on two xdist hosts sharing a database (2026-11-29): float32, tiny
    weights, one input column repeated; W2's entries are ~3e-9, sums of terms ~1e-5 that cancel, and a
    different summation order moved them by 1e-3 relative. Judged against the terms' size, they agree."""
    check_batch_permutation(_float32_tiny_weights_example("repeated_column"), np.array([0, 1, 3, 2]))


def test_permutation_check_still_catches_a_sample_dropped_from_the_sum(monkeypatch):
    """The wider floor is the terms' size times eps, not a blanket allowance: a gradient that leaves out
    one sample (a real bug a reordering can expose) still fails."""
    import property_checks
    import pytest

    example = _float32_tiny_weights_example("normal")
    real = property_checks.reference_gradients
    calls = []

    def drops_the_last_sample_when_permuted(example, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the permuted call: leave out its last column
            kwargs = {**kwargs, "X": kwargs["X"][:, :-1], "Y": kwargs["Y"][:, :-1]}
        return real(example, **kwargs)

    monkeypatch.setattr(property_checks, "reference_gradients", drops_the_last_sample_when_permuted)
    with pytest.raises(AssertionError, match="differs between original order and permuted"):
        check_batch_permutation(example, np.array([0, 1, 3, 2]))
