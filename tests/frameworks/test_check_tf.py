"""check_tf on tf.custom_gradient rules (tf_ops.py): right ones PASS in float64, float32 and bfloat16
with every contract verified; planted bugs FAIL naming the tensor; a gradient of the wrong shape
(which GradientTape hands back unchanged) is the shapes contract's FAIL. One TF import for the file."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import tf_ops  # noqa: E402

from reference_nn.gradcheck import FAIL, PASS, check_tf  # noqa: E402
from reference_nn.gradcheck.frameworks.float64_rule import SUFFIX as RULE_SUFFIX  # noqa: E402

pytestmark = pytest.mark.tensorflow
DTYPES = ["float64", "float32", "bfloat16"]
WRONG = {"softplus element": ("softplus", ["x"]), "layer norm missing term": ("layer norm", ["x"]),
         "softmax missing term": ("softmax", ["x"]), "linear weight sign": ("linear", ["weight"]),
         "gelu bias missing": ("bias gelu", ["b"])}  # fmt: skip


def _inputs(name: str, dtype: str) -> tuple:
    rng = np.random.default_rng(0)

    def a(*shape, shift=0.0):
        return tf.cast(rng.standard_normal(shape) + shift, dtype)

    return {"softplus": (a(5, 4),), "layer norm": (a(3, 6), a(6, shift=1.0), a(6)), "softmax": (a(4, 5),),
            "linear": (a(6, 4), a(3, 4), a(3)), "bias gelu": (a(3, 5), a(5))}[name]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_right_rules_pass_with_every_contract(dtype):
    for name, op in tf_ops.make().items():
        report = check_tf(op, *_inputs(name, dtype))
        assert report.verdict == PASS, f"{name} {dtype}: a right rule must PASS\n{report}"
        assert all(c.status == PASS for c in report.contracts), f"{name}: a contract fired on a right rule\n{report}"
        own = {r.dtype for n, r in report.results.items() if not n.endswith(RULE_SUFFIX)}
        assert own == {dtype}, f"{name}: judged at the wrong dtype\n{report}"
        in_float64 = [r for n, r in report.results.items() if n.endswith(RULE_SUFFIX)]
        assert (dtype == "float64") == (not in_float64), f"{name}: float64 rule only below float64\n{report}"
        assert all(r.dtype == "float64" and r.status == PASS for r in in_float64), f"{name}: float64 rule\n{report}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_planted_bugs_fail_naming_the_tensor(dtype):
    for bug, (name, wrong) in WRONG.items():
        report = check_tf(tf_ops.make(bug)[name], *_inputs(name, dtype))
        failed = sorted({n.removesuffix(RULE_SUFFIX) for n, r in report.results.items() if r.status == FAIL})
        assert report.verdict == FAIL and failed == sorted(wrong), f"{bug} {dtype}: expected {wrong} to fail\n{report}"
    one = check_tf(tf_ops.make("softplus element")["softplus"], *_inputs("softplus", dtype))
    named = one["x"] if dtype == "float64" else one["x" + RULE_SUFFIX]  # below float64: the math, in float64
    assert named.worst_index == (1, 2) and named.n_failed == 1, f"the planted element (1, 2)\n{one}"


def test_a_gradient_of_the_wrong_shape_fails_the_shapes_contract():
    @tf.custom_gradient
    def summed(x):
        return tf.math.softplus(x), lambda g: tf.reduce_sum(g * tf.sigmoid(x), 0)  # (3,) for a (4, 3) input

    report = check_tf(summed, *_inputs("softplus", "float32"))
    shapes = {c.name: c for c in report.contracts}["shapes and dtypes"]
    assert report.verdict == FAIL and shapes.status == FAIL, f"a wrong shape must FAIL\n{report}"
    assert "has shape (4,), the input (5, 4)" in shapes.message, f"both shapes named: {shapes.message}"
