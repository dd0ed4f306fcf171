"""reference=: a low-precision kernel's gradient judged against a float64 reference of the same math,
with the reference's own low-precision error as the measuring stick (what kernel authors do by hand).

At the same quantized inputs x (fn's dtype, exact in float64) and upstream u:

    g_fn   = fn's backward at fn's dtype                  (the kernel under test)
    g_true = the reference's backward on float64 copies   (the gradient to aim at)
    g_ref  = the reference's backward at fn's dtype        (what that math costs at this precision)

Per tensor, fn's error |g_fn - g_true| must stay within REFERENCE_FACTOR times the reference's own,
in the largest element and in RMS, each error measured against max(that error, one ulp of fn's
dtype times the RMS of g_true) so that a reference exact at this precision (error 0) still leaves a
kernel its rounding. REFERENCE_FACTOR = 4: a kernel with another summation order or a float32
accumulator is within ~1-2x of the reference's error; 4x leaves room for that and still flags a
kernel whose error is several times what the precision explains (a wrong element of 10% in bfloat16,
whose rounding is 0.4% per operation). FAIL names the tensor and worst element; PASS states the factor.
The reference's float64 gradient is trusted here: check it on its own (check_torch(reference, x.double())).
"""

from __future__ import annotations

import numpy as np

from .. import tolerances as tol
from ..report import FAIL, PASS, GradientReport, ParameterResult
from .base import dense, rms, run_user

REFERENCE_FACTOR = 4.0
SUFFIX = " (vs reference)"


def check_against_reference(adapter, reference_adapter, values: dict, douts: list, precisions: dict,
                            seed: int) -> GradientReport:  # fmt: skip
    """One result per tensor: fn's gradient error against the reference's float64 gradient, judged
    by the reference's own error at fn's precision."""
    g_fn = run_user("grad_f", adapter.vjp, values, douts).grads
    wide = {n: np.asarray(v, dtype=np.float64) for n, v in values.items()}
    g_true = run_user("grad_f", reference_adapter.vjp, wide, douts).grads
    g_ref = run_user("grad_f", reference_adapter.vjp, values, douts).grads
    results = {}
    for name in values:
        true = dense(g_true.get(name), values[name].shape)
        fn_grad = dense(g_fn.get(name), values[name].shape)
        fn_error = np.abs(fn_grad - true)
        ref_error = np.abs(dense(g_ref.get(name), values[name].shape) - true)
        ulp = tol.eps(precisions[name]) * rms(true)
        allowed_max = REFERENCE_FACTOR * max(float(ref_error.max()), ulp)
        allowed_rms = REFERENCE_FACTOR * max(rms(ref_error), ulp)
        ok = bool(fn_error.max() <= allowed_max and rms(fn_error) <= allowed_rms)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(fn_error)), fn_error.shape))
        ratio = max(float(fn_error.max()) / allowed_max, rms(fn_error) / allowed_rms)
        key = name + SUFFIX
        results[key] = ParameterResult(
            name=key, gradient_key=key, shape=values[name].shape, dtype=np.dtype(precisions[name]).name,
            eval_dtype="float64", method=f"reference x{REFERENCE_FACTOR:g}", step=float("nan"),
            status=PASS if ok else FAIL, max_abs_error=float(fn_error.max()),
            max_rel_error=float(fn_error.max()) / max(float(np.abs(true).max()), np.finfo(float).tiny),
            worst_index=worst, analytic=float(fn_grad[worst]), numeric=float(true[worst]),
            numeric_error=float(ref_error[worst]), tolerance=allowed_max, n_elements=int(true.size),
            n_failed=0 if ok else int(np.sum(fn_error > allowed_max)) or 1, error_ratio=ratio,
            note=f"error vs the float64 reference: max {fn_error.max():.2g}, RMS {rms(fn_error):.2g}; the "
                 f"reference's own at this precision: max {ref_error.max():.2g}, RMS {rms(ref_error):.2g}")
    note = (f"reference=: each gradient's error against the reference's float64 gradient must stay within "
            f"{REFERENCE_FACTOR:g}x the reference's own error at the kernel's precision (max and RMS)")
    return GradientReport(results, "reference", seed, 0, [note], [])
