"""gradient_checker.torch / .jax / .tf in a user's suite: a right rule passes, a wrong one fails the
test naming the tensor. The user suite runs in a subprocess (pytester in-process would drop the
frameworks from sys.modules, and a second import of their C extensions crashes the process)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_SUITE = '''
import pytest


def _softplus_torch(wrong):
    import torch

    class Softplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.nn.functional.softplus(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.sigmoid(-x if wrong else x)

    return Softplus.apply, torch.randn(4, 3)


@pytest.mark.parametrize("wrong", [False, True])
def test_torch(gradient_checker, wrong):
    pytest.importorskip("torch")
    gradient_checker.torch(*_softplus_torch(wrong))


@pytest.mark.parametrize("wrong", [False, True])
def test_jax(gradient_checker, wrong):
    jax = pytest.importorskip("jax")

    @jax.custom_vjp
    def softplus(x):
        return jax.numpy.logaddexp(x, 0.0)

    softplus.defvjp(lambda x: (softplus(x), x), lambda x, g: (g * jax.nn.sigmoid(-x if wrong else x),))
    gradient_checker.jax(softplus, jax.numpy.linspace(-2.0, 2.0, 6))


@pytest.mark.parametrize("wrong", [False, True])
def test_tf(gradient_checker, wrong):
    tf = pytest.importorskip("tensorflow")

    @tf.custom_gradient
    def softplus(x):
        return tf.math.softplus(x), lambda g: g * tf.sigmoid(-x if wrong else x)

    gradient_checker.tf(softplus, tf.linspace(-2.0, 2.0, 6))
'''


@pytest.mark.slow  # ~11 s: a pytest subprocess that imports torch, JAX and TensorFlow
@pytest.mark.torch
@pytest.mark.jax
@pytest.mark.tensorflow
def test_framework_fixtures_pass_right_rules_and_fail_wrong_ones(pytester):
    pytester.makepyfile(test_user_rules=USER_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rf")
    result.assert_outcomes(passed=3, failed=3)
    output = result.stdout.str()
    for framework in ("torch", "jax", "tf"):
        assert f"FAILED test_user_rules.py::test_{framework}[True]" in output, (
            f"the wrong {framework} rule must be the failing one:\n{output}")
    # float32 inputs: the tensor is named 'x (rule in float64)', where the math is checked first
    assert output.count("WRONG: gradient of 'x") >= 3, f"each failure names the tensor:\n{output}"
