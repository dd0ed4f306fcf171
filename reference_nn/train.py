"""The training loop: ``fit`` returns the trained parameters and the cost history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reference_nn._validation import as_float_array, check_finite, check_ndim
from reference_nn.layers import Activation
from reference_nn.losses import Loss, get_loss
from reference_nn.model import (
    Params,
    _generator,
    compute_cost,
    initialize_parameters,
    model_backward,
    model_forward,
    resolve_activations,
)
from reference_nn.optim import SGD, Optimizer


def fit(
    X: Any,
    Y: Any,
    layer_dims: Sequence[int],
    activations: Sequence[str | Activation] | None = None,
    loss: str | Loss = "bce",
    optimizer: Optimizer | None = None,
    num_iterations: int = 3000,
    l2: float = 0.0,
    init: str = "he",
    seed: int = 0,
    batch_size: int | None = None,
    params: Params | None = None,
    print_every: int = 0,
    callback: Callable[[int, float, Params], None] | None = None,
) -> tuple[Params, list[float]]:
    """Train the L-layer network on ``X (n0, m)``, ``Y (nL, m)``.

    ``optimizer`` defaults to plain gradient descent ``SGD(learning_rate=0.0075)`` (the classic
    rate). ``batch_size=None`` trains on the full batch; otherwise each iteration is one epoch
    of shuffled mini-batches. ``costs[i]`` is the cost (loss plus L2) of iteration ``i`` before
    its update (the mean over mini-batches). Raises FloatingPointError if the cost becomes
    non-finite (a diverging learning rate), naming the iteration.
    """
    X = as_float_array("X", X)
    check_ndim("X", X, 2, "(n_features, m): one column per sample")
    layer_dims = list(layer_dims)
    if params is None:
        params = initialize_parameters(layer_dims, init=init, seed=seed, dtype=X.dtype)
    loss_object = get_loss(loss)
    resolved = resolve_activations(activations, len(layer_dims) - 1)
    optimizer = optimizer if optimizer is not None else SGD(learning_rate=0.0075)
    if isinstance(num_iterations, bool) or not isinstance(num_iterations, (int, np.integer)) or num_iterations < 0:
        raise ValueError(f"num_iterations must be an int >= 0, got {num_iterations!r}")
    m = X.shape[-1]
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size):
        raise ValueError(f"batch_size must be None or an int >= 1, got {batch_size!r}")
    rng = _generator(seed)
    costs: list[float] = []
    for iteration in range(num_iterations):
        batches: list[Any]
        if batch_size is None or batch_size >= m:
            batches = [slice(None)]
        else:
            order = rng.permutation(m)
            batches = [order[start : start + batch_size] for start in range(0, m, batch_size)]
        batch_costs = []
        for columns in batches:
            X_batch, Y_batch = X[:, columns], _columns(Y, columns)
            AL, caches = model_forward(X_batch, params, resolved)
            cost = compute_cost(AL, Y_batch, loss_object, params, l2)
            grads = model_backward(AL, Y_batch, caches, loss_object, l2)
            params = optimizer.step(params, grads)
            batch_costs.append(float(cost))
        cost_value = float(np.mean(batch_costs))
        if not np.isfinite(cost_value):
            raise FloatingPointError(f"cost became {cost_value} at iteration {iteration}; lower the learning rate")
        costs.append(cost_value)
        if callback is not None:
            callback(iteration, cost_value, params)
        if print_every and (iteration % print_every == 0 or iteration == num_iterations - 1):
            print(f"Cost after iteration {iteration}: {cost_value:.6f}")
    for name, value in params.items():
        check_finite(f"trained params['{name}']", value)
    return params, costs


def _columns(Y: Any, columns: Any) -> Any:
    """The columns of Y for a mini-batch; integer class labels ``(m,)`` are sliced along their only axis."""
    Y = np.asarray(Y)
    return Y[columns] if Y.ndim == 1 else Y[:, columns]
