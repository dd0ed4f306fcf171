"""The framework-neutral half of check_torch / check_jax / check_tf: a framework's hand-written rule
checked as a vector-Jacobian product by check_gradients, plus the contract checks (contracts.py).

An adapter (torch_adapter.py, jax_adapter.py, tf_adapter.py) turns the user's callable into three
NumPy-facing operations on a dict of named arrays (the differentiable inputs, and a Module's
parameters under their ``named_parameters`` names):

* ``outputs(values) -> [out_k]``: the forward alone (the numerical side). A float64 or complex
  array is run in that dtype (an upcast copy, or complex step); a float32 array in the tensor's
  own dtype (float32, or the bfloat16 / float16 its float32 copy holds exactly).
* ``vjp(values, douts) -> Backward``: the framework's backward (the rule under test) driven with
  upstream gradients ``douts`` (one per driven output), at the same dtypes; with the returned
  gradients' shapes and dtypes and the inputs the call mutated.
* ``quantize(array, k)``: an upstream gradient rounded to output k's dtype (both sides then use the
  same numbers).

The scalar ``L(x) = sum_k <out_k(x), dout_k>`` has gradient exactly vjp(x, dout); check_gradients
checks that on L (projections and group testing for large tensors, kinks, the verdict contract).
"""

from __future__ import annotations

import numpy as np

from .. import tolerances as tol
from ..arguments import contract_scale
from ..by_precision import no_split
from ..check import check_gradients
from ..report import FAIL, GradientReport
from ..vjp import UPSTREAM_SEED
from . import float64_rule as rule
from .base import Prepared, run_user
from .contracts import run_contracts
from .report import FrameworkReport


def draw_upstream(adapter, outs: list, driven: list[int], rng: np.random.Generator) -> list:
    """Upstream gradients: N(0, 1) of each driven output's shape (both signs), rounded to its dtype;
    1.0 for a scalar output; None for an output not driven. float64 arrays."""
    douts = []
    for k, out in enumerate(outs):
        if k not in driven:
            douts.append(None)
        elif np.ndim(out) == 0:
            douts.append(np.ones((), dtype=np.float64))
        else:
            douts.append(adapter.quantize(rng.standard_normal(np.shape(out)), k))
    return douts


def driven_outputs(outs: list) -> list[int]:
    """Every floating output is driven (an integer output, such as the indices of a top-k, is not)."""
    driven = [k for k, out in enumerate(outs) if np.asarray(out).dtype.kind in "fc"]
    if not driven:
        raise ValueError("the function returned no floating output to differentiate")
    return driven


def check_framework(adapter, prepared: Prepared, *, order: int = 1, seed: int = 0, extra_checks=(),
                    **options) -> FrameworkReport:  # fmt: skip
    """Contract checks, then check_gradients on the contraction; order=2 adds the backward's own
    derivative (second_order.py); extra_checks: callables (values, douts) -> GradientReport whose
    results join the report (check_jax's JVP directions). options: check_gradients' (method, rtol,
    atol, max_evaluations, ...)."""
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2; got {order!r}")
    values = prepared.values
    outs = run_user("f", adapter.outputs, values)
    driven = driven_outputs(outs)
    rng = np.random.default_rng([seed, UPSTREAM_SEED])
    douts = draw_upstream(adapter, outs, driven, rng)
    contracts, first = run_contracts(adapter, values, douts, prepared, rng)
    gradient_dtypes = {name: prepared.precisions[name] for name in values}
    shapes_fail = any(c.name == "shapes and dtypes" and c.status == FAIL for c in contracts)
    probe = None if shapes_fail else rule.probe_float64(adapter, values, gradient_dtypes, driven)
    if shapes_fail:  # gradients of the wrong shape cannot be compared element by element
        base = GradientReport({}, options.get("method", "auto"), seed, 0, [], [])
    else:
        base = _first_order_by_precision(adapter, values, outs, douts, driven, gradient_dtypes, seed, options, probe)
    report = FrameworkReport.from_report(base, contracts, adapter.framework)
    report.notes[:0] = [_upstream_note(outs, driven, seed), *prepared.notes]
    if prepared.static:
        report.notes.insert(1, f"passed unchanged on every call: {', '.join(prepared.static)}")
    if order == 2 and not shapes_fail:
        report.add_second_order(_second_order_by_precision(adapter, values, douts, gradient_dtypes, seed, options,
                                                           probe))  # fmt: skip
    for extra in extra_checks if not shapes_fail else ():
        report.add_results(extra(values, douts))
    del first
    return report


def _first_order_by_precision(adapter, values, outs, douts, driven, gradient_dtypes, seed, options,
                              probe) -> GradientReport:  # fmt: skip
    """float64 inputs: _first_order. Below float64: the rule's math in float64 first where fn runs in
    float64 on float64 copies, then the low-precision run against that verified gradient
    (float64_rule.py); the direct check at the low precision where that is not possible."""
    if probe is None:
        return _first_order(adapter, values, outs, douts, driven, gradient_dtypes, seed, options)
    if not probe.runs:
        base = _first_order(adapter, values, outs, douts, driven, gradient_dtypes, seed, options, narrow=probe.refused)
        base.notes.append(f"the rule's math not checked in float64 apart: {probe.why_not}")
        return base
    wide = probe.wide
    return rule.two_steps(
        lambda: _first_order(adapter, wide, run_user("f", adapter.outputs, wide), douts, driven,
                             dict.fromkeys(wide, np.dtype(np.float64)), seed, rule.rule_options(options)),
        lambda: rule.compare_with_float64_rule(adapter, values, wide, douts, gradient_dtypes,
                                               options.get("verified_share"), seed),
        lambda: _first_order(adapter, values, outs, douts, driven, gradient_dtypes, seed, options),
        {n: v.shape for n, v in values.items()}, gradient_dtypes, seed, "backward")  # fmt: skip


