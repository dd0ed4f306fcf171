"""Low-precision rules checked in two steps (reference_nn/gradcheck/frameworks/float64_rule.py): the
rule's math in float64 on float64 copies, then the bfloat16 / float16 / float32 run against that
verified gradient. Each step shown to FAIL on a bug it owns and to stay quiet on right code."""

import pytest

torch = pytest.importorskip("torch")

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_torch  # noqa: E402
from reference_nn.gradcheck.frameworks.float64_rule import RULE_SHARE  # noqa: E402
from reference_nn.gradcheck.frameworks.float64_rule import SUFFIX as RULE_SUFFIX  # noqa: E402

pytestmark = pytest.mark.torch
LOW = [torch.bfloat16, torch.float16, torch.float32]


def silu(bug: str = ""):
    """A SiLU autograd.Function written as people write one; bug: "element" (one element x 1.1 in
    every dtype), "low only" (x 1.1 on one element, only when the backward runs below float64),
    "scaled low only" (the whole gradient x (1 + bug_size) below float64)."""

    class SiLU(torch.autograd.Function):
        size = 0.0

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * torch.sigmoid(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            s = torch.sigmoid(x)
            out = (g * (s + x * s * (1 - s))).clone()
            if bug == "element" or (bug == "low only" and x.dtype != torch.float64):
                out.view(-1)[x.numel() // 3] *= 1.1
            if bug == "scaled low only" and x.dtype != torch.float64:
                out = out * (1 + SiLU.size)
            return out

    return SiLU


def _x(n: int, dtype, seed: int = 0):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", LOW, ids=str)
@pytest.mark.parametrize("n", [7, 200, 1000])
def test_right_rule_passes_with_its_math_verified_in_float64(dtype, n):
    report = check_torch(silu().apply, _x(n, dtype))
    assert report.verdict == PASS, f"a right SiLU in {dtype}, n={n}, must PASS\n{report}"
    rule = report["x" + RULE_SUFFIX]
    assert rule.dtype == "float64" and rule.status == PASS, f"the math verified in float64\n{report}"
    assert report["x"].method == "vs float64 rule", f"the low-precision run judged against it\n{report}"


@pytest.mark.parametrize("dtype", LOW, ids=str)
@pytest.mark.parametrize("seed", range(3))
def test_one_element_10_percent_wrong_fails_named_in_every_dtype(dtype, seed):
    # bfloat16's cap (3.1% of max(|g|, RMS)) can hold a 10% error of a small element: before the
    # float64 step this case PASSed (benchmarks/framework_rules.py, 1,000 elements, bfloat16)
    n = 1000
    report = check_torch(silu("element").apply, _x(n, dtype, seed))
    rule = report["x" + RULE_SUFFIX]
    assert report.verdict == FAIL and rule.status == FAIL, f"x1.1 on one element must FAIL ({dtype})\n{report}"
    assert rule.worst_index == (n // 3,) and rule.n_failed == 1, f"element {n // 3} named, alone\n{report}"


@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_a_bug_only_below_float64_fails_in_the_comparison_step(dtype):
    # the math is right in float64 (step 1 PASS); only the low-precision path scales the gradient:
    # x 1.5 is far beyond any dtype's cap, so step 2 names the tensor
    fn = silu("scaled low only")
    fn.size = 0.5
    report = check_torch(fn.apply, _x(300, dtype))
    assert report["x" + RULE_SUFFIX].status == PASS, f"the float64 rule is right\n{report}"
    assert report.verdict == FAIL and report["x"].status == FAIL, f"x1.5 below float64 must FAIL ({dtype})\n{report}"
    assert report["x"].n_failed >= 200, f"every element above ~6% of the RMS is off by more than the cap\n{report}"


@pytest.mark.parametrize(("dtype", "cap", "passing"), [(torch.bfloat16, 4 * 2.0**-7, 0.5), (torch.float32, 5e-3, 0.8)],
                         ids=["bfloat16", "float32"])
def test_the_comparison_allowance_is_the_cap_less_what_the_float64_step_leaves_open(dtype, cap, passing):
    # a uniform relative error e below float64: the worst element's error is e |g| plus the dtype's
    # own rounding, against (cap - RULE_SHARE) max(|g|, RMS). A right bfloat16 SiLU already uses
    # ~0.9% of the 3.0% allowance (a few roundings of 0.4%), float32 nothing visible; so e = 0.5 x
    # (bfloat16) / 0.8 x (float32) of the allowance must PASS and 1.25 x must FAIL: an allowance 2x
    # looser or tighter fails one of them
    x = _x(2000, dtype, seed=4)
    for factor, verdict in [(passing, PASS), (1.25, FAIL)]:
        fn = silu("scaled low only")
        fn.size = factor * (cap - RULE_SHARE)
        report = check_torch(fn.apply, x)
        assert report["x"].status == verdict, f"{dtype}: error {fn.size:.3%} must be {verdict}\n{report}"


def test_forward_that_computes_below_float64_keeps_the_direct_check_with_a_note():
    class Bf16Only(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.tanh(x.to(torch.bfloat16))

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            t = torch.tanh(x.to(torch.bfloat16))
            return (g * (1 - t * t)).to(x.dtype)

    report = check_torch(Bf16Only.apply, _x(50, torch.bfloat16))
    assert "x" + RULE_SUFFIX not in report.results, f"no float64 step where fn computes in bfloat16\n{report}"
    assert any("not checked in float64 apart: fn computes below float64" in n for n in report.notes), report.notes
    assert report.verdict in (PASS, INCONCLUSIVE), f"a right rule is not FAIL\n{report}"


def float32_only_sigmoid(factor: float = 1.0):
    """A sigmoid kernel with no float64 version (it raises on float64); its backward x factor."""

    class NoDouble(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if x.dtype == torch.float64:
                raise TypeError("this kernel has no float64 version")
            ctx.save_for_backward(x)
            return torch.sigmoid(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            s = torch.sigmoid(x)
            return factor * g * s * (1 - s)

    return NoDouble


def test_forward_that_refuses_float64_keeps_the_direct_check_with_a_note():
    report = check_torch(float32_only_sigmoid().apply, _x(40, torch.float32))
    assert any("raised on float64 copies" in n and "no float64 version" in n for n in report.notes), report.notes
    assert report.verdict == PASS, f"a right float32 rule checked directly must PASS\n{report}"
    wrong = check_torch(float32_only_sigmoid(2.0).apply, _x(40, torch.float32))
    assert wrong.verdict == FAIL, f"x2 in the same kernel must FAIL through the direct check\n{wrong}"


def test_order_2_of_a_forward_that_refuses_float64_is_checked_directly():
    """order=2 evaluates the double backward at the inputs' own dtypes too (it raised the user's
    TypeError before the float64 probe was shared by both orders)."""
    report = check_torch(float32_only_sigmoid().apply, _x(40, torch.float32), order=2)
    assert report.verdict == PASS and report["x (order 2)"].status == PASS, f"right at order 2\n{report}"
    wrong = check_torch(float32_only_sigmoid(2.0).apply, _x(40, torch.float32), order=2)
    # x2 is a first-order error: order 2 checks the derivative of that backward, which is consistent
    assert wrong.verdict == FAIL and wrong.failed_parameters == ["x"], f"x2 in the backward\n{wrong}"
    assert wrong["x (order 2)"].status == PASS, f"the derivative of the backward as written\n{wrong}"


def test_a_bias_whose_gradient_is_exactly_zero_passes_in_bfloat16():
    # x - mean(x) + b: the gradient of sum(out * u) with respect to b is sum(u) ... and with respect to
    # x it is u - mean(u); a normalization after a bias makes the bias gradient exactly 0
    class CenteredPlusBias(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, b):
            z = x + b
            return z - z.mean(dim=0, keepdim=True)

        @staticmethod
        def backward(ctx, g):
            dz = g - g.mean(dim=0, keepdim=True)
            return dz, dz.sum(dim=0)

    x, b = _x(12, torch.bfloat16).reshape(4, 3), _x(3, torch.bfloat16, seed=2)
    report = check_torch(CenteredPlusBias.apply, x, b)
    assert report.verdict == PASS, f"a right rule with an exactly-zero bias gradient must PASS\n{report}"
    assert report["b"].status == PASS, f"b's gradient is 0 up to bfloat16 rounding\n{report}"


def test_readme_states_the_shares_the_code_uses():
    from pathlib import Path

    from reference_nn.gradcheck import tolerances as tol

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    rule = f"every element verified to {RULE_SHARE:.1%} of max(|g|, RMS)"
    caps = f"({tol.VERIFIED_SHARE:.1%}; bfloat16 4 ulps = {4 * 2.0**-7:.1%}) less the {RULE_SHARE:.1%}"
    assert rule in readme and caps in readme, f"README's two-step paragraph must say: {rule!r} and {caps!r}"


class _DetachedSiLU(torch.autograd.Function):
    """SiLU whose backward uses a sigmoid saved detached from forward: right at order 1, its
    derivative (the double backward) misses ds/dx."""

    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s.detach())
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * (s + x * s * (1 - s))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32], ids=str)
def test_order_two_below_float64_checks_the_double_backward_in_float64_first(dtype):
    right = check_torch(silu().apply, _x(300, dtype), order=2)
    assert right.verdict == PASS, f"a right SiLU at order 2 must PASS ({dtype})\n{right}"
    assert right["x (rule in float64) (order 2)"].status == PASS, f"double backward verified in float64\n{right}"
    assert right["x (order 2)"].method == "vs float64 rule", f"then the {dtype} one against it\n{right}"
    wrong = check_torch(_DetachedSiLU.apply, _x(300, dtype), order=2)
    assert wrong["x"].status == PASS, f"order 1 is right\n{wrong}"
    assert wrong.verdict == FAIL and wrong["x (rule in float64) (order 2)"].status == FAIL, (
        f"a detached saved sigmoid must FAIL at order 2 in float64 ({dtype})\n{wrong}")
