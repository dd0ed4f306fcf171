"""The plugin's ``gradient_checker.vjp``, ``gradient_checker.value_and_grad`` and ``.layer`` on a
layer keeping self.W / self.dW, as a user meets them: a small suite in a temporary folder, with a
right and a wrong backward for each."""

# In-process pytester runs forget the modules imported during each run, and NumPy's C extension
# cannot be imported twice in one process: import everything the user suite uses up front.
import reference_nn.gradcheck  # noqa: F401

pytest_plugins = ["pytester"]

USER_TESTS = """
import numpy as np

rng = np.random.default_rng(0)
x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_backward_db_mean(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)


class Model:
    def __init__(self):
        self.params = {"w": rng.normal(size=(5, 3))}

    def loss(self, X):
        out = np.tanh(X @ self.params["w"])
        return np.sum(out ** 2), {"w": X.T @ (2 * out * (1 - out ** 2))}

    def loss_forgot_tanh(self, X):
        out = np.tanh(X @ self.params["w"])
        return np.sum(out ** 2), {"w": X.T @ (2 * out)}


def test_vjp_right(gradient_checker):
    report = gradient_checker.vjp(affine_forward, affine_backward, x, w, b)
    assert list(report.results) == ["x", "w", "b"]


def test_vjp_wrong(gradient_checker):
    gradient_checker.vjp(affine_forward, affine_backward_db_mean, x, w, b)


def test_value_and_grad_right(gradient_checker):
    model = Model()
    report = gradient_checker.value_and_grad(model.loss, model.params, x)
    assert list(report.results) == ["w"]


def test_value_and_grad_wrong(gradient_checker):
    model = Model()
    gradient_checker.value_and_grad(model.loss_forgot_tanh, model.params, x)


class AttrDense:
    def __init__(self, scale):
        self.W, self.b, self.scale = rng.normal(size=(5, 3)), rng.normal(size=3), scale

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout * self.scale, dout.sum(axis=0)
        return dout @ self.W.T


def test_attribute_layer_right(gradient_checker):
    report = gradient_checker.layer(AttrDense(1), x)
    assert list(report.results) == ["input", "W", "b"]


def test_attribute_layer_dW_times_123(gradient_checker):
    gradient_checker.layer(AttrDense(123), x)
"""


def test_vjp_and_value_and_grad_fixtures(pytester):
    pytester.makepyfile(test_user_styles=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines(["*GradientCheckFailure*WRONG: gradient of 'b' at element*"])
    result.stdout.fnmatch_lines(["*GradientCheckFailure*WRONG: gradient of 'w' at element*"])
    result.stdout.fnmatch_lines(["*GradientCheckFailure*WRONG: gradient of 'W' at element*"])
