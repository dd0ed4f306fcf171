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

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference_nn.gradcheck import check_gradients, check_layer, check_value_and_grad, check_vjp

from . import columns_deep_net as D
from . import course_layers as C
from . import layer_objects as O
from . import linear_classifiers as LC
from . import list_params_net as N
from . import two_layer_net as T

F64, F32 = np.float64, np.float32


@dataclass
class Case:
    name: str  # "style/function/variant"
    dtype: str  # "float64", "float32" or "mixed"
    expect: str  # PASS, NOT_FAIL, INCONCLUSIVE, FAIL, NOT_PASS
    run: Callable  # method -> GradientReport
    tensor: str | None = None  # the tensor a planted bug breaks
    index: tuple | None = None  # the element, where the bug sits in one place
    reason: str | None = None  # a word the INCONCLUSIVE reasons must contain


def judge(case: Case, report) -> str:
    """'ok' ('ok, inconclusive' where INCONCLUSIVE is allowed and given), or what is wrong: 'false
    pass' (also '(tensor)': the broken tensor's own row says PASS), 'false alarm', 'wrong tensor', 'wrong
    element', 'missed (inconclusive)', 'unneeded inconclusive', 'wrong reason'."""
    v = str(report.verdict)
    if case.expect in ("FAIL", "NOT_PASS") and v == "PASS":
        return "false pass"
    if case.expect in ("PASS", "NOT_FAIL", "INCONCLUSIVE") and v == "FAIL":
        return "false alarm"
    if case.expect == "PASS" and v != "PASS":
        return "unneeded inconclusive"
    if case.expect == "INCONCLUSIVE" and v != "INCONCLUSIVE":
        return "false pass"  # right code, but an unverifiable point was reported verified
    if case.expect == "FAIL":
        if v != "FAIL" and case.tensor in report.results and str(report[case.tensor].status) == "PASS":
            return "false pass (tensor)"  # the report is INCONCLUSIVE, but the broken tensor's row says PASS
        if v != "FAIL":
            return "missed (inconclusive)"
        if case.tensor not in report.failed_parameters:
            return "wrong tensor"
        if case.index is not None and tuple(report[case.tensor].worst_index or ()) != tuple(case.index):
            return "wrong element"
    if case.reason and v == "INCONCLUSIVE" and not any(case.reason in r for r in report.reasons):
        return "wrong reason"
    return "ok, inconclusive" if v == "INCONCLUSIVE" and case.expect != "INCONCLUSIVE" else "ok"


def _cast(dtype, *arrays):
    return tuple(a.astype(dtype) for a in arrays)


def _run_with_inputs(fn, inputs, method):
    return fn(*inputs, method=method)


def _vg_with_mask(loss, bug=None):
    def fn(x, y, mask):
        return loss(x, y, mask, bug=bug)

    return lambda x, y, mask, method: check_value_and_grad(fn, x, y, mask, method=method)


def _vg_bare(loss, bug=None, reg=0.1):
    """check_value_and_grad(loss, W, X, y, reg) on ``loss(W, X, y, reg) -> (loss, dW)``."""

    def fn(W, X, y, reg):
        return loss(W, X, y, reg, bug=bug)

    return lambda W, X, y, method: check_value_and_grad(fn, W, X, y, reg, method=method)


def _vjp(forward, backward, bug=None):
    backward = functools.partial(backward, bug=bug) if bug else backward
    return lambda *inputs, **opts: check_vjp(forward, backward, *inputs, **opts)


