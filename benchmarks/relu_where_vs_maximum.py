"""A/B in one run: the training step (784-256-128-10, softmax cross-entropy, SGD) with the former
np.where ReLU against the committed np.maximum / bool-mask ReLU, interleaved, median of 25 rounds.

    OMP_NUM_THREADS=2 python -m benchmarks.relu_where_vs_maximum
"""

import time

import numpy as np

import reference_nn as rn
from reference_nn.layers import ReLU


class OldReLU(ReLU):
    def evaluate(self, Z):
        return np.where(Z.real > 0, Z, Z.dtype.type(0))

    def backpropagate(self, dA, Z, A):
        return np.where(Z.real > 0, dA, dA.dtype.type(0))


rng = np.random.default_rng(0)
for dt in (np.float32, np.float64):
    for m in (32, 128, 1024):
        X = rng.standard_normal((784, m)).astype(dt)
        Yo = np.eye(10, dtype=dt)[:, rng.integers(0, 10, m)]
        p0 = rn.initialize_parameters([784, 256, 128, 10], dtype=dt)

        def step(acts, p, X=X, Yo=Yo):
            AL, c = rn.model_forward(X, p, acts)
            rn.compute_cost(AL, Yo, "softmax_cross_entropy")
            return rn.SGD(0.01).step(p, rn.model_backward(AL, Yo, c, "softmax_cross_entropy"))

        variants = {"old": [OldReLU(), OldReLU(), "identity"], "new": [ReLU(), ReLU(), "identity"]}
        times = {k: [] for k in variants}
        for _ in range(25):
            for k, acts in variants.items():
                t = time.perf_counter()
                step(acts, p0)
                times[k].append(time.perf_counter() - t)
        old, new = np.median(times["old"]), np.median(times["new"])
        print(f"{dt.__name__} m={m}: old {old * 1e3:.2f} ms, new {new * 1e3:.2f} ms, old/new {old / new:.2f}x")
