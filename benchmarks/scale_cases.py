"""The two 'Done when' cases of issue 24, as a user writes them: real-valued (not complex-safe) losses.

    python -m benchmarks.scale_cases            # every case, right and a 3% wrong row, ~3 min on 2 cores
    python -m benchmarks.scale_cases --case mnist_sgd --variant right --verbose

* ``mnist_sgd``: a 784-256-128-10 sigmoid MLP (235,146 parameters, batch 64, softmax cross-entropy)
  whose loss is ``float(...)`` of a NumPy forward using ``scipy.special.expit``, and whose gradient a
  user recovers from one SGD update step: ``(W - W_new) / lr`` (the update is written in place).
* ``mlp1m_float``: a 784-1024-192-10 tanh MLP (1,002,570 parameters, batch 64) whose loss returns
  ``float(...)`` and whose backward is written by hand.

Variants: ``right``; ``row``: row 7 of the first weight's gradient 3% too large.
Prints the verdict, time, evaluations and dW1's stated per-element tolerance (a share of its gradient
RMS) per run, a Markdown table, and writes it with the rows as JSON into refnn-output/benchmarks/
(benchmarks/results/ with --update-docs: the README's table quotes it).
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
    label = "784-256-128-10 sigmoid (scipy expit), gradient recovered from an in-place SGD update"

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
    label = "784-1024-192-10 tanh, hand-written backward"

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


class AutoencoderFloat:
    """784-300-784 sigmoid autoencoder (471,584 parameters), MSE (mean over all elements), float() loss;
    the case the README's "Large networks" section names (its W1 was INCONCLUSIVE before issue 24)."""

    dims = (784, 300, 784)
    label = "784-300-784 sigmoid autoencoder, MSE"

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.params = _init(self.dims, rng)
        self.X = rng.uniform(0.0, 1.0, (self.dims[0], BATCH))

    def forward(self, p):
        from scipy.special import expit

        A1 = expit(p["W1"] @ self.X + p["b1"])
        return A1, expit(p["W2"] @ A1 + p["b2"])

    def loss(self, p):
        return float(np.mean((self.forward(p)[1] - self.X) ** 2))

    def grads(self, p, variant: str = "right"):
        A1, A2 = self.forward(p)
        dZ2 = 2.0 * (A2 - self.X) / self.X.size * A2 * (1.0 - A2)
        dZ1 = (p["W2"].T @ dZ2) * A1 * (1.0 - A1)
        g = {"W1": dZ1 @ self.X.T, "b1": dZ1.sum(axis=1, keepdims=True),
             "W2": dZ2 @ A1.T, "b2": dZ2.sum(axis=1, keepdims=True)}
        if variant == "row":
            g["W1"][ROW] *= 1.03
        return g


CASES = {"mnist_sgd": MnistSgd, "mlp1m_float": Mlp1mFloat, "autoencoder_float": AutoencoderFloat}


def run(case: str, variant: str, **kwargs) -> dict:
    """Check one case; returns the report, seconds and the parameter count."""
    net = CASES[case]()
    start = time.perf_counter()
    report = check_gradients(net.loss, lambda p: net.grads(p, variant), net.params, **kwargs)
    seconds = time.perf_counter() - start
    return {"report": report, "seconds": seconds, "n": sum(v.size for v in net.params.values())}


def row_of(case: str, variant: str, out: dict) -> dict:
    report, w1 = out["report"], out["report"]["W1"]
    named = "rows failing a projection: 7 (" in w1.note if variant == "row" else None
    return {"case": case, "description": CASES[case].label, "variant": variant,
            "n_params": out["n"], "verdict": str(report.verdict), "seconds": out["seconds"],
            "evaluations": report.n_evaluations, "W1_tolerance_rms_share": w1.tolerance_rms_share,
            "W1_verified": w1.n_verified, "W1_elements": w1.n_elements, "row_7_named": named,
            "largest_tolerance_rms_share": max((r.tolerance_rms_share for r in report.results.values()
                                                if r.tolerance_rms_share == r.tolerance_rms_share), default=None)}


def markdown(rows: list[dict], machine: dict) -> str:
    from benchmarks import _common as common

    body = []
    for case in dict.fromkeys(r["case"] for r in rows):
        right = next((r for r in rows if r["case"] == case and r["variant"] == "right"), None)
        wrong = next((r for r in rows if r["case"] == case and r["variant"] == "row"), None)
        first = right or wrong
        cells = [first["description"], f"{first['n_params']:,}"]
        cells.append(f"{right['verdict']}, {common.fmt_seconds(right['seconds'])}, {right['evaluations']:,}"
                     if right else "—")
        cells.append(f"{right['W1_tolerance_rms_share']:.1e} x RMS (largest of any tensor "
                     f"{right['largest_tolerance_rms_share']:.1e})" if right else "—")
        cells.append(f"{wrong['verdict']}{' naming row 7' if wrong['row_7_named'] else ''}, "
                     f"{common.fmt_seconds(wrong['seconds'])}, {wrong['evaluations']:,}; dW1 "
                     f"{wrong['W1_verified']:,} of {wrong['W1_elements']:,} verified" if wrong else "—")
        body.append(cells)
    headers = ["network (float() loss)", "parameters", "right: verdict, time, evaluations",
               "stated tolerance of dW1", "row 7 of dW1 x 1.03: verdict, time, evaluations"]
    return "\n\n".join(["## Real-valued losses at scale", common.describe_machine_markdown(machine),
                         "Command: `python -m benchmarks.scale_cases`", common.markdown_table(headers, body)])


def main(argv=None) -> None:
    from benchmarks import _common as common

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--variant", choices=["right", "row", "all"], default="all")
    parser.add_argument("--verbose", action="store_true", help="print every report in full")
    parser.add_argument("--update-docs", action="store_true",
                        help="write benchmarks/results/scale_cases.* (the README quotes them); else refnn-output/")
    args = parser.parse_args(argv)
    common.pin_threads(1)
    machine, rows = common.machine_description(), []
    for case in CASES if args.case == "all" else [args.case]:
        for variant in ("right", "row") if args.variant == "all" else [args.variant]:
            out = run(case, variant)
            rows.append(row_of(case, variant, out))
            print(f"== {case} ({out['n']:,} parameters), {variant}: {out['report'].verdict} in {out['seconds']:.1f} s, "
                  f"{out['report'].n_evaluations} evaluations", flush=True)
            if args.verbose:
                print(out["report"])
    text = markdown(rows, machine)
    print(text)
    out_dir = common.RESULTS_DIR if args.update_docs else common.DEFAULT_OUT
    for path in common.write_outputs("scale_cases", text, {"machine": machine, "rows": rows}, None, out_dir):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
