"""Measure how far correct oracles lie from the reference in units of the measured rounding spread.

    python -m equivalence_tests.measure_spread --models 80 --seed 4 --oracles fd,torch
    python -m equivalence_tests.measure_spread --models 40 --seed 3 --oracles tensorflow,jax
    python -m equivalence_tests.measure_spread --floors

``--floors``: on the README's float32 example model (5-16-16-3 tanh, softmax cross entropy, lr 0.1) with
each adaptive optimizer after 1, 3 and 10 steps, the smallest relative change of a displacement element that
the running-error bound resolves (median and best element: the bound alone, before issue 21), the same
for SAFETY x the measured spread, and the share of elements each judges (the outcome: ok where any is).

Draws float32 models with an adaptive optimizer (adam, adamw, rmsprop, adagrad; 1-10 steps, lr 0.001-1,
depth 1-3, widths 1-8, batch 1-8), runs each oracle path, and prints per path the median, 90th percentile
and largest ``max_i |c_i - r_i| / spread_i`` of the updated parameters (rows a framework convention makes
not comparable left out), and the mean share of elements that ``resolution.SAFETY`` x the spread resolves
to 10%. ``resolution.SAFETY`` is chosen from these figures.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def print_floors() -> None:
    """The table of ``--floors`` (module doc)."""
    from equivalence_tests import ops, rounding_spread
    from equivalence_tests.config import ModelConfig, OptimizerConfig
    from equivalence_tests.error_scale import error_scales
    from equivalence_tests.oracles import ReferenceOracle
    from equivalence_tests.resolution import SAFETY, spread_tolerance
    from equivalence_tests.tolerances import tolerance_for

    print("optimizer steps | bound: max floor (eps) | resolvable change median / best | judged || "
          f"{SAFETY:g} x spread: resolvable change median / best | judged")
    for name in ("adam", "adamw", "rmsprop", "adagrad"):
        for steps in (1, 3, 10):
            optimizer = OptimizerConfig(name=name, learning_rate=0.1, weight_decay=0.01 if name == "adamw" else 0.0)
            config = ModelConfig((5, 16, 16, 3), ("tanh", "tanh", "identity"), "softmax_cross_entropy",
                                 optimizer=optimizer, steps=steps, dtype="float32")
            params, X, Y = ops.example_inputs(config, seed=0, m=8)
            reference = ReferenceOracle().run(config, params, X, Y)
            with np.errstate(all="ignore"):
                scales = error_scales(config, params, X, Y)
            spread = rounding_spread.displacement_spread(config, params, X, Y, reference.updated_params)
            rtol = tolerance_for("updated_params", "float32", "torch", config, scaled=True).rtol
            bound, measured, floor = [], [], 0.0
            for key in params:
                d = np.abs(reference.updated_params[key].astype(np.float64) - params[key])
                rms = float(np.sqrt(np.mean(d * d)))
                M = scales.updated_params[key]
                floor = max(floor, float(np.max(M)))
                bound.append((rtol * np.maximum(np.maximum(d, rms), M) / d).ravel())
                measured.append((spread_tolerance(spread, key, params[key].astype(np.float64), d, steps, "float32")
                                 / d).ravel())
            b, m = np.concatenate(bound), np.concatenate(measured)
            either = np.mean((b < 0.1) | (m < 0.1))
            print(f"{name:8s} {steps:2d} | {floor:10.3g} | {np.median(b):9.3g} / {b.min():9.3g} | "
                  f"{np.mean(b < 0.1):4.0%} || {np.median(m):9.3g} / {m.min():9.3g} | {either:4.0%}")


def main(argv: list[str] | None = None) -> None:
    from equivalence_tests import ops, rounding_spread, saturation
    from equivalence_tests.cli.crosscheck import divergence, select_oracles
    from equivalence_tests.config import ModelConfig, OptimizerConfig
    from equivalence_tests.oracles import ReferenceOracle
    from equivalence_tests.resolution import RESOLVE, SAFETY, spread_tolerance

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracles", default="fd,torch")
    parser.add_argument("--floors", action="store_true", help="the bound vs spread table (module doc)")
    args = parser.parse_args(argv)
    if args.floors:
        print_floors()
        return
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    oracles = select_oracles(tuple(args.oracles.split(",")), "complex")
    ratios: dict[str, list[float]] = {oracle.name: [] for oracle in oracles}
    judged_shares = []
    for _ in range(args.models):
        loss = str(rng.choice(["bce", "bce_with_logits", "mse", "cross_entropy", "softmax_cross_entropy"]))
        last = str(rng.choice(ops.valid_output_activations(loss)))
        hidden = [int(n) for n in rng.integers(1, 9, size=rng.integers(0, 3))]
        dims = (int(rng.integers(1, 6)), *hidden, int(rng.integers(ops.min_outputs(loss, last), 4)))
        activations = (*[str(rng.choice(["relu", "leaky_relu", "tanh", "sigmoid", "identity"])) for _ in hidden], last)
        name = str(rng.choice(["adam", "adamw", "rmsprop", "adagrad"]))
        optimizer = OptimizerConfig(name=name, learning_rate=float(rng.choice([0.001, 0.01, 0.1, 1.0])),
                                    weight_decay=0.01 if name == "adamw" else 0.0,
                                    momentum=0.9 if name == "rmsprop" and rng.random() < 0.5 else 0.0)
        config = ModelConfig(dims, activations, loss, optimizer=optimizer, steps=int(rng.integers(1, 11)),
                             dtype="float32")
        params, X, Y = ops.example_inputs(config, seed=int(rng.integers(0, 1000)), m=int(rng.integers(1, 9)))
        if divergence(config, params, X, Y):
            continue
        reference = ReferenceOracle().run(config, params, X, Y)
        spread = rounding_spread.displacement_spread(config, params, X, Y, reference.updated_params)
        floors = {key: spread_tolerance(spread, key, params[key].astype(np.float64), spread.truth[key], config.steps,
                                        "float32") / SAFETY for key in params}
        judged_shares.append(np.mean([np.mean(SAFETY * floors[key] < RESOLVE * np.abs(spread.truth[key]))
                                      for key in params]))
        outputs = saturation.reference_outputs(config, params, X, Y)
        for oracle in oracles:
            if "updated_params" in saturation.not_comparable(oracle.name, config, outputs):
                continue
            try:
                result = oracle.run(config, params, X, Y)
            except (ValueError, NotImplementedError):
                continue
            worst = 0.0
            for key in params:
                stored = config.steps * np.finfo(np.float32).eps * np.abs(reference.updated_params[key])
                difference = np.maximum(np.abs(result.updated_params[key].astype(np.float64)
                                               - reference.updated_params[key]) - stored, 0.0)
                worst = max(worst, float(np.max(difference / floors[key])))
            ratios[oracle.name].append(worst)
    for name, values in ratios.items():
        if values:
            print(f"{name}: {len(values)} models, max |c - r| / spread: median {np.median(values):.3g}, "
                  f"p90 {np.quantile(values, 0.9):.3g}, max {max(values):.3g}")
    print(f"elements judged by {SAFETY:g} x spread: {np.mean(judged_shares):.0%} on average")


if __name__ == "__main__":
    main()
