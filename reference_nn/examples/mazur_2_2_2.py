"""Mazur's 2-2-2 sigmoid network with MSE: one SGD step, printed weight by weight.

Matt Mazur, "A Step by Step Backpropagation Example" (2015). Inputs (0.05, 0.10), targets
(0.01, 0.99), hidden weights w1..w4 = 0.15, 0.20, 0.25, 0.30 with bias 0.35, output weights
w5..w8 = 0.40, 0.45, 0.50, 0.55 with bias 0.60, sigmoid on both layers, learning rate 0.5.

Mazur's error is ``E = sum 1/2 (target - out)**2``. With one example and two outputs the
reference's ``mse`` (mean over all elements: ``sum (target - out)**2 / 2``) is the same
number and has the same gradient, so the reference must reproduce his published numbers.

Run::

    python -m reference_nn.examples.mazur_2_2_2

Layout (samples in columns): ``X (2, 1)``, ``W1 (2, 2)`` (row j: hidden unit j's weights),
``W2 (2, 2)``, ``b1, b2 (2, 1)``. Mazur shares one bias per layer; here each unit has its own
copy of the same value, and the step below updates only the weights he updates.
"""

from __future__ import annotations

import argparse

import numpy as np

import reference_nn as rn

LEARNING_RATE = 0.5
# Mazur's published values (9 significant digits), for the side-by-side print.
PUBLISHED_OUTPUTS = {"out_o1": 0.75136507, "out_o2": 0.772928465}
PUBLISHED_TOTAL_ERROR = 0.298371109
PUBLISHED_WEIGHTS_AFTER = {
    "w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
    "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121,
}  # fmt: skip
# Mazur's names for the reference's matrix entries: (parameter, row, column).
WEIGHT_NAMES = {
    "w1": ("W1", 0, 0), "w2": ("W1", 0, 1), "w3": ("W1", 1, 0), "w4": ("W1", 1, 1),
    "w5": ("W2", 0, 0), "w6": ("W2", 0, 1), "w7": ("W2", 1, 0), "w8": ("W2", 1, 1),
}  # fmt: skip


def mazur_network() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``(params, X (2, 1), Y (2, 1))`` of the published example."""
    params = {
        "W1": np.array([[0.15, 0.20], [0.25, 0.30]]),
        "b1": np.array([[0.35], [0.35]]),
        "W2": np.array([[0.40, 0.45], [0.50, 0.55]]),
        "b2": np.array([[0.60], [0.60]]),
    }
    return params, np.array([[0.05], [0.10]]), np.array([[0.01], [0.99]])


def one_sgd_step() -> dict[str, object]:
    """Forward, cost, backward and one step of plain gradient descent; every intermediate."""
    params, X, Y = mazur_network()
    AL, caches = rn.model_forward(X, params, ["sigmoid", "sigmoid"])
    cost = float(rn.compute_cost(AL, Y, "mse"))
    grads = rn.model_backward(AL, Y, caches, "mse")
    updated = rn.update_parameters(params, grads, LEARNING_RATE)
    return {"params": params, "hidden": caches[0].A, "outputs": AL, "cost": cost, "grads": grads, "updated": updated}


def report(step: dict) -> str:
    """The step as text: each of w1..w8 before, its gradient, after, and Mazur's published value."""
    outputs = step["outputs"]
    hidden = step["hidden"]
    lines = [
        "Forward pass",
        f"  out_h1 = {hidden[0, 0]:.9f}   out_h2 = {hidden[1, 0]:.9f}",
        f"  out_o1 = {outputs[0, 0]:.9f}   (published {PUBLISHED_OUTPUTS['out_o1']})",
        f"  out_o2 = {outputs[1, 0]:.9f}   (published {PUBLISHED_OUTPUTS['out_o2']})",
        f"  E_total = {step['cost']:.9f}   (published {PUBLISHED_TOTAL_ERROR})",
        "",
        f"One SGD step, learning rate {LEARNING_RATE}",
        f"  {'weight':6} {'before':>8} {'dE/dw':>14} {'after':>14} {'published':>12} {'|diff|':>9}",
    ]
    for name, (parameter, row, column) in WEIGHT_NAMES.items():
        before = step["params"][parameter][row, column]
        gradient = step["grads"][f"d{parameter}"][row, column]
        after = step["updated"][parameter][row, column]
        published = PUBLISHED_WEIGHTS_AFTER[name]
        lines.append(
            f"  {name:6} {before:8.2f} {gradient:14.9f} {after:14.9f} {published:12.9f} {abs(after - published):9.1e}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry with the other examples")
    parser.parse_args(argv)
    print(report(one_sgd_step()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
