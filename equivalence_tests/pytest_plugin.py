"""pytest plugin for users of reference-nn: gradient checks in your own test suite, with no set-up.

Installed with the package (entry point ``pytest11``), so in any project where reference-nn is
installed these fixtures simply exist::

    def test_my_gradient(gradient_checker):
        gradient_checker(loss, grad, params)        # f(params) -> float, grad(params) -> dict

    def test_my_layer(gradient_checker):
        gradient_checker.layer(MyDense(3, 4), x)    # forward(x), backward(dy); parameters found
        gradient_checker.vjp(affine_forward, affine_backward, x, w, b)   # (out, cache) / (dout, cache)
        gradient_checker.value_and_grad(model.loss, model.params, X, y)  # -> (loss, grads)

    def test_my_rules(gradient_checker):             # rules written inside a framework
        gradient_checker.torch(MyFunction.apply, x)  # also an nn.Module; order=2 for the double backward
        gradient_checker.jax(my_custom_vjp, x)       # jax.custom_vjp / custom_jvp
        gradient_checker.tf(my_custom_gradient, x)   # tf.custom_gradient

    def test_my_network(gradient_checker):           # a model made of the op table's ops
        gradient_checker.model(config, params, X, Y, grads=my_grads)   # vs FD, torch, TensorFlow (, JAX)

    def test_with_hypothesis(nn_strategies): ...     # the module equivalence_tests.strategies

A wrong gradient fails the test with the parameter and element named; torch or TensorFlow not
installed skips (with the reason) after everything that could run has passed. JAX is asked too
when it is installed (it is optional: its absence skips nothing unless you name it in ``frameworks``).

The Hypothesis strategies are also a plain import: ``from equivalence_tests.strategies import models``.

This module imports only pytest at load time: NumPy, Hypothesis, torch, TensorFlow and JAX are imported
when a fixture is used. It defines fixtures and nothing else: no hooks, no report header, no
Hypothesis profile (your suite's settings stay yours).
"""

from __future__ import annotations

from typing import Any

import pytest

FRAMEWORK_GROUPS = ("torch", "tensorflow", "jax")


def default_frameworks() -> tuple[str, ...]:
    """torch and TensorFlow (a missing one skips), and JAX when it is installed."""
    import importlib.util

    return ("torch", "tensorflow") + (("jax",) if importlib.util.find_spec("jax") is not None else ())


class GradientCheckFailure(AssertionError):
    """A hand-written gradient disagrees with a numerical derivative or a framework's autograd."""


