"""Shared set-up for the CLI tests.

``user_project`` writes a user's module into a temporary folder and makes it the current
directory, as a user running ``refnn check`` from their project would.
"""

import sys

import pytest

# A least-squares loss ``mean((W x + b - y)**2)`` over a fixed batch, its right gradient, wrong ones
# (a missing factor 2 in W; one element off by 0.5), a loss reading a key the parameters lack, and
# a tiny layer object.
USER_MODULE = '''
import numpy as np

_rng = np.random.default_rng(7)
X = _rng.normal(size=(3, 6))
Y = _rng.normal(size=(2, 6))


def loss(params):
    residual = params["W"] @ X + params["b"] - Y
    return np.mean(residual ** 2)


def grad(params):
    residual = params["W"] @ X + params["b"] - Y
    return {"W": 2 * residual @ X.T / residual.size, "b": 2 * residual.sum(axis=1, keepdims=True) / residual.size}


def grad_missing_two(params):
    residual = params["W"] @ X + params["b"] - Y
    return {"W": residual @ X.T / residual.size, "b": 2 * residual.sum(axis=1, keepdims=True) / residual.size}


def grad_wrong_element(params):
    good = grad(params)
    good["W"][1, 2] += 0.5
    return good


def loss_needs_w2(params):
    return loss(params) + np.sum(params["W2"])


not_a_function = 3


class Scale:
    """y = s * x, with parameter s of shape (1, 1)."""

    def __init__(self):
        self.params = {"s": np.array([[1.5]])}
        self.grads = {}

    def forward(self, x):
        self._x = x
        return self.params["s"] * x

    def backward(self, dy):
        self.grads["s"] = np.array([[np.sum(dy * self._x)]])
        return self.params["s"] * dy
'''


@pytest.fixture
def user_project(tmp_path, monkeypatch):
    """A folder holding ``user_model.py``, as the current directory; sys.path and sys.modules restored after."""
    (tmp_path / "user_model.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop("user_model", None)
    yield tmp_path
    sys.modules.pop("user_model", None)


@pytest.fixture
def examples_dir(monkeypatch):
    """The repository's examples/ folder; sys.path and the example modules are restored afterwards."""
    from equivalence_tests.cli import EXAMPLES_DIR

    monkeypatch.setattr(sys, "path", list(sys.path))
    yield EXAMPLES_DIR
    sys.modules.pop("my_layer", None)
