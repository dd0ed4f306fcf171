"""Batch normalization, layer normalization and dropout: forward next to backward, by hand.

Layout: samples in columns, ``Z (n_features, m)``; ``gamma`` and ``beta`` are ``(n_features, 1)``.

* BatchNorm normalizes each feature (row) over the batch (axis 1): in training mode with the
  batch's mean and *biased* variance, updating ``running = (1 - momentum) running + momentum
  batch`` with the *unbiased* variance (``m / (m - 1)``), as ``torch.nn.BatchNorm1d`` does
  (Keras' ``momentum=0.99`` is the weight of the *old* value: torch 0.1 = Keras 0.9); in eval
  mode with the running statistics.
* LayerNorm normalizes each sample (column) over its features (axis 0), biased variance, no
  running statistics (``torch.nn.LayerNorm(n)``; Keras' default eps is 1e-3, torch's 1e-5).

Both: ``Zhat = (Z - mean) / sqrt(var + eps)``, ``out = gamma Zhat + beta``. Backward, for an
upstream ``dout``: ``dgamma = sum(dout Zhat)`` and ``dbeta = sum(dout)`` over the samples, and
with ``g = gamma dout`` normalized over axis ``a`` with batch statistics::

    dZ = (g - mean_a(g) - Zhat mean_a(g Zhat)) / sqrt(var + eps)

(the two means are the derivative through the mean and through the variance). With fixed
statistics (eval mode) ``dZ = g / sqrt(var + eps)``. Complex inputs work (complex step): the
variance is ``mean((Z - mean)^2)``, analytic, not ``|Z - mean|^2``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from reference_nn._validation import as_float_array, check_in_range, check_positive_finite, check_shape, describe

BATCH_AXIS = 1  # statistics over the samples: BatchNorm
FEATURE_AXIS = 0  # statistics over the features: LayerNorm


class NormCache(NamedTuple):
    """What a normalization's forward keeps for its backward."""

    Zhat: np.ndarray  # (n, m) normalized input
    inv_std: np.ndarray  # (n, 1) for BatchNorm, (1, m) for LayerNorm
    gamma: np.ndarray  # (n, 1)
    axis: int | None  # axis of the batch statistics; None: fixed statistics (eval mode)


def normalize_forward(
    Z: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    axis: int,
    eps: float,
    fixed: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, NormCache, np.ndarray, np.ndarray]:
    """``out = gamma (Z - mean) / sqrt(var + eps) + beta``.

    Statistics over ``axis`` of ``Z`` (biased variance), or ``fixed = (mean, var)`` given.
    Returns ``out (n, m)``, the cache, and the batch ``mean`` and biased ``var`` used."""
    if fixed is None:
        mean = Z.mean(axis=axis, keepdims=True)
        centered = Z - mean
        var = (centered * centered).mean(axis=axis, keepdims=True)
    else:
        mean, var = fixed
        centered = Z - mean
    inv_std = 1 / np.sqrt(var + Z.real.dtype.type(eps))
    Zhat = centered * inv_std
    return gamma * Zhat + beta, NormCache(Zhat, inv_std, gamma, None if fixed is not None else axis), mean, var


