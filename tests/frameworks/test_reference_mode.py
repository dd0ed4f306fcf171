"""reference=: a low-precision kernel judged by a float64 reference's own error at its precision. A right
softmax kernel PASSes it in bfloat16, float16 and float32; a kernel missing a term FAILs it; in float32
a single element 10% off is named."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch_ops as ops  # noqa: E402

from reference_nn.gradcheck import FAIL, PASS, check_torch  # noqa: E402

pytestmark = pytest.mark.torch
KEY = "x (vs reference)"


def reference_softmax(x):
    return torch.softmax(x, -1)


class SoftmaxOneElement(ops.Softmax):
    @staticmethod
    def backward(ctx, g):
        out = ops.Softmax.backward(ctx, g).clone()
        out[1, 2] *= 1.1
        return out


# The value check beside the reference's is not what these tests are about: capped (deterministic) so
# that a wrong kernel's element-wise exploration does not cost seconds.
CAP = {"max_evaluations": 300}


def _x(dtype):
    return torch.randn(16, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32], ids=str)
def test_right_kernel_passes_and_missing_term_fails(dtype):
    right = check_torch(ops.Softmax.apply, _x(dtype), reference=reference_softmax, **CAP)
    assert right[KEY].status == PASS, f"a right kernel is within 4x the reference's own error\n{right}"
    assert any("4x the reference's own error" in n for n in right.notes), f"the factor is stated\n{right.notes}"
    wrong = check_torch(ops.SoftmaxMissingTerm.apply, _x(dtype), reference=reference_softmax, **CAP)
    assert wrong[KEY].status == FAIL and wrong.verdict == FAIL, f"a missing term must FAIL\n{wrong}"


def test_one_element_is_named_in_float32():
    report = check_torch(SoftmaxOneElement.apply, _x(torch.float32), reference=reference_softmax, **CAP)
    assert report[KEY].status == FAIL and report[KEY].worst_index == (1, 2), f"element (1, 2) named\n{report}"


def test_reference_must_be_callable():
    with pytest.raises(TypeError, match="reference must be a callable"):
        check_torch(ops.Softmax.apply, _x(torch.float32), reference=3)
