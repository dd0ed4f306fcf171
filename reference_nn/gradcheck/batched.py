"""Numerical gradients of the reference's L-layer model, every element, many perturbations per pass.

    grads = batched_central_difference_for_model(params, X, Y, ["tanh", "identity"], "softmax_cross_entropy")
    report = check_model_gradients(params, X, Y, activations, loss, l2=0.01, method="complex")

The generic estimators (``numerical.py``) call ``f(params)`` once per perturbed element: 2n full
forward passes for n parameters, each paying Python and validation overhead. Here the model's
structure is used instead, with the same numbers as a result:

* a perturbation of ``W[l][i, j]`` by ``s`` changes only row ``i`` of ``Z[l]``, by ``s * A[l-1][j, :]``
  (``b[l][i]``: by ``s``), so layers ``1 .. l-1`` are never recomputed;
* many perturbed copies of ``Z[l]`` are laid side by side along the sample axis, ``(n[l], P * m)``,
  and pushed through layers ``l .. L`` as ONE matmul per layer (activations act column-wise, so
  they need no change; softmax normalizes each column);
* copies are processed in chunks whose working set stays under ``max_chunk_bytes``.

The loss of each copy is computed by a batched form of the five reference losses; before anything
else, the batched loss at the unperturbed point is compared with ``compute_cost`` and a mismatch
raises, so the derivatives are always those of the reference's own cost. A custom ``Loss`` object
falls back to one ``loss.value`` call per copy (correct, slower). Constant terms of the cost (the
L2 penalty of untouched weights) cancel exactly in a difference and are left out; the penalty
change of the perturbed weight is ``0.5 * l2 * s * (2 w + s)``, exact for real and complex ``s``.

Evaluation is in float64 (float32 params are differentiated in float64, as ``check_gradients``
does). Step sizes and error models are those of ``tolerances.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference_nn.layers import Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, matmul
from reference_nn.losses import LOSSES, Loss, _clamped_log, get_loss
from reference_nn.model import (
    OUTPUTS_WITH_LOGITS,
    compute_cost,
    model_backward,
    model_forward,
    resolve_activations,
    validate_input,
    validate_parameters,
)

from . import tolerances as tol
from .check import judge_elements
from .evaluation import LossEvaluator
from .numerical import Estimate, ridders_tableau
from .report import GradientReport

BATCHED_METHODS = ("central", "richardson", "complex")
# Working set per chunk. 4 MiB stays in the allocator's heap and mostly in cache: measured on the
# 784-256-128-10 MLP, batch 64, complex step, one thread: 21 s user / 0 s system at 4 MiB, 22 s user
# plus 22 s system at 32 MiB (every chunk a fresh mmap: 10 million page faults), 29 s at 1 MiB
# (per-chunk Python overhead).
DEFAULT_CHUNK_BYTES = 4 * 2**20
# Batched loss vs compute_cost at the unperturbed point: the same formula summed in another order,
# so they agree to a few ulps of the cost; 1e-12 relative leaves room for long sums and still
# catches any real formula difference (which would be O(1e-3) or larger).
SELF_CHECK_RTOL = 1e-12


@dataclass
class BatchedGradient:
    """Per parameter (keys ``W1``, ``b1``, ...): float64 values, error bounds and steps of params'
    shapes. ``n_evaluations``: perturbed cost evaluations (2n central, 12n Richardson, n complex);
    ``n_passes``: vectorized forward passes that carried them."""

    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    steps: dict[str, np.ndarray]
    method: str
    n_evaluations: int
    n_passes: int


def batched_central_difference_for_model(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str | Activation] | None = None,
    loss: str | Loss = "bce",
    l2: float = 0.0,
    **options: Any,
) -> dict[str, np.ndarray]:
    """Central-difference gradient of ``compute_cost(model_forward(X, params, activations)[0], Y,
    loss, params, l2)``: a dict of float64 arrays keyed and shaped like ``params``."""
    return batched_numerical_gradient(params, X, Y, activations, loss, l2, method="central", **options).values


def batched_numerical_gradient(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str | Activation] | None = None,
    loss: str | Loss = "bce",
    l2: float = 0.0,
    *,
    method: str = "central",
    max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> BatchedGradient:
    """Every element's derivative of the model's cost by ``method`` ('central', 'richardson',
    'complex'). ``params``: ``W{l} (n[l], n[l-1])``, ``b{l} (n[l], 1)``; ``X (n[0], m)``;
    ``Y`` as ``compute_cost`` takes it."""
    if method not in BATCHED_METHODS:
        raise ValueError(f"method must be one of {BATCHED_METHODS}; got {method!r}")
    if isinstance(max_chunk_bytes, bool) or not isinstance(max_chunk_bytes, int) or max_chunk_bytes < 1:
        raise ValueError(f"max_chunk_bytes must be a positive int, got {max_chunk_bytes!r}")
    model = _Model(params, X, Y, activations, loss, l2)
    values, errors, steps = {}, {}, {}
    evaluations = passes = 0
    for layer in range(1, model.n_layers + 1):
        for kind in "Wb":
            key = f"{kind}{layer}"
            estimate, n_eval, n_pass = _estimate_tensor(model, layer, kind, method, max_chunk_bytes)
            shape = model.params[key].shape
            values[key] = estimate.values.reshape(shape)
            errors[key] = estimate.errors.reshape(shape)
            steps[key] = estimate.steps.reshape(shape)
            evaluations += n_eval
            passes += n_pass
    return BatchedGradient(values, errors, steps, method, evaluations, passes)


def check_model_gradients(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str | Activation] | None = None,
    loss: str | Loss = "bce",
    l2: float = 0.0,
    *,
    method: str = "central",
    grads: dict[str, np.ndarray] | None = None,
    rtol: float | None = None,
    atol: float = 0.0,
    max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> GradientReport:
    """A full check of ``grads`` (default: ``model_backward``'s, keyed ``dW1`` or ``W1``) against the
    batched numerical gradient, judged element by element exactly as ``check_gradients`` judges
    (same tolerances, kinks re-examined with one-sided differences, same report)."""
    validate_parameters(params, allow_complex=False)
    if grads is None:
        AL, caches = model_forward(X, params, activations)
        grads = model_backward(AL, Y, caches, loss, l2)
    numeric = batched_numerical_gradient(
        params, X, Y, activations, loss, l2, method=method, max_chunk_bytes=max_chunk_bytes
    )
    model_activations = resolve_activations(activations, len(params) // 2)
    X64, Y64 = np.asarray(X, dtype=np.float64), _as_float64_targets(Y)

    def cost(point: dict[str, np.ndarray]) -> Any:  # for re-examining failures at kinks only
        dtype = np.result_type(*point.values())
        cast = {k: v.astype(dtype, copy=False) for k, v in point.items()}
        return compute_cost(model_forward(X64.astype(dtype), cast, model_activations)[0], Y64, loss, cast, l2)

    evaluator = LossEvaluator(cost, {k: v.astype(np.float64) for k, v in params.items()}, np.float64)
    analytic = {key: np.asarray(grads[f"d{key}"] if f"d{key}" in grads else grads[key]) for key in params}
    largest_rms = max(tol.finite_rms(g) for g in analytic.values())
    results = {}
    for key in params:
        dtype = np.dtype(params[key].dtype)
        estimate = Estimate(
            numeric.values[key].reshape(-1), numeric.errors[key].reshape(-1), numeric.steps[key].reshape(-1), method
        )
        floor = atol + tol.cross_tensor_floor(dtype, largest_rms)
        grad_key = f"d{key}" if f"d{key}" in grads else key
        result = judge_elements(evaluator, key, analytic[key], grad_key, dtype, estimate, rtol, floor)
        result.method = f"batched {method}"
        results[key] = result
    notes = [f"{numeric.n_evaluations} perturbed costs in {numeric.n_passes} batched passes"]
    return GradientReport(results, f"batched {method}", 0, numeric.n_evaluations + evaluator.count, notes)


# ---------------------------------------------------------------------------------------------
class _Model:
    """The unperturbed forward pass in float64, kept for the perturbed ones."""

    def __init__(self, params, X, Y, activations, loss, l2) -> None:
        self.n_layers = validate_parameters(params, allow_complex=False)
        validate_input(X, params)
        self.activations = resolve_activations(activations, self.n_layers)
        self.loss = get_loss(loss)
        output = self.activations[-1].name
        if self.loss.fused_activation == output and output in OUTPUTS_WITH_LOGITS:
            # compute_cost takes this pairing's cost from the logits (reference_nn.outputs): so do the
            # perturbed copies, as the logits loss after an identity output
            self.activations[-1], self.loss = Identity(), _logits_loss(self.loss)
        self.l2 = float(l2)
        self.params = {k: v.astype(np.float64) for k, v in params.items()}
        self.X = np.asarray(X, dtype=np.float64)
        self.m = self.X.shape[1]
        self.Z: list[np.ndarray] = [self.X]  # Z[l] for l >= 1; Z[0] unused
        self.A: list[np.ndarray] = [self.X]
        for layer, activation in enumerate(self.activations, start=1):
            Z = matmul(self.params[f"W{layer}"], self.A[-1]) + self.params[f"b{layer}"]  # (OpenBLAS's spurious flag)
            self.Z.append(Z)
            self.A.append(activation.evaluate(Z))
        self.Y = self.loss.prepare_targets(_as_float64_targets(Y), self.A[-1])
        reference_cost = float(compute_cost(self.A[-1], self.Y, self.loss, self.params, self.l2))
        self.f_scale = abs(reference_cost)
        penalty = sum(0.5 * self.l2 * float(np.sum(self.params[f"W{l}"] ** 2)) for l in range(1, self.n_layers + 1))
        batched_cost = float(self.batched_loss(self.A[-1][:, None, :])[0]) + penalty
        if not abs(batched_cost - reference_cost) <= SELF_CHECK_RTOL * max(abs(reference_cost), 1e-300):
            raise RuntimeError(
                f"batched {self.loss.name} gives {batched_cost!r} at the unperturbed point but compute_cost gives "
                f"{reference_cost!r}: the batched form no longer matches reference_nn.losses"
            )

    def batched_loss(self, AL: np.ndarray) -> np.ndarray:
        """Loss of each copy: ``AL (n_out, P, m)`` -> ``(P,)``, the formulas of reference_nn.losses."""
        Y = self.Y[:, None, :]
        name, n_out, m = self.loss.name, AL.shape[0], AL.shape[2]
        if LOSSES.get(name) is not type(self.loss):  # a user's own Loss: trust only its value()
            return np.array([self.loss.value(AL[:, p, :], self.Y) for p in range(AL.shape[1])])
        if name == "mse":
            difference = AL - Y
            return (difference * difference).sum(axis=(0, 2)) / (n_out * m)
        if name == "bce":
            return -(Y * _clamped_log(AL) + (1 - Y) * _clamped_log(1 - AL)).sum(axis=(0, 2)) / (n_out * m)
        if name == "bce_with_logits":
            positive = AL.real > 0
            relu = np.where(positive, AL, 0)
            absolute = np.where(positive, AL, -AL)
            with np.errstate(under="ignore"):
                softplus = np.log1p(np.exp(-absolute))
            return (relu - AL * Y + softplus).sum(axis=(0, 2)) / (n_out * m)
        if name == "cross_entropy":
            return -(Y * _clamped_log(AL)).sum(axis=(0, 2)) / m
        if name == "softmax_cross_entropy":
            shifted = AL - AL.real.max(axis=0, keepdims=True)
            with np.errstate(under="ignore"):
                log_normalizer = np.log(np.exp(shifted).sum(axis=0, keepdims=True))
            return -(Y * (shifted - log_normalizer)).sum(axis=(0, 2)) / m
        return np.array([self.loss.value(AL[:, p, :], self.Y) for p in range(AL.shape[1])])

    def perturbed_losses(self, layer: int, kind: str, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Cost change (less constants) for element ``flat[k]`` of ``W``/``b`` of ``layer`` moved by
        ``offsets[q, k]``: ``flat (K,)``, ``offsets (Q, K)`` real or complex -> ``(Q, K)``.

        Moving ``W[l][i, j]`` by ``s`` moves row ``i`` of ``Z[l]`` by ``s * A[l-1][j, :]`` (``b[l][i]``:
        by ``s``). With an element-wise activation only row ``i`` of ``A[l]`` changes, so the next
        layer gets a rank-one update ``Z[l+1] + W[l+1][:, i] dA_i`` instead of a matmul; from there
        on every copy is dense, pushed through the remaining layers as one wide matmul each."""
        Q, K = offsets.shape
        copies = Q * K
        rows, cols = np.unravel_index(flat, self.params[f"{kind}{layer}"].shape)
        row_of_copy = np.tile(rows, Q)
        step_of_copy = offsets.reshape(copies, 1)
        moved = step_of_copy * self.A[layer - 1][np.tile(cols, Q), :] if kind == "W" else step_of_copy
        activation = self.activations[layer - 1]
        if _is_elementwise(activation):
            new_rows = activation.evaluate(self.Z[layer][row_of_copy, :] + moved)  # (copies, m)
            if layer == self.n_layers:  # the output itself: copy AL, replace one row per copy
                A = np.empty((self.A[layer].shape[0], copies, self.m), dtype=new_rows.dtype)
                A[...] = self.A[layer][:, None, :]
                A[row_of_copy, np.arange(copies), :] = new_rows
                return self._finish(A, layer, kind, flat, offsets)
            change = new_rows - self.A[layer][row_of_copy, :]  # (copies, m)
            W_next = self.params[f"W{layer + 1}"]
            Z = self.Z[layer + 1][:, None, :] + W_next[:, row_of_copy][:, :, None] * change[None, :, :]
            A = self.activations[layer].evaluate(Z.reshape(Z.shape[0], copies * self.m))
            first_dense = layer + 2
        else:  # e.g. softmax: a row change moves every row of the column
            Z = np.empty((self.Z[layer].shape[0], copies, self.m), dtype=np.result_type(offsets, np.float64))
            Z[...] = self.Z[layer][:, None, :]
            Z[row_of_copy, np.arange(copies), :] += moved
            A = activation.evaluate(Z.reshape(Z.shape[0], copies * self.m))
            first_dense = layer + 1
        for above in range(first_dense, self.n_layers + 1):
            A = self.activations[above - 1].evaluate(matmul(self.params[f"W{above}"], A) + self.params[f"b{above}"])
        return self._finish(A.reshape(A.shape[0], copies, self.m), layer, kind, flat, offsets)

    def _finish(self, AL: np.ndarray, layer: int, kind: str, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Loss of each copy ``AL (n_out, Q * K, m)`` plus the change of the L2 penalty: ``(Q, K)``."""
        losses = self.batched_loss(AL).reshape(offsets.shape)
        if kind == "W" and self.l2:
            w = self.params[f"W{layer}"].reshape(-1)[flat]
            losses = losses + 0.5 * self.l2 * offsets * (2 * w + offsets)
        return losses

    def chunk_size(self, layer: int, n_offsets: int, itemsize: int, max_chunk_bytes: int) -> int:
        """Elements per chunk so that ~4 arrays of the widest layer above stay under the budget."""
        widest = max(self.Z[l].shape[0] for l in range(layer, self.n_layers + 1))
        per_element = 4 * n_offsets * self.m * widest * itemsize
        return max(1, max_chunk_bytes // per_element)


class _FromLogits(Loss):
    """``loss.value_from_logits`` as the value of a loss on logits (a fused pairing without a batched form)."""

    def __init__(self, loss: Loss) -> None:
        self.wrapped, self.name = loss, f"{loss.name} from logits"

    def prepare_targets(self, Y, AL):
        return self.wrapped.prepare_targets(Y, AL)

    def value(self, AL, Y):
        return self.wrapped.value_from_logits(AL, Y)


def _logits_loss(loss: Loss) -> Loss:
    """The loss on logits whose value is ``loss`` after its fused activation (batched forms by name)."""
    same = {"bce": "bce_with_logits", "cross_entropy": "softmax_cross_entropy"}.get(loss.name)
    return get_loss(same) if same is not None and LOSSES.get(loss.name) is type(loss) else _FromLogits(loss)


def _as_float64_targets(Y: Any) -> Any:
    """Float targets in float64 (the evaluation dtype); integer labels and other input unchanged."""
    return Y.astype(np.float64) if isinstance(Y, np.ndarray) and Y.dtype.kind == "f" else Y


def _is_elementwise(activation: Activation) -> bool:
    """Row i of the output depends on row i of the input only (exact reference classes, not subclasses)."""
    return type(activation) in _ELEMENTWISE


_ELEMENTWISE = (Identity, ReLU, LeakyReLU, Sigmoid, Tanh)


def _estimate_tensor(model: _Model, layer: int, kind: str, method: str, max_chunk_bytes: int):
    """(Estimate over the flattened tensor, perturbed evaluations, batched passes)."""
    x = model.params[f"{kind}{layer}"].reshape(-1)
    n = x.size
    if method == "central":
        h = tol.central_step(x, np.float64)
        offsets = np.stack([h, -h])  # (2, n)
    elif method == "richardson":
        h0 = np.exp2(np.floor(np.log2(tol.RICHARDSON_FIRST_STEP * np.maximum(1.0, np.abs(x)))))
        h = h0[None, :] / np.exp2(np.arange(tol.RICHARDSON_LEVELS))[:, None]  # (levels, n)
        offsets = np.concatenate([h, -h])  # (2 * levels, n)
    else:
        h = tol.complex_step_size(np.float64) * np.maximum(1.0, np.abs(x))
        offsets = 1j * h[None, :]  # (1, n)
    itemsize = 16 if method == "complex" else 8
    chunk = model.chunk_size(layer, offsets.shape[0], itemsize, max_chunk_bytes)
    losses = np.empty(offsets.shape, dtype=offsets.dtype)
    passes = 0
    for start in range(0, n, chunk):
        flat = np.arange(start, min(start + chunk, n))
        losses[:, flat] = model.perturbed_losses(layer, kind, flat, offsets[:, flat])
        passes += 1
    if method == "complex":
        values = losses[0].imag / h
        errors = tol.method_rtol("complex", np.float64) * np.abs(values)
        return Estimate(values, errors, h, "complex"), n, passes
    levels = offsets.shape[0] // 2
    plus, minus = losses[:levels].real, losses[levels:].real
    f_scale = np.maximum(model.f_scale, np.maximum(np.abs(plus), np.abs(minus)))
    if method == "central":
        values = (plus[0] - minus[0]) / (2 * h)
        return Estimate(values, tol.rounding_error(f_scale[0], h, np.float64), h, "central"), 2 * n, passes
    diffs = (plus - minus) / (2 * h)
    values, errors, steps = ridders_tableau(diffs, h, tol.rounding_error(f_scale, h, np.float64))
    # As numerical.richardson: where the extrapolation is less certain than a central difference
    # (a kink within its larger steps), the central difference is taken for that element.
    central_h = tol.central_step(x, np.float64)
    central_bound = tol.rounding_error(model.f_scale, central_h, np.float64)
    central_bound = central_bound + tol.method_rtol("central", np.float64) * np.abs(values)
    worse = np.flatnonzero(~(errors <= central_bound))
    evaluations = 2 * levels * n
    if worse.size:
        hw = central_h[worse]
        pm = np.concatenate([model.perturbed_losses(layer, kind, worse[a:a + chunk], np.stack([hw[a:a + chunk],
                             -hw[a:a + chunk]])) for a in range(0, worse.size, chunk)], axis=1).real  # fmt: skip
        values[worse] = (pm[0] - pm[1]) / (2 * hw)
        errors[worse] = (tol.rounding_error(np.maximum(model.f_scale, np.abs(pm).max(axis=0)), hw, np.float64)
                         + tol.method_rtol("central", np.float64) * np.abs(values[worse]))  # fmt: skip
        steps[worse] = hw
        evaluations += 2 * worse.size
    return Estimate(values, errors, steps, "richardson"), evaluations, passes
