"""The two 'Done when' cases of issue 24, as a user writes them: real-valued (not complex-safe) losses.

    python -m benchmarks.scale_cases            # both cases, right and a 3% wrong row, ~2 min on 2 cores
    python -m benchmarks.scale_cases --case mnist_sgd --variant right

* ``mnist_sgd``: a 784-256-128-10 sigmoid MLP (235,146 parameters, batch 64, softmax cross-entropy)
  whose loss is ``float(...)`` of a NumPy forward using ``scipy.special.expit``, and whose gradient a
  user recovers from one SGD update step: ``(W - W_new) / lr`` (the update is written in place).
* ``mlp1m_float``: a 784-1024-192-10 tanh MLP (1,002,570 parameters, batch 64) whose loss returns
  ``float(...)`` and whose backward is written by hand.

Variants: ``right``; ``row``: row 7 of the first weight's gradient 3% too large.
Prints per tensor the verdict, the stated per-element tolerance as a share of the tensor's gradient
RMS, evaluations and seconds. Writes nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reference_nn.gradcheck import check_gradients

BATCH = 64
ROW = 7


def _init(dims, rng):
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1])) / np.sqrt(dims[layer - 1])
        params[f"b{layer}"] = 0.1 * rng.standard_normal((dims[layer], 1))
    return params


class MnistSgd:
    """784-256-128-10 sigmoid (expit) MLP; loss via float(); gradient from an in-place SGD update."""

    dims = (784, 256, 128, 10)
    lr = 0.1

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.params = _init(self.dims, rng)
        self.X = rng.uniform(0.0, 1.0, (self.dims[0], BATCH))  # pixel-like inputs
        self.Y = np.eye(self.dims[-1])[:, rng.integers(0, self.dims[-1], BATCH)]
        self.depth = len(self.dims) - 1

    def forward(self, p):
        from scipy.special import expit

        A, cache = self.X, [self.X]
        for layer in range(1, self.depth + 1):
            Z = p[f"W{layer}"] @ A + p[f"b{layer}"]
            A = expit(Z) if layer < self.depth else Z
            cache.append(A)
        return cache

    def loss(self, p):
        Z = self.forward(p)[-1]
        Z = Z - Z.max(axis=0, keepdims=True)
        return float(-np.sum(self.Y * (Z - np.log(np.exp(Z).sum(axis=0, keepdims=True)))) / BATCH)

    def sgd_step(self, p):
        """One SGD step written the usual way: backward, then W -= lr * dW in place."""
        new = {k: v.copy() for k, v in p.items()}
        cache = self.forward(new)
        Z = cache[-1] - cache[-1].max(axis=0, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)
        dZ = (P - self.Y) / BATCH
        for layer in range(self.depth, 0, -1):
            A_prev = cache[layer - 1]
            dW, db = dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
            if layer > 1:
                dZ = (new[f"W{layer}"].T @ dZ) * A_prev * (1.0 - A_prev)
            new[f"W{layer}"] -= self.lr * dW
            new[f"b{layer}"] -= self.lr * db
        return new

    def grads(self, p, variant: str = "right"):
        new = self.sgd_step(p)
        g = {k: (p[k] - new[k]) / self.lr for k in p}  # the gradient a user recovers from the update
        if variant == "row":
            g["W1"][ROW] *= 1.03
        return g


class Mlp1mFloat:
    """784-1024-192-10 tanh MLP, softmax cross-entropy; loss returns float(); backward by hand."""

    dims = (784, 1024, 192, 10)

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.params = _init(self.dims, rng)
        self.X = rng.standard_normal((self.dims[0], BATCH))
        self.Y = np.eye(self.dims[-1])[:, rng.integers(0, self.dims[-1], BATCH)]
        self.depth = len(self.dims) - 1

    def forward(self, p):
        A, cache = self.X, [self.X]
        for layer in range(1, self.depth + 1):
            Z = p[f"W{layer}"] @ A + p[f"b{layer}"]
            A = np.tanh(Z) if layer < self.depth else Z
            cache.append(A)
        return cache

    def loss(self, p):
        Z = self.forward(p)[-1]
        Z = Z - Z.max(axis=0, keepdims=True)
        return float(-(self.Y * (Z - np.log(np.exp(Z).sum(axis=0, keepdims=True)))).sum() / BATCH)

    def grads(self, p, variant: str = "right"):
        cache = self.forward(p)
        Z = cache[-1] - cache[-1].max(axis=0, keepdims=True)
        dZ = (np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True) - self.Y) / BATCH
        g = {}
        for layer in range(self.depth, 0, -1):
            A_prev = cache[layer - 1]
            g[f"W{layer}"], g[f"b{layer}"] = dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
            if layer > 1:
                dZ = (p[f"W{layer}"].T @ dZ) * (1.0 - A_prev * A_prev)
        if variant == "row":
            g["W1"][ROW] *= 1.03
        return g


CASES = {"mnist_sgd": MnistSgd, "mlp1m_float": Mlp1mFloat}


def run(case: str, variant: str, **kwargs) -> dict:
    """Check one case; returns the report, seconds and the per-tensor stated tolerance / RMS."""
    net = CASES[case]()
    start = time.perf_counter()
    report = check_gradients(net.loss, lambda p: net.grads(p, variant), net.params, **kwargs)
    seconds = time.perf_counter() - start
    return {"report": report, "seconds": seconds, "n": sum(v.size for v in net.params.values())}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--variant", choices=["right", "row", "all"], default="all")
    args = parser.parse_args(argv)
    from benchmarks import _common as common

    common.pin_threads(1)
    for case in CASES if args.case == "all" else [args.case]:
        for variant in ("right", "row") if args.variant == "all" else [args.variant]:
            out = run(case, variant)
            report = out["report"]
            print(f"== {case} ({out['n']:,} parameters), {variant}: {report.verdict} in {out['seconds']:.1f} s, "
                  f"{report.n_evaluations} evaluations")
            print(report)


if __name__ == "__main__":
    main()
