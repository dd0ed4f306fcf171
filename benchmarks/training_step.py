"""Training step: forward + backward + SGD update of one MLP, reference vs torch vs TF vs JAX.

Longer than ~400 lines because the four contenders (NumPy reference, torch eager, TF eager and
tf.function) are written out side by side with the same step, so their work can be compared line by line.

    python -m benchmarks.training_step            # ~2-3 min on 2 cores; writes refnn-output/benchmarks/training_step.*
    python -m benchmarks.training_step --quick    # seconds (the smoke test)

Model: 784-256-128-10, relu, relu, identity, softmax cross-entropy, plain SGD (lr 0.01), batch
32 / 128 / 1024, float32 and float64. Contenders, all from the same initial weights:

* reference: ``model_forward``, ``compute_cost``, ``model_backward``, ``SGD.step`` (functional API)
* torch eager: ``nn.Sequential`` of ``nn.Linear``/``ReLU``, ``F.cross_entropy``, ``optim.SGD``
* TF eager and TF ``tf.function``: ``tf.Variable``s, ``GradientTape``,
  ``softmax_cross_entropy_with_logits``, ``assign_sub`` (raw TF: Keras 3's optimizer wrapper would
  add its own per-call overhead, which is not what this compares)
* JAX jit: one ``jax.jit``-compiled value-and-update (``jax.grad`` of the same cost, SGD), in
  benchmarks/jax_step.py

GFLOP/s counts ``2 m n_in n_out`` per matmul and 3 matmuls per layer (forward, dW, dA), the usual
nominal count. No contender computes dA of the input layer (nothing needs dX), so the work actually
done is 0.72x nominal for this model; the "% of peak" column uses the work actually done. The
ceiling is the measured GFLOP/s of one large ``np.matmul`` in the same dtype.

Two statistics per contender: the median round (the brief's measure) and the best round. On a
shared 2-core machine a neighbour process that holds one core stalls any 2-thread BLAS or OpenMP
call for a scheduler tick (tens of ms), so medians swing with the neighbours' load; the best round
shows what each implementation does when not stalled. Targets are reported for both.

NumPy's OpenBLAS kernel depends on ``OPENBLAS_CORETYPE`` (this machine forces 'Haswell', AVX2, for
old-OpenBLAS safety). With ``--blas both`` (default) the whole comparison runs twice: in this process
as the environment is, and in a child process with ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` removed
(the kernel OpenBLAS picks for this CPU). torch (MKL) and TF (Eigen/oneDNN) do not read them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import reference_nn as rn
from benchmarks import _common as common

LAYER_DIMS = (784, 256, 128, 10)
ACTIVATIONS = ("relu", "relu", "identity")
LOSS = "softmax_cross_entropy"
LEARNING_RATE = 0.01
BATCHES = (32, 128, 1024)
QUICK_BATCHES = (16,)
DTYPES = ("float32", "float64")
CONTENDERS = ("reference", "torch eager", "TF eager", "TF tf.function", "JAX jit")
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
PEAK_TARGET_FACTOR = 1.5  # the brief: within 1.5x of the matmul peak at batch 1024


def nominal_flops(m: int) -> float:
    """3 matmuls per layer of ``2 m n_in n_out`` each (forward, dW, dA)."""
    return 3 * sum(2.0 * m * n_in * n_out for n_in, n_out in zip(LAYER_DIMS[:-1], LAYER_DIMS[1:], strict=True))


def needed_flops(m: int) -> float:
    """The nominal count less dA of the input layer, which no contender computes."""
    return nominal_flops(m) - 2.0 * m * LAYER_DIMS[0] * LAYER_DIMS[1]


def make_problem(m: int, dtype: str, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """He-initialized params, X (784, m) ~ N(0, 1), one-hot Y (10, m), all in ``dtype``."""
    rng = np.random.default_rng(seed)
    params = rn.initialize_parameters(LAYER_DIMS, init="he", seed=seed, dtype=dtype)
    X = rng.standard_normal((LAYER_DIMS[0], m)).astype(dtype)
    Y = np.eye(LAYER_DIMS[-1], dtype=dtype)[:, rng.integers(0, LAYER_DIMS[-1], m)]
    return params, X, Y


# ------------------------------------------------------------------------ the contenders
def reference_step(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Any, Any]:
    """(step, current_params): one call of ``step`` is one full training step of the reference."""
    state = {"params": {k: v.copy() for k, v in params.items()}}
    optimizer = rn.SGD(learning_rate=LEARNING_RATE)

    def step() -> None:
        AL, caches = rn.model_forward(X, state["params"], ACTIVATIONS)
        rn.compute_cost(AL, Y, LOSS)
        grads = rn.model_backward(AL, Y, caches, LOSS)
        state["params"] = optimizer.step(state["params"], grads)

    return step, lambda: state["params"]


def torch_step(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Any, Any]:
    torch = common.import_torch()
    n_layers = len(LAYER_DIMS) - 1
    layers: list[Any] = []
    for layer in range(1, n_layers + 1):
        linear = torch.nn.Linear(LAYER_DIMS[layer - 1], LAYER_DIMS[layer], dtype=getattr(torch, str(X.dtype)))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(params[f"W{layer}"]))  # same (n_out, n_in) layout
            linear.bias.copy_(torch.from_numpy(params[f"b{layer}"][:, 0]))
        layers += [linear, torch.nn.ReLU()] if layer < n_layers else [linear]
    net = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    inputs = torch.from_numpy(np.ascontiguousarray(X.T))  # torch's natural layout: (m, n_features)
    labels = torch.from_numpy(Y.argmax(axis=0))

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(inputs), labels)
        loss.backward()
        optimizer.step()

    def current() -> dict[str, np.ndarray]:
        linears = [module for module in net if isinstance(module, torch.nn.Linear)]
        out = {}
        for layer, linear in enumerate(linears, start=1):
            out[f"W{layer}"] = linear.weight.detach().numpy().copy()
            out[f"b{layer}"] = linear.bias.detach().numpy()[:, None].copy()
        return out

    return step, current


def tensorflow_step(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, compiled: bool) -> tuple[Any, Any]:
    tf = common.import_tensorflow()
    n_layers = len(LAYER_DIMS) - 1
    kernels = [tf.Variable(params[f"W{layer}"].T.copy()) for layer in range(1, n_layers + 1)]  # (n_in, n_out)
    biases = [tf.Variable(params[f"b{layer}"][:, 0].copy()) for layer in range(1, n_layers + 1)]
    variables = kernels + biases
    inputs = tf.constant(np.ascontiguousarray(X.T))
    targets = tf.constant(np.ascontiguousarray(Y.T))
    rate = tf.constant(LEARNING_RATE, dtype=inputs.dtype)

    def step() -> Any:
        with tf.GradientTape() as tape:
            hidden = inputs
            for layer in range(n_layers):
                hidden = tf.matmul(hidden, kernels[layer]) + biases[layer]
                if layer < n_layers - 1:
                    hidden = tf.nn.relu(hidden)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=hidden))
        for variable, gradient in zip(variables, tape.gradient(loss, variables), strict=True):
            variable.assign_sub(rate * gradient)
        return loss

    run = tf.function(step) if compiled else step

    def current() -> dict[str, np.ndarray]:
        out = {}
        for layer in range(1, n_layers + 1):
            out[f"W{layer}"] = kernels[layer - 1].numpy().T.copy()
            out[f"b{layer}"] = biases[layer - 1].numpy()[:, None].copy()
        return out

    return run, current


def build_contenders(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> dict[str, tuple[Any, Any]]:
    contenders = {"reference": reference_step(params, X, Y)}
    if common.import_torch() is not None:
        contenders["torch eager"] = torch_step(params, X, Y)
    if common.import_tensorflow() is not None:
        contenders["TF eager"] = tensorflow_step(params, X, Y, compiled=False)
        contenders["TF tf.function"] = tensorflow_step(params, X, Y, compiled=True)
    from benchmarks.jax_step import import_jax, jax_step  # the JAX contender (benchmarks/jax_step.py)

    if import_jax() is not None:
        contenders["JAX jit"] = jax_step(params, X, Y, LEARNING_RATE, len(LAYER_DIMS) - 1)
    return contenders


def same_update_check(m: int, dtype: str) -> dict[str, float]:
    """Max |theta_after - theta_after_reference| over all params after ONE step from the same start,
    per contender: proof that every contender times the same computation."""
    params, X, Y = make_problem(m, dtype)
    results = {}
    for name, (step, current) in build_contenders(params, X, Y).items():
        step()
        results[name] = current()
    reference = results["reference"]
    return {
        name: float(max(np.max(np.abs(after[key].astype(np.float64) - reference[key])) for key in reference))
        for name, after in results.items()
        if name != "reference"
    }


# ------------------------------------------------------------------------------- measure
def matmul_peak_gflops(dtype: str, size: int, repeats: int, min_seconds: float = 0.5) -> float:
    """GFLOP/s of one ``(size, size) @ (size, size)`` np.matmul in ``dtype``: the fastest of at least
    ``repeats`` calls, repeated for at least ``min_seconds`` (a ceiling: what the BLAS reaches when nothing
    else competes for the cores; a few calls of a small matmul on a loaded machine can all be stalled,
    which once gave a "peak" of 1 GFLOP/s and 918% of it)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    np.matmul(a, b)  # warm-up: thread pool start, page faults
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - started < min_seconds:
        start = time.perf_counter()
        np.matmul(a, b)
        times.append(time.perf_counter() - start)
    return 2.0 * size**3 / min(times) / 1e9


