"""Pins of the dtypes the checker accepts: params float32 or float64 only (named in the error), a gradient
float32, float64 or integer, never float16."""

import numpy as np
import pytest

from reference_nn.gradcheck.validation import validate_params


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, np.bool_, np.int32])
def test_params_must_be_float32_or_float64(dtype):
    with pytest.raises(TypeError, match=rf"params\['w'\] must be float32 or float64; got dtype {np.dtype(dtype)}"):
        validate_params({"w": np.zeros(2, dtype)})


def test_a_float16_gradient_is_refused_and_an_integer_one_accepted():
    from reference_nn.gradcheck.validation import _require_float

    with pytest.raises(TypeError, match="dw must be float32 or float64; got dtype float16"):
        _require_float(np.zeros(2, np.float16), "dw", allow_int=True)
    _require_float(np.zeros(2, np.int8), "dw", allow_int=True)  # an all-zero int gradient (a constant): accepted
