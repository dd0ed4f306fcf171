"""Issue 21, items 3 and 4: check_layer never takes a cache for a parameter (x/out/dx/dout,
X/Y/dX/dY, y/dy pair by name like W/dW), and every call of the user's functions is part of the
determinism check, the first ones included (a backward wrong only on its first call never PASSes).
The layers are tests/gradcheck/user_code/caching_layers.py."""

import numpy as np
import pytest
from user_code import caching_layers as C

from reference_nn.gradcheck import PASS, check_layer, check_value_and_grad, check_vjp


def x_rows(shape=(5, 4), seed=0, dtype=np.float64):
    """Inputs at least 0.2 from 0 (ReLU's kink is no finite-difference step away)."""
    rng = np.random.default_rng(seed)
    return (rng.choice([-1.0, 1.0], size=shape) * (0.2 + rng.uniform(size=shape))).astype(dtype)


# name -> (make(bug), dtype, parameters that must be checked, caches that must be skipped, planted bug, broken tensor,
# the element the bug is planted at)
STYLES = {
    "Affine x/out/dx/dout": (lambda bug=None: C.Affine(4, 3, bug=bug), np.float64, ["W", "b"], ["x", "out"],
                             "dW_one_element", "W", (1, 0)),
    "Affine float32": (lambda bug=None: C.Affine(4, 3, dtype=np.float32, bug=bug), np.float32, ["W", "b"],
                       ["x", "out"], "dW_one_element", "W", (1, 0)),
    "Affine X/Y/dX/dY": (lambda bug=None: C.AffineCapitals(4, 3, bug=bug), np.float64, ["W", "b"], ["X", "Y"],
                         "dW_one_element", "W", (1, 0)),
    "ReLU x/dx": (lambda bug=None: C.ReLU(bug=bug), np.float64, [], ["x"], "dx_one_element", "input", (2, 1)),
    "Sigmoid out/dout": (lambda bug=None: C.Sigmoid(bug=bug), np.float64, [], ["out"], "dx_one_element", "input",
                         (2, 1)),
    "Softmax y/dy float32": (lambda bug=None: C.Softmax(bug=bug), np.float32, [], ["y"], "dx_one_element", "input",
                             (2, 1)),
}


@pytest.mark.parametrize("style", STYLES)
def test_right_caching_layer_passes_and_its_caches_are_skipped_with_a_note(style):
    make, dtype, parameters, caches, *_ = STYLES[style]
    report = check_layer(make(), x_rows(dtype=dtype))
    assert report.passed and not report.inconclusive, f"{style}: right code must PASS\n{report}"
    assert list(report.results) == ["input", *parameters], f"{style}: caches are no parameters\n{report}"
    skipped = [n for n in report.notes if n.startswith("not checked, caches (forward assigns them")]
    assert skipped and all(c in skipped[0] for c in caches), f"{style}: {caches} named as caches\n{report.notes}"


@pytest.mark.parametrize("style", STYLES)
def test_planted_bug_in_a_caching_layer_fails_naming_tensor_and_element(style):
    make, dtype, _, _, bug, broken, index = STYLES[style]
    report = check_layer(make(bug=bug), x_rows(dtype=dtype))
    assert report.failed_parameters == [broken], f"{style}: {bug} breaks {broken} only\n{report}"
    assert report[broken].worst_index == index, f"{style}: the planted element is named\n{report}"


def test_an_array_forward_overwrites_in_place_is_no_parameter():
    """self.x[...] = x reuses one buffer: no new object, but forward overwrites it, so it is a cache."""

    class BufferedAffine(C.Affine):
        def forward(self, x):
            if self.x is None:
                self.x = np.empty_like(x)
            self.x[...] = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dx = dout @ self.W.T
            self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
            return self.dx

    report = check_layer(BufferedAffine(4, 3), x_rows())
    assert report.passed and list(report.results) == ["input", "W", "b"], str(report)


