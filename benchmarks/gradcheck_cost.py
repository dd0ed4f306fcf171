"""Gradient-check cost and accuracy: every parameter of MLPs of ~100 to ~100,000 parameters, float64.

    python -m benchmarks.gradcheck_cost           # ~3-5 min on 2 cores; writes refnn-output/benchmarks/gradcheck_cost.*
    python -m benchmarks.gradcheck_cost --quick   # seconds (the smoke test)

Model: n0-n1-n2-n3, tanh, tanh, identity, softmax cross-entropy, batch 16, float64, xavier weights
plus small random biases (smooth: no ReLU kink can make one method look better by luck). The same
model, weights and data go to every contender:

* reference (generic): ``reference_nn.gradcheck.check_gradients(f, grad_f, params, method=...)`` with
  ``f(params) = compute_cost(model_forward(X, params)[0], Y)``: one call of f per perturbation
* reference (batched): ``reference_nn.gradcheck.batched.check_model_gradients``: the same full check,
  the perturbations pushed through the model many at a time (see that module)
* ``torch.autograd.gradcheck`` (default full mode, and ``fast_mode=True``), eps 1e-6
* ``tf.test.compute_gradient`` (delta 1/1024), same layout as the reference

Error: max over all elements |numerical - analytic| / max |analytic|, the analytic gradient being
the reference's ``model_backward`` (which torch and TF autograd agree with to ~1e-16). For the
projections (reference directional, torch fast mode) it is the error of the projection g.v
relative to its size. torch's numerical values are recorded from the calls its gradcheck makes (the
recorder adds a few % to torch's time); TF returns its numerical Jacobian. Peak memory: the peak RSS
added during the check (``/proc/self/clear_refs``), all allocators included.

A contender whose extrapolated time at the next size exceeds ``--max-seconds`` (60) is skipped there
and the table shows the extrapolation: per-element cost grown by the factor seen between the two
previous sizes. The targets' contenders at ~10k are always measured. Threads: 1 for every
framework by default (``--threads``; see DEFAULT_THREADS for why).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import reference_nn as rn
from benchmarks import _common as common
from reference_nn.gradcheck import check_gradients
from reference_nn.gradcheck.batched import check_model_gradients

SIZES = {  # label: layer_dims
    "~100": (10, 6, 4, 3),
    "~1k": (24, 24, 12, 10),
    "~10k": (64, 96, 32, 10),
    "~100k": (256, 256, 128, 10),
}
QUICK_SIZES = ("~100",)
ACTIVATIONS = ("tanh", "tanh", "identity")
LOSS = "softmax_cross_entropy"
BATCH = 16
TORCH_EPS = 1e-6  # torch.autograd.gradcheck's default eps
SHORT_RUN_SECONDS = 0.3  # runs shorter than this are repeated (3 in all, interleaved) for a median
# The targets' contenders at the target size are measured whatever the extrapolation says.
ALWAYS_MEASURED = {("~10k", "torch gradcheck (full)"), ("~10k", "batched central"), ("~10k", "reference central")}
# Threads per framework. These models' matmuls (at most 256 x 256 by 16 columns) are far below any
# BLAS/OpenMP threading threshold, and on a shared 2-core machine a second thread only adds stalls:
# torch gradcheck full mode at ~1k took 0.39 s with 1 thread and 6.5 to 55 s with 2 while another
# process held the other core. The same count for every contender keeps the comparison fair.
DEFAULT_THREADS = 1
TARGET_SPEEDUP = 10.0  # the brief: full central check >= 10x faster than torch's full mode at ~10k
TARGET_ERROR_RATIO = 100.0  # the brief: error >= 100x smaller via complex step or Richardson


@dataclass
class Problem:
    params: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    analytic: dict[str, np.ndarray]  # keyed W1, b1, ...

    @property
    def n_params(self) -> int:
        return sum(v.size for v in self.params.values())

    @property
    def largest_gradient(self) -> float:
        return max(float(np.max(np.abs(g))) for g in self.analytic.values())


@dataclass
class Outcome:
    evaluations: int  # calls of the cost function (batched: perturbed costs, see passes)
    error: float
    note: str = ""


def make_problem(dims: tuple[int, ...], seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    params = rn.initialize_parameters(dims, init="xavier", seed=seed)
    params = {k: v + (0.1 * rng.standard_normal(v.shape) if k.startswith("b") else 0) for k, v in params.items()}
    X = rng.standard_normal((dims[0], BATCH))
    Y = np.eye(dims[-1])[:, rng.integers(0, dims[-1], BATCH)]
    AL, caches = rn.model_forward(X, params, ACTIVATIONS)
    grads = rn.model_backward(AL, Y, caches, LOSS)
    return Problem(params, X, Y, {k: grads[f"d{k}"] for k in params})


# ------------------------------------------------------------------------------ contenders
def reference_generic(method: str) -> Callable[[Problem], Outcome]:
    def run(problem: Problem) -> Outcome:
        def cost(p: dict[str, np.ndarray]) -> Any:
            return rn.compute_cost(rn.model_forward(problem.X, p, ACTIVATIONS)[0], problem.Y, LOSS)

        def gradient(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            AL, caches = rn.model_forward(problem.X, p, ACTIVATIONS)
            return rn.model_backward(AL, problem.Y, caches, LOSS)

        report = check_gradients(cost, gradient, problem.params, method=method)
        return Outcome(report.n_evaluations, _report_error(report, problem), "" if report.passed else "FAILED")

    return run


def reference_batched(method: str) -> Callable[[Problem], Outcome]:
    def run(problem: Problem) -> Outcome:
        report = check_model_gradients(problem.params, problem.X, problem.Y, ACTIVATIONS, LOSS, method=method)
        note = report.notes[0] if report.notes else ""
        return Outcome(report.n_evaluations, _report_error(report, problem), note if report.passed else "FAILED")

    return run


def _report_error(report: Any, problem: Problem) -> float:
    results = report.results.values()
    if any(r.worst_index is None for r in results):  # projections: their own relative error
        return max(r.max_rel_error for r in results)
    return max(r.max_abs_error for r in results) / problem.largest_gradient


class _TorchRecorder:
    """Wraps the torch cost so every call gradcheck makes is counted and, for perturbed calls,
    the perturbation (as the flat difference from the unperturbed inputs) and output are kept."""

    def __init__(self, torch: Any, problem: Problem) -> None:
        self.torch = torch
        self.names = list(problem.params)
        self.inputs = [torch.from_numpy(problem.params[k].copy()).requires_grad_() for k in self.names]
        self.origin = torch.cat([t.detach().reshape(-1) for t in self.inputs])
        self.X = torch.from_numpy(problem.X)
        self.Y = torch.from_numpy(problem.Y)
        self.calls = 0
        self.single: dict[tuple[int, int], float] = {}  # (flat index, sign) -> output
        self.directions: list[tuple[Any, float]] = []

    def cost(self, *tensors: Any) -> Any:
        torch = self.torch
        self.calls += 1
        A = self.X
        for layer in range(len(tensors) // 2):
            Z = tensors[2 * layer] @ A + tensors[2 * layer + 1]
            A = torch.tanh(Z) if layer < len(tensors) // 2 - 1 else Z
        out = -(self.Y * torch.log_softmax(A, dim=0)).sum() / A.shape[1]
        value = float(out.detach())
        delta = torch.cat([t.detach().reshape(-1) for t in tensors]) - self.origin
        moved = torch.nonzero(delta).reshape(-1)
        if moved.numel() == 1:
            index = int(moved[0])
            self.single[(index, 1 if float(delta[index]) > 0 else -1)] = value
        elif moved.numel() > 1:
            self.directions.append((delta.clone(), value))
        return out

    def full_error(self, problem: Problem) -> float:
        analytic = np.concatenate([problem.analytic[k].reshape(-1) for k in self.names])
        numeric = np.array(
            [(self.single[(i, 1)] - self.single[(i, -1)]) / (2 * TORCH_EPS) for i in range(analytic.size)]
        )
        return float(np.max(np.abs(numeric - analytic)) / problem.largest_gradient)

    def projection_error(self, problem: Problem) -> float:
        """|numerical - analytic| / |analytic| of the directional derivatives of each +-d pair."""
        analytic = np.concatenate([problem.analytic[k].reshape(-1) for k in self.names])
        worst = 0.0
        for position, (delta, out) in enumerate(self.directions):
            for other, other_out in self.directions[position + 1 :]:
                if self.torch.allclose(delta, -other, rtol=1e-6, atol=0):
                    d = delta.numpy()
                    numerical, exact = (out - other_out) / 2, float(analytic @ d)
                    worst = max(worst, abs(numerical - exact) / abs(exact))
        return worst


def torch_gradcheck(fast_mode: bool) -> Callable[[Problem], Outcome]:
    def run(problem: Problem) -> Outcome:
        torch = common.import_torch()
        recorder = _TorchRecorder(torch, problem)
        passed = torch.autograd.gradcheck(recorder.cost, recorder.inputs, fast_mode=fast_mode, raise_exception=False)
        error = recorder.projection_error(problem) if fast_mode else recorder.full_error(problem)
        return Outcome(recorder.calls, error, "" if passed else "FAILED")

    return run


def tf_compute_gradient(problem: Problem) -> Outcome:
    tf = common.import_tensorflow()
    names = list(problem.params)
    X, Y = tf.constant(problem.X), tf.constant(problem.Y)
    calls = [0]

    def cost(*tensors: Any) -> Any:
        calls[0] += 1
        A = X
        for layer in range(len(tensors) // 2):
            Z = tf.matmul(tensors[2 * layer], A) + tensors[2 * layer + 1]
            A = tf.tanh(Z) if layer < len(tensors) // 2 - 1 else Z
        return -tf.reduce_sum(Y * tf.nn.log_softmax(A, axis=0)) / A.shape[1]

    _, numerical = tf.test.compute_gradient(cost, [tf.constant(problem.params[k]) for k in names])
    worst = max(
        float(np.max(np.abs(n.reshape(-1) - problem.analytic[k].reshape(-1))))
        for k, n in zip(names, numerical, strict=True)
    )
    return Outcome(calls[0], worst / problem.largest_gradient)


def contenders() -> dict[str, Callable[[Problem], Outcome]]:
    table: dict[str, Callable[[Problem], Outcome]] = {
        "reference central": reference_generic("central"),
        "reference richardson": reference_generic("richardson"),
        "reference complex": reference_generic("complex"),
        "reference directional": reference_generic("directional"),
        "batched central": reference_batched("central"),
        "batched richardson": reference_batched("richardson"),
        "batched complex": reference_batched("complex"),
    }
    if common.import_torch() is not None:
        table["torch gradcheck (full)"] = torch_gradcheck(fast_mode=False)
        table["torch gradcheck fast_mode"] = torch_gradcheck(fast_mode=True)
    if common.import_tensorflow() is not None:
        table["tf.test.compute_gradient"] = tf_compute_gradient
    return table


# ------------------------------------------------------------------------------- measure
def extrapolate(history: list[tuple[int, float]], n: int) -> float:
    """Seconds at n parameters from earlier (n, seconds): the last per-element cost, grown by the
    factor seen between the last two sizes (per-evaluation cost grows with the model), that factor
    capped at the growth of the forward pass's work (~ n / n_last) so one noisy size cannot explode it."""
    (n_last, t_last) = history[-1]
    growth = 1.0
    if len(history) > 1:
        n_prev, t_prev = history[-2]
        growth = min(max(1.0, (t_last / n_last) / (t_prev / n_prev)), n / n_last)
    return t_last * (n / n_last) * growth