def _second_order_by_precision(adapter, values, douts, gradient_dtypes, seed, options, probe) -> GradientReport:
    """order=2 as _first_order_by_precision does order 1: the double backward's math in float64 first
    where fn runs in float64, then its low-precision run against it; else directly."""
    from .second_order import check_second_order, compare_double_backward

    if probe is None or not probe.runs:
        return check_second_order(adapter, values, douts, gradient_dtypes, seed, options,
                                  narrow=probe is not None and probe.refused)
    wide = probe.wide
    return rule.two_steps(
        lambda: check_second_order(adapter, wide, douts, dict.fromkeys(wide, np.dtype(np.float64)), seed,
                                   rule.rule_options(options), wide=True),
        lambda: compare_double_backward(adapter, values, wide, douts, gradient_dtypes, options.get("verified_share"),
                                        seed),
        lambda: check_second_order(adapter, values, douts, gradient_dtypes, seed, options),
        {n: v.shape for n, v in values.items()}, gradient_dtypes, seed, "double backward")  # fmt: skip


def _first_order(adapter, values, outs, douts, driven, gradient_dtypes, seed, options, narrow=False) -> GradientReport:
    """check_gradients on L(x) = sum_k <out_k(x), dout_k> against the framework's backward. narrow:
    fn refuses float64, so the float64 points check_gradients evaluates at are rounded to float32
    first (the tensors' own dtypes hold them from there): a loss that casts inside, as precision.py
    measures it."""
    def loss(theta):
        if narrow:
            theta = {n: v.astype(np.float32) if v.dtype == np.float64 and np.dtype(gradient_dtypes[n]) != np.float64
                     else v for n, v in theta.items()}  # fmt: skip
        outputs = run_user("f", adapter.outputs, theta)
        total = contract([outputs[k] for k in driven], [douts[k] for k in driven])
        if any(outputs[k].dtype in (np.float32, np.complex64) for k in driven):
            # the forward computed below float64 (at these inputs): the check must see that, in
            # make_evaluator (float64 copies) and precision.py (the given dtypes)
            return np.complex64(total) if np.iscomplexobj(total) else np.float32(total)
        return total

    def grad_f(theta):
        backward = run_user("grad_f", adapter.vjp, theta, douts)
        return {name: _zeros_for_none(backward.grads[name], theta[name]) for name in theta}

    scale = contract_scale([outs[k] for k in driven], [douts[k] for k in driven], range(len(driven)))
    options = low_precision_rtol(gradient_dtypes, options)
    with no_split():
        report = check_gradients(loss, grad_f, dict(values), seed=seed, f_scale=scale, grad_f_sees_loss=False,
                                 **options)
    for name, result in report.results.items():  # the dtype the gradient was computed in, not its float32 copy
        if np.dtype(gradient_dtypes[name]).itemsize == 2:
            result.dtype = np.dtype(gradient_dtypes[name]).name
    return report


def low_precision_rtol(gradient_dtypes: dict, options: dict) -> dict:
    """options with rtol = sqrt(eps) of the coarsest 16-bit dtype among the gradients, unless given.

    A bfloat16 / float16 gradient comes to check_gradients as a float32 array (exact) and is judged
    there with float32's floors (1000 ulps of the largest gradient RMS, 100 ulps of |f|: 1000 ulps of
    bfloat16 would be 7.8x the gradient itself) and this rtol: tolerances.analytic_rtol of its own
    dtype, the share the checker allows any analytic gradient (8.8e-2 bfloat16, 3.1e-2 float16), of
    max(|a|, |n|, the tensor's RMS). x2, sign and transpose errors stay far outside it."""
    coarse = [np.dtype(d) for d in gradient_dtypes.values() if np.dtype(d).itemsize == 2]
    if not coarse or options.get("rtol") is not None:
        return options
    # The cap a verified element is held to: a 16-bit gradient is itself rounded to half an ulp
    # (bfloat16 0.39%, float16 0.05%) and a backward accumulates a few roundings, so 4 ulps of the
    # coarsest dtype (bfloat16 3.1%; float16 0.39%, below the default 0.5% which then stays): a right
    # rule verifies, a 5% error never PASSes (the default 0.5% cap left right bfloat16 rules
    # INCONCLUSIVE with a false reason).
    share = max(tol.VERIFIED_SHARE, max(4 * tol.eps(d) for d in coarse))
    return {**options, "rtol": max(tol.analytic_rtol(d) for d in coarse), "verified_share": share}


def contract(outs: list, douts: list):
    """sum_k sum(out_k * dout_k), in float64 (complex128 for complex outputs)."""
    total = 0.0
    for out, dout in zip(outs, douts, strict=True):
        total = total + np.sum(np.asarray(out) * dout)
    return total


def _zeros_for_none(grad, like: np.ndarray) -> np.ndarray:
    """A rule that returns no gradient (None) for an input says: zero."""
    return np.zeros(like.shape, dtype=like.dtype) if grad is None else grad


def _upstream_note(outs, driven, seed) -> str:
    parts = [f"output{k} {tuple(np.shape(outs[k]))}" if np.ndim(outs[k]) else f"output{k} (a scalar: upstream 1)"
             for k in driven]
    skipped = [f"output{k}" for k in range(len(outs)) if k not in driven]
    note = (f"backward driven at output(s) {', '.join(parts)} with upstream gradients N(0, 1) rounded to each "
            f"output's dtype, seed {seed}")
    return note + (f"; not driven (not floating): {', '.join(skipped)}" if skipped else "")