def normalize_backward(dout: np.ndarray, cache: NormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vector-Jacobian product of :func:`normalize_forward`: ``dZ (n, m)``, ``dgamma, dbeta (n, 1)``."""
    dgamma = (dout * cache.Zhat).sum(axis=BATCH_AXIS, keepdims=True)
    dbeta = dout.sum(axis=BATCH_AXIS, keepdims=True)
    g = cache.gamma * dout
    if cache.axis is None:
        return g * cache.inv_std, dgamma, dbeta
    axis = cache.axis
    dZ = (g - g.mean(axis=axis, keepdims=True) - cache.Zhat * (g * cache.Zhat).mean(axis=axis, keepdims=True))
    return dZ * cache.inv_std, dgamma, dbeta


def _check_input(layer: str, x: Any, n_features: int) -> np.ndarray:
    x = as_float_array("x", x)
    if x.ndim != 2 or x.shape[0] != n_features:
        raise ValueError(f"x for {layer} must have shape (num_features={n_features}, m), got {describe(x)}")
    return x


def _num_features(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"num_features must be a positive int, got {value!r}")
    return int(value)


class _Normalization:
    """Shared parts: ``params = {"gamma": ones, "beta": zeros}`` of shape ``(n, 1)``, ``grads``."""

    def __init__(self, num_features: int, eps: float, dtype: Any):
        self.num_features = _num_features(num_features)
        self.eps = check_positive_finite("eps", eps)
        dtype = np.dtype(dtype)
        self.params: dict[str, np.ndarray] = {
            "gamma": np.ones((self.num_features, 1), dtype=dtype),
            "beta": np.zeros((self.num_features, 1), dtype=dtype),
        }
        self.grads: dict[str, np.ndarray] = {}
        self._cache: NormCache | None = None

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        check_shape("dy", dy, self._cache.Zhat.shape, "the shape of the forward output")
        dx, self.grads["gamma"], self.grads["beta"] = normalize_backward(dy, self._cache)
        return dx


class BatchNorm(_Normalization):
    """``BatchNorm(num_features, eps=1e-5, momentum=0.1)``, torch's ``BatchNorm1d`` semantics.

    ``training`` (default True; ``train()`` / ``eval()`` switch it): batch statistics, and each
    forward updates ``running_mean``, ``running_var`` (both ``(n, 1)``, starting at 0 and 1) and
    ``num_batches_tracked``. Eval: the running statistics. Training needs ``m >= 2`` (the unbiased
    variance divides by ``m - 1``; torch refuses batch 1 as well)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, dtype: Any = np.float64):
        super().__init__(num_features, eps, dtype)
        self.momentum = check_in_range("momentum", momentum, 0.0, 1.0, high_inclusive=True)
        self.running_mean = np.zeros((self.num_features, 1), dtype=dtype)
        self.running_var = np.ones((self.num_features, 1), dtype=dtype)
        self.num_batches_tracked = 0
        self.training = True

    def train(self, mode: bool = True) -> BatchNorm:
        self.training = bool(mode)
        return self

    def eval(self) -> BatchNorm:
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_input("BatchNorm", x, self.num_features)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not self.training:
            out, self._cache, _, _ = normalize_forward(x, gamma, beta, BATCH_AXIS, self.eps,
                                                       fixed=(self.running_mean, self.running_var))
            return out
        m = x.shape[1]
        if m < 2:
            raise ValueError(f"BatchNorm in training mode needs m >= 2 samples (x of shape {x.shape}); use eval()")
        out, self._cache, mean, var = normalize_forward(x, gamma, beta, BATCH_AXIS, self.eps)
        if not np.iscomplexobj(x):  # a complex step probes the function, it is not a training batch
            self.running_mean, self.running_var = update_running_stats(
                self.running_mean, self.running_var, mean, var, m, self.momentum)
            self.num_batches_tracked += 1
        return out

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, training={self.training})"


def update_running_stats(running_mean: np.ndarray, running_var: np.ndarray, mean: np.ndarray, var: np.ndarray,
                         m: int, momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """torch's update: ``(1 - momentum) running + momentum batch``, with the batch variance made
    unbiased (``var m / (m - 1)``). Returns new arrays of the running statistics' dtype."""
    dtype = running_mean.dtype.type
    keep, take = dtype(1 - momentum), dtype(momentum)
    unbiased = var * dtype(m / (m - 1))
    return keep * running_mean + take * mean, keep * running_var + take * unbiased


class LayerNorm(_Normalization):
    """``LayerNorm(num_features, eps=1e-5)``: each sample (column) normalized over its features,
    then scaled by ``gamma`` and shifted by ``beta`` per feature (torch ``nn.LayerNorm(n)``)."""

    def __init__(self, num_features: int, eps: float = 1e-5, dtype: Any = np.float64):
        super().__init__(num_features, eps, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_input("LayerNorm", x, self.num_features)
        out, self._cache, _, _ = normalize_forward(x, self.params["gamma"], self.params["beta"], FEATURE_AXIS,
                                                   self.eps)
        return out

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features}, eps={self.eps})"


class Dropout:
    """Inverted dropout: ``y = x mask / (1 - p)``, ``dx = dy mask / (1 - p)``; the identity in
    eval mode (``eval()``).

    ``mask`` (a boolean array, True = kept) fixes the mask for every forward (deterministic: what
    a gradient check needs); otherwise each training forward draws ``mask = U[0, 1) >= p`` from
    ``numpy.random.default_rng(seed)``, and backward uses the mask of the last forward."""

    name = "dropout"

    def __init__(self, p: float = 0.5, *, mask: np.ndarray | None = None, seed: int | None = None):
        self.p = check_in_range("p", p, 0.0, 1.0)
        if mask is not None and (not isinstance(mask, np.ndarray) or mask.dtype != np.bool_):
            raise TypeError(f"mask must be a boolean NumPy array (True = kept), got {describe(mask)}")
        self.mask = mask
        self.rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self._mask_used: np.ndarray | None = None

    def train(self, mode: bool = True) -> Dropout:
        self.training = bool(mode)
        return self

    def eval(self) -> Dropout:
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array("x", x)
        if not self.training or self.p == 0:
            self._mask_used = None
            return x
        if self.mask is not None:
            check_shape("mask", self.mask, x.shape, "the shape of x")
            mask = self.mask
        else:
            mask = self.rng.random(x.shape) >= self.p
        self._mask_used = mask
        return x * mask * x.real.dtype.type(1 / (1 - self.p))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._mask_used is None:
            return dy
        return dy * self._mask_used * dy.real.dtype.type(1 / (1 - self.p))

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# --------------------------------------------------------------- the functional L-layer API
NORMALIZATION_KINDS = ("batch", "layer")


