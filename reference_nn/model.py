"""The L-layer network in the classic functional style.

Layout (samples in columns)::

    X      (n[0], m)          inputs, one example per column
    W[l]   (n[l], n[l-1])     weights of layer l = 1..L (keys "W1" .. "WL")
    b[l]   (n[l], 1)          biases (keys "b1" .. "bL")
    Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l]),   A[0] = X,   AL = A[L]

With ``normalization="batch"`` or ``"layer"`` every hidden layer l < L is
``A[l] = g[l](norm(W[l] A[l-1]))`` with parameters ``gamma[l], beta[l] (n[l], 1)`` instead of
``b[l]`` (see :mod:`reference_nn.normalization`); BatchNorm's running statistics live in a
separate ``norm_state`` dict, never among the parameters or gradients.

The default architecture is the classic ``[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID``
with binary cross-entropy. Gradients come back keyed ``dW1, db1, ...``.

The forward pass and the costs also accept complex parameters and inputs (for
complex-step differentiation); backward and updates are for real dtypes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from reference_nn._validation import (
    REAL_DTYPES,
    as_float_array,
    check_finite,
    check_ndim,
    check_positive_finite,
    check_same_dtype,
    check_shape,
    choose_name,
    describe,
)
from reference_nn.layers import (
    Activation,
    get_activation,
    linear_backward,
    linear_forward,
    linear_parameter_gradients,
    matmul,
)
from reference_nn.losses import Loss, check_output_pairing, compute_loss, get_loss, l2_gradient, l2_penalty
from reference_nn.normalization import NormCache, get_normalization, normalize_backward, normalize_layer
from reference_nn.outputs import with_logits

# Output activations whose result carries its logits (reference_nn.outputs): a loss fused with them
# computes the cost from Z, exactly also where the probabilities round to 0 or 1.
OUTPUTS_WITH_LOGITS = ("sigmoid", "softmax")

Params = dict[str, np.ndarray]


class LayerCache(NamedTuple):
    """What the forward pass of layer l keeps for its backward pass."""

    A_prev: np.ndarray  # (n[l-1], m)
    W: np.ndarray  # (n[l], n[l-1])
    b: np.ndarray | None  # (n[l], 1); None in a normalized layer
    Z: np.ndarray  # (n[l], m): the activation's input (after the normalization, if any)
    A: np.ndarray  # (n[l], m)
    activation: Activation
    norm: NormCache | None = None  # the normalization's cache in a normalized layer


# ------------------------------------------------------------------ initialization
INITIALIZERS = {
    # name: standard deviation of W[l] as a function of (n_in, n_out, scale)
    "normal": lambda n_in, n_out, scale: scale,  # the classic randn * 0.01
    "he": lambda n_in, n_out, scale: np.sqrt(2.0 / n_in),  # He et al. 2015, for ReLU
    "xavier": lambda n_in, n_out, scale: np.sqrt(2.0 / (n_in + n_out)),  # Glorot & Bengio 2010
}
INITIALIZERS["glorot"] = INITIALIZERS["xavier"]


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {describe(seed)}")


def initialize_parameters(
    layer_dims: Sequence[int],
    init: str = "he",
    seed: int | np.random.Generator | None = 0,
    dtype: Any = np.float64,
    scale: float = 0.01,
    normalization: Any = None,
) -> Params:
    """Random weights and zero biases for ``layer_dims = [n0, n1, ..., nL]``.

    ``init``: ``"normal"`` (``N(0, scale**2)``, the classic ``randn * 0.01``), ``"he"``
    (``N(0, 2/n_in)``) or ``"xavier"``/``"glorot"`` (``N(0, 2/(n_in + n_out))``).
    Draws come from ``numpy.random.default_rng(seed)``, layer by layer, in float64, and are
    then cast to ``dtype``, so float32 and float64 parameters for one seed agree.
    Returns ``{"W1": (n1, n0), "b1": (n1, 1), ...}``. With ``normalization`` ("batch" or
    "layer") the hidden layers get ``gamma{l}`` ones and ``beta{l}`` zeros instead of ``b{l}``.
    """
    dims = list(layer_dims) if not isinstance(layer_dims, np.ndarray) else layer_dims.tolist()
    if len(dims) < 2:
        raise ValueError(f"layer_dims must list at least 2 sizes [n_input, ..., n_output], got {dims!r}")
    for position, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"layer_dims[{position}] must be a positive int, got {n!r}")
    std_of = choose_name(INITIALIZERS, init, "init")
    scale = check_positive_finite("scale", scale)
    dtype = np.dtype(dtype)
    if dtype not in REAL_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    rng = _generator(seed)
    params: Params = {}
    for layer in range(1, len(dims)):
        n_in, n_out = int(dims[layer - 1]), int(dims[layer])
        weights = rng.standard_normal((n_out, n_in)) * std_of(n_in, n_out, scale)
        params[f"W{layer}"] = weights.astype(dtype)
        if get_normalization(normalization) is not None and layer < len(dims) - 1:
            params[f"gamma{layer}"] = np.ones((n_out, 1), dtype=dtype)
            params[f"beta{layer}"] = np.zeros((n_out, 1), dtype=dtype)
        else:
            params[f"b{layer}"] = np.zeros((n_out, 1), dtype=dtype)
    return params


# ---------------------------------------------------------------------- validation
def validate_parameters(params: Any, *, allow_complex: bool = True) -> int:
    """Check ``params`` is ``{"W1", "b1", ..., "WL", "bL"}`` (or, normalized, ``{"W1", "gamma1",
    "beta1", ..., "WL", "bL"}``) with chained shapes, one dtype, finite values. Returns L."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays {{'W1': ..., 'b1': ...}}, got {describe(params)}")
    indices = [int(key[1:]) for key in params if isinstance(key, str) and key[:1] in ("W", "b") and key[1:].isdigit()]
    n_layers = max(indices, default=0)
    normalized = "gamma1" in params
    expected = {f"{kind}{layer}" for layer in range(1, n_layers + 1) for kind in "Wb"}
    if normalized:
        expected = normalized_keys(n_layers)
    if n_layers == 0 or set(params) != expected:
        layout = "W1, gamma1, beta1, ..., WL, bL" if normalized else "W1, b1, ..., WL, bL"
        raise ValueError(
            f"params must have keys {layout}; got {sorted(params)} "
            f"(missing {sorted(expected - set(params))}, unexpected {sorted(set(params) - expected)})"
        )
    dtype = None
    for layer in range(1, n_layers + 1):
        W = as_float_array(f"params['W{layer}']", params[f"W{layer}"], allow_complex=allow_complex)
        shifts = ("gamma", "beta") if normalized and layer < n_layers else ("b",)
        for kind in shifts:
            shift = as_float_array(f"params['{kind}{layer}']", params[f"{kind}{layer}"], allow_complex=allow_complex)
            check_shape(f"params['{kind}{layer}']", shift, (W.shape[0], 1), f"(n[{layer}], 1)")
            check_same_dtype(f"params['{kind}{layer}']", shift, "params['W1']", dtype if dtype is not None else W.dtype)
            check_finite(f"params['{kind}{layer}']", shift)
        check_ndim(f"params['W{layer}']", W, 2, f"(n[{layer}], n[{layer - 1}])")
        if layer > 1:
            n_previous = params[f"W{layer - 1}"].shape[0]
            if W.shape[1] != n_previous:
                raise ValueError(
                    f"params['W{layer}'] must have {n_previous} columns to follow W{layer - 1} "
                    f"of shape {params[f'W{layer - 1}'].shape}, got shape {W.shape}"
                )
        if dtype is None:
            dtype = W.dtype
        check_same_dtype(f"params['W{layer}']", W, "params['W1']", dtype)
        check_finite(f"params['W{layer}']", W)
    return n_layers


