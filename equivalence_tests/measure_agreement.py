"""Measure how far each oracle is from the reference over many random models.

    python -m equivalence_tests.measure_agreement --models 300 --seed 0 [--error-scale] [--json out.json]
        [--oracles torch,tensorflow,jax,finite_difference]

Draws ``--models`` random models per dtype (depth 1-4, widths 1-8, batch 1-16, hidden
activations from every activation row, a loss with one of its valid output activations, L2 on
half of them, an optimizer row with random hyper-parameters, 1-3 steps), runs every oracle path
on each, and prints the largest normalized error (``tolerances.normalized_errors``) per
(quantity, dtype, oracle path) with the model that produced it, next to the table's tolerance.
Models where an op row overrides a tolerance are reported on their own line (tagged with the
row), so the base numbers are not inflated by a known convention difference.

With ``--error-scale`` the normalized error also has the running-error floor of
:mod:`equivalence_tests.error_scale` (what the property suite uses) and is printed next to the
:data:`~equivalence_tests.tolerances.SCALED_TOLERANCES` rtol, with the max in units of the dtype's eps.

The ``+keras-conventions`` TF path (plain Keras optimizer calls) is measured too: its numbers
are the size of the Keras conventions the default TF oracle compensates. ``--oracles`` keeps the
paths of the named frameworks only (the random models drawn are the same whatever is kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from equivalence_tests import ops
from equivalence_tests.config import ModelConfig, OptimizerConfig
from equivalence_tests.error_scale import error_scales
from equivalence_tests.oracles import (
    FiniteDifferenceOracle,
    JaxOracle,
    Oracle,
    ReferenceOracle,
    TensorFlowOracle,
    TorchOracle,
    UnsupportedConfiguration,
)
from equivalence_tests.tolerances import EPS, compare_results, tolerance_for

ACTIVATIONS = tuple(row.name for row in ops.ops_of_kind("activation"))
LOSSES = tuple(row.name for row in ops.ops_of_kind("loss"))


def random_optimizer(rng: np.random.Generator) -> OptimizerConfig:
    row = ops.ops_of_kind("optimizer")[rng.integers(len(ops.ops_of_kind("optimizer")))]
    lr = float(rng.uniform(0.01, 0.5))
    if row.name == "adam":
        return OptimizerConfig("adam", learning_rate=lr / 10, beta1=float(rng.uniform(0.8, 0.95)),
                               beta2=float(rng.choice([0.99, 0.999])), eps=float(rng.choice([1e-8, 1e-7])),
                               weight_decay=float(rng.choice([0.0, 0.01])))
    if row.name in ("adamw", "rmsprop", "adagrad"):  # issue 17's rows: each with its example's options drawn
        return random_modern_optimizer(row.name, lr, rng)
    momentum = float(rng.uniform(0.5, 0.95)) if row.name in ("sgd_momentum", "nesterov") else 0.0
    weight_decay = float(rng.uniform(0.001, 0.05)) if row.name == "sgd_weight_decay" else 0.0
    return OptimizerConfig("sgd", learning_rate=lr, momentum=momentum, nesterov=row.name == "nesterov",
                           weight_decay=weight_decay)


def random_modern_optimizer(name: str, lr: float, rng: np.random.Generator) -> OptimizerConfig:
    decay = float(rng.choice([0.0, 0.01]))
    if name == "adamw":
        return OptimizerConfig("adamw", learning_rate=lr / 10, beta1=float(rng.uniform(0.8, 0.95)), weight_decay=decay)
    if name == "rmsprop":
        return OptimizerConfig("rmsprop", learning_rate=lr / 10, alpha=float(rng.choice([0.9, 0.99])),
                               eps=float(rng.choice([1e-8, 1e-6])), momentum=float(rng.choice([0.0, 0.5])),
                               centered=bool(rng.integers(2)), weight_decay=decay)
    return OptimizerConfig("adagrad", learning_rate=lr / 10, lr_decay=float(rng.choice([0.0, 0.01])),
                           initial_accumulator_value=float(rng.choice([0.0, 0.1])),
                           eps=float(rng.choice([1e-10, 1e-7])), weight_decay=decay)


def random_model(rng: np.random.Generator, dtype: str) -> tuple[ModelConfig, dict, np.ndarray, np.ndarray]:
    loss = LOSSES[rng.integers(len(LOSSES))]
    depth = int(rng.integers(1, 5))
    outputs = ops.valid_output_activations(loss)
    activations = (*(ACTIVATIONS[rng.integers(len(ACTIVATIONS))] for _ in range(depth - 1)),
                   outputs[rng.integers(len(outputs))])
    n_out = int(rng.integers(ops.min_outputs(loss, activations[-1]), 7))
    dims = (int(rng.integers(1, 9)), *(int(rng.integers(1, 9)) for _ in range(depth - 1)), n_out)
    config = ModelConfig(dims, activations, loss, l2=float(rng.choice([0.0, rng.uniform(0.01, 0.1)])),
                         optimizer=random_optimizer(rng), steps=int(rng.integers(1, 4)), dtype=dtype,
                         leaky_relu_alpha=float(rng.choice([0.01, 0.1, 0.2])))
    params, X, Y = ops.example_inputs(config, seed=int(rng.integers(2**31)), m=int(rng.integers(1, 17)))
    return config, params, X, Y


@dataclass
class Worst:
    error: float = 0.0
    model: str = ""
    count: int = 0
    errors: list[float] = field(default_factory=list)


def override_tag(quantity: str, dtype: str, oracle: str, config: ModelConfig) -> str:
    """The op rows whose tolerance overrides apply to this (quantity, dtype, oracle, model), joined by '+'."""
    rows = [row.name for row in ops.ops_in(config)
            if any(o.quantity in (None, quantity) and o.dtype in (None, dtype) and ops.oracle_matches(o.oracle, oracle)
                   for o in row.tolerance_overrides)]
    return "+".join(rows)


def all_oracles() -> list[Oracle]:
    """Every measured path: torch functional/layers, TF functional/keras/+keras-conventions, JAX, FD."""
    return [TorchOracle("functional"), TorchOracle("layers"), TensorFlowOracle("functional"),
            TensorFlowOracle("keras"), TensorFlowOracle("functional", conventions="keras"), JaxOracle("functional"),
            FiniteDifferenceOracle()]


def measure(n_models: int, seed: int, error_scale: bool = False,
            frameworks: tuple[str, ...] | None = None) -> dict[tuple[str, str, str, str], Worst]:
    """The worst normalized error per (quantity, dtype, oracle path, override tag); ``error_scale``:
    with the running-error floor of each element (equivalence_tests.error_scale); ``frameworks``:
    keep only those oracles' paths (None: all installed)."""
    oracles = [o for o in all_oracles() if frameworks is None or o.framework in frameworks]
    oracles = [o for o in oracles if o.available]
    reference = ReferenceOracle()
    table: dict[tuple[str, str, str, str], Worst] = {}
    rng = np.random.default_rng(seed)
    for dtype in ("float64", "float32"):
        for _ in range(n_models):
            config, params, X, Y = random_model(rng, dtype)
            expected = reference.run(config, params, X, Y)
            scales = error_scales(config, params, X, Y) if error_scale else None
            for oracle in oracles:
                try:
                    result = oracle.run(config, params, X, Y)
                except UnsupportedConfiguration:
                    continue
                # the table's own comparison (forward, cost, each gradient, each displacement), without
                # its verdicts: only the largest normalized error per quantity is kept
                largest: dict[str, float] = {}
                for comparison in compare_results(expected, result, config, params, scales=scales):
                    largest[comparison.quantity] = max(largest.get(comparison.quantity, 0.0), comparison.max_rel_error)
                for quantity, error in largest.items():
                    tag = override_tag(quantity, dtype, oracle.name, config)
                    key = (quantity, dtype, oracle.name, tag)
                    worst = table.setdefault(key, Worst())
                    worst.count += 1
                    worst.errors.append(error)
                    if error >= worst.error:
                        worst.error, worst.model = error, f"{config.describe()} m={X.shape[1]}"
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=300, help="random models per dtype")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--error-scale", action="store_true",
                        help="normalize with the running-error floor (the property suite's comparison)")
    parser.add_argument("--json", help="also write the table here")
    known = sorted({o.framework for o in all_oracles()})
    parser.add_argument("--oracles", help=f"comma-separated frameworks to measure, from {known} (default: all)")
    args = parser.parse_args(argv)
    frameworks = None
    if args.oracles:
        frameworks = tuple(name.strip() for name in args.oracles.split(",") if name.strip())
        unknown = sorted(set(frameworks) - set(known))
        if unknown:
            parser.error(f"--oracles must name frameworks from {known}, got {unknown}")
    start = time.perf_counter()
    table = measure(args.models, args.seed, error_scale=args.error_scale, frameworks=frameworks)
    print(f"{'quantity':15s} {'dtype':8s} {'oracle':40s} {'override':12s} {'n':>4s} {'median':>9s} {'max':>9s} "
          f"{'max/eps':>8s} {'rtol':>9s}  worst model")
    for (quantity, dtype, oracle, tag), worst in sorted(table.items()):
        rtol = tolerance_for(quantity, dtype, oracle.split("+")[0], scaled=args.error_scale).rtol
        print(f"{quantity:15s} {dtype:8s} {oracle:40s} {tag or '-':12s} {worst.count:4d} "
              f"{float(np.median(worst.errors)):9.2e} {worst.error:9.2e} {worst.error / EPS[dtype]:8.2f} "
              f"{rtol:9.1e}  {worst.model}")
    floor = "running-error floor" if args.error_scale else "RMS floor"
    print(f"# {args.models} models per dtype, seed {args.seed}, {floor}, {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([{"quantity": q, "dtype": d, "oracle": o, "override": t, "n": w.count, "max": w.error,
                        "error_scale": args.error_scale,
                        "median": float(np.median(w.errors)), "model": w.model} for (q, d, o, t), w in table.items()],
                      handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
