"""The pytest plugin, as a user meets it: a small test suite in a temporary folder that uses the
fixtures without any set-up (the plugin arrives through the pytest11 entry point)."""

import subprocess
import sys

import pytest

# In-process pytester runs forget the modules imported during each run, and NumPy's C extension
# cannot be imported twice in one process: import everything the user suites use up front.
import equivalence_tests.oracles  # noqa: F401
import equivalence_tests.tolerances  # noqa: F401
import reference_nn.gradcheck  # noqa: F401

# pytester runs a small user test suite in a temporary folder. Declared here, in the test module:
# pytest refuses pytest_plugins in a conftest.py below the rootdir when the whole suite runs.
pytest_plugins = ["pytester"]


def skip_unless_installed(module: str) -> None:
    """Skip without importing: a framework first imported inside a pytester test is dropped from
    sys.modules when pytester restores them, and importing its C extension again crashes the process
    (SystemError "bad call flags", seen when these tests ran in one process)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


USER_TESTS = """
import numpy as np
import pytest

X = np.random.default_rng(0).normal(size=(3, 5))


def loss(params):
    return np.sum(np.tanh(params["W"] @ X) ** 2) / X.shape[1]


def grad(params):
    T = np.tanh(params["W"] @ X)
    return {"W": (2 * T * (1 - T ** 2)) @ X.T / X.shape[1]}


def grad_forgot_tanh_derivative(params):
    T = np.tanh(params["W"] @ X)
    return {"W": (2 * T) @ X.T / X.shape[1]}


PARAMS = {"W": np.random.default_rng(1).normal(size=(2, 3))}


def test_right_gradient(gradient_checker):
    report = gradient_checker(loss, grad, PARAMS)
    assert report.passed


def test_broken_gradient(gradient_checker):
    gradient_checker(loss, grad_forgot_tanh_derivative, PARAMS)
