"""A forward-mode rule (``jax.custom_jvp``) checked against directional derivatives of the forward.

The VJP check already covers a custom_jvp rule through its transpose; this checks the rule as it is
called in forward mode. Per differentiable tensor x, a seeded N(0, 1) tangent v (zero on the other
tensors) and the same upstream u as the VJP check: the scalar t -> sum_k <out_k(x + t v), u_k> has
derivative sum_k <jvp_k(x; v), u_k> at t = 0, which check_gradients verifies (its numerical methods,
tolerances and verdict) as a one-element "parameter" named "NAME (JVP along a random direction)".
"""

from __future__ import annotations

import numpy as np

from ..by_precision import no_split
from ..check import check_gradients
from ..report import GradientReport
from .base import run_user
from .common import low_precision_rtol

JVP_SUFFIX = " (JVP along a random direction)"


def check_jvp_directions(adapter, values: dict, douts: list, precisions: dict, seed: int,
                         options: dict) -> GradientReport:  # fmt: skip
    """One result per differentiable tensor: the JVP rule along a random direction of that tensor
    (rounded to its dtype), judged at that tensor's dtype (common.low_precision_rtol for 16-bit ones)."""
    rng = np.random.default_rng([seed, 7])
    driven = [k for k, d in enumerate(douts) if d is not None]
    results, notes, evaluations, problems = {}, [], 0, []
    for name, x in values.items():
        v = adapter.quantize_input(rng.standard_normal(x.shape), name)
        tangents = {n: v if n == name else np.zeros(values[n].shape) for n in values}

        def loss(theta, name=name, v=v):
            t = theta["t"]
            moved = {n: (a + t * v).astype(np.result_type(a, t)) if n == name else a for n, a in values.items()}
            outs = run_user("f", adapter.outputs, moved)
            total = sum(np.sum(outs[k] * douts[k]) for k in driven)
            low = any(outs[k].dtype in (np.float32, np.complex64) for k in driven)
            return (np.complex64(total) if np.iscomplexobj(total) else np.float32(total)) if low else total

        def grad_f(theta, tangents=tangents):
            outs = run_user("grad_f", adapter.jvp, values, tangents)
            return {"t": np.asarray(sum(np.sum(outs[k] * douts[k]) for k in driven), dtype=np.float64)}

        point = {"t": np.zeros((), dtype=values[name].dtype)}
        judged = low_precision_rtol({name: precisions[name]}, options)
        with no_split():
            report = check_gradients(loss, grad_f, point, seed=seed, grad_f_sees_loss=False, **judged)
        result = report.results["t"]
        if np.dtype(precisions[name]).itemsize == 2:
            result.dtype = np.dtype(precisions[name]).name
        result.name = result.gradient_key = name + JVP_SUFFIX
        results[result.name] = result
        evaluations += report.n_evaluations
        problems += [f"{name}{JVP_SUFFIX}: {p}" for p in report.problems]
    return GradientReport(results, options.get("method", "auto"), seed, evaluations, notes, problems)