def checked_peaks(peaks: dict[str, float], rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The peaks that are ceilings: a contender's best round above the measured matmul peak means the peak
    measurement was stalled, so it is dropped (None: "not measured") rather than reported as over 100%."""
    checked: dict[str, float | None] = {}
    for dtype, peak in peaks.items():
        best = max((needed_flops(r["batch"]) / r["best_s"] / 1e9 for r in rows if r["dtype"] == dtype), default=0.0)
        checked[dtype] = peak if best <= peak else None
    return checked


def measure(quick: bool) -> dict[str, Any]:
    """Every (dtype, batch): interleaved timings of all contenders, plus the matmul peaks."""
    batches = QUICK_BATCHES if quick else BATCHES
    # Short rounds, many of them: a neighbour's stall (a scheduler tick, ~4-50 ms) then spoils single
    # rounds instead of every round, and the median and best rounds stay meaningful.
    repeats, round_seconds = (3, 0.002) if quick else (41, 0.004)
    peaks = {dtype: matmul_peak_gflops(dtype, 512 if quick else 2048, 3 if quick else 7, 0.3 if quick else 1.0)
             for dtype in DTYPES}  # fmt: skip
    rows = []
    for dtype in DTYPES:
        for m in batches:
            common.log(f"  training step: {dtype} batch {m}")
            params, X, Y = make_problem(m, dtype)
            steps = {name: pair[0] for name, pair in build_contenders(params, X, Y).items()}
            timings = common.interleaved_timings(steps, repeats=repeats, round_seconds=round_seconds)
            reference_time = timings["reference"].median_s
            for name, timing in timings.items():
                rows.append(
                    {
                        "dtype": dtype,
                        "batch": m,
                        "contender": name,
                        "median_s": timing.median_s,
                        "best_s": timing.best_s,
                        "best_vs_reference": timing.best_s / timings["reference"].best_s,
                        "q1_s": timing.q1_s,
                        "q3_s": timing.q3_s,
                        "rounds": timing.samples,
                        "steps_per_round": timing.inner,
                        "time_vs_reference": timing.median_s / reference_time,
                        "gflops_nominal": nominal_flops(m) / timing.median_s / 1e9,
                        "fraction_of_peak": needed_flops(m) / timing.median_s / 1e9 / peaks[dtype],
                    }
                )
    peaks = checked_peaks(peaks, rows)
    for row in rows:
        if peaks[row["dtype"]] is None:
            row["fraction_of_peak"] = None
    return {
        "machine": common.machine_description(),
        "numpy_blas_kernel": common.numpy_blas_kernel(),
        "matmul_peak_gflops": peaks,
        "same_update_max_abs_diff": {dtype: same_update_check(8, dtype) for dtype in DTYPES},
        "rows": rows,
    }


def measure_in_child(args: Any) -> dict[str, Any]:
    """Run :func:`measure` in a child process without the OPENBLAS_* overrides."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "child.json"
        command = [sys.executable, "-m", "benchmarks.training_step", "--child-json", str(path)]
        command += ["--threads", str(args.threads)] + (["--quick"] if args.quick else [])
        subprocess.run(command, env=env, check=True)
        return json.loads(path.read_text())


# -------------------------------------------------------------------------------- report
def evaluate_targets(run: dict[str, Any]) -> list[str]:
    return [line for statistic in ("median_s", "best_s") for line in _targets(run, statistic)]


def _targets(run: dict[str, Any], statistic: str) -> list[str]:
    label = "median round" if statistic == "median_s" else "best round"
    lines = []
    rows = run["rows"]
    by_key = {(r["dtype"], r["batch"], r["contender"]): r for r in rows}
    pairs = [(r["dtype"], r["batch"]) for r in rows if r["contender"] == "reference"]
    torch_ratios = [
        by_key[(d, m, "torch eager")][statistic] / by_key[(d, m, "reference")][statistic]
        for d, m in pairs
        if (d, m, "torch eager") in by_key
    ]
    if torch_ratios:
        worst = min(torch_ratios)
        verdict = "MET" if worst >= 1.0 else "NOT MET"
        lines.append(
            f"- ({label}) Reference no slower than torch eager at every size: **{verdict}** "
            f"(slowest case: torch time / reference time = {worst:.2f}; >= 1 means the reference is as fast or faster)"
        )
    for dtype in DTYPES:
        largest = max((m for d, m in pairs if d == dtype), default=None)
        if largest is None:
            continue
        reference = by_key[(dtype, largest, "reference")]
        achieved = needed_flops(largest) / reference[statistic] / 1e9
        peak = run["matmul_peak_gflops"][dtype]
        if largest != max(BATCHES):
            lines.append(f"- ({label}) {dtype}: the matmul-peak target is at batch {max(BATCHES)}; this run's largest "
                         f"is {largest} (--quick), so no verdict")
            continue
        if peak is None:
            lines.append(f"- ({label}) {dtype}, batch {largest}: matmul peak not measured (a contender ran faster "
                         "than the measured peak: that measurement was stalled), so no verdict")
            continue
        verdict = "MET" if achieved * PEAK_TARGET_FACTOR >= peak else "NOT MET"
        lines.append(
            f"- ({label}) {dtype}, batch {largest}: reference within {PEAK_TARGET_FACTOR}x of the matmul peak: "
            f"**{verdict}** (peak / achieved = {peak / achieved:.2f}; achieved {achieved:.0f} GFLOP/s of work "
            f"done, {nominal_flops(largest) / reference[statistic] / 1e9:.0f} nominal, peak {peak:.0f})"
        )
    return lines


def markdown_for_run(label: str, run: dict[str, Any]) -> str:
    headers = [
        "dtype",
        "batch",
        "contender",
        "time / step (median [IQR])",
        "time vs reference",
        "best round",
        "best vs reference",
        "GFLOP/s (nominal)",
        "% of matmul peak",
    ]
    rows = []
    for r in run["rows"]:
        rows.append(
            [
                r["dtype"],
                r["batch"],
                r["contender"],
                f"{common.fmt_seconds(r['median_s'])} "
                f"[{common.fmt_seconds(r['q1_s'])}–{common.fmt_seconds(r['q3_s'])}]",
                f"{r['time_vs_reference']:.2f}x",
                common.fmt_seconds(r["best_s"]),
                f"{r['best_vs_reference']:.2f}x",
                f"{r['gflops_nominal']:.1f}",
                f"{100 * r['fraction_of_peak']:.0f}%" if r["fraction_of_peak"] is not None else "—",
            ]
        )
    peaks = ", ".join(f"{d}: {g:.0f} GFLOP/s" if g is not None else f"{d}: not measured (stalled)"
                      for d, g in run["matmul_peak_gflops"].items())  # fmt: skip
    same = "; ".join(
        f"{d}: " + ", ".join(f"{n} {v:.1e}" for n, v in diffs.items())
        for d, diffs in run["same_update_max_abs_diff"].items()
    )
    return "\n".join(
        [
            f"### {label}",
            "",
            f"NumPy BLAS kernel: {run['numpy_blas_kernel']}. Matmul peak (one large np.matmul): {peaks}.",
            "",
            common.markdown_table(headers, rows),
            "",
            "Targets:",
            *evaluate_targets(run),
            "",
            f"Same computation check (max |param after 1 step − reference's|, batch 8): {same}.",
        ]
    )


def plot(runs: dict[str, dict[str, Any]]) -> Any:
    plt = common.pyplot()
    figure, axes = plt.subplots(len(runs), len(DTYPES), figsize=(5.5 * len(DTYPES), 3.8 * len(runs)), squeeze=False)
    for row_axes, (label, run) in zip(axes, runs.items(), strict=True):
        for axis, dtype in zip(row_axes, DTYPES, strict=True):
            rows = [r for r in run["rows"] if r["dtype"] == dtype]
            batches = sorted({r["batch"] for r in rows})
            names = [c for c in CONTENDERS if any(r["contender"] == c for r in rows)]
            width = 0.8 / len(names)
            for index, name in enumerate(names):
                values = [
                    next(r["gflops_nominal"] for r in rows if r["batch"] == m and r["contender"] == name)
                    for m in batches
                ]
                axis.bar(np.arange(len(batches)) + index * width, values, width, label=name)
            peak = run["matmul_peak_gflops"][dtype]
            if peak is not None:
                axis.axhline(peak, color="black", linestyle="--", linewidth=1, label="np.matmul peak")
            axis.set_xticks(np.arange(len(batches)) + 0.4 - width / 2, [str(m) for m in batches])
            axis.set_xlabel("batch size")
            axis.set_ylabel("GFLOP/s (nominal, higher is better)")
            axis.set_title(f"{dtype}, {label}", fontsize=9)
            axis.legend(fontsize=7)
    figure.suptitle("784-256-128-10 MLP: forward + backward + SGD step", fontsize=10)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> list[Path]:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--blas",
        choices=("as-is", "unset", "both"),
        default=None,
        help="OPENBLAS_CORETYPE as the environment has it, removed (child process), or both "
        "(default: both; as-is with --quick)",
    )
    parser.add_argument("--child-json", type=Path, help=argparse_hidden())
    args = common.parse_args(parser, argv)
    common.pin_threads(args.threads)
    if args.child_json:
        args.child_json.write_text(json.dumps(measure(args.quick)))
        return [args.child_json]
    if args.blas is None:
        args.blas = "as-is" if args.quick else "both"
    forced = any(v in os.environ for v in BLAS_VARIABLES)
    runs: dict[str, dict[str, Any]] = {}
    if args.blas in ("as-is", "both") or not forced:
        label = "OPENBLAS_CORETYPE as set" if forced else "default environment"
        runs[label] = measure(args.quick)
    if forced and args.blas in ("unset", "both"):
        common.log("  training step: again with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (child process)")
        runs["OPENBLAS_CORETYPE unset"] = measure_in_child(args)
    first = next(iter(runs.values()))
    markdown = "\n\n".join(
        [
            "## Training step: reference vs torch vs TF",
            common.describe_machine_markdown(first["machine"]),
            "Command: `python -m benchmarks.training_step`" + (" --quick" if args.quick else ""),
            *(markdown_for_run(label, run) for label, run in runs.items()),
        ]
    )
    paths = common.write_outputs("training_step", markdown, {"runs": runs}, plot(runs), common.output_dir(args))
    print(markdown)
    return paths


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
