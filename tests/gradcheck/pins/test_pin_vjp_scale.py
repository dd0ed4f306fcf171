"""Pin of the contraction's scale in check_vjp (arguments.contract_scale), by its effect (a mutation-testing
survivor of issue 26): the VJP is checked as f = sum(out * dout) whose rounding grows with
sum |out * dout|; that size sets the float32 loss floor. A float32 tanh layer of 50 x 40 with one element
of its input gradient 10% off must FAIL (a size read as sum |out / dout|, unbounded where an upstream
element is near 0, widened the floor over that error and called it INCONCLUSIVE)."""

import numpy as np

from reference_nn.gradcheck import FAIL, check_vjp

X = np.random.default_rng(0).standard_normal((50, 40)).astype(np.float32)


def forward(x):
    return np.tanh(x) * 3, x


def backward(dout, x, factor=1.0):
    gradient = (dout * 3 * (1 - np.tanh(x) ** 2)).copy()
    gradient[0, 0] *= factor
    return gradient


def test_a_ten_percent_error_of_one_float32_element_fails():
    report = check_vjp(forward, lambda dout, x: backward(dout, x, 1.1), X)
    assert report.verdict == FAIL and report["x"].worst_index == (0, 0), f"x[0, 0] x 1.1\n{report}"
