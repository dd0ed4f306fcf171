"""An L-layer binary classifier, [LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID, trained with the
classic functional API and binary cross-entropy; the cost is printed every 100 iterations.

The data is a synthetic non-linear problem made with NumPy: points in the square
``[-1, 1]^2`` are labelled 1 inside the ring ``0.3 < r < 0.75`` and 0 elsewhere (no linear
model can separate a ring), plus ``N_NOISE_FEATURES`` uninformative noise features that the
network has to learn to ignore. 10 % of the examples are held out for a test accuracy.

Run::

    python -m reference_nn.examples.deep_classifier               # 2500 iterations, a few seconds; the cost
                                                                  # curve into refnn-output/classifier_cost.png
    python -m reference_nn.examples.deep_classifier --quick       # 300 iterations on fewer points (CI)
    python -m reference_nn.examples.deep_classifier --out plots   # the cost curve into plots/ instead
    python -m reference_nn.examples.deep_classifier --update-docs # ... into docs/images/ (the README's plot)
    python -m reference_nn.examples.deep_classifier --no-plots    # no plot (without matplotlib: said in one line)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import reference_nn as rn
from reference_nn.examples._output import add_output_options, output_folder, plots_wanted, pyplot, run_script

LAYER_DIMS = [5, 20, 7, 5, 1]  # the classic 4-layer shape; n0 = 2 informative + 3 noise features
N_NOISE_FEATURES = 3
LEARNING_RATE = 0.15  # full-batch GD; the brief cost spikes are real (sharpness > 2/lr, then recovery)


def make_ring_data(m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``X (2 + N_NOISE_FEATURES, m)`` uniform in [-1, 1], ``Y (1, m)``: 1 inside the ring 0.3 < r < 0.75."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(2 + N_NOISE_FEATURES, m))
    radius = np.hypot(X[0], X[1])
    Y = ((radius > 0.3) & (radius < 0.75)).astype(np.float64).reshape(1, m)
    return X, Y


def train(
    X: np.ndarray, Y: np.ndarray, num_iterations: int, print_every: int = 100, seed: int = 0
) -> tuple[dict[str, np.ndarray], list[float]]:
    """The classic loop, spelled out: forward, cost, backward, update. Returns (params, costs)."""
    params = rn.initialize_parameters(LAYER_DIMS, init="he", seed=seed)
    costs = []
    for iteration in range(num_iterations):
        AL, caches = rn.model_forward(X, params)  # relu ... relu, sigmoid by default
        cost = float(rn.compute_cost(AL, Y, "bce"))
        grads = rn.model_backward(AL, Y, caches, "bce")
        params = rn.update_parameters(params, grads, LEARNING_RATE)
        costs.append(cost)
        if print_every and (iteration % print_every == 0 or iteration == num_iterations - 1):
            print(f"Cost after iteration {iteration}: {cost:.6f}")
    return params, costs


def accuracy(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    return float(np.mean(rn.predict(X, params) == Y))


def plot_costs(costs: list[float], path: Path) -> None:
    plt = pyplot()

    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    axes.plot(np.arange(len(costs)), costs)
    axes.set(xlabel="iteration (full-batch gradient descent)", ylabel="binary cross-entropy",
             title=f"L-layer classifier {'-'.join(map(str, LAYER_DIMS))} on the ring data")  # fmt: skip
    axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 iterations on 300 points (for CI)")
    parser.add_argument("--iterations", type=int, default=None, help="override the number of iterations")
    add_output_options(parser, "classifier_cost.png")
    args = parser.parse_args(argv)
    plots = plots_wanted(args)  # before the training, not after it
    out = output_folder(args) if plots else None
    m = 300 if args.quick else 1000
    iterations = args.iterations if args.iterations is not None else (300 if args.quick else 2500)
    X, Y = make_ring_data(m)
    n_train = int(0.9 * m)
    params, costs = train(X[:, :n_train], Y[:, :n_train], iterations)
    print(f"train accuracy: {accuracy(params, X[:, :n_train], Y[:, :n_train]):.3f}")
    print(f"test accuracy:  {accuracy(params, X[:, n_train:], Y[:, n_train:]):.3f}")
    if out is not None:
        plot_costs(costs, out / "classifier_cost.png")
        print(f"wrote {out / 'classifier_cost.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main, "deep_classifier"))
