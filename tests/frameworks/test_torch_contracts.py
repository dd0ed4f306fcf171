"""Each contract check of check_torch fires on a rule that breaks it, naming it, and stays quiet on the
right rules (test_check_torch.py asserts every contract PASSes there)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from reference_nn.gradcheck import FAIL, INCONCLUSIVE, PASS, check_torch  # noqa: E402
from reference_nn.gradcheck.validation import UserCodeError  # noqa: E402

pytestmark = pytest.mark.torch


def _x(dtype=torch.float32):
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64).to(dtype)


def _rule(backward, forward=None):
    """A custom Function y = x**3 / 3 with the given backward(ctx, g) (x saved)."""

    def default_forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3 / 3

    return type("Rule", (torch.autograd.Function,), {"forward": staticmethod(forward or default_forward),
                                                     "backward": staticmethod(backward)})  # fmt: skip


def _status(report, name):
    return {c.name: c.status for c in report.contracts}[name]


def test_linearity_fires_on_a_backward_that_branches_on_the_sign_of_g():
    # right for g > 0: unit upstream vectors (torch gradcheck's) would see only that branch
    rule = _rule(lambda ctx, g: torch.where(g > 0, g, 1.2 * g) * ctx.saved_tensors[0] ** 2)
    report = check_torch(rule.apply, _x())
    assert _status(report, "linear in the upstream gradient") == FAIL, f"|g|-style backward passed\n{report}"
    assert report.verdict == FAIL, f"a contract FAIL is a FAIL\n{report}"
    assert "contract FAIL (linear in the upstream gradient): x[" in str(report), f"element not named\n{report}"


def test_zero_upstream_fires_on_a_backward_that_adds_its_own_term():
    rule = _rule(lambda ctx, g: g * ctx.saved_tensors[0] ** 2 + 1e-3 * ctx.saved_tensors[0])
    report = check_torch(rule.apply, _x(torch.float64))
    assert _status(report, "zero upstream gives zero") == FAIL, f"an added term went unseen\n{report}"


def test_determinism_fires_on_a_backward_with_fresh_noise():
    rule = _rule(lambda ctx, g: g * ctx.saved_tensors[0] ** 2 * (1 + 1e-2 * torch.rand(()).item()))
    report = check_torch(rule.apply, _x(torch.float64))
    assert _status(report, "deterministic") == INCONCLUSIVE, f"random backward not noticed\n{report}"
    assert report.verdict != PASS, f"a random backward cannot PASS\n{report}"
    assert any("not deterministic" in r for r in report.reasons), f"the reason is named\n{report.reasons}"


def test_mutation_fires_on_forward_and_on_backward():
    def clamping_forward(ctx, x):
        ctx.save_for_backward(x)
        x.data.clamp_(-0.5, 0.5)  # writes into its input
        return x**3 / 3

    def zeroing_backward(ctx, g):
        (x,) = ctx.saved_tensors
        out = g * x**2
        x.data.zero_()
        return out

    forward = check_torch(_rule(lambda ctx, g: g * ctx.saved_tensors[0] ** 2, clamping_forward).apply, _x())
    assert _status(forward, "inputs not mutated") == FAIL, f"forward mutation unseen\n{forward}"
    assert "forward changed x" in str(forward), f"the side is named\n{forward}"
    backward = check_torch(_rule(zeroing_backward).apply, _x())
    assert _status(backward, "inputs not mutated") == FAIL, f"backward mutation unseen\n{backward}"
    assert "backward changed x" in str(backward), f"the side is named\n{backward}"


def test_shapes_fire_when_torch_refuses_the_gradient():
    rule = _rule(lambda ctx, g: (g * ctx.saved_tensors[0] ** 2)[:1])
    report = check_torch(rule.apply, _x())
    assert _status(report, "shapes and dtypes") == FAIL, f"wrong shape not a FAIL\n{report}"
    assert "got [1, 3]" in str(report), f"torch's message with the shapes is kept\n{report}"


def test_an_exception_in_the_backward_is_the_users():
    def broken(ctx, g):
        raise ValueError("boom")

    with pytest.raises(UserCodeError, match="boom"):
        check_torch(_rule(broken).apply, _x())


def test_integer_inputs_pass_through_and_bad_arguments_say_what():
    class Gather(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, index):
            ctx.save_for_backward(index)
            ctx.shape = x.shape
            return x[index]

        @staticmethod
        def backward(ctx, g):
            (index,) = ctx.saved_tensors
            return torch.zeros(ctx.shape, dtype=g.dtype).index_add_(0, index, g), None

    report = check_torch(Gather.apply, _x(torch.float64), torch.tensor([2, 0, 2]))
    assert report.verdict == PASS and list(report.results) == ["x"], f"index passed through\n{report}"
    assert any("index (int64 tensor (3,))" in n for n in report.notes), f"static input noted\n{report.notes}"
    with pytest.raises(ValueError, match="order must be 1 or 2; got 3"):
        check_torch(Gather.apply, _x(), torch.tensor([0]), order=3)
    with pytest.raises(ValueError, match="none of fn's inputs"):
        check_torch(Gather.apply, torch.tensor([1, 2]), torch.tensor([0]))
