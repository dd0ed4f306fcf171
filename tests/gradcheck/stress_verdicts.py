"""Stress run of the verdict contract (a script, not collected by pytest).

    PYTHONPATH=$PWD python tests/gradcheck/stress_verdicts.py 300     # cases per dtype and method

Per dtype (float64, float32, mixed: a float32 first layer feeding float64 weights) and method, N
seeded ClassicNets (gradcheck_nets.py): about half with one planted wrong element in a smooth network
(10% of the tensor's largest entry, at least 1% of the largest gradient RMS), the rest right, half of
those with an exact ReLU kink. Counts PASS / FAIL / INCONCLUSIVE; a right gradient that FAILs is a
false alarm, a planted one that PASSes a false pass (both printed with their report).
"""

import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gradcheck_nets import OUTPUTS, make_net  # noqa: E402

from reference_nn.gradcheck import FAIL, PASS, check_gradients  # noqa: E402

METHODS = ("auto", "central", "richardson", "complex", "directional")
PRECISIONS = ("float64", "float32", "mixed")


def build(precision: str, method: str, i: int):
    """(net, params, grad_f, planted) for case i, seeded by (i, precision, method)."""
    rng = np.random.default_rng([i, PRECISIONS.index(precision), METHODS.index(method)])
    kink, planted = rng.random() < 0.5, rng.random() < 0.5
    hidden = rng.choice(["sigmoid", "tanh"]) if planted else rng.choice(["relu", "sigmoid", "tanh"])
    config = {"n_x": int(rng.integers(1, 6)), "n_h": int(rng.integers(1, 6)), "n_y": int(rng.integers(1, 4)),
              "m": int(rng.integers(1, 7)), "hidden": str(hidden), "output": str(rng.choice(OUTPUTS)),
              "lambd": float(rng.choice([0.0, 0.1])), "weight_scale": float(rng.choice([1e-2, 1e-1, 1.0, 10.0])),
              "dtype": np.float64 if precision == "float64" else np.float32}  # fmt: skip
    net, params = make_net(rng, **config)
    if precision == "mixed":
        params["W2"], params["b2"] = params["W2"].astype(np.float64), params["b2"].astype(np.float64)
        net.Y = net.Y.astype(np.float64)
    if kink and not planted:
        params["b1"][0] = 0
        net.X[:, 0] = 0
    if not planted:
        return net, params, net.grads, False
    right = net.grads(params)
    name = str(rng.choice(["W1", "b1", "W2", "b2"]))
    index = int(rng.integers(0, right["d" + name].size))
    largest_rms = max(float(np.sqrt(np.mean(np.square(g, dtype=np.float64)))) for g in right.values())
    delta = max(0.1 * float(np.max(np.abs(right["d" + name]))), 0.01 * largest_rms) or 1.0

    def wrong(p):
        g = net.grads(p)
        g["d" + name] = g["d" + name].copy()
        g["d" + name].reshape(-1)[index] += delta
        return g

    return net, params, wrong, True


def main(n: int) -> None:
    counts: dict = collections.defaultdict(collections.Counter)
    bad = []
    start = time.time()
    for precision in PRECISIONS:
        for method in METHODS:
            for i in range(n):
                net, params, grad, planted = build(precision, method, i)
                report = check_gradients(net.cost, grad, params, method=method)
                kind = "planted" if planted else ("right+kink" if (params["b1"] == 0).any() else "right")
                counts[precision, method, kind][str(report.verdict)] += 1
                if (planted and report.verdict == PASS) or (not planted and report.verdict == FAIL):
                    bad.append(f"{precision} {method} case {i}:\n{report}")
    for (precision, method, kind), c in sorted(counts.items()):
        print(f"{precision:8} {method:12} {kind:11} n={sum(c.values()):4} PASS={c['PASS']:4} FAIL={c['FAIL']:4} "
              f"INCONCLUSIVE={c['INCONCLUSIVE']:4}")
    print(f"{len(bad)} false alarm(s) or false pass(es) in {time.time() - start:.0f} s")
    print("\n".join(bad))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
