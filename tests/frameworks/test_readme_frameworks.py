"""The README's "Custom autograd functions" table: each one-line call runs as written, on a right
softplus rule (PASS) and on one whose backward is wrong (FAIL), for the framework it names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def readme_lines() -> dict[str, str]:
    """{framework function: the one-line call} from the section's table (order=2 keyed apart)."""
    section = README.split("### Custom autograd functions", 1)[1].split("\n### ", 1)[0]
    calls = re.findall(r"^\|[^|]*\| `(check_\w+\(.*\))` \|$", section, flags=re.M)
    return {("order2" if "order=2" in call else call.split("(")[0]): call for call in calls}


def test_the_table_has_one_line_per_framework_and_order_two():
    assert set(readme_lines()) == {"check_torch", "check_jax", "check_tf", "order2"}, readme_lines()


def _torch_namespace(wrong: bool) -> dict:
    import torch

    from reference_nn.gradcheck import check_torch

    class MySoftplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.nn.functional.softplus(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.sigmoid(-x if wrong else x)

    return {"torch": torch, "check_torch": check_torch, "MySoftplus": MySoftplus}


def _jax_namespace(wrong: bool) -> dict:
    import jax
    import jax.numpy as jnp

    from reference_nn.gradcheck import check_jax

    @jax.custom_vjp
    def softplus(x):
        return jnp.logaddexp(x, 0.0)

    softplus.defvjp(lambda x: (softplus(x), x), lambda x, g: (g * jax.nn.sigmoid(-x if wrong else x),))
    return {"jnp": jnp, "check_jax": check_jax, "softplus": softplus}


def _tf_namespace(wrong: bool) -> dict:
    import tensorflow as tf

    from reference_nn.gradcheck import check_tf

    @tf.custom_gradient
    def softplus(x):
        return tf.math.softplus(x), lambda g: g * tf.sigmoid(-x if wrong else x)

    tf.random.set_seed(0)
    return {"tf": tf, "check_tf": check_tf, "softplus": softplus}


CASES = [
    pytest.param("check_torch", "torch", _torch_namespace, marks=pytest.mark.torch),
    pytest.param("order2", "torch", _torch_namespace, marks=pytest.mark.torch),
    pytest.param("check_jax", "jax", _jax_namespace, marks=pytest.mark.jax),
    pytest.param("check_tf", "tensorflow", _tf_namespace, marks=pytest.mark.tensorflow),
]


@pytest.mark.parametrize("key, module, namespace", CASES)
def test_each_line_passes_a_right_rule_and_fails_a_wrong_one(key, module, namespace):
    pytest.importorskip(module)
    call = readme_lines()[key]
    right = eval(call, namespace(False))  # noqa: S307 - the README's own line, as a user would type it
    assert right.verdict == "PASS", f"{call} on a right rule:\n{right}"
    wrong = eval(call, namespace(True))  # noqa: S307
    assert wrong.verdict == "FAIL", f"{call} on a wrong backward:\n{wrong}"