class Normalization(NamedTuple):
    """Normalization between LINEAR and the activation of every hidden layer of the functional
    model: ``kind`` "batch" or "layer", with torch's defaults ``eps=1e-5``, ``momentum=0.1``
    (BatchNorm only). A normalized layer has no bias ``b{l}``: ``beta{l}`` is its shift (a bias
    before a BatchNorm is removed by the mean and has gradient exactly 0)."""

    kind: str
    eps: float = 1e-5
    momentum: float = 0.1


def get_normalization(spec: Any) -> Normalization | None:
    """None, ``"batch"``, ``"layer"`` or a :class:`Normalization` -> a validated Normalization or None."""
    if spec is None or isinstance(spec, Normalization):
        if spec is not None:
            check_positive_finite("normalization eps", spec.eps)
            check_in_range("normalization momentum", spec.momentum, 0.0, 1.0, high_inclusive=True)
            if spec.kind not in NORMALIZATION_KINDS:
                raise ValueError(f"normalization kind must be one of {NORMALIZATION_KINDS}, got {spec.kind!r}")
        return spec
    if isinstance(spec, str) and spec in NORMALIZATION_KINDS:
        return Normalization(spec)
    raise ValueError(f"normalization must be None, one of {NORMALIZATION_KINDS} or a Normalization, got {spec!r}")


def initialize_norm_state(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Running statistics for every ``gamma{l}`` of ``params``: ``running_mean{l}`` zeros and
    ``running_var{l}`` ones, ``(n[l], 1)``, the parameters' dtype (torch's initial values).
    This dict is state, not parameters: no gradient, not touched by optimizers."""
    state = {}
    for name, gamma in params.items():
        if name.startswith("gamma"):
            layer = name[len("gamma"):]
            state[f"running_mean{layer}"] = np.zeros_like(gamma)
            state[f"running_var{layer}"] = np.ones_like(gamma)
    return state


def normalize_layer(Z: np.ndarray, params: dict[str, np.ndarray], layer: int, normalization: Normalization,
                    norm_state: dict[str, np.ndarray] | None, training: bool) -> tuple[np.ndarray, NormCache]:
    """The normalization of hidden layer ``layer`` in the functional model: ``Z (n, m)`` -> ``(out, cache)``.

    BatchNorm in training mode updates ``norm_state`` in place when it is given (as every torch
    forward in train mode does); in eval mode it needs ``norm_state``."""
    gamma, beta = params[f"gamma{layer}"], params[f"beta{layer}"]
    if normalization.kind == "layer":
        out, cache, _, _ = normalize_forward(Z, gamma, beta, FEATURE_AXIS, normalization.eps)
        return out, cache
    keys = (f"running_mean{layer}", f"running_var{layer}")
    if not training:
        if norm_state is None or any(key not in norm_state for key in keys):
            raise ValueError(f"batch normalization in eval mode needs norm_state with {keys[0]} and {keys[1]} "
                             "(from initialize_norm_state, updated by training forwards)")
        out, cache, _, _ = normalize_forward(Z, gamma, beta, BATCH_AXIS, normalization.eps,
                                             fixed=(norm_state[keys[0]], norm_state[keys[1]]))
        return out, cache
    m = Z.shape[1]
    if m < 2:
        raise ValueError(f"batch normalization in training mode needs m >= 2 samples, got X with m = {m}")
    out, cache, mean, var = normalize_forward(Z, gamma, beta, BATCH_AXIS, normalization.eps)
    if norm_state is not None and not np.iscomplexobj(Z):
        norm_state[keys[0]], norm_state[keys[1]] = update_running_stats(
            norm_state[keys[0]], norm_state[keys[1]], mean, var, m, normalization.momentum)
    return out, cache
