"""check_torch / check_jax / check_tf: hand-written rules inside frameworks, checked as VJPs.

Each framework is imported only when its function is called (its adapter module imports it), so
``import reference_nn.gradcheck`` stays NumPy-only. common.py holds what the three share.
"""

from __future__ import annotations

from .report import ContractCheck, FrameworkReport


def check_torch(fn, *inputs, reference=None, order: int = 1, seed: int = 0, **options) -> FrameworkReport:
    """Check the backward of a torch callable against numerical derivatives of its forward.

    fn: ``MyFunction.apply`` (or the Function class), a function built from custom Functions, or an
    ``nn.Module`` (its parameters are checked too, under their ``named_parameters`` names). inputs:
    tensors or arrays; floating ones (float64, float32, bfloat16, float16) are differentiated, the
    rest passed unchanged. The analytic side is torch's backward at the inputs' own dtypes, driven
    with seeded N(0, 1) upstream gradients; the numerical side is check_gradients on the forward,
    in float64 on upcast copies where fn computes in float64 then, else at fn's own precision.
    Contract checks (contracts.py) and, with order=2, the backward's own derivative. reference: a
    callable of the same math, run in float64 and at fn's precision: each gradient's error against
    its float64 gradient is judged by its own error at fn's precision (reference.py). options:
    check_gradients' (method, rtol, atol, max_evaluations, time_budget, progress).
    """
    from .torch_adapter import TorchAdapter

    return _run(TorchAdapter, fn, inputs, reference, order, seed, options)


def check_jax(fn, *inputs, reference=None, order: int = 1, seed: int = 0, **options) -> FrameworkReport:
    """Check a JAX rule (``jax.custom_vjp``, ``jax.custom_jvp``, or a function built from them): its
    VJP (jax.vjp, the rule or its transpose) as check_torch does, and for a custom_jvp the JVP rule
    along a random direction per input too. JAX's x64 flag and default device are left as found; the
    rule runs at the dtypes JAX gives the inputs under the caller's flag. Same options and report."""
    import jax

    from .jax_adapter import JaxAdapter
    from .jvp_check import check_jvp_directions

    def jvp(adapter, prepared):
        return lambda values, douts: check_jvp_directions(adapter, values, douts, prepared.precisions, seed, options)

    return _run(JaxAdapter, fn, inputs, reference, order, seed, options,
                extra=[jvp] if isinstance(fn, jax.custom_jvp) else [])


def check_tf(fn, *inputs, reference=None, order: int = 1, seed: int = 0, **options) -> FrameworkReport:
    """Check a TensorFlow rule (``tf.custom_gradient``, or a function built from such ops) through
    ``tf.GradientTape``, as check_torch does: same options, contract checks and report."""
    from .tf_adapter import TfAdapter

    return _run(TfAdapter, fn, inputs, reference, order, seed, options)


def _run(adapter_class, fn, inputs, reference, order, seed, options, extra=()) -> FrameworkReport:
    """The adapter on fn; extra: functions (adapter, prepared) -> a check (values, douts) -> report;
    reference: a second adapter on the reference, judged by reference.py."""
    from .common import check_framework

    adapter = adapter_class(fn, inputs)
    prepared = adapter.prepare()
    checks = [make(adapter, prepared) for make in extra]
    if reference is not None:
        from .reference import check_against_reference

        if not callable(reference):
            raise TypeError(f"reference must be a callable of the same math as fn; got {type(reference).__name__}")
        twin = adapter_class(reference, inputs)
        twin.prepare()
        checks.append(lambda values, douts: check_against_reference(adapter, twin, values, douts,
                                                                    prepared.precisions, seed))  # fmt: skip
    return check_framework(adapter, prepared, order=order, seed=seed, extra_checks=checks, **options)


__all__ = ["ContractCheck", "FrameworkReport", "check_jax", "check_tf", "check_torch"]