"""


def test_right_gradient_passes_broken_fails_naming_the_parameter(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*GradientCheckFailure*WRONG: gradient of 'W' at element*"])


def test_layer_and_model_helpers(pytester):
    pytester.makepyfile(
        test_layers="""
        import numpy as np
        import pytest
        import reference_nn as rn
        from equivalence_tests.config import ModelConfig


        def test_reference_linear_layer(gradient_checker):
            layer = rn.Linear(np.ones((2, 3)), np.zeros((2, 1)))
            report = gradient_checker.layer(layer, np.arange(12.0).reshape(3, 4))
            assert set(report.results) == {"input", "W", "b"}


        def test_model_with_a_wrong_gradient(gradient_checker):
            config = ModelConfig((3, 4, 1), ("tanh", "sigmoid"), "bce")
            params = rn.initialize_parameters(config.layer_dims, seed=0)
            X = np.random.default_rng(0).normal(size=(3, 5))
            Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
            AL, caches = rn.model_forward(X, params, config.activations)
            grads = rn.model_backward(AL, Y, caches, "bce")
            grads["db2"] = grads["db2"] * 2.0
            gradient_checker.model(config, params, X, Y, grads=grads, frameworks=())


        def test_model_right_gradient_finite_differences_only(gradient_checker):
            config = ModelConfig((3, 4, 1), ("tanh", "sigmoid"), "bce")
            params = rn.initialize_parameters(config.layer_dims, seed=0)
            X = np.random.default_rng(0).normal(size=(3, 5))
            Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
            comparisons = gradient_checker.model(config, params, X, Y, frameworks=())
            assert list(comparisons) == ["finite_difference/complex"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*gradient of 'b2' disagrees with finite_difference/complex at element (0, 0)*"])


def test_missing_framework_skips_with_the_reason(pytester):
    pytester.makepyfile(
        test_missing="""
        import numpy as np
        import reference_nn as rn
        from equivalence_tests.config import ModelConfig
        from equivalence_tests.oracles import TorchOracle


        def test_model(gradient_checker, monkeypatch):
            def refuse(self):
                raise ImportError("No module named 'torch'")

            monkeypatch.setattr(TorchOracle, "_load", refuse)
            config = ModelConfig((2, 3, 1), ("relu", "sigmoid"), "bce")
            params = rn.initialize_parameters(config.layer_dims, seed=1)
            X = np.random.default_rng(2).normal(size=(2, 4))
            Y = np.array([[1.0, 0.0, 1.0, 0.0]])
            gradient_checker.model(config, params, X, Y, frameworks=("torch",))
        """
    )
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*torch/functional unavailable: cannot import torch*"])


@pytest.mark.torch
def test_model_against_torch(pytester):
    skip_unless_installed("torch")
    pytester.makepyfile(
        test_torch="""
        import numpy as np
        import reference_nn as rn
        from equivalence_tests.config import ModelConfig


        def test_model(gradient_checker):
            config = ModelConfig((3, 5, 2), ("tanh", "identity"), "mse")
            params = rn.initialize_parameters(config.layer_dims, seed=3)
            X = np.random.default_rng(4).normal(size=(3, 6))
            Y = np.random.default_rng(5).normal(size=(2, 6))
            comparisons = gradient_checker.model(config, params, X, Y, frameworks=("torch",))
            assert set(comparisons) == {"finite_difference/complex", "torch/functional"}
        """
    )
    # a subprocess: see tests/cli/test_pytest_plugin_modern_ops.py (C extensions imported twice in one process)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.jax
def test_model_against_jax(pytester):
    skip_unless_installed("jax")
    pytester.makepyfile(
        test_jax="""
        import numpy as np
        import pytest
        import reference_nn as rn
        from equivalence_tests.config import ModelConfig
        from equivalence_tests.pytest_plugin import GradientCheckFailure


        def test_model(gradient_checker):
            config = ModelConfig((3, 5, 2), ("tanh", "identity"), "mse")
            params = rn.initialize_parameters(config.layer_dims, seed=3)
            X = np.random.default_rng(4).normal(size=(3, 6))
            Y = np.random.default_rng(5).normal(size=(2, 6))
            comparisons = gradient_checker.model(config, params, X, Y, frameworks=("jax",))
            assert set(comparisons) == {"finite_difference/complex", "jax/functional"}
            assert all(c.passed for c in comparisons["jax/functional"].values())
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_jax_is_asked_by_default_only_when_installed(monkeypatch):
    import importlib.util

    from equivalence_tests import pytest_plugin

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name))
    assert pytest_plugin.default_frameworks() == ("torch", "tensorflow"), "JAX absent: not asked, nothing skipped"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "jax" else None)
    assert pytest_plugin.default_frameworks() == ("torch", "tensorflow", "jax"), "JAX installed: asked"


def test_strategies_fixture_and_import(pytester):
    pytest.importorskip("hypothesis")
    import equivalence_tests.strategies  # noqa: F401  (imported before the run: see the top of this file)

    pytester.makepyfile(
        test_strategies="""
        from hypothesis import given, settings
        from equivalence_tests.strategies import layer_dims


        def test_fixture_is_the_module(nn_strategies):
            assert nn_strategies.layer_dims is layer_dims


        @settings(max_examples=5, database=None)
        @given(layer_dims())
        def test_dims_are_usable(dims):
            assert len(dims) >= 2 and min(dims) >= 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_plugin_leaves_the_users_suite_alone(pytester):
    """In a fresh process (no settings inherited from this suite): the plugin is loaded by its entry
    point, adds no report header and leaves Hypothesis on its default profile."""
    pytest.importorskip("hypothesis")
    pytester.makepyfile(
        test_alone="""
        from hypothesis import settings


        def test_default_profile(request):
            assert request.config.pluginmanager.has_plugin("reference_nn")
            assert settings.default.max_examples == 100  # Hypothesis' own default
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    # the same session without this plugin: every header line but the plugins list (which names it) is the
    # same, so the plugin adds none (other installed plugins, pytest-benchmark say, may add their own)
    without = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:reference_nn")

    def header(lines):
        start = next(i for i, line in enumerate(lines) if "test session starts" in line)
        end = next(i for i, line in enumerate(lines) if line.startswith("collected"))
        return [line for line in lines[start + 1 : end] if not line.startswith("plugins:")]

    assert header(result.stdout.lines) == header(without.stdout.lines), \
        f"the plugin adds header lines:\n{header(result.stdout.lines)}\nvs\n{header(without.stdout.lines)}"  # fmt: skip
    words = [line.split()[0].rstrip(":") for line in header(result.stdout.lines)]
    assert words[0] == "platform" and "rootdir" in words, result.stdout.lines


def test_plugin_import_is_cheap():
    code = (
        "import sys, equivalence_tests.pytest_plugin; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'hypothesis', 'numpy') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
