"""``refnn check MODULE:FN --framework torch|jax|tf --input x=4x3``: the exit statuses of refnn check
(0 PASS, 1 FAIL, 2 usage) on a user's module of framework rules, written to a temporary folder."""

from __future__ import annotations

import sys
import textwrap

import pytest

from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main

RULES = {
    "torch": '''
        import torch

        class Softplus(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale):
                ctx.save_for_backward(x)
                ctx.scale = scale
                return torch.nn.functional.softplus(x) * scale

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * torch.sigmoid(x) * ctx.scale, None

        class WrongSoftplus(Softplus):
            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * torch.sigmoid(-x) * ctx.scale, None

        class Dense(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = torch.nn.Linear(3, 2)

            def forward(self, x):
                return torch.tanh(self.linear(x))
    ''',
    "jax": '''
        import jax, jax.numpy as jnp

        @jax.custom_vjp
        def softplus(x):
            return jnp.logaddexp(x, 0.0)

        softplus.defvjp(lambda x: (softplus(x), x), lambda x, g: (g * jax.nn.sigmoid(x),))
    ''',
    "tf": '''
        import tensorflow as tf

        @tf.custom_gradient
        def softplus(x):
            return tf.math.softplus(x), lambda g: g * tf.sigmoid(x)
    ''',
}


@pytest.fixture
def rules(tmp_path, monkeypatch):
    for name, code in RULES.items():
        (tmp_path / f"cli_rules_{name}.py").write_text(textwrap.dedent(code))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in RULES:
        sys.modules.pop(f"cli_rules_{name}", None)


@pytest.mark.torch
def test_torch_rules_exit_statuses(rules, capsys):
    pytest.importorskip("torch")
    base = ["check", "--framework", "torch", "--input", "x=4x3", "--static", "scale=2.0"]
    assert main([*base[:1], "cli_rules_torch:Softplus", *base[1:]]) == EXIT_OK, capsys.readouterr().out
    for dtype in ("float32", "bfloat16"):
        code = main([*base[:1], "cli_rules_torch:Softplus.apply", *base[1:], "--dtype", dtype])
        assert code == EXIT_OK, f"{dtype}: {capsys.readouterr().out}"
    assert main([*base[:1], "cli_rules_torch:WrongSoftplus", *base[1:]]) == EXIT_DISAGREE, "a wrong rule exits 1"
    assert "WRONG: gradient of 'x'" in capsys.readouterr().out, "the wrong tensor is named"
    module = ["check", "cli_rules_torch:Dense", "--framework", "torch", "--input", "x=5x3", "--order", "2"]
    assert main(module) == EXIT_OK, capsys.readouterr().out
    assert "linear.weight (order 2)" in capsys.readouterr().out, "Module parameters by name, at order 2 too"
    assert main(["check", "cli_rules_torch:Softplus", "--framework", "torch"]) == EXIT_USAGE, "no --input"
    assert "--framework needs the differentiable inputs" in capsys.readouterr().err


@pytest.mark.jax
def test_jax_rule_passes(rules, capsys):
    jax = pytest.importorskip("jax")
    flag = jax.config.jax_enable_x64
    try:
        assert main(["check", "cli_rules_jax:softplus", "--framework", "jax", "--input", "x=4x3",
                     "--dtype", "float32"]) == EXIT_OK, capsys.readouterr().out  # fmt: skip
    finally:
        jax.config.update("jax_enable_x64", flag)


@pytest.mark.tensorflow
def test_tf_rule_passes(rules, capsys):
    pytest.importorskip("tensorflow")
    assert main(["check", "cli_rules_tf:softplus", "--framework", "tf", "--input", "x=4x3"]) == EXIT_OK, (
        capsys.readouterr().out)