def test_a_stale_copy_in_the_layers_own_container_is_still_checked():
    """.params / .grads are the layer's own statement: an entry forward does not read is checked
    (its numerical gradient is 0) and FAILs with a note, never skipped into a PASS."""

    class StaleParams(C.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.params, self.grads = {"W": self.W.copy()}, {"W": self.dW}
            return dx

    report = check_layer(StaleParams(4, 3), x_rows())
    assert report.failed_parameters == ["W"], str(report)
    assert any("the output did not change when this array changed" in n for n in report.notes), report.notes


def test_backward_wrong_on_its_first_call_only_never_passes():
    """The discovery pass is the layer's first forward/backward: its gradient is compared too."""
    report = check_layer(C.Affine(4, 3, bug="first_call_dW"), x_rows())
    assert not report.passed and report.inconclusive, str(report)
    assert any("dW[" in r and "on the first call (check_layer's discovery pass)" in r for r in report.reasons), (
        report.reasons
    )


def test_accumulating_layer_used_before_still_passes():
    """A layer that accumulates (dW += ...) and already holds a gradient from training: its first
    backward in the check starts from zero like every other, so it is no 'first call' difference."""

    class Accumulating(C.Affine):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)

        def backward(self, dout):
            self.dW += self.x.T @ dout
            self.db += dout.sum(axis=0)
            return dout @ self.W.T

    layer = Accumulating(4, 3)
    layer.dW += 7.0  # left over from training
    stale = layer.dW.copy()
    report = check_layer(layer, x_rows())
    assert report.passed and not report.inconclusive, str(report)
    assert np.array_equal(layer.dW, stale), "the layer's gradient arrays are put back"


def _affine_forward(x, w, b):
    return x @ w + b, (x, w)


def test_vjp_backward_wrong_on_its_first_call_only_never_passes():
    calls = []

    def affine_backward(dout, cache):
        x, w = cache
        calls.append(1)
        dw = x.T @ dout * (1.5 if len(calls) == 1 else 1.0)
        return dout @ w.T, dw, dout.sum(axis=0)

    rng = np.random.default_rng(0)
    report = check_vjp(_affine_forward, affine_backward, rng.standard_normal((4, 3)), rng.standard_normal((3, 2)),
                       rng.standard_normal(2))
    assert not report.passed and report.inconclusive, str(report)
    assert any("dw[" in r and "on the first call" in r for r in report.reasons), report.reasons


def test_value_and_grad_wrong_on_its_first_call_only_never_passes():
    calls = []
    X = np.random.default_rng(1).standard_normal((3, 5))

    def loss_and_grads(params):
        calls.append(1)
        z = np.tanh(params["W"] @ X)
        dW = 2 * z * (1 - z**2) @ X.T
        return float(np.sum(z**2)), {"dW": dW * (1.01 if len(calls) == 1 else 1.0)}

    report = check_value_and_grad(loss_and_grads, {"W": np.random.default_rng(2).standard_normal((2, 3))})
    assert not report.passed and report.inconclusive, str(report)
    assert any("dW[" in r and "on the first call" in r for r in report.reasons), report.reasons


class _DeadUnitLayer:
    """A two-layer block written by hand, caching x and out: relu(x W1 + b1) W2. At the checked input
    its only hidden unit is dead (pre-activation < 0), so W1 and b1 do not move the output."""

    def __init__(self, plant: float = 0.0, dtype=np.float64):
        self.W1, self.b1 = np.array([[1.0], [2.0]], dtype), np.array([-50.0], dtype)
        self.W2 = np.array([[0.5, -1.0]], dtype)
        self.plant = plant

    def forward(self, x):
        self.x = x
        self.h = x @ self.W1 + self.b1
        self.out = np.maximum(self.h, 0) @ self.W2
        return self.out

    def backward(self, dout):
        dh = (dout @ self.W2.T) * (self.h > 0)
        self.dW2 = np.maximum(self.h, 0).T @ dout
        self.dW1 = self.x.T @ dh
        self.dW1[0, 0] += self.plant  # a planted error in a dead unit's weight gradient
        self.db1 = dh.sum(axis=0)
        return dh @ self.W1.T


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_a_dead_units_weights_with_a_nonzero_gradient_are_never_passed(dtype):
    x = np.array([[0.3, -0.2], [0.1, 0.4]], dtype)
    right = check_layer(_DeadUnitLayer(dtype=dtype), x)
    assert right.verdict == PASS, f"a right layer whose unit is dead here (dW1 = 0) must PASS\n{right}"
    wrong = check_layer(_DeadUnitLayer(plant=0.7, dtype=dtype), x)
    assert wrong.verdict != PASS, f"a nonzero dW1 of a dead unit was not verified: never PASS\n{wrong}"
    assert any("W1" in p and "not verified" in p for p in wrong.problems), f"the reason names W1\n{wrong.problems}"
