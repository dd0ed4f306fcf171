"""The pytest plugin's ``gradient_checker.model`` on issue 17's op set: a batch-normalized model with
GELU, SiLU and the KL-divergence loss, trained with RMSprop, passes with the reference's gradients and
fails, naming the parameter, with a wrong ``dgamma1``; torch agrees on the same model."""

import pytest

# See tests/cli/test_pytest_plugin.py: import what the user suites use before pytester runs them.
import equivalence_tests.oracles  # noqa: F401
import equivalence_tests.tolerances  # noqa: F401
import reference_nn.gradcheck  # noqa: F401

pytest_plugins = ["pytester"]


def skip_unless_installed(module: str) -> None:
    """See tests/cli/test_pytest_plugin.py: skip without importing the framework here."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")

USER_TESTS = """
import numpy as np
import reference_nn as rn
from equivalence_tests import ops
from equivalence_tests.config import ModelConfig, OptimizerConfig

CONFIG = ModelConfig((3, 5, 4, 3), ("gelu", "silu", "softmax"), "kl_div", normalization="batch",
                     optimizer=OptimizerConfig("rmsprop", learning_rate=0.01, alpha=0.9, centered=True))
PARAMS, X, Y = ops.example_inputs(CONFIG, seed=2, m=5)


def test_right_gradients(gradient_checker):
    comparisons = gradient_checker.model(CONFIG, PARAMS, X, Y, frameworks=FRAMEWORKS)
    assert set(comparisons["finite_difference/complex"]) == {"W1", "gamma1", "beta1", "W2", "gamma2", "beta2",
                                                          "W3", "b3"}


def test_wrong_dgamma(gradient_checker):
    AL, caches = rn.model_forward(X, PARAMS, CONFIG.activations, "batch")
    grads = rn.model_backward(AL, Y, caches, "kl_div")
    grads["dgamma1"] = grads["dgamma1"] * 1.05
    gradient_checker.model(CONFIG, PARAMS, X, Y, grads=grads, frameworks=())
"""


@pytest.mark.parametrize("frameworks", [pytest.param("()", id="finite-differences"),
                                        pytest.param('("torch",)', id="torch", marks=pytest.mark.torch)])
def test_model_helper_covers_a_normalized_model_of_the_new_ops(pytester, frameworks):
    if "torch" in frameworks:
        skip_unless_installed("torch")
    pytester.makepyfile(test_user=f"FRAMEWORKS = {frameworks}\n" + USER_TESTS)
    # a subprocess: an in-process run forgets the framework modules it imported, and importing a C
    # extension (torch, jaxlib) a second time in one process crashes (SystemError, seen in the suite)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*gradient of 'gamma1' disagrees with finite_difference/complex at element*"])
