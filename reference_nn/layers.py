"""Layers: each forward rule sits right next to its backward rule.

Layout: samples in columns. A layer maps ``A_prev (n_in, m)`` to ``Z (n_out, m)``.

Every ``backward`` here is an exact vector-Jacobian product of its ``forward``: given
the upstream gradient ``dY`` of some scalar with respect to the output, it returns the
gradient with respect to the input (and fills ``grads`` for parameters). The classic
texts write ``dW = dZ A_prev.T / m``; here the ``1/m`` of the batch mean lives in the
loss gradient (``reference_nn.losses``), so that ``Linear.backward`` is the true
derivative of ``Linear.forward`` and can be checked on its own. The numbers are the same.

The activations are written so that a complex input works too (masks and signs are taken
from the real part), which lets complex-step differentiation run through a whole network.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference_nn._validation import as_float_array, check_ndim, check_shape, choose_name
from reference_nn.special import normal_cdf, normal_pdf


# --------------------------------------------------------------------------- linear
def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` without OpenBLAS's spurious "invalid value" flag: some of its kernels raise FE_INVALID on
    finite inputs with a finite product (numpy/numpy#24067, OpenMathLib/OpenBLAS#1924; seen here once in a
    float32 (6, 5) @ (5, 1) and not again on the same data). A real invalid operation (inf - inf from an
    overflow, 0 * inf) leaves a non-finite element, and then the product is computed again with NumPy's
    warnings as the caller set them."""
    with np.errstate(invalid="ignore"):
        out = a @ b
    if not np.isfinite(out).all():
        out = a @ b
    return out


def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Z = W A_prev + b``: ``A_prev (n_in, m)``, ``W (n_out, n_in)``, ``b (n_out, 1)`` -> ``Z (n_out, m)``."""
    Z = matmul(W, A_prev)
    if b.dtype == Z.dtype:
        Z += b  # in place: saves one (n_out, m) temporary per layer
        return Z
    return Z + b  # a complex b (complex-step differentiation) promotes Z


def linear_backward(dZ: np.ndarray, A_prev: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vector-Jacobian product of :func:`linear_forward`.

    ``dZ (n_out, m)`` -> ``dA_prev = W.T dZ (n_in, m)``, ``dW = dZ A_prev.T (n_out, n_in)``,
    ``db = dZ summed over columns (n_out, 1)``.
    """
    dW, db = linear_parameter_gradients(dZ, A_prev)
    return matmul(W.T, dZ), dW, db


