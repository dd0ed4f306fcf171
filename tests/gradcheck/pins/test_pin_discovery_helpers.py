"""Pins of discovery.py's small helpers: how a parameter's path is named, the probe move (1e-3 relative
with seeded signs of both kinds), bit-identity (shape, dtype and bytes), and the gradient names tried."""

import numpy as np
import pytest

from reference_nn.gradcheck import discovery as d


def test_path_names():
    assert d._path_name(("conv", "W")) == "conv.W" and d._path_name(("W",)) == "W", "attributes"
    assert d._path_name((0,)) == "[0]" and d._path_name(("layers", 2, "b")) == "layers[2].b", "indices"
    assert d._path_text(("params", 0)) == "['params'][0]", "as code"


def test_probe_move_is_a_thousandth_of_each_element_plus_one_with_random_signs():
    a = np.linspace(-3.0, 3.0, 40).reshape(5, 8)
    moved = d.probe_move(a)
    step = (moved - a) / (np.abs(a) + 1.0)
    assert np.allclose(np.abs(step), 1e-3, rtol=1e-9, atol=0), "1e-3 (|a| + 1)"
    assert 0 < np.sum(step > 0) < a.size, "signs of both kinds: a uniform shift could be invisible"
    assert np.array_equal(d.probe_move(a), moved) and d.probe_move(a).shape == a.shape, "seeded"


def test_same_bits():
    a = np.arange(6.0)
    assert d._same_bits(a, a.copy()), "equal arrays"
    assert not d._same_bits(a.reshape(2, 3), a.reshape(3, 2)), "same bytes, other shape"
    assert not d._same_bits(a.reshape(2, 3), a.reshape(2, 3).astype(np.float32)), "other dtype"
    assert not d._same_bits(np.array([0.0]), np.array([-0.0])), "equal values, other bits"
    assert d.GRADIENT_ATTRIBUTE_PATTERNS == ("d{}", "d_{}", "{}_grad", "grad_{}"), "the names tried, in order"


class _Holder:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def test_the_gradient_container_named_params_is_paired_with_the_first_that_exists():
    W = np.ones((2, 2))
    found = d.discover(_Holder(params={"W": W}, gradients={"W": np.zeros((2, 2))}), params="params")
    assert [p.name for p in found.parameters] == ["W"] and found.source == "layer.params / layer.gradients", found
    found = d.discover(_Holder(params={"W": W}, grads={"W": np.zeros((2, 2))}, gradients={}), params="params")
    assert found.source == "layer.params / layer.grads", "grads first"
    with pytest.raises(
        ValueError,
        match=r"layer.params holds parameters but no gradient container was found after "
        r"backward \(looked for layer.grads and layer.gradients\); pass grads=",
    ):
        d.discover(_Holder(params={"W": W}), params="params")
    with pytest.raises(ValueError, match=r"\(looked for layer.grads\)"):
        d.discover(_Holder(params={"W": W}))  # the default pairing params / grads names its one candidate