def timed(run: Callable[[Problem], Outcome], problem: Problem) -> tuple[float, Outcome, float | None]:
    with common.PeakMemory() as memory:
        start = time.perf_counter()
        outcome = run(problem)
        seconds = time.perf_counter() - start
    return seconds, outcome, memory.mib


def measure(sizes: tuple[str, ...], max_seconds: float) -> list[dict[str, Any]]:
    table = contenders()
    warm = make_problem(SIZES["~100"], seed=1)
    for run in table.values():  # first calls: imports, torch/TF kernel registration, caches
        run(warm)
    history: dict[str, list[tuple[int, float]]] = {name: [] for name in table}
    rows = []
    for label in sizes:
        problem = make_problem(SIZES[label])
        common.log(f"  gradcheck cost: {label} ({problem.n_params} parameters)")
        times: dict[str, list[float]] = {}
        results: dict[str, tuple[Outcome, float | None]] = {}
        for name, run in table.items():
            if history[name] and (label, name) not in ALWAYS_MEASURED:
                predicted = extrapolate(history[name], problem.n_params)
                if predicted > max_seconds:
                    rows.append(
                        _row(label, problem, name, None, None, None, f"skipped: extrapolated {predicted:.0f} s")
                    )
                    continue
            seconds, outcome, mib = timed(run, problem)
            times[name], results[name] = [seconds], (outcome, mib)
        for _ in range(2):  # short runs: two more interleaved rounds, median of three
            for name in [n for n, t in times.items() if t[0] < SHORT_RUN_SECONDS]:
                start = time.perf_counter()
                table[name](problem)
                times[name].append(time.perf_counter() - start)
        for name, values in times.items():
            seconds = float(np.median(values))
            history[name].append((problem.n_params, seconds))
            outcome, mib = results[name]
            rows.append(_row(label, problem, name, seconds, outcome, mib, outcome.note))
    return rows


