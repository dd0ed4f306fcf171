"""The QA case list: each public-style function, right and with planted bugs, in float64 and float32,
at realistic edge points, with the verdict the gradient checker must give.

A case is run with one method (``case.run(method)`` -> GradientReport) and judged by ``judge``:

* ``PASS``: every element can be verified (smooth, deterministic, well-scaled): must PASS.
* ``NOT_FAIL``: right code at a hard point (kinks, saturation, huge offsets, mixed precision): PASS,
  or INCONCLUSIVE with a reason; a FAIL is a false alarm.
* ``INCONCLUSIVE``: right code that cannot be verified (exact kinks, a fresh random mask).
* ``FAIL``: a planted bug: must FAIL naming ``tensor`` (and the element ``index`` where the bug is
  in one place); a PASS is a false pass.
* ``NOT_PASS``: a planted bug the checker may not be able to see (a random loss): never PASS.

Inputs are drawn as users draw them (``rng.standard_normal``), not nudged away from kinks.
"""

from __future__ import annotations

import numpy as np

from reference_nn.gradcheck import check_gradients, check_layer, check_value_and_grad

from . import columns_deep_net as D
from . import layer_objects as O
from . import list_params_net as N
from . import two_layer_net as T
from .cases_course import course_cases
from .verdicts import Case, judge

__all__ = ["Case", "all_cases", "judge"]

F64, F32 = np.float64, np.float32


def columns_cases() -> list[Case]:
    """The L-layer course net, samples in columns, through check_gradients(cost, grads, parameters)."""
    out = []
    r = np.random.default_rng(2)
    dims = [3, 4, 4, 1]
    X, Y = r.standard_normal((3, 6)), (r.random((1, 6)) > 0.5).astype(float)
    X0 = X.copy()
    X0[:, 2] = 0.0  # an all-zero sample: with zero biases every pre-activation of it is exactly 0

    def add(name, dtype, expect, X, Y, params, bug=None, tensor=None, index=None, offset=0.0, reason=None,
            real_only=False):
        cost, grads = D.make_cost_and_grads(X, Y, bug, offset, real_only=real_only)
        out.append(Case(name, dtype, expect, lambda m: check_gradients(cost, grads, params, method=m), tensor, index,
                        reason))

    for dt, name in ((F64, "float64"), (F32, "float32")):
        P = D.initialize_parameters_deep(dims, np.random.default_rng(3), dtype=dt)
        Xd, Yd, X0d = X.astype(dt), Y.astype(dt), X0.astype(dt)
        add("columns/L_model/right", name, "NOT_FAIL", Xd, Yd, P)
        add("columns/L_model/right_float_cost", name, "NOT_FAIL", Xd, Yd, P, real_only=True)
        add("columns/L_model/batch1", name, "NOT_FAIL", Xd[:, :1], Yd[:, :1], P)
        add("columns/L_model/zero_sample_zero_bias", name, "INCONCLUSIVE", X0d, Yd, P, reason="kink")
        add("columns/L_model/zero_sample+missing_1_over_m", name, "FAIL", X0d, Yd, P, "missing_1_over_m", "W1")
        add("columns/L_model/missing_1_over_m", name, "FAIL", Xd, Yd, P, "missing_1_over_m", "W1")
        add("columns/L_model/zero_sample+db_axis0", name, "FAIL", X0d, Yd, P, "db_axis0", "b1")  # b1 at kinks
        add("columns/L_model/zero_sample+wrong_cache_entry", name, "FAIL", X0d, Yd, P, "wrong_cache_entry", "W2")
        add("columns/L_model/db_axis0", name, "FAIL", Xd, Yd, P, "db_axis0", "b1")
        add("columns/L_model/one_element", name, "FAIL", Xd, Yd, P, "one_element", "W1", (0, 1))
        add("columns/L_model/sign_flip", name, "FAIL", Xd, Yd, P, "sign_flip", "W3")
        add("columns/L_model/sigmoid_grad_from_Z", name, "FAIL", Xd, Yd, P, "sigmoid_grad_from_Z", "W3")
        add("columns/L_model/wrong_cache_entry", name, "FAIL", Xd, Yd, P, "wrong_cache_entry", "W2")
        add("columns/L_model/offset_1e4", name, "NOT_FAIL", Xd, Yd, P, offset=1e4)
        add("columns/L_model/offset_1e4+missing_1_over_m", name, "NOT_PASS", Xd, Yd, P, "missing_1_over_m",
            offset=1e4)
        tiny = D.initialize_parameters_deep(dims, np.random.default_rng(3), scale=1e-8, dtype=dt)
        add("columns/L_model/tiny_w_1e-8", name, "NOT_FAIL", Xd, Yd, tiny)
        add("columns/L_model/tiny_w_1e-8_float_cost", name, "NOT_FAIL", Xd, Yd, tiny, real_only=True)
        add("columns/L_model/tiny_w_1e-8+missing_1_over_m", name, "NOT_PASS", Xd, Yd, tiny, "missing_1_over_m")
        sat = D.initialize_parameters_deep(dims, np.random.default_rng(3), scale=2.0, dtype=dt)
        add("columns/L_model/saturated_w2", name, "NOT_FAIL", Xd, Yd, sat)
    P = D.initialize_parameters_deep(dims, np.random.default_rng(3))
    PT = {k: v.T.copy().T for k, v in P.items()}  # the same values as transposed views (Fortran order)
    add("columns/L_model/params_transposed_views", "float64", "NOT_FAIL", X, Y, PT)
    add("columns/L_model/params_transposed_views+dW_zeros", "float64", "FAIL", X, Y, PT, "dW_zeros", "W1")
    add("columns/L_model/dW_zeros", "float64", "FAIL", X, Y, P, "dW_zeros", "W1")
    add("columns/L_model/rel1e-4_one_element", "float64", "FAIL", X, Y, P, "rel1e-4_one_element", "W1", (1, 2))
    add("columns/L_model/mixed_X32_W64", "mixed", "NOT_FAIL", X.astype(F32), Y.astype(F32), P)
    add("columns/L_model/mixed_X32_W64+one_element", "mixed", "FAIL", X.astype(F32), Y.astype(F32), P,
        "one_element", "W1", (0, 1))
    return out