def normalized_keys(n_layers: int) -> set[str]:
    """Parameter names of a normalized L-layer model: W, gamma, beta per hidden layer; WL, bL."""
    hidden = {f"{kind}{layer}" for layer in range(1, n_layers) for kind in ("W", "gamma", "beta")}
    return hidden | {f"W{n_layers}", f"b{n_layers}"}


def resolve_activations(activations: Sequence[str | Activation] | None, n_layers: int) -> list[Activation]:
    """Activation objects for each layer; ``None`` means the classic relu ... relu, sigmoid."""
    if activations is None:
        activations = ["relu"] * (n_layers - 1) + ["sigmoid"]
    if isinstance(activations, (str, Activation)):
        raise TypeError(f"activations must be a sequence with one entry per layer, got {activations!r}")
    activations = list(activations)
    if len(activations) != n_layers:
        raise ValueError(
            f"activations must have one entry per layer: expected {n_layers}, got {len(activations)} ({activations!r})"
        )
    return [get_activation(spec) for spec in activations]


def validate_input(X: Any, params: Params) -> np.ndarray:
    X = as_float_array("X", X)
    check_ndim("X", X, 2, "(n_features, m)")
    n_features = params["W1"].shape[1]
    if X.shape[0] != n_features:
        raise ValueError(
            f"X must have shape (n_features={n_features}, m) to match W1 {params['W1'].shape}, got shape {X.shape}"
        )
    if X.shape[1] == 0:
        raise ValueError("X is an empty batch: shape (n_features, 0); need m >= 1 examples")
    check_same_dtype("X", X, "params['W1']", params["W1"].dtype)
    check_finite("X", X)
    return X


