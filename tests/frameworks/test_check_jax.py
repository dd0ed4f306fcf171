"""check_jax on hand-written JAX rules (jax_ops.py): right ones PASS in float64 (x64 on around the
call), float32 and bfloat16 with every contract verified; planted bugs FAIL naming the tensor; the
custom_jvp's rule is checked in forward mode too; JAX's x64 flag and default device are left as found."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax_ops  # noqa: E402
from jax import numpy as jnp  # noqa: E402

from reference_nn.gradcheck import FAIL, PASS, check_jax  # noqa: E402
from reference_nn.gradcheck.frameworks.float64_rule import SUFFIX as RULE_SUFFIX  # noqa: E402
from reference_nn.gradcheck.frameworks.jax_adapter import x64  # noqa: E402

pytestmark = pytest.mark.jax
DTYPES = ["float64", "float32", "bfloat16"]
WRONG = {"softplus element": ("softplus", ["x"]), "layer norm missing term": ("layer norm", ["x"]),
         "softmax jvp": ("softmax", ["x", "x (JVP along a random direction)"]),
         "linear weight sign": ("linear", ["weight"]), "gelu bias missing": ("bias gelu", ["b"])}  # fmt: skip


def _inputs(name: str, dtype: str) -> tuple:
    rng = np.random.default_rng(0)

    def a(*shape, shift=0.0):
        return jnp.asarray(rng.standard_normal(shape) + shift, dtype=dtype)

    return {"softplus": (a(5, 4),), "layer norm": (a(3, 6), a(6, shift=1.0), a(6)), "softmax": (a(4, 5),),
            "linear": (a(6, 4), a(3, 4), a(3)), "bias gelu": (a(3, 5), a(5))}[name]  # fmt: skip


def _check(op, name, dtype):
    with x64(dtype == "float64"):  # the caller's own flag, set around the call as a user would
        before = jax.config.jax_enable_x64
        report = check_jax(op, *_inputs(name, dtype))
        assert jax.config.jax_enable_x64 == before, "check_jax changed the x64 flag"
    return report


@pytest.mark.parametrize("dtype", DTYPES)
def test_right_rules_pass_with_every_contract(dtype):
    device = jax.config.jax_default_device
    for name, op in jax_ops.make().items():
        report = _check(op, name, dtype)
        assert report.verdict == PASS, f"{name} {dtype}: a right rule must PASS\n{report}"
        assert all(c.status == PASS for c in report.contracts), f"{name}: a contract fired on a right rule\n{report}"
        own = {r.dtype for n, r in report.results.items() if not n.endswith(RULE_SUFFIX)}
        assert own == {dtype}, f"{name}: judged at the wrong dtype\n{report}"
        in_float64 = [r for n, r in report.results.items() if n.endswith(RULE_SUFFIX)]
        assert (dtype == "float64") == (not in_float64), f"{name}: float64 rule only below float64\n{report}"
        assert all(r.dtype == "float64" and r.status == PASS for r in in_float64), f"{name}: float64 rule\n{report}"
    assert jax.config.jax_default_device == device, "check_jax changed the default device"


def test_the_jvp_rule_is_checked_in_forward_mode_and_names_come_from_the_primal():
    report = _check(jax_ops.make()["softmax"], "softmax", "float64")
    assert list(report.results) == ["x", "x (JVP along a random direction)"], f"JVP result missing\n{report}"
    names = list(_check(jax_ops.make()["layer norm"], "layer norm", "float64").results)
    assert names == ["x", "weight", "bias"], f"names from the primal function: {names}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_planted_bugs_fail_naming_the_tensor(dtype):
    for bug, (name, wrong) in WRONG.items():
        report = _check(jax_ops.make(bug)[name], name, dtype)
        failed = sorted({n.removesuffix(RULE_SUFFIX) for n, r in report.results.items() if r.status == FAIL})
        assert report.verdict == FAIL and failed == sorted(wrong), f"{bug} {dtype}: expected {wrong} to fail\n{report}"
    one = _check(jax_ops.make("softplus element")["softplus"], "softplus", dtype)
    named = one["x"] if dtype == "float64" else one["x" + RULE_SUFFIX]  # below float64: the math, in float64
    assert named.worst_index == (1, 2) and named.n_failed == 1, f"the planted element (1, 2)\n{one}"


def test_float64_arrays_with_x64_off_are_checked_at_float32():
    with x64(False):
        report = check_jax(jax_ops.make()["softplus"], np.random.default_rng(0).standard_normal((3, 2)))
        assert not jax.config.jax_enable_x64, "x64 must stay off"
    assert report.verdict == PASS and report["x"].dtype == "float32", f"JAX computes float32 here\n{report}"