def layer_cases() -> list[Case]:
    """Layer objects through check_layer(layer, x)."""
    out = []
    r = np.random.default_rng(4)
    x, x5 = r.standard_normal((4, 3)), r.standard_normal((4, 5))

    def add(name, dtype, expect, make, x, tensor=None, index=None, reason=None):
        out.append(Case(name, dtype, expect, lambda m: check_layer(make(), x, method=m), tensor, index, reason))

    def rng():  # a fresh, identical layer per run
        return np.random.default_rng(5)

    for dt, name in ((F64, "float64"), (F32, "float32")):
        add("layer/Dense/right", name, "PASS", lambda dt=dt: O.Dense(3, 2, rng(), dtype=dt), x.astype(dt))
        add("layer/Dense/one_element", name, "FAIL", lambda dt=dt: O.Dense(3, 2, rng(), bug="one_element", dtype=dt),
            x.astype(dt), "W", (0, 0))
        add("layer/Dense/db_mean", name, "FAIL", lambda dt=dt: O.Dense(3, 2, rng(), bug="db_mean", dtype=dt),
            x.astype(dt), "b")
        add("layer/Dense/dW_transposed_square", name, "FAIL",
            lambda dt=dt: O.Dense(5, 5, rng(), bug="dW_transposed_square", dtype=dt), x5.astype(dt), "W")
        add("layer/LayerNorm64/right", "mixed" if dt == F32 else name, "NOT_FAIL", lambda: O.MixedLayerNorm(5),
            x5.astype(dt))
        add("layer/LayerNorm64/dgamma_sign", "mixed" if dt == F32 else name, "FAIL",
            lambda: O.MixedLayerNorm(5, bug="dgamma_sign"), x5.astype(dt), "gamma")
    add("layer/Dense/tiny_w_1e-8", "float64", "PASS", lambda: O.Dense(3, 2, rng(), scale=1e-8), x)
    add("layer/Dense/huge_w_1e3", "float64", "PASS", lambda: O.Dense(3, 2, rng(), scale=1e3), x)
    add("layer/Dense/batch1", "float64", "PASS", lambda: O.Dense(3, 2, rng()), x[:1])
    add("layer/Dense/input_transposed_view", "float64", "PASS", lambda: O.Dense(3, 2, rng()), x.T.copy().T)
    add("layer/ColumnDense/vjp_convention_input_X.T", "float64", "PASS",
        lambda: O.ColumnDense(3, 2, rng(), average=False), x.T)
    add("layer/ColumnDense/vjp_convention", "float64", "PASS", lambda: O.ColumnDense(3, 2, rng(), average=False),
        x.T.copy())
    # The course convention (dA_prev without 1/m, dW and db with it) is no vector-Jacobian product:
    # check_layer must fail W and b (and, to help, say "1/m").
    add("layer/ColumnDense/mean_in_layer", "float64", "FAIL", lambda: O.ColumnDense(3, 2, rng()), x.T.copy(), "W")
    add("layer/Dense/mixed_x32_w64", "mixed", "NOT_FAIL", lambda: O.Dense(3, 2, rng()), x.astype(F32))
    return out