# ------------------------------------------------------------------------- forward
def model_forward(
    X: Any,
    params: Params,
    activations: Sequence[str | Activation] | None = None,
    normalization: Any = None,
    norm_state: dict[str, np.ndarray] | None = None,
    training: bool = True,
) -> tuple[np.ndarray, list[LayerCache]]:
    """Forward pass: ``X (n0, m)`` -> ``AL (nL, m)`` and one :class:`LayerCache` per layer.

    ``normalization`` (None, "batch", "layer" or a ``Normalization``) goes between LINEAR and the
    activation of every hidden layer (params from ``initialize_parameters(..., normalization=)``).
    BatchNorm: ``training`` True uses the batch statistics and, when ``norm_state`` (from
    ``initialize_norm_state``) is given, updates its running statistics in place; False uses them.
    A sigmoid or softmax ``AL`` carries its logits (``reference_nn.outputs.ActivationOutput``, an
    ndarray) so that ``compute_cost`` with the loss fused with it is exact at saturation."""
    n_layers = validate_parameters(params)
    normalization = get_normalization(normalization)
    if (normalization is not None) != ("gamma1" in params) and n_layers > 1:
        raise ValueError(
            f"normalization={normalization!r} does not match params with keys {sorted(params)}: a normalized model "
            "has gamma{l}, beta{l} (and no b{l}) in each hidden layer; use initialize_parameters(..., normalization=)"
        )
    layer_activations = resolve_activations(activations, n_layers)
    A = validate_input(X, params)
    caches: list[LayerCache] = []
    for layer, activation in enumerate(layer_activations, start=1):
        W = params[f"W{layer}"]
        if normalization is not None and layer < n_layers:
            Z, norm = normalize_layer(matmul(W, A), params, layer, normalization, norm_state, training)
            b = None
        else:
            b, norm = params[f"b{layer}"], None
            Z = linear_forward(A, W, b)
        A_next = activation.evaluate(Z)
        caches.append(LayerCache(A, W, b, Z, A_next, activation, norm))
        A = A_next
    if caches[-1].activation.name in OUTPUTS_WITH_LOGITS:
        A = with_logits(A, caches[-1].Z, caches[-1].activation.name)
    return A, caches


def compute_cost(
    AL: Any,
    Y: Any,
    loss: str | Loss = "bce",
    params: Params | None = None,
    l2: float = 0.0,
) -> Any:
    """``loss(AL, Y)`` plus, if ``l2 > 0``, ``0.5 * l2 * sum(W**2)`` over the weights of ``params``.

    Returns a scalar of ``AL``'s dtype (float32 in, float32 out)."""
    cost = compute_loss(AL, Y, loss)
    l2 = check_positive_finite("l2", l2, allow_zero=True)
    if l2 > 0:
        if params is None:
            raise ValueError("l2 > 0 needs params (the weights to penalize)")
        cost = cost + l2_penalty(params, l2)
    return cost