class GradientChecker:
    """The object behind the ``gradient_checker`` fixture. Every method returns what it checked (a
    ``GradientReport`` or a dict of comparisons) and raises :class:`GradientCheckFailure` on a mismatch."""

    def __call__(self, f: Any, grad_f: Any, params: dict, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_gradients(f, grad_f, params, **options)``, failing on a mismatch.

        ``f(params) -> float``; ``grad_f(params) -> {"W1": ..., ...}`` (or ``dW1`` keys). Options:
        ``method`` ("auto", "central", "richardson", "complex", "directional"), ``rtol``, ``atol``, ``seed``."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_gradients

        return self._verdict(check_gradients(f, grad_f, params, **options))

    def layer(self, layer: Any, *inputs: Any, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_layer(layer, *inputs, **options)``: the input gradient(s) (one
        input is reported as ``input``) and every parameter gradient of a ``forward``/``backward`` layer
        object, wherever it keeps them (``.params``/``.grads``, ``.parameters``/``.gradients``, ``W``/``dW``)."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_layer

        return self._verdict(check_layer(layer, *inputs, **options))

    def vjp(self, forward: Any, backward: Any, *inputs: Any, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_vjp(forward, backward, *inputs, **options)``: a function pair
        ``forward(*inputs) -> (out, cache)``, ``backward(dout, cache) -> (dx, dw, ...)``; config dicts,
        ints and integer arrays among the inputs are passed unchanged."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_vjp

        return self._verdict(check_vjp(forward, backward, *inputs, **options))

    def value_and_grad(self, fn: Any, params: Any, *args: Any, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_value_and_grad(fn, params, *args, **options)``: ``fn(params,
        *args) -> (loss, grads)``, or ``fn(*args)`` reading ``params`` itself (a model's ``self.params``)."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_value_and_grad

        return self._verdict(check_value_and_grad(fn, params, *args, **options))

    def torch(self, fn: Any, *inputs: Any, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_torch(fn, *inputs, **options)``: a torch Function's apply,
        a function built from them, or an nn.Module; its contract checks too; order=2 for the
        double backward. torch is imported here, when called."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_torch

        return self._verdict(check_torch(fn, *inputs, **options))

    def jax(self, fn: Any, *inputs: Any, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_jax(fn, *inputs, **options)``: a jax.custom_vjp /
        custom_jvp rule (x64 flag and default device left as found)."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_jax

        return self._verdict(check_jax(fn, *inputs, **options))

    def tf(self, fn: Any, *inputs: Any, **options: Any) -> Any:
        """``reference_nn.gradcheck.check_tf(fn, *inputs, **options)``: a tf.custom_gradient rule."""
        __tracebackhide__ = True
        from reference_nn.gradcheck import check_tf

        return self._verdict(check_tf(fn, *inputs, **options))

    def model(self, config: Any, params: dict, X: Any, Y: Any, grads: dict | None = None,
              frameworks: tuple[str, ...] | None = None) -> dict[str, Any]:  # fmt: skip
        """Check ``grads`` (your gradient of the model's cost at ``params``; default: the reference's
        ``model_backward``) against finite differences, then against torch and TensorFlow autograd (and JAX,
        when installed or named in ``frameworks``).

        ``config``: an ``equivalence_tests.config.ModelConfig`` (layers, activations, loss, l2 from the
        op table); ``params`` ``{"W1": (n1, n0), "b1": (n1, 1), ...}``, ``X (n0, m)``, ``Y (nL, m)``.
        ``frameworks``: which of ``("torch", "tensorflow", "jax")`` to ask (default
        :func:`default_frameworks`: JAX only when installed). Returns ``{oracle name: {parameter:
        comparison}}``. A framework that is not installed skips the test, with the reason, once every
        available oracle has agreed."""
        __tracebackhide__ = True
        from equivalence_tests import tolerances
        from equivalence_tests.cli import quiet_native_stderr
        from equivalence_tests.oracles import (
            FiniteDifferenceOracle,
            JaxOracle,
            ReferenceOracle,
            TensorFlowOracle,
            TorchOracle,
        )

        frameworks = default_frameworks() if frameworks is None else tuple(frameworks)
        unknown = [name for name in frameworks if name not in FRAMEWORK_GROUPS]
        if unknown:
            raise ValueError(f"frameworks must be a subset of {FRAMEWORK_GROUPS}, got {unknown}")
        if grads is None:
            grads = ReferenceOracle().run(config, params, X, Y).gradients
        grads = {name[1:] if name.startswith("d") else name: value for name, value in grads.items()}
        if sorted(grads) != sorted(params):
            raise ValueError(f"grads must have one entry per parameter {sorted(params)}, got {sorted(grads)}")
        # complex step: the reference cost is complex-safe, and its bound keeps the tolerance at 2e-12 (float64)
        # where "auto" is judged at its central fallback bound (6e-6; tolerances.finite_difference_bound)
        oracles: list[Any] = [FiniteDifferenceOracle("complex")]
        oracles += [TorchOracle("functional")] if "torch" in frameworks else []
        oracles += [TensorFlowOracle("functional")] if "tensorflow" in frameworks else []
        oracles += [JaxOracle("functional")] if "jax" in frameworks else []
        comparisons: dict[str, Any] = {}
        missing = []
        failures = []
        for oracle in oracles:
            with quiet_native_stderr(oracle.framework == "tensorflow"):  # TF's C++ start-up logs
                if not oracle.available:
                    missing.append(oracle.unavailable_reason)
                    continue
                result = oracle.run(config, params, X, Y)
            comparisons[oracle.name] = {}
            for name, expected in result.gradients.items():
                # The oracle's gradient is the reference side, yours the candidate (normalized errors,
                # the tolerance table's entry for this oracle and dtype, op-row overrides included).
                comparison = tolerances.compare("gradient", config.dtype, oracle.name, expected, grads[name],
                                                config=config, name=name)  # fmt: skip
                comparisons[oracle.name][name] = comparison
                if not comparison.passed:
                    failures.append(
                        f"gradient of {name!r} disagrees with {oracle.name} at element {comparison.worst_index}: "
                        f"yours {comparison.oracle_value:.8g}, {oracle.name} {comparison.reference_value:.8g} "
                        f"(normalized error {comparison.max_rel_error:.2e} > rtol {comparison.tolerance.rtol:g})"
                    )
        if failures:
            raise GradientCheckFailure(f"model {config.describe()}:\n" + "\n".join(failures))
        if missing:
            pytest.skip("; ".join(missing) + " (finite differences and the installed frameworks agreed)")
        return comparisons

    @staticmethod
    def _verdict(report: Any) -> Any:
        __tracebackhide__ = True
        if not report.passed:
            from equivalence_tests.cli import verdict_lines

            raise GradientCheckFailure(f"{verdict_lines(report)}\n{report}")
        return report


@pytest.fixture
def gradient_checker() -> GradientChecker:
    """Assert hand-written gradients: ``gradient_checker(f, grad_f, params)``, ``.layer(layer, x)``,
    ``.vjp(forward, backward, *inputs)``, ``.value_and_grad(fn, params, *args)``,
    ``.torch(fn, *inputs)``, ``.jax(fn, *inputs)``, ``.tf(fn, *inputs)``,
    ``.model(config, params, X, Y, grads)``. See :class:`GradientChecker`."""
    return GradientChecker()


@pytest.fixture
def nn_strategies() -> Any:
    """The module ``equivalence_tests.strategies`` (Hypothesis strategies for layer dims, batches,
    activations, losses, optimizers, whole models). Needs Hypothesis; skips the test if it is absent."""
    pytest.importorskip("hypothesis", reason="nn_strategies needs Hypothesis (pip install hypothesis)")
    from equivalence_tests import strategies

    return strategies
