"""The oracle interface: availability without ImportError, versions on every result, input
validation, refusal of configurations the op table marks unsupported."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from oracle_fixtures import ORACLES, REFERENCE, cached_run, oracle_params, require

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig
from equivalence_tests.oracles import (
    QUANTITIES,
    FiniteDifferenceOracle,
    JaxOracle,
    TensorFlowOracle,
    TorchOracle,
    UnsupportedConfiguration,
)
from equivalence_tests.oracles.jax_runtime import import_jax


@pytest.fixture
def forget_jax():
    """JAX is imported once per process (import_jax is cached): forget it before and after the test."""
    import_jax.cache_clear()
    yield
    import_jax.cache_clear()


@pytest.mark.parametrize(("make_oracle", "module"), [(TorchOracle, "torch"), (TensorFlowOracle, "tensorflow"),
                                                     (JaxOracle, "jax"), (JaxOracle, "optax"),
                                                     (FiniteDifferenceOracle, "reference_nn.gradcheck")])
def test_missing_framework_makes_oracle_unavailable_with_a_reason(monkeypatch, forget_jax, make_oracle, module):
    if module == "optax" and importlib.util.find_spec("jax") is None:
        pytest.skip("JAX itself is not installed: the oracle's reason names jax, not optax")
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    oracle = make_oracle()
    assert oracle.available is False
    assert module.split(".")[0] in oracle.unavailable_reason and "unavailable" in oracle.unavailable_reason
    with pytest.raises(RuntimeError, match="unavailable"):
        oracle.run(*_tiny_problem())
    # ... and a test that needs it is skipped with that reason, not failed.
    with pytest.raises(pytest.skip.Exception, match="unavailable"):
        require(oracle)


def _tiny_problem():
    config = ModelConfig((2, 1), ("sigmoid",), "bce")
    params, X, Y = ops.example_inputs(config, m=3)
    return config, params, X, Y


@pytest.mark.parametrize("oracle_name", oracle_params())
def test_results_carry_framework_name_and_version(oracle_name: str):
    oracle = require(ORACLES[oracle_name])
    config = ops.example_configs(ops.op("sgd"), "float64")[0]
    _, _, result = cached_run(oracle, config)
    assert result.oracle == oracle_name
    assert result.framework == oracle_name.split("/")[0]
    assert result.path == oracle_name.split("/")[1]
    if result.framework == "torch":
        import torch

        assert result.framework_version == torch.__version__
    elif result.framework == "tensorflow":
        import keras
        import tensorflow as tf

        assert tf.__version__ in result.framework_version and keras.__version__ in result.framework_version
    elif result.framework == "jax":
        import jax
        import jaxlib
        import optax

        assert result.framework_version == f"{jax.__version__} (jaxlib {jaxlib.__version__}, optax {optax.__version__})"
    else:
        assert result.framework_version
    for quantity in QUANTITIES:
        assert result.quantity(quantity) is not None


def test_reference_oracle_is_deterministic_and_reports_its_version():
    config, params, X, Y = _tiny_problem()
    first, second = REFERENCE.run(config, params, X, Y), REFERENCE.run(config, params, X, Y)
    assert first.framework == "reference_nn" and first.framework_version
    assert first.cost == second.cost
    assert all(np.array_equal(first.gradients[k], second.gradients[k]) for k in params)


def test_inputs_that_do_not_fit_the_config_are_refused_with_names():
    config, params, X, Y = _tiny_problem()
    with pytest.raises(TypeError, match=r"params\['W1'\].*float64.*float32"):
        REFERENCE.run(config, {**params, "W1": params["W1"].astype(np.float32)}, X, Y)
    with pytest.raises(ValueError, match=r"Y must have shape \(1, 3\)"):
        REFERENCE.run(config, params, X, Y[:, :2])
    with pytest.raises(ValueError, match="keys"):
        REFERENCE.run(config, {"W1": params["W1"]}, X, Y)


def test_bad_path_names_are_refused():
    with pytest.raises(ValueError, match="path must be one of"):
        TorchOracle("keras")
    with pytest.raises(ValueError, match="path must be one of"):
        TensorFlowOracle("layers")
    with pytest.raises(ValueError, match="path must be one of"):
        JaxOracle("flax")


@pytest.mark.tensorflow
def test_keras_path_refuses_bce_on_softmax_with_the_op_tables_reason():
    oracle = require(ORACLES["tensorflow/keras"])
    config = ModelConfig((3, 4, 3), ("tanh", "softmax"), "bce")
    params, X, Y = ops.example_inputs(config)
    with pytest.raises(UnsupportedConfiguration, match="_keras_logits"):
        oracle.run(config, params, X, Y)
    assert ORACLES["tensorflow/functional"].unsupported_reason(config) is None