def _row(label, problem, name, seconds, outcome, mib, note) -> dict[str, Any]:
    return {
        "size": label,
        "layer_dims": SIZES[label],
        "n_params": problem.n_params,
        "contender": name,
        "seconds": seconds,
        "evaluations": None if outcome is None else outcome.evaluations,
        "max_rel_error": None if outcome is None else outcome.error,
        "peak_mib": mib,
        "note": note,
    }


# -------------------------------------------------------------------------------- report
def _lookup(rows, size, contender) -> dict[str, Any] | None:
    return next((r for r in rows if r["size"] == size and r["contender"] == contender), None)


def evaluate_targets(rows: list[dict[str, Any]]) -> list[str]:
    size = "~10k" if _lookup(rows, "~10k", "batched central") else rows[-1]["size"]
    torch_full = _lookup(rows, size, "torch gradcheck (full)")
    lines = []
    if torch_full is None or torch_full["seconds"] is None:
        return [f"- Targets need torch gradcheck (full) at {size}: not measured."]
    for contender in ("batched central", "reference central"):
        row = _lookup(rows, size, contender)
        if row and row["seconds"]:
            speedup = torch_full["seconds"] / row["seconds"]
            verdict = "MET" if speedup >= TARGET_SPEEDUP else "NOT MET"
            lines.append(
                f"- Full central-difference check ({contender}) >= {TARGET_SPEEDUP:.0f}x faster than torch gradcheck "
                f"full mode at {size} ({row['n_params']} parameters): **{verdict}** ({speedup:.1f}x)"
            )
    accurate = [
        r
        for r in rows
        if r["size"] == size
        and r["max_rel_error"] is not None
        and any(m in r["contender"] for m in ("complex", "richardson"))
    ]
    if accurate:
        best = min(accurate, key=lambda r: r["max_rel_error"])
        ratio = torch_full["max_rel_error"] / max(best["max_rel_error"], 1e-300)
        verdict = "MET" if ratio >= TARGET_ERROR_RATIO else "NOT MET"
        lines.append(
            f"- Error >= {TARGET_ERROR_RATIO:.0f}x smaller than torch full mode via complex step or Richardson "
            f"at {size}: **{verdict}** ({best['contender']}: {best['max_rel_error']:.1e} vs torch "
            f"{torch_full['max_rel_error']:.1e}, {ratio:.0e}x)"
        )
    return lines


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any], quick: bool) -> str:
    headers = [
        "size (params)",
        "contender",
        "wall time",
        "speed-up vs torch full",
        "f evaluations",
        "max rel. error",
        "peak RSS added",
        "note",
    ]
    body = []
    for r in rows:
        torch_full = _lookup(rows, r["size"], "torch gradcheck (full)")
        ratio = ""
        if r["seconds"] and torch_full and torch_full["seconds"]:
            ratio = f"{torch_full['seconds'] / r['seconds']:.2g}x"
        body.append(
            [
                f"{r['size']} ({r['n_params']})",
                r["contender"],
                common.fmt_seconds(r["seconds"]) if r["seconds"] is not None else "—",
                ratio,
                r["evaluations"] if r["evaluations"] is not None else "—",
                f"{r['max_rel_error']:.1e}" if r["max_rel_error"] is not None else "—",
                f"{r['peak_mib']:.1f} MiB" if r["peak_mib"] is not None else "—",
                r["note"],
            ]
        )
    return "\n\n".join(
        [
            "## Gradient check: cost and accuracy, float64",
            common.describe_machine_markdown(machine),
            "Command: `python -m benchmarks.gradcheck_cost`" + (" --quick" if quick else ""),
            "Model: "
            + ", ".join(f"{k}: {'-'.join(map(str, v))}" for k, v in SIZES.items())
            + f"; tanh, tanh, identity; softmax cross-entropy; batch {BATCH}.",
            common.markdown_table(headers, body),
            "Targets:\n" + "\n".join(evaluate_targets(rows)),
        ]
    )


