"""QA cases for the course-assignment layers (samples in rows) through check_vjp and
check_value_and_grad; the expectations are explained in cases.py."""

from __future__ import annotations

import functools

import numpy as np

from reference_nn.gradcheck import check_value_and_grad, check_vjp

from . import course_layers as C
from . import linear_classifiers as LC
from .verdicts import Case

F64, F32 = np.float64, np.float32


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
        gn = (r.standard_normal((2, 4, 3, 3)) + 0.5, r.standard_normal((1, 4, 1, 1)), r.standard_normal((1, 4, 1, 1)))
        add("course/groupnorm/right", name, "PASS", _vjp(C.spatial_groupnorm_forward, C.spatial_groupnorm_backward),
            (*_cast(dt, *gn), 2, {"eps": 1e-5}))
        add("course/groupnorm/variance_term_missing", name, "FAIL",
            _vjp(C.spatial_groupnorm_forward, C.spatial_groupnorm_backward, "variance_term_missing"),
            (*_cast(dt, *gn), 2, {"eps": 1e-5}), "x")
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
