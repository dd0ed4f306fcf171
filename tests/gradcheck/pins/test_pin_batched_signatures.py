"""Pins of the batched checker's signatures: the model's arrays and options before ``*`` may be passed by
name, what follows only by name (a positional ``method`` or ``grads`` is refused, never misread)."""

import inspect

import numpy as np
import pytest

from reference_nn.gradcheck.batched import batched_numerical_gradient, check_model_gradients


@pytest.mark.parametrize("function", [check_model_gradients, batched_numerical_gradient])
def test_options_after_the_star_are_keyword_only(function):
    parameters = inspect.signature(function).parameters
    assert all(parameters[n].kind == inspect.Parameter.POSITIONAL_OR_KEYWORD for n in ("params", "X", "Y", "l2"))
    assert parameters["method"].kind == inspect.Parameter.KEYWORD_ONLY, "method by name only"
    with pytest.raises(TypeError):
        function({}, np.zeros((1, 1)), np.zeros((1, 1)), None, "mse", 0.0, "central")  # method positionally
