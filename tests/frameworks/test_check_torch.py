"""check_torch on hand-written torch rules (tests/frameworks/torch_ops.py): right ones PASS in float64,
float32 and bfloat16 with every contract verified; planted bugs FAIL naming the tensor (and the
element where one element is wrong)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch_ops as ops  # noqa: E402

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_torch  # noqa: E402
from reference_nn.gradcheck.frameworks.float64_rule import SUFFIX as RULE_SUFFIX  # noqa: E402

pytestmark = pytest.mark.torch
DTYPES = [torch.float64, torch.float32, torch.bfloat16]


def _randn(*shape, dtype, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def _cases(dtype):
    """(name, fn, inputs) for every right op at this dtype."""
    return [
        ("softplus", ops.Softplus.apply, (_randn(5, 4, dtype=dtype),)),
        ("layer norm", ops.LayerNorm.apply, (_randn(3, 6, dtype=dtype), 1 + _randn(6, dtype=dtype, seed=1),
                                             _randn(6, dtype=dtype, seed=2))),
        ("softmax", ops.Softmax.apply, (_randn(4, 5, dtype=dtype),)),
        ("linear module", ops.Linear(4, 3, dtype=dtype), (_randn(6, 4, dtype=dtype),)),
        ("bias gelu", ops.BiasGelu.apply, (_randn(3, 5, dtype=dtype), _randn(5, dtype=dtype, seed=3))),
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).removeprefix("torch."))
def test_right_rules_pass_with_every_contract(dtype):
    for name, fn, inputs in _cases(dtype):
        report = check_torch(fn, *inputs)
        assert report.verdict == PASS, f"{name} {dtype}: a right rule must PASS\n{report}"
        assert all(c.status == PASS for c in report.contracts), f"{name}: a contract fired on a right rule\n{report}"
        label = str(dtype).removeprefix("torch.")
        own = {r.dtype for n, r in report.results.items() if not n.endswith(RULE_SUFFIX)}
        assert own == {label}, f"{name}: judged at the wrong dtype\n{report}"
        in_float64 = [r for n, r in report.results.items() if n.endswith(RULE_SUFFIX)]
        assert (label == "float64") == (not in_float64), f"{name}: float64 rule only below float64\n{report}"
        assert all(r.dtype == "float64" and r.status == PASS for r in in_float64), f"{name}: float64 rule\n{report}"


def test_names_come_from_the_forward_and_the_module():
    report = check_torch(ops.LayerNorm.apply, _randn(3, 6, dtype=torch.float64), 1 + _randn(6, dtype=torch.float64),
                         _randn(6, dtype=torch.float64))
    assert list(report.results) == ["x", "weight", "bias"], f"names from LayerNorm.forward: {list(report.results)}"
    module = check_torch(ops.Linear(4, 3), _randn(6, 4, dtype=torch.float64))
    assert list(module.results) == ["x", "weight", "bias"], f"input name and named_parameters: {list(module.results)}"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).removeprefix("torch."))
def test_planted_bugs_fail_naming_the_tensor(dtype):
    x, d = _randn(5, 4, dtype=dtype), 6
    cases = [
        (ops.SoftplusOneElement.apply, (x,), ["x"]),
        (ops.LayerNormMissingTerm.apply, (_randn(3, d, dtype=dtype), 1 + _randn(d, dtype=dtype, seed=1),
                                          _randn(d, dtype=dtype, seed=2)), ["x"]),
        (ops.SoftmaxMissingTerm.apply, (x,), ["x"]),
        (ops.Linear(4, 3, ops.LinearTransposeWeight, dtype=dtype), (x,), ["weight"]),
        (ops.BiasGeluMissingBias.apply, (_randn(3, 5, dtype=dtype), _randn(5, dtype=dtype, seed=3)), ["b"]),
    ]
    for fn, inputs, wrong in cases:
        report = check_torch(fn, *inputs)
        assert report.verdict == FAIL, f"{fn} {dtype}: a planted bug must FAIL\n{report}"
        failed = sorted({n.removesuffix(RULE_SUFFIX) for n, r in report.results.items() if r.status == FAIL})
        assert failed == sorted(wrong), f"{fn} {dtype}: expected {wrong} to fail, got {failed}\n{report}"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).removeprefix("torch."))
def test_one_wrong_element_is_named(dtype):
    report = check_torch(ops.SoftplusOneElement.apply, _randn(5, 4, dtype=dtype))
    named = report["x"] if dtype == torch.float64 else report["x" + RULE_SUFFIX]  # below float64: the math in float64
    assert named.worst_index == (1, 2), f"the planted element is (1, 2)\n{report}"
    assert named.n_failed == 1, f"only one element is wrong\n{report}"
    if dtype != torch.float64:
        assert report["x"].status == INCONCLUSIVE, f"the {dtype} run is not judged against a wrong rule\n{report}"