def linear_parameter_gradients(dZ: np.ndarray, A_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parameter half of :func:`linear_backward`: ``dW = dZ A_prev.T (n_out, n_in)``,
    ``db = dZ summed over columns (n_out, 1)``. For the first layer, where nothing needs the
    gradient of the input ``X``: skipping ``W.T dZ`` saves a third of that layer's backward work."""
    return matmul(dZ, A_prev.T), dZ.sum(axis=1, keepdims=True)


class Linear:
    """Affine layer ``Z = W X + b`` with parameters ``W (n_out, n_in)`` and ``b (n_out, 1)``.

    After ``backward`` the parameter gradients are in ``grads["W"]`` and ``grads["b"]``.
    """

    def __init__(self, W: Any, b: Any):
        W = as_float_array("W", W)
        b = as_float_array("b", b)
        check_ndim("W", W, 2, "(n_out, n_in)")
        check_shape("b", b, (W.shape[0], 1), "(n_out, 1)")
        self.params: dict[str, np.ndarray] = {"W": W, "b": b}
        self.grads: dict[str, np.ndarray] = {}
        self._input: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_shape("x", x, (self.params["W"].shape[1], x.shape[-1]), "(n_in, m)")
        self._input = x
        return linear_forward(x, self.params["W"], self.params["b"])

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._input is None:
            raise RuntimeError("Linear.backward called before forward")
        dx, self.grads["W"], self.grads["b"] = linear_backward(dy, self._input, self.params["W"])
        return dx

    def __repr__(self) -> str:
        n_out, n_in = self.params["W"].shape
        return f"Linear(n_in={n_in}, n_out={n_out}, dtype={self.params['W'].dtype})"


# ---------------------------------------------------------------------- activations
class Activation:
    """Element-wise (or column-wise) activation: ``A = evaluate(Z)``, ``dZ = backpropagate(dA, Z, A)``.

    The two pure functions carry the math; ``forward``/``backward`` wrap them with a cache
    so an activation is also a layer object. ``params`` and ``grads`` are empty.
    """

    name = "activation"

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def evaluate(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backpropagate(self, dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = self.evaluate(x)
        self._cache = (x, y)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self.backpropagate(dy, *self._cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


class Identity(Activation):
    """``A = Z``; ``dZ = dA``."""

    name = "identity"

    def evaluate(self, Z):
        return Z

    def backpropagate(self, dA, Z, A):
        return dA


class ReLU(Activation):
    """``A = max(Z, 0)``; ``dZ = dA * (Z > 0)``: the derivative at exactly 0 is taken as 0,
    the convention of torch and TensorFlow."""

    name = "relu"

    def evaluate(self, Z):
        if np.iscomplexobj(Z):
            return np.where(Z.real > 0, Z, Z.dtype.type(0))
        # np.maximum is one branch-free pass: ~13x faster than np.where on a random mask.
        return np.maximum(Z, Z.dtype.type(0))

    def backpropagate(self, dA, Z, A):
        return dA * (Z.real > 0)  # bool * float keeps dA's dtype; 13x faster than np.where


class LeakyReLU(Activation):
    """``A = Z if Z > 0 else alpha Z``; ``dZ = dA * (1 if Z > 0 else alpha)``: the derivative at
    exactly 0 is ``alpha``, as in torch and TensorFlow. ``alpha`` defaults to torch's 0.01."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not np.isfinite(alpha):
            raise ValueError(f"alpha must be a finite real number, got {alpha!r}")
        self.alpha = float(alpha)

    def evaluate(self, Z):
        return np.where(Z.real > 0, Z, self.alpha * Z)

    def backpropagate(self, dA, Z, A):
        return np.where(Z.real > 0, dA, self.alpha * dA)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha!r})"


def stable_sigmoid(Z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-Z))`` with no overflow warning and full relative accuracy.

    Real ``Z``: ``exp(-Z)`` overflows to inf for ``Z < -709`` (float64; ``-88`` in float32), where
    the true sigmoid is below the smallest normal number, so ``1 / (1 + inf) = 0`` is the answer
    up to a subnormal and the overflow is silenced, not avoided; every other ``Z`` gets the plain
    formula, accurate to a few ulps. Complex ``Z`` (complex-step differentiation)
    must not meet inf: there exp is only ever taken of ``-|Re Z|``-signed arguments.
    At ``Z = -1000`` this returns 0, at ``Z = +1000`` exactly 1.
    """
    one = Z.dtype.type(1)
    if not np.iscomplexobj(Z):
        with np.errstate(over="ignore"):
            return one / (one + np.exp(-Z))
    non_negative = Z.real >= 0
    sign = np.where(non_negative, Z.real.dtype.type(1), Z.real.dtype.type(-1))
    with np.errstate(under="ignore"):
        e = np.exp(-sign * Z)  # |e| <= 1
    return np.where(non_negative, one / (one + e), e / (one + e))


class Sigmoid(Activation):
    """``A = 1 / (1 + exp(-Z))``; ``dZ = dA * A * (1 - A)``."""

    name = "sigmoid"

    def evaluate(self, Z):
        return stable_sigmoid(Z)

    def backpropagate(self, dA, Z, A):
        return dA * A * (1 - A)


class Tanh(Activation):
    """``A = tanh(Z)``; ``dZ = dA * (1 - A**2)``."""

    name = "tanh"

    def evaluate(self, Z):
        return np.tanh(Z)

    def backpropagate(self, dA, Z, A):
        return dA * (1 - A * A)


def stable_softmax(Z: np.ndarray) -> np.ndarray:
    """Softmax over each column of ``Z (n_classes, m)``; the column maximum is subtracted first,
    so logits of 1e4 give exact probabilities instead of inf/inf."""
    shifted = Z - Z.real.max(axis=0, keepdims=True)
    with np.errstate(under="ignore"):
        E = np.exp(shifted)
    return E / E.sum(axis=0, keepdims=True)


class Softmax(Activation):
    """``A = softmax(Z)`` over each column; ``dZ = A * (dA - sum(dA * A, over rows))``.

    That is the Jacobian-vector product ``(diag(a) - a a^T) da`` per column, never forming
    the ``(n, n)`` Jacobian."""

    name = "softmax"

    def evaluate(self, Z):
        return stable_softmax(Z)

    def backpropagate(self, dA, Z, A):
        return A * (dA - (dA * A).sum(axis=0, keepdims=True))


# ---------------------------------------------------------------- smooth activations
# Each takes its branch from the real part, so a complex step goes through the active branch.
def _negative_part(Z: np.ndarray) -> np.ndarray:
    """``min(Z, 0)`` (by the real part): keeps ``exp`` of the unused branch from overflowing."""
    return np.where(Z.real > 0, Z.dtype.type(0), Z)


class GELU(Activation):
    """Exact GELU (torch ``nn.GELU()``, Keras ``gelu(approximate=False)``):
    ``A = Z Phi(Z)``; ``dZ = dA (Phi(Z) + Z phi(Z))``, ``Phi``/``phi`` the standard normal cdf/pdf
    (:mod:`reference_nn.special`; NumPy has no erf)."""

    name = "gelu"

    def evaluate(self, Z):
        return Z * normal_cdf(Z)

    def backpropagate(self, dA, Z, A):
        return dA * (normal_cdf(Z) + Z * normal_pdf(Z))


GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
GELU_TANH_CUBIC = 0.044715


class GELUTanh(Activation):
    """GELU, tanh approximation (torch ``approximate="tanh"``, JAX's default):
    ``A = Z (1 + t) / 2`` with ``t = tanh(c (Z + k Z^3))``, ``c = sqrt(2/pi)``, ``k = 0.044715``;
    ``dZ = dA ((1 + t) / 2 + Z (1 - t^2) c (1 + 3 k Z^2) / 2)``."""

    name = "gelu_tanh"

    def _tanh(self, Z):
        return np.tanh(Z.dtype.type(GELU_TANH_SCALE) * (Z + Z.dtype.type(GELU_TANH_CUBIC) * Z * Z * Z))

    def evaluate(self, Z):
        return 0.5 * Z * (1 + self._tanh(Z))

    def backpropagate(self, dA, Z, A):
        t = self._tanh(Z)
        inner_slope = Z.dtype.type(GELU_TANH_SCALE) * (1 + Z.dtype.type(3 * GELU_TANH_CUBIC) * Z * Z)
        return dA * (0.5 * (1 + t) + 0.5 * Z * (1 - t * t) * inner_slope)


class ELU(Activation):
    """``A = Z if Z > 0 else alpha (exp(Z) - 1)``; ``dZ = dA (1 if Z > 0 else alpha exp(Z))``.
    At exactly 0 the left branch (``alpha``), as torch; with alpha 1 (the default of torch and
    Keras) both sides give 1 and ELU is C1 (its second derivative jumps)."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not np.isfinite(alpha):
            raise ValueError(f"alpha must be a finite real number, got {alpha!r}")
        self.alpha = float(alpha)

    def evaluate(self, Z):
        return np.where(Z.real > 0, Z, Z.dtype.type(self.alpha) * np.expm1(_negative_part(Z)))

    def backpropagate(self, dA, Z, A):
        return dA * np.where(Z.real > 0, Z.dtype.type(1), Z.dtype.type(self.alpha) * np.exp(_negative_part(Z)))

    def __repr__(self) -> str:
        return f"ELU(alpha={self.alpha!r})"


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class SELU(Activation):
    """``A = scale (Z if Z > 0 else alpha (exp(Z) - 1))`` with Klambauer et al.'s constants;
    ``dZ = dA scale (1 if Z > 0 else alpha exp(Z))``. Kink at 0 (slopes scale and scale alpha):
    the reference takes the left slope ``scale alpha`` there, as torch and JAX; TensorFlow takes
    ``scale`` (measured in the conventions table)."""

    name = "selu"

    def evaluate(self, Z):
        negative = Z.dtype.type(SELU_ALPHA) * np.expm1(_negative_part(Z))
        return Z.dtype.type(SELU_SCALE) * np.where(Z.real > 0, Z, negative)

    def backpropagate(self, dA, Z, A):
        slope = np.where(Z.real > 0, Z.dtype.type(1), Z.dtype.type(SELU_ALPHA) * np.exp(_negative_part(Z)))
        return dA * (Z.dtype.type(SELU_SCALE) * slope)


class Softplus(Activation):
    """``A = log(1 + exp(Z))``, computed as ``max(Z, 0) + log1p(exp(-|Z|))`` (exact, no overflow);
    ``dZ = dA sigmoid(Z)``. No threshold: torch's ``Softplus()`` returns ``Z`` itself (slope 1)
    for ``Z > 20``, off by up to ``exp(-20) = 2.1e-9`` (see the conventions table)."""

    name = "softplus"

    def evaluate(self, Z):
        positive = Z.real > 0
        relu = np.where(positive, Z, Z.dtype.type(0))
        absolute = np.where(positive, Z, -Z)  # |Z| for real Z, analytic for complex Z
        with np.errstate(under="ignore"):
            return relu + np.log1p(np.exp(-absolute))

    def backpropagate(self, dA, Z, A):
        return dA * stable_sigmoid(Z)


class SiLU(Activation):
    """SiLU / swish: ``A = Z sigmoid(Z)``; ``dZ = dA s (1 + Z (1 - s))`` with ``s = sigmoid(Z)``."""

    name = "silu"

    def evaluate(self, Z):
        return Z * stable_sigmoid(Z)

    def backpropagate(self, dA, Z, A):
        s = stable_sigmoid(Z)
        return dA * (s * (1 + Z * (1 - s)))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (Identity, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, GELU, GELUTanh, ELU, SELU, Softplus, SiLU)
}
ACTIVATIONS["linear"] = Identity


def get_activation(spec: str | Activation) -> Activation:
    """An Activation from a name (``"relu"``, ``"leaky_relu"``, ...) or an instance (returned as is)."""
    if isinstance(spec, Activation):
        return spec
    return choose_name(ACTIVATIONS, spec, "activation")()
