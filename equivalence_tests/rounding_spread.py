"""How far float32 rounding actually moves an optimizer's displacements: a measured spread.

The running-error floor (:mod:`equivalence_tests.error_scale`) is a worst-case bound. For SGD and
float64 it stays small against the displacements; for an adaptive optimizer (Adam, AdamW, RMSprop,
Adagrad) in float32 after two or more steps it does not: the bound of step 1's displacement enters
step 2's iterate, every later gradient is "uncertain" by it, and Adam's normalization turns that into
the largest step it allows. Measured on the README's example (5-16-16-3 tanh, softmax cross entropy,
adam x3, float32): the floor reaches 2.9e6 eps per element, so a displacement 10x too large, or
reversed, would read ``ok``. The bound is true but says nothing there.

What two correct float32 implementations really differ by is their rounding: the order of their sums
and the last bit of their transcendental functions. This module measures that spread, in the spirit
of Monte Carlo arithmetic (Parker 1997; Verificarlo): the reference is run ``RUNS`` more times in the
model's dtype, each a different but exactly equivalent computation, and compared with one float64 run
of the same starting point (float64's own rounding is ~1e-9 of float32's: the "truth" here):

* the samples (columns of ``X``, ``Y``) and the hidden units of every hidden layer (rows of ``W_l``,
  ``b_l``, columns of ``W_{l+1}``) are permuted at random and the results permuted back: the same
  sums in another order, as another library would add them;
* every gradient is perturbed by a random ``+-4 eps`` of ``max(|g_i|, rms(g))`` before the step: the
  last-bit differences of another library's ``exp`` / ``tanh`` / fused kernels, and the rounding of
  an entry that is small because O(rms) terms cancelled (where a permutation may not reach: a width-1
  layer, a batch of one);
* the optimizer's hyper-parameters move by up to one float32 ulp, and Adam's bias corrections by their
  float32 rounding ``eps beta^t / (1 - beta^t)`` (a library that holds them in float32: optax's float32
  ``1 - 0.999^2`` moves JAX's Adam steps by ~1e-5 relative, 100x the other effects).

``spread_i = max over the runs (the reference itself included) of |d_i - d64_i|``, ``d`` the
displacement ``theta_k - theta_0``. An entry whose Adam step is decided by rounding (its gradient at
rounding level at some step) flips sign in some of the runs and gets a spread of the size of its step;
where that moves the rest of the network at later steps, their spreads grow with it. The crosscheck
judges an element by it only where ``SAFETY * spread_i`` is below a tenth of the displacement
(:mod:`equivalence_tests.resolution`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from equivalence_tests.config import ModelConfig

Params = dict[str, np.ndarray]
# last-bit noise on each gradient, in eps of max(|g_i|, rms(g)): XLA's float32 tanh is up to 4 ulps off the
# correctly rounded value (measured on 1e5 points; NumPy's 1.3), and every activation feeds the gradients
NOISE_ULPS = 4.0
HYPERPARAMETERS = ("learning_rate", "beta1", "beta2", "eps", "alpha", "weight_decay", "momentum", "lr_decay")
RUNS = 8  # perturbed runs besides the reference's own; a flip that happens in 1 run of 3 is seen with p = 0.96
# optimizers that normalize each entry by a root of its squared gradients (those whose running-error
# floor compounds into "any step" in float32): the ones this measure is for
ADAPTIVE = ("adam", "adamw", "rmsprop", "adagrad")


@dataclass(frozen=True)
class DisplacementSpread:
    """``truth``: the float64 run's displacements ``{"W1": (n1, n0), ...}``; ``spread``: per element the
    largest ``|d - truth|`` over ``runs`` perturbed runs and the reference's own run (same shapes)."""

    runs: int
    truth: Params
    spread: Params


def applies(config: ModelConfig) -> bool:
    """True where the measure is needed and valid: float32, an adaptive optimizer, at least one step, no
    normalization layer (whose running statistics a unit permutation would have to carry too)."""
    return (config.dtype == "float32" and config.optimizer.name in ADAPTIVE and config.steps >= 1
            and not config.normalization)


