"""Pins of how the checker names and passes a user's arguments (arguments.py, vjp.py), by their effect
(mutation-testing survivors of issue 26): ``*args`` entries named ``args[j]``, an argument that refuses
copying passed as it is, and ``wrt`` given as a position."""

import numpy as np
import pytest

from reference_nn.gradcheck import check_vjp
from reference_nn.gradcheck.arguments import argument_names, fresh


def test_star_args_entries_are_named_by_position():
    def forward(x, *rest):
        return x

    assert argument_names(forward, 3) == ["x", "rest[0]", "rest[1]"], (
        f"*rest names its entries rest[j]: got {argument_names(forward, 3)}")
    assert argument_names(lambda *a: None, 2) == ["a[0]", "a[1]"], f"got {argument_names(lambda *a: None, 2)}"


def test_an_argument_that_refuses_copying_is_passed_as_it_is():
    class Uncopyable:
        def __deepcopy__(self, memo):
            raise RuntimeError("a handle that cannot be copied")

    handle = Uncopyable()
    assert fresh(handle) is handle, "an object whose deepcopy raises is passed unchanged, not an error"
    data = {"scale": np.arange(3.0)}
    copied = fresh(data)
    assert np.array_equal(copied["scale"], data["scale"]) and copied["scale"] is not data["scale"], (
        "a copyable static argument is a fresh deep copy per call")


@pytest.mark.parametrize("wrt", [0, "x", [0]])
def test_wrt_by_position_selects_the_same_input_as_by_name(wrt):
    def forward(x, mask):
        return x * mask, mask

    def backward(dout, mask):
        return dout * mask

    rng = np.random.default_rng(9)
    x, mask = rng.standard_normal((3, 3)), (rng.uniform(size=(3, 3)) > 0.5).astype(float)
    report = check_vjp(forward, backward, x, mask, wrt=wrt)
    assert list(report.results) == ["x"] and report.passed, f"wrt={wrt!r}\n{report}"
    with pytest.raises(ValueError, match=r"wrt must hold input names or positions 0\.\.1; got 2"):
        check_vjp(forward, backward, x, mask, wrt=2)


def test_a_classmethod_forward_has_no_instance_parameters_to_warn_about():
    """forward and backward as classmethods of a class holding class-level arrays (W, dW): there is no
    instance whose parameters check_vjp would leave unperturbed, so no such warning."""

    class Scaler:
        W = np.array([[2.0]])
        dW = np.zeros((1, 1))

        @classmethod
        def forward(cls, x):
            return x * 2.0, x

        @classmethod
        def backward(cls, dout, x):
            return dout * 2.0

    report = check_vjp(Scaler.forward, Scaler.backward, np.random.default_rng(0).standard_normal((3, 2)))
    assert report.passed and not any(n.startswith("WARNING") for n in report.notes), f"notes {report.notes}"


def test_the_cache_is_found_where_forward_returns_it():
    """forward returns (cache, out): the one value that is no array is the cache, wherever it stands; several
    such values are an error naming them and the option to use."""
    x = np.random.default_rng(0).standard_normal((3, 2))

    def backward(dout, cache):
        return dout * (1 - np.tanh(cache["x"]) ** 2)

    report = check_vjp(lambda x: ({"x": x}, np.tanh(x)), backward, x)
    assert report.passed and any("cache at position 0" in n for n in report.notes), f"cache first\n{report}"
    with pytest.raises(ValueError, match=r"positions \[1, 2, 3\] could each be the cache; say which: cache=3"):
        check_vjp(lambda x: (np.tanh(x), {"x": x}, {"y": 1}, {"z": 2}), backward, x)


def test_wrt_beyond_the_inputs_is_a_clear_error():
    x, mask = np.ones((2, 2)), np.ones((2, 2))
    with pytest.raises(ValueError, match=r"wrt must hold input names or positions 0\.\.1; got 3"):
        check_vjp(lambda x, mask: (x * mask, mask), lambda dout, mask: dout * mask, x, mask, wrt=3)
