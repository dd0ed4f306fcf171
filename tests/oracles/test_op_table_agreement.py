"""The Done-when: for every op row and both dtypes, the reference's forward output, cost,
gradients and updated parameters agree with every oracle path within the tolerance table, on
the row's fixed example models. Parametrized by walking the op table: a new row is tested
without touching this file."""

from __future__ import annotations

import pytest
from oracle_fixtures import ORACLES, cached_run, oracle_params, require

from equivalence_tests import ops
from equivalence_tests.tolerances import assert_agree

CASES = [
    pytest.param(row.name, dtype, index, id=f"{row.name}-{config.activations[-1]}-{config.loss}-{dtype}")
    for row in ops.OPS
    for dtype in ("float64", "float32")
    for index, config in enumerate(ops.example_configs(row, dtype))
]


@pytest.mark.parametrize("oracle_name", oracle_params())
@pytest.mark.parametrize(("row_name", "dtype", "index"), CASES)
def test_reference_agrees_with_oracle_on_row_example(row_name: str, dtype: str, index: int, oracle_name: str):
    oracle = require(ORACLES[oracle_name])
    config = ops.example_configs(ops.op(row_name), dtype)[index]
    reason = oracle.unsupported_reason(config)
    if reason is not None:
        pytest.skip(reason)
    params, expected, result = cached_run(oracle, config)
    comparisons = assert_agree(expected, result, config, params)
    # forward + cost + one gradient and one updated tensor per parameter: nothing was skipped
    assert len(comparisons) == 2 + 2 * len(params)
    assert result.dtype == dtype
    assert all(value.dtype == config.numpy_dtype for value in result.gradients.values())
    assert all(value.dtype == config.numpy_dtype for value in result.updated_params.values())
    assert result.forward.dtype == config.numpy_dtype