def plot(rows: list[dict[str, Any]]) -> Any:
    plt = common.pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name in dict.fromkeys(r["contender"] for r in rows):
        measured = [r for r in rows if r["contender"] == name and r["seconds"] is not None]
        if not measured:
            continue
        style = "-o" if name.startswith("batched") else "--s" if name.startswith("reference") else ":^"
        n = [r["n_params"] for r in measured]
        left.loglog(n, [r["seconds"] for r in measured], style, label=name)
        right.loglog(n, [max(r["max_rel_error"], 1e-17) for r in measured], style, label=name)
    left.set(xlabel="parameters checked", ylabel="wall time of the full check (s)", title="Cost (lower is better)")
    right.set(
        xlabel="parameters checked",
        ylabel="max |numerical - analytic| / max |analytic|",
        title="Accuracy (lower is better)",
    )
    left.legend(fontsize=7)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> list[Path]:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=60.0, help="skip a contender predicted to take longer")
    parser.set_defaults(threads=DEFAULT_THREADS)
    args = common.parse_args(parser, argv)
    common.pin_threads(args.threads)
    sizes = QUICK_SIZES if args.quick else tuple(SIZES)
    rows = measure(sizes, args.max_seconds)
    machine = common.machine_description()
    text = markdown(rows, machine, args.quick)
    paths = common.write_outputs(
        "gradcheck_cost", text, {"machine": machine, "rows": rows}, plot(rows), common.output_dir(args)
    )
    print(text)
    return paths


if __name__ == "__main__":
    main()