def course_cases() -> list[Case]:
    """Course-assignment layers, samples in rows, through check_vjp."""
    out = []
    r = np.random.default_rng(1)
    x, w, b, sq = r.standard_normal((4, 5)), r.standard_normal((5, 3)), r.standard_normal(3), r.standard_normal((5, 5))

    def add(name, dtype, expect, fn, inputs, tensor=None, index=None, reason=None):
        run = functools.partial(_run_with_inputs, fn, inputs)
        out.append(Case(name, dtype, expect, run, tensor, index, reason))

    for dt, name in ((F64, "float64"), (F32, "float32")):
        add("course/affine/right", name, "PASS", _vjp(C.affine_forward, C.affine_backward), _cast(dt, x, w, b))
        add("course/affine/batch1", name, "PASS", _vjp(C.affine_forward, C.affine_backward), _cast(dt, x[:1], w, b))
        add("course/affine/one_element_dw", name, "FAIL", _vjp(C.affine_forward, C.affine_backward, "one_element_dw"),
            _cast(dt, x, sq, b[:1].repeat(5)), "w", (1, 0))
        add("course/affine/sign_flip_dw", name, "FAIL", _vjp(C.affine_forward, C.affine_backward, "sign_flip_dw"),
            _cast(dt, x, w, b), "w")
        add("course/affine/factor2_db", name, "FAIL", _vjp(C.affine_forward, C.affine_backward, "factor2_db"),
            _cast(dt, x, w, b), "b")
        add("course/affine/db_wrong_axis", name, "FAIL", _vjp(C.affine_forward, C.affine_backward, "db_wrong_axis"),
            _cast(dt, x, w, b), "b")
        add("course/affine/transpose_dw", name, "FAIL", _vjp(C.affine_forward, C.affine_backward, "transpose_dw"),
            _cast(dt, x, sq, b[:1].repeat(5)), "w")
    # Arrays that are transposed views or Fortran-ordered, as ``w = rng.standard_normal((M, D)).T``
    # or ``x.T`` in samples-in-columns code gives them.
    add("course/affine/w_transposed_view", "float64", "PASS", _vjp(C.affine_forward, C.affine_backward),
        (x, w.T.copy().T, b))
    add("course/affine/x_fortran_order", "float64", "PASS", _vjp(C.affine_forward, C.affine_backward),
        (np.asfortranarray(x), w, b))
    add("course/affine/w_transposed_view+dw_zeros", "float64", "FAIL", _vjp(C.affine_forward, C.affine_backward,
        "dw_zeros"), (x, w.T.copy().T, b), "w")
    add("course/affine/dw_zeros", "float64", "FAIL", _vjp(C.affine_forward, C.affine_backward, "dw_zeros"),
        (x, w, b), "w")
    add("course/affine/rel1e-4_dw", "float64", "FAIL", _vjp(C.affine_forward, C.affine_backward, "rel1e-4_dw"),
        (x, w, b), "w", (0, 1))
    add("course/affine/tiny_w_1e-8", "float64", "PASS", _vjp(C.affine_forward, C.affine_backward), (x, w * 1e-8, b))
    add("course/affine/huge_w_1e3", "float64", "PASS", _vjp(C.affine_forward, C.affine_backward), (x, w * 1e3, b))
    add("course/affine/mixed_x32_w64", "mixed", "NOT_FAIL", _vjp(C.affine_forward, C.affine_backward),
        (x.astype(F32), w, b))

    xz = x.copy()
    xz[1] = 0.0  # an all-zero sample
    for dt, name in ((F64, "float64"), (F32, "float32")):
        add("course/relu/right", name, "PASS", _vjp(C.relu_forward, C.relu_backward), _cast(dt, x))
        add("course/relu/exact_zeros", name, "INCONCLUSIVE", _vjp(C.relu_forward, C.relu_backward), _cast(dt, xz),
            reason="kink")
        bn = (x * 2 + 1, r.standard_normal(5), r.standard_normal(5), {"mode": "train"})
        add("course/batchnorm/right", name, "PASS", _vjp(C.batchnorm_forward, C.batchnorm_backward),
            (*_cast(dt, *bn[:3]), bn[3]))
        add("course/batchnorm/missing_mean_term", name, "FAIL",
            _vjp(C.batchnorm_forward, C.batchnorm_backward, "missing_mean_term"), (*_cast(dt, *bn[:3]), bn[3]), "x")
        add("course/batchnorm/dgamma_wrong_cache", name, "FAIL",
            _vjp(C.batchnorm_forward, C.batchnorm_backward, "dgamma_wrong_cache"), (*_cast(dt, *bn[:3]), bn[3]),
            "gamma")
        add("course/batchnorm/offset_1e3_input", name, "NOT_FAIL", _vjp(C.batchnorm_forward, C.batchnorm_backward),
            (*_cast(dt, bn[0] + 1e3, *bn[1:3]), bn[3]))
        add("course/layernorm/right", name, "PASS", _vjp(C.layernorm_forward, C.layernorm_backward),
            (*_cast(dt, *bn[:3]), {}))
        add("course/layernorm/batchnorm_axis", name, "FAIL",
            _vjp(C.layernorm_forward, C.layernorm_backward, "batchnorm_axis"), (*_cast(dt, *bn[:3]), {}), "x")
        seeded, fresh = {"mode": "train", "p": 0.5, "seed": 3}, {"mode": "train", "p": 0.5}
        add("course/dropout/seeded_right", name, "PASS", _vjp(C.dropout_forward, C.dropout_backward),
            (dt(1) * x, seeded))
        add("course/dropout/seeded_forgot_mask", name, "FAIL",
            _vjp(C.dropout_forward, C.dropout_backward, "forgot_mask"), (dt(1) * x, seeded), "x")
        add("course/dropout/fresh_mask_right", name, "INCONCLUSIVE", _vjp(C.dropout_forward, C.dropout_backward),
            (dt(1) * x, fresh), reason="not deterministic")
        add("course/dropout/fresh_mask_forgot_mask", name, "NOT_PASS",
            _vjp(C.dropout_forward, C.dropout_backward, "forgot_mask"), (dt(1) * x, fresh))
        cx, cw, cb = r.standard_normal((2, 2, 5, 5)), r.standard_normal((3, 2, 3, 3)), r.standard_normal(3)
        conv = {"stride": 1, "pad": 1}
        add("course/conv/right", name, "PASS", _vjp(C.conv_forward_naive, C.conv_backward_naive),
            (*_cast(dt, cx, cw, cb), conv))
        add("course/conv/pad_off_by_one", name, "FAIL", _vjp(C.conv_forward_naive, C.conv_backward_naive,
            "pad_off_by_one"), (*_cast(dt, cx, cw, cb), conv), "x")
        pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
        px = r.standard_normal((2, 2, 4, 4))
        add("course/maxpool/right", name, "PASS", _vjp(C.max_pool_forward_naive, C.max_pool_backward_naive),
            (dt(1) * px, pool))
        add("course/maxpool/after_relu_ties_at_0", name, "NOT_FAIL",
            _vjp(C.max_pool_forward_naive, C.max_pool_backward_naive), (np.maximum(px - 1.0, 0).astype(dt), pool))
        add("course/maxpool/integer_pixels_ties", name, "NOT_FAIL",
            _vjp(C.max_pool_forward_naive, C.max_pool_backward_naive),
            (r.integers(0, 4, size=(2, 2, 4, 4)).astype(dt), pool))
        add("course/maxpool/argmin", name, "FAIL", _vjp(C.max_pool_forward_naive, C.max_pool_backward_naive,
            "argmin"), (dt(1) * px, pool), "x")
        rnn = (r.standard_normal((3, 4)), r.standard_normal((3, 5)), 0.3 * r.standard_normal((4, 5)),
               0.3 * r.standard_normal((5, 5)), r.standard_normal(5))
        add("course/rnn_step/right", name, "PASS", _vjp(C.rnn_step_forward, C.rnn_step_backward), _cast(dt, *rnn))
        add("course/rnn_step/dWh_transposed", name, "FAIL",
            _vjp(C.rnn_step_forward, C.rnn_step_backward, "dWh_transposed"), _cast(dt, *rnn), "Wh")
        add("course/rnn_step/tanh_grad_wrong_cache", name, "FAIL",
            _vjp(C.rnn_step_forward, C.rnn_step_backward, "tanh_grad_wrong_cache"), _cast(dt, *rnn), "Wx")
        seq = (r.standard_normal((2, 3, 4)), r.standard_normal((2, 5)), 0.3 * r.standard_normal((4, 5)),
               0.3 * r.standard_normal((5, 5)), r.standard_normal(5))
        add("course/rnn_sequence/right", name, "PASS", _vjp(C.rnn_forward, C.rnn_backward), _cast(dt, *seq))
        add("course/rnn_sequence/forgot_dprev", name, "FAIL", _vjp(C.rnn_forward, C.rnn_backward, "forgot_dprev"),
            _cast(dt, *seq), "h0")
        add("course/rnn_sequence/overwrite_dWh", name, "FAIL", _vjp(C.rnn_forward, C.rnn_backward, "overwrite_dWh"),
            _cast(dt, *seq), "Wh")
        lstm = (r.standard_normal((3, 4)), r.standard_normal((3, 2)), r.standard_normal((3, 2)),
                0.5 * r.standard_normal((4, 8)), 0.5 * r.standard_normal((2, 8)), r.standard_normal(8))
        add("course/lstm_step/right", name, "PASS", _vjp(C.lstm_step_forward, C.lstm_step_backward), _cast(dt, *lstm))
        sat = (*lstm[:3], 20 * lstm[3], lstm[4], lstm[5])
        add("course/lstm_step/saturated_gates", name, "NOT_FAIL", _vjp(C.lstm_step_forward, C.lstm_step_backward),
            _cast(dt, *sat))
        add("course/lstm_step/forgot_dnext_c", name, "FAIL",
            _vjp(C.lstm_step_forward, C.lstm_step_backward, "forgot_dnext_c"), _cast(dt, *lstm), "prev_c")
        ids = np.array([[0, 3, 1], [3, 2, 3]])
        add("course/embedding/right", name, "PASS", _vjp(C.word_embedding_forward, C.word_embedding_backward),
            (ids, r.standard_normal((5, 4)).astype(dt)))
        add("course/embedding/assign_not_add", name, "FAIL",
            _vjp(C.word_embedding_forward, C.word_embedding_backward, "assign_not_add"),
            (ids, r.standard_normal((5, 4)).astype(dt)), "W")
        logits, labels = r.standard_normal((6, 4)), r.integers(0, 4, size=6)

        def vg(loss, bug=None):
            fn = (lambda x, y: loss(x, y, bug=bug)) if bug else loss
            return lambda x, y, method: check_value_and_grad(fn, x, y, method=method)

        add("course/softmax_loss/right", name, "PASS", vg(C.softmax_loss), (logits.astype(dt), labels))
        add("course/softmax_loss/saturated_x50", name, "NOT_FAIL", vg(C.softmax_loss),
            ((50 * logits).astype(dt), labels))
        add("course/softmax_loss/missing_1_over_m", name, "FAIL", vg(C.softmax_loss, "missing_1_over_m"),
            (logits.astype(dt), labels), "x")
        tx, ty = r.standard_normal((2, 4, 5)), r.integers(0, 5, size=(2, 4))
        tmask = np.array([[True, True, True, False], [True, True, False, False]])
        add("course/temporal_softmax/right", name, "PASS", _vg_with_mask(C.temporal_softmax_loss),
            (tx.astype(dt), ty, tmask))
        add("course/temporal_softmax/forgot_mask", name, "FAIL", _vg_with_mask(C.temporal_softmax_loss, "forgot_mask"),
            (tx.astype(dt), ty, tmask), "x")
        W, Xl, yl = 1e-4 * r.standard_normal((6, 4)), r.standard_normal((8, 6)), r.integers(0, 4, size=8)
        for loss in ("svm_loss_vectorized", "softmax_loss_naive"):
            add(f"course/{loss}/right", name, "PASS", _vg_bare(getattr(LC, loss)), (W.astype(dt), Xl.astype(dt), yl))
        add("course/svm_loss_vectorized/reg_without_2", name, "FAIL",  # reg 2.5e4 with W ~ 1e-4, as the course sets
            _vg_bare(LC.svm_loss_vectorized, "reg_without_2", reg=2.5e4), (W.astype(dt), Xl.astype(dt), yl), "W")
        if dt == F64:  # float32 allows sqrt(eps) ~ 3.5e-4 of the RMS: reg * W ~ 1e-4 of it is below that, by design
            add("course/svm_loss_vectorized/reg_without_2_small_reg", name, "FAIL",
                _vg_bare(LC.svm_loss_vectorized, "reg_without_2", reg=1.0), (W.astype(dt), Xl.astype(dt), yl), "W")
        add("course/svm_loss_vectorized/forgot_divide", name, "FAIL", _vg_bare(LC.svm_loss_vectorized, "forgot_divide"),
            (W.astype(dt), Xl.astype(dt), yl), "W")
        add("course/softmax_loss_naive/wrong_sign_correct_class", name, "FAIL",
            _vg_bare(LC.softmax_loss_naive, "wrong_sign_correct_class"), (W.astype(dt), Xl.astype(dt), yl), "W")
        add("course/svm_loss/right", name, "PASS", vg(C.svm_loss), (logits.astype(dt), labels))
        add("course/svm_loss/integer_scores_ties", name, "NOT_FAIL", vg(C.svm_loss),
            (r.integers(-2, 3, size=(6, 4)).astype(dt), labels))
        add("course/svm_loss/sign_flip", name, "FAIL", vg(C.svm_loss, "sign_flip"), (logits.astype(dt), labels), "x")
    mixed_bn = (x.astype(F32) * 2 + 1, np.linspace(0.5, 1.5, 5), np.zeros(5), {"mode": "train"})
    add("course/batchnorm/mixed_x32_gamma64", "mixed", "NOT_FAIL", _vjp(C.batchnorm_forward, C.batchnorm_backward),
        mixed_bn)
    add("course/batchnorm/batch1", "float64", "NOT_FAIL", _vjp(C.batchnorm_forward, C.batchnorm_backward),
        (x[:1], np.ones(5), np.zeros(5), {"mode": "train"}))
    return out


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