def _train(config: ModelConfig, params: Params, X: np.ndarray, Y: np.ndarray, noise: np.random.Generator | None,
           ) -> Params:
    """The reference's parameters after ``config.steps`` steps; ``noise``: perturb each gradient by a random
    ``+-eps max(|g_i|, rms(g))`` (in float64, rounded back to the gradient's dtype) before the step."""
    from equivalence_tests.oracles.base import run_steps
    from equivalence_tests.oracles.reference_oracle import reference_cost_and_gradients

    eps = float(np.finfo(config.numpy_dtype).eps)

    def gradient_at(current: Params) -> Params:
        gradients = reference_cost_and_gradients(config, current, X, Y)[2]
        if noise is None:
            return gradients
        perturbed = {}
        for name, g in gradients.items():
            g64 = np.asarray(g, np.float64)
            size = np.maximum(np.abs(g64), float(np.sqrt(np.mean(g64 * g64))) if g64.size else 0.0)
            perturbed[name] = (g64 + NOISE_ULPS * eps * size * noise.uniform(-1.0, 1.0, g64.shape)).astype(g.dtype)
        return perturbed

    if noise is None:
        with np.errstate(all="ignore"):
            return run_steps(config, params, gradient_at)
    opt = config.optimizer
    optimizer, current = opt.build(), {name: value.copy() for name, value in params.items()}
    with np.errstate(all="ignore"):
        for t in range(1, config.steps + 1):
            updated = optimizer.step(current, gradient_at(current))
            if opt.name in ("adam", "adamw"):  # bias corrections 1 - beta^t computed in float32 (optax)
                relative = eps * (opt.beta1**t / (1 - opt.beta1**t) + 0.5 * opt.beta2**t / (1 - opt.beta2**t))
                factor = 1 + relative * noise.uniform(-1.0, 1.0)
                updated = {name: (current[name] + factor * (np.asarray(updated[name], np.float64) - current[name])
                                  ).astype(value.dtype) for name, value in updated.items()}
            current = updated
    return current


def _hyperparameters_in_float32(optimizer: Any, rng: np.random.Generator) -> Any:
    """The optimizer's real-valued hyper-parameters, each moved by a random fraction of one float32 ulp
    (up to +-eps32 relative): what a library that holds them in float32 computes with. The bias correction
    ``1 - beta2^t`` magnifies beta2's: optax's float32 0.999 moves Adam's first steps by ~2.5e-5 relative
    (measured against the reference, which keeps them in Python floats)."""
    eps32 = float(np.finfo(np.float32).eps)
    moved = {field: getattr(optimizer, field) * (1 + eps32 * rng.uniform(-1.0, 1.0)) for field in HYPERPARAMETERS
             if getattr(optimizer, field)}
    return dataclasses.replace(optimizer, **moved)


def _permutations(config: ModelConfig, m: int, rng: np.random.Generator) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """A permutation of the ``m`` samples and one of the units of each hidden layer ``1 .. L-1``."""
    units = {layer: rng.permutation(config.layer_dims[layer]) for layer in range(1, config.n_layers)}
    return rng.permutation(m), units


def _permute(params: Params, units: dict[int, np.ndarray], inverse: bool = False) -> Params:
    """Reorder hidden units: rows of ``W_l`` and ``b_l``, columns of ``W_{l+1}`` (or undo it)."""
    out = dict(params)
    for layer, order in units.items():
        index = np.argsort(order) if inverse else order
        out[f"W{layer}"] = out[f"W{layer}"][index, :]
        out[f"b{layer}"] = out[f"b{layer}"][index, :]
        out[f"W{layer + 1}"] = out[f"W{layer + 1}"][:, index]
    return out


def displacement_spread(config: ModelConfig, params: Params, X: np.ndarray, Y: np.ndarray, reference_updated: Params,
                        *, runs: int = RUNS, seed: int = 0) -> DisplacementSpread:
    """Measure the spread of the module doc. ``params``, ``X (n0, m)``, ``Y (nL, m)`` in the model's dtype;
    ``reference_updated``: the reference's own parameters after the steps (one of the runs)."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    as64 = dataclasses.replace(config, dtype="float64")
    start64 = {name: np.asarray(value, np.float64) for name, value in params.items()}
    end64 = _train(as64, start64, np.asarray(X, np.float64), np.asarray(Y, np.float64), None)
    truth = {name: end64[name] - start64[name] for name in params}
    spread = {name: np.abs(np.asarray(reference_updated[name], np.float64) - start64[name] - truth[name])
              for name in params}
    rng = np.random.default_rng(seed)
    for _ in range(runs):
        samples, units = _permutations(config, X.shape[1], rng)
        run_config = dataclasses.replace(config, optimizer=_hyperparameters_in_float32(config.optimizer, rng))
        end = _permute(_train(run_config, _permute(params, units), X[:, samples], Y[:, samples], rng), units,
                       inverse=True)
        for name in params:
            deviation = np.abs(np.asarray(end[name], np.float64) - start64[name] - truth[name])
            spread[name] = np.maximum(spread[name], np.where(np.isnan(deviation), np.inf, deviation))
    return DisplacementSpread(runs=runs, truth=truth, spread=spread)
