"""Pins of check_value_and_grad's and check_layer's small helpers: reading (loss, grads) or (grads, loss)
from fn's return value, what counts as a scalar loss, the dtype trial values are written in, and which
gradients read from a layer are nonzero, equal to another, or copied."""

import numpy as np
import pytest

from reference_nn.gradcheck import layer as lay
from reference_nn.gradcheck.value_and_grad import GRADS_FIRST, _describe, _in_place_dtype, _scalar, _split

G = {"w": np.ones(2)}


def test_split_reads_loss_and_grads_in_either_order():
    assert _split((1.5, G)) == (1.5, G), "(loss, grads)"
    notes = []
    assert _split([G, np.float32(2.0)], notes=notes) == (np.float32(2.0), G) and notes == [GRADS_FIRST], notes
    _split((G, 2.0), notes=notes)
    assert notes == [GRADS_FIRST], "said once"
    assert _split((G, 2.0), returns="grads, loss") == (2.0, G) and _split((2.0, G), "loss, grads") == (2.0, G), "told"
    assert _split((3.0, 4.0)) == (3.0, 4.0), "two scalars: the first is the loss"
    with pytest.raises(ValueError, match=r"fn returned \(array \(2,\), dict\): neither is a scalar loss; say which"):
        _split((np.ones(2), G))
    with pytest.raises(TypeError, match=r"fn must return \(loss, grads\); got tuple of length 3$"):
        _split((1.0, G, G))
    with pytest.raises(TypeError, match=r"fn must return \(loss, grads\); got float$"):
        _split(1.0)


def test_scalars():
    for yes in (1.0, 2, np.float32(1), np.array(1.0), np.array([1.0])):
        assert _scalar(yes), repr(yes)
    for no in (np.ones(2), np.ones((1, 1)), G, [1.0], "1"):
        assert not _scalar(no), repr(no)
    assert _describe(np.ones((2, 3))) == "array (2, 3)" and _describe(G) == "dict", "names"


def test_in_place_dtype_is_the_coarsest_array():
    mixed = {"w": np.ones(2), "b": np.ones(2, np.float32)}
    assert _in_place_dtype(mixed, None) == np.float32 and _in_place_dtype({"w": np.ones(2)}, None) == np.float64
    assert _in_place_dtype(mixed, np.float32) == np.float32, "asked, and storable"
    assert _in_place_dtype({"w": np.ones(2)}, np.float32) == np.float32, "a coarser evaluation may be asked"
    with pytest.raises(ValueError, match="eval_dtype=float64 cannot be used when fn reads params itself: its arrays"):
        _in_place_dtype(mixed, np.float64)


def test_layer_gradient_helpers():
    assert lay._nonzero(np.array([0.0, 1e-300])) and not lay._nonzero(np.zeros(3)), "any nonzero element"
    assert not lay._nonzero(None) and not lay._nonzero([1.0]) and lay._nonzero(np.float64(2.0)), "arrays only"
    a = np.arange(4.0)
    assert lay._equal_to_any(a, [np.zeros(4), a.copy()]) and not lay._equal_to_any(a, [a.reshape(2, 2)]), "shape"
    assert not lay._equal_to_any(a, []), "none"
    copied = lay._copy(a)
    assert np.array_equal(copied, a) and copied is not a and lay._copy(None) is None and lay._copy("x") == "x"


class Accumulating:
    def __init__(self):
        self.W = np.ones((2, 2))
        self.dW = np.full((2, 2), 7.0)  # stale: left by an earlier pass

    def forward(self, x):
        return x @ self.W

    def backward(self, dout):
        return dout


def test_stale_gradients_are_zeroed_before_the_first_backward_and_can_be_put_back():
    layer = Accumulating()
    stale = lay._zero_gradients(layer, None, None)
    assert len(stale) == 1 and stale[0][0] is layer.dW and np.all(layer.dW == 0.0), "zeroed in place"
    assert np.all(stale[0][1] == 7.0), "the saved bits"
    assert lay._zero_gradients(layer, None, None) == [], "already zero: nothing to put back"
