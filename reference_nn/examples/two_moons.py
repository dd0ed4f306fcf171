"""A small two-layer network on the two-moons data set, with train/test loss curves and the
decision boundary as plots.

The moons are generated with NumPy (the same construction as scikit-learn's ``make_moons``:
an upper half circle and a lower half circle shifted by (1, -0.5), plus Gaussian noise), split
60/40 into train and test sets, and standardized with the mean and standard deviation of the
*train* set only (the test set must not leak into the preprocessing). The network is
2-16-1, tanh then sigmoid, binary cross-entropy, Adam on mini-batches.

Run::

    python -m reference_nn.examples.two_moons                  # writes refnn-output/moons_loss.png, moons_boundary.png
    python -m reference_nn.examples.two_moons --quick --out /tmp   # a small, fast version (CI)
    python -m reference_nn.examples.two_moons --update-docs        # refresh docs/images/ (the README's plots)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import reference_nn as rn
from reference_nn.examples._output import add_output_options, output_folder, plots_wanted, pyplot, run_script

LAYER_DIMS = [2, 16, 1]
ACTIVATIONS = ["tanh", "sigmoid"]


def make_moons(n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``X (2, n_samples)``, ``Y (1, n_samples)`` in {0, 1}: two interleaving half circles, shuffled."""
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower], axis=1) + rng.normal(scale=noise, size=(2, n_samples))
    Y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)]).reshape(1, n_samples)
    order = rng.permutation(n_samples)
    return X[:, order], Y[:, order]


def split_and_standardize(X: np.ndarray, Y: np.ndarray, train_fraction: float = 0.6):
    """60/40 split; mean and std are fitted on the train columns only and applied to both.

    Returns ``(X_train, Y_train, X_test, Y_test, mean (2, 1), std (2, 1))``."""
    n_train = int(round(train_fraction * X.shape[1]))
    X_train, X_test = X[:, :n_train], X[:, n_train:]
    mean = X_train.mean(axis=1, keepdims=True)
    std = X_train.std(axis=1, keepdims=True)
    return (X_train - mean) / std, Y[:, :n_train], (X_test - mean) / std, Y[:, n_train:], mean, std


def bce(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    AL, _ = rn.model_forward(X, params, ACTIVATIONS)
    return float(rn.compute_cost(AL, Y, "bce"))


def train(X_train, Y_train, X_test, Y_test, epochs: int, batch_size: int = 32, seed: int = 0):
    """Adam on shuffled mini-batches; after every epoch the full train and test losses are recorded.

    Returns ``(params, train_losses, test_losses)``, one loss per epoch."""
    train_losses: list[float] = []
    test_losses: list[float] = []

    def record(epoch: int, cost: float, params: dict[str, np.ndarray]) -> None:
        train_losses.append(bce(params, X_train, Y_train))
        test_losses.append(bce(params, X_test, Y_test))

    params, _ = rn.fit(
        X_train, Y_train, LAYER_DIMS, ACTIVATIONS, loss="bce",
        optimizer=rn.Adam(learning_rate=0.01), num_iterations=epochs,
        batch_size=batch_size, seed=seed, init="xavier", callback=record,
    )  # fmt: skip
    return params, train_losses, test_losses


def plot_losses(train_losses, test_losses, path: Path) -> None:
    plt = pyplot()

    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    epochs = np.arange(1, len(train_losses) + 1)
    axes.plot(epochs, train_losses, label="train (60 %)")
    axes.plot(epochs, test_losses, label="test (40 %)")
    axes.set(xlabel="epoch", ylabel="binary cross-entropy", title="Two moons: loss per epoch (2-16-1, Adam)")
    axes.set_yscale("log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def plot_boundary(params, X, Y, n_train: int, mean, std, path: Path) -> None:
    """Predicted probability over a grid in the original coordinates, with the 0.5 contour."""
    plt = pyplot()

    x_grid, y_grid = np.meshgrid(
        np.linspace(X[0].min() - 0.5, X[0].max() + 0.5, 300), np.linspace(X[1].min() - 0.5, X[1].max() + 0.5, 300)
    )
    grid = np.stack([x_grid.ravel(), y_grid.ravel()])
    probability, _ = rn.model_forward((grid - mean) / std, params, ACTIVATIONS)
    probability = probability.reshape(x_grid.shape)

    figure, axes = plt.subplots(figsize=(6, 4.5), dpi=100)
    filled = axes.contourf(x_grid, y_grid, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    axes.contour(x_grid, y_grid, probability, levels=[0.5], colors="k", linewidths=1.5)
    for columns, marker, label in ((slice(0, n_train), "o", "train"), (slice(n_train, None), "^", "test")):
        axes.scatter(X[0, columns], X[1, columns], c=Y[0, columns], cmap="RdBu_r", marker=marker,
                     edgecolors="k", linewidths=0.4, s=18, label=label)  # fmt: skip
    figure.colorbar(filled, ax=axes, label="P(class 1)")
    axes.set(xlabel="x1", ylabel="x2", title="Two moons: decision boundary (black: P = 0.5)")
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 points, 20 epochs (for CI)")
    add_output_options(parser, "moons_loss.png and moons_boundary.png")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    plots = plots_wanted(args)  # before the training, not after it
    out = output_folder(args) if plots else None
    n_samples = 200 if args.quick else 1000
    epochs = args.epochs if args.epochs is not None else (20 if args.quick else 200)

    X, Y = make_moons(n_samples, noise=0.2, seed=0)
    X_train, Y_train, X_test, Y_test, mean, std = split_and_standardize(X, Y)
    params, train_losses, test_losses = train(X_train, Y_train, X_test, Y_test, epochs)
    train_accuracy = np.mean(rn.predict(X_train, params, ACTIVATIONS) == Y_train)
    test_accuracy = np.mean(rn.predict(X_test, params, ACTIVATIONS) == Y_test)
    print(f"epochs {epochs}: train loss {train_losses[-1]:.4f}, test loss {test_losses[-1]:.4f}")
    print(f"train accuracy {train_accuracy:.3f}, test accuracy {test_accuracy:.3f}")

    if out is not None:
        plot_losses(train_losses, test_losses, out / "moons_loss.png")
        plot_boundary(params, X, Y, X_train.shape[1], mean, std, out / "moons_boundary.png")
        print(f"wrote {out / 'moons_loss.png'} and {out / 'moons_boundary.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main, "two_moons"))