def value_and_grad_cases() -> list[Case]:
    """Two-layer softmax nets returning (loss, grads), through check_value_and_grad."""
    out = []
    r = np.random.default_rng(6)
    X, y = r.standard_normal((5, 4)), r.integers(0, 3, size=5)
    X0 = X.copy()
    X0[3] = 0.0  # an all-zero sample with zero biases: its hidden pre-activations are exactly 0

    def add_model(name, dtype, expect, X, bug=None, tensor=None, index=None, std=1e-1, pdtype=F64, reason=None, y=y):
        def run(m):
            net = T.TwoLayerNet(4, 6, 3, np.random.default_rng(7), std=std, bug=bug, dtype=pdtype)
            return check_value_and_grad(net.loss, net.params, X, y, method=m)

        out.append(Case(name, dtype, expect, run, tensor, index, reason))

    for dt, name in ((F64, "float64"), (F32, "float32")):
        Xd = X.astype(dt)
        add_model("vg/TwoLayerNet/right", name, "NOT_FAIL", Xd, pdtype=dt)
        add_model("vg/TwoLayerNet/batch1", name, "NOT_FAIL", Xd[:1], pdtype=dt, y=y[:1])
        add_model("vg/TwoLayerNet/zero_sample_zero_bias", name, "INCONCLUSIVE", X0.astype(dt), pdtype=dt,
                  reason="kink")
        add_model("vg/TwoLayerNet/forgot_reg_W1", name, "FAIL", Xd, "forgot_reg_W1", "W1", pdtype=dt)
        add_model("vg/TwoLayerNet/factor2_reg_W2", name, "FAIL", Xd, "factor2_reg_W2", "W2", pdtype=dt)
        add_model("vg/TwoLayerNet/one_element_b2", name, "FAIL", Xd, "one_element_b2", "b2", (2,), pdtype=dt)
        add_model("vg/TwoLayerNet/zero_sample+one_element_b2", name, "FAIL", X0.astype(dt), "one_element_b2", "b2",
                  (2,), pdtype=dt)
        add_model("vg/TwoLayerNet/zero_sample+relu_mask_from_post", name, "FAIL", X0.astype(dt), "relu_mask_from_post",
                  "W1", pdtype=dt)
        add_model("vg/TwoLayerNet/saturated_std10", name, "NOT_FAIL", Xd, std=10.0, pdtype=dt)
        add_model("vg/TwoLayerNet/tiny_w_1e-8", name, "NOT_FAIL", Xd, std=1e-8, pdtype=dt)
    def add_transposed(name, expect, bug=None, tensor=None):
        def run(m):
            net = T.TwoLayerNet(4, 6, 3, np.random.default_rng(7), bug=bug)
            net.params["W1"] = net.params["W1"].T.copy().T  # same values, Fortran order (as W.T of a (H, D) array)
            return check_value_and_grad(net.loss, net.params, X, y, method=m)

        out.append(Case(name, "float64", expect, run, tensor))

    add_transposed("vg/TwoLayerNet/W1_transposed_view", "NOT_FAIL")
    add_transposed("vg/TwoLayerNet/W1_transposed_view+forgot_reg_W1", "FAIL", "forgot_reg_W1", "W1")
    add_model("vg/TwoLayerNet/mixed_X32_W64", "mixed", "NOT_FAIL", X.astype(F32))
    add_model("vg/TwoLayerNet/mixed_X32_W64+forgot_reg_W1", "mixed", "FAIL", X.astype(F32), "forgot_reg_W1", "W1")

    def add_fn(name, expect, bug=None, tensor=None, offset=0.0):
        def run(m):
            p = T.TwoLayerNet(4, 6, 3, np.random.default_rng(7)).params
            return check_value_and_grad(lambda params, X, y: T.loss_and_grads(params, X, y, bug=bug, offset=offset),
                                        p, X, y, method=m)

        out.append(Case(name, "float64", expect, run, tensor))

    def add_f32_only(name, expect, bug=None, tensor=None, index=None):
        r32 = np.random.default_rng(10)
        X32, y32 = r32.standard_normal((8, 5)).astype(F32), r32.integers(0, 3, size=8)
        p32 = {"W1": (0.5 * r32.standard_normal((5, 6))).astype(F32), "b1": np.zeros(6, F32),
               "W2": (0.5 * r32.standard_normal((6, 3))).astype(F32), "b2": np.zeros(3, F32)}

        def run(m):
            return check_value_and_grad(lambda params, X, y: T.float32_only_loss_and_grads(params, X, y, bug=bug),
                                        p32, X32, y32, method=m)

        out.append(Case(name, "float32", expect, run, tensor, index))

    add_f32_only("vg/float32_only/right", "NOT_FAIL")
    add_f32_only("vg/float32_only/one_element_5pct", "FAIL", "one_element_5pct", "W1", (2, 3))
    add_f32_only("vg/float32_only/db2_times_2", "FAIL", "db2_times_2", "b2")
    def sgd_step_inside_loss(m):  # a loss that also takes an SGD step on the arrays it reads
        net = T.TwoLayerNet(4, 6, 3, np.random.default_rng(7))

        def loss(X, y):
            value, grads = T.loss_and_grads(net.params, X, y, net.reg)
            for k in net.params:
                net.params[k] -= 0.1 * grads[k]
            return value, grads

        return check_value_and_grad(loss, net.params, X, y, method=m)

    out.append(Case("vg/TwoLayerNet/sgd_step_inside_loss", "float64", "NOT_FAIL", sgd_step_inside_loss))
    add_fn("vg/loss_and_grads/offset_1e4", "NOT_FAIL", offset=1e4)
    add_fn("vg/loss_and_grads/offset_1e4+forgot_reg_W1", "NOT_PASS", "forgot_reg_W1", offset=1e4)
    add_fn("vg/loss_and_grads/relu_mask_from_post", "FAIL", "relu_mask_from_post", "W1")
    return out