# ------------------------------------------------------------------------ backward
def model_backward(
    AL: np.ndarray,
    Y: Any,
    caches: list[LayerCache],
    loss: str | Loss = "bce",
    l2: float = 0.0,
) -> dict[str, np.ndarray]:
    """Gradients of ``compute_cost(AL, Y, loss, params, l2)`` for every parameter.

    Returns ``{"dW1": (n1, n0), "db1": (n1, 1), ..., "dWL", "dbL"}`` (normalized layers:
    ``dgamma{l}``, ``dbeta{l}`` in place of ``db{l}``). If the loss is fused
    with the last activation (sigmoid + bce, softmax + cross_entropy) the last ``dZ`` is the
    exact fused form ``(AL - Y) / N``: the derivative of the cost from the logits, which is what
    ``compute_cost`` computes for ``model_forward``'s output (exact at saturation). A probability
    loss after a sigmoid or softmax it is not fused with goes through ``AL * d cost / d AL``
    (``Loss.output_scaled_gradient``), finite where ``1 / AL`` would overflow.
    """
    loss_object = get_loss(loss)
    if not caches:
        raise ValueError("caches is empty: run model_forward first")
    check_output_pairing(loss_object, caches[-1].activation.name, warn=False)
    AL = np.asarray(as_float_array("AL", AL, allow_complex=False))
    if AL is not caches[-1].A and AL.shape != caches[-1].A.shape:
        raise ValueError(f"AL has shape {AL.shape} but the last cache holds A of shape {caches[-1].A.shape}")
    Y = loss_object.prepare_targets(Y, AL)
    l2 = check_positive_finite("l2", l2, allow_zero=True)
    n_layers = len(caches)
    grads: dict[str, np.ndarray] = {}
    last = caches[-1]
    fused = loss_object.fused_activation == last.activation.name
    scaled = None
    if not fused and last.activation.name in OUTPUTS_WITH_LOGITS:
        scaled = loss_object.output_scaled_gradient(AL, Y)  # A * d cost / d A, None if the loss has none
    if fused:
        dZ = loss_object.fused_gradient(AL, Y)
    elif scaled is not None and last.activation.name == "sigmoid":  # dA * A (1 - A), with A dA = scaled
        dZ = scaled * (1 - last.A)
    elif scaled is not None:  # softmax: A * (dA - sum(A * dA)), with A dA = scaled
        dZ = scaled - last.A * scaled.sum(axis=0, keepdims=True)
    else:
        dZ = last.activation.backpropagate(loss_object.gradient(AL, Y), last.Z, last.A)
    if last.norm is not None:
        raise ValueError("the last layer of the functional model is never normalized; caches are inconsistent")
    for layer in range(n_layers, 0, -1):
        cache = caches[layer - 1]
        if layer > 1:
            dA_prev, dW, db = linear_backward(dZ, cache.A_prev, cache.W)
        else:  # nothing needs d cost / d X: skip its (n[0], m) matmul, the largest in a wide first layer
            dW, db = linear_parameter_gradients(dZ, cache.A_prev)
        if l2 > 0:
            dW += l2_gradient(cache.W, l2)
        grads[f"dW{layer}"] = dW
        if cache.b is not None:
            grads[f"db{layer}"] = db
        if layer > 1:
            below = caches[layer - 2]
            dZ = below.activation.backpropagate(dA_prev, below.Z, below.A)
            if below.norm is not None:  # through the normalization to the linear output
                dZ, grads[f"dgamma{layer - 1}"], grads[f"dbeta{layer - 1}"] = normalize_backward(dZ, below.norm)
    # Classic order: dW1, db1 (or dgamma1, dbeta1), dW2, ... (they were produced from the last layer down).
    order = [f"d{kind}{layer}" for layer in range(1, n_layers + 1) for kind in ("W", "b", "gamma", "beta")]
    return {name: grads[name] for name in order if name in grads}


# -------------------------------------------------------------------------- update
def parameter_gradient(grads: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The gradient of parameter ``name`` from a dict keyed ``dW1`` (classic) or ``W1``."""
    if f"d{name}" in grads:
        return grads[f"d{name}"]
    return grads[name]


def validate_gradients(params: Params, grads: Any) -> dict[str, np.ndarray]:
    """Return ``grads`` re-keyed like ``params``; refuse missing/extra keys, wrong shapes, NaN."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {describe(grads)}")
    classic = {f"d{name}" for name in params}
    if set(grads) == classic:
        keyed = {name: grads[f"d{name}"] for name in params}
    elif set(grads) == set(params):
        keyed = dict(grads)
    else:
        given = set(grads)
        raise ValueError(
            f"grads keys must match params: expected {sorted(classic)} (or {sorted(params)}), "
            f"got {sorted(given)} (missing {sorted(classic - given - set(params))}, "
            f"unexpected {sorted(given - classic - set(params))})"
        )
    for name, gradient in keyed.items():
        gradient = as_float_array(f"grads['d{name}']", gradient, allow_complex=False)
        check_shape(f"grads['d{name}']", gradient, params[name].shape, f"the shape of params['{name}']")
        check_same_dtype(f"grads['d{name}']", gradient, f"params['{name}']", params[name].dtype)
        check_finite(f"grads['d{name}']", gradient)
        keyed[name] = gradient
    return keyed


def update_parameters(params: Params, grads: dict[str, np.ndarray], learning_rate: float) -> Params:
    """One plain gradient-descent step ``theta <- theta - learning_rate * dtheta``.

    Returns a new dict; ``params`` is left unchanged."""
    validate_parameters(params, allow_complex=False)
    learning_rate = check_positive_finite("learning_rate", learning_rate, allow_zero=True)
    keyed = validate_gradients(params, grads)
    return {name: value - value.dtype.type(learning_rate) * keyed[name] for name, value in params.items()}


# ------------------------------------------------------------------------- predict
def predict(
    X: Any,
    params: Params,
    activations: Sequence[str | Activation] | None = None,
    threshold: float = 0.5,
    normalization: Any = None,
    norm_state: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Class predictions. Sigmoid output: ``(AL > threshold)`` as int ``(nL, m)``; softmax or
    logits of several classes: the arg-max row of each column ``(m,)``; one identity output:
    ``AL`` itself (regression). A normalized model predicts in eval mode (``norm_state``)."""
    AL, caches = model_forward(X, params, activations, normalization, norm_state, training=False)
    last = caches[-1].activation.name
    if last == "sigmoid":
        return (AL > threshold).astype(np.int64)
    if AL.shape[0] > 1 and last in ("softmax", "identity"):
        return AL.argmax(axis=0)
    return AL