def list_params_cases() -> list[Case]:
    """The from-scratch network with weights/biases lists and backprop(x, y) reading them itself."""
    out = []
    r = np.random.default_rng(8)
    x, y = r.standard_normal((4, 1)), np.array([[0.0], [1.0], [0.0]])

    def add(name, dtype, expect, bug=None, tensor=None, scale=1.0):
        def run(m):
            net = N.Network([4, 5, 5, 3], np.random.default_rng(9), bug=bug, scale=scale)
            net.weights = [w.astype(dtype) for w in net.weights]
            net.biases = [b.astype(dtype) for b in net.biases]
            params = {"weights": net.weights, "biases": net.biases}
            return check_value_and_grad(net.loss_and_grads, params, x.astype(dtype), y.astype(dtype), method=m)

        out.append(Case(name, np.dtype(dtype).name, expect, run, tensor))

    for dt in (F64, F32):
        add("lists/Network/right", dt, "PASS")
        add("lists/Network/saturated_w10", dt, "NOT_FAIL", scale=10.0)
        add("lists/Network/sigmoid_prime_of_activation", dt, "FAIL", "sigmoid_prime_of_activation", "weights[2]")
        add("lists/Network/activation_index_off_by_one", dt, "FAIL", "activation_index_off_by_one", "weights[1]")
    return out


def all_cases() -> list[Case]:
    return course_cases() + columns_cases() + layer_cases() + value_and_grad_cases() + list_params_cases()
