"""Gradient checks at scale: 10k, 100k and 1M parameters, right and planted-wrong gradients, every checker.

    python -m benchmarks.gradcheck_scale                 # ~10 min on 2 cores; writes refnn-output/benchmarks/
    python -m benchmarks.gradcheck_scale --update-docs   # the same into benchmarks/results/ (the README quotes it)
    python -m benchmarks.gradcheck_scale --quick         # ~300 parameters, seconds (the smoke test)

The loss is written as a user writes one: a NumPy MLP (tanh hidden layers, softmax cross-entropy,
samples in columns, batch 64) with a hand-written backward pass, in float64 and float32. Cases:
``right``; ``element`` (dW1[3, 5] 1% off); ``row`` (row 7 of dW1 x 1.5); ``all`` (every element of
dW1 x 1.01). Contenders, each given the same loss and backward:

* ``refnn default``: ``check_gradients(loss, grads, params)`` (projections + group testing for large
  tensors, element-wise for small ones);
* ``refnn elementwise``: ``method="elementwise"`` (one evaluation per element), run where predicted
  under ``--max-seconds``, else skipped with the prediction;
* ``torch gradcheck``: ``torch.autograd.gradcheck`` on a custom ``autograd.Function`` whose forward is
  the NumPy loss and whose backward is the hand-written one (how a torch user checks a hand-written
  backward); full mode (2n evaluations) where predicted under ``--max-seconds``, and ``fast_mode``;
* ``jax check_grads``: ``jax.test_util.check_grads(order=1, modes=("rev",))`` on a ``jax.custom_vjp``
  function whose forward calls the NumPy loss (``jax.pure_callback``) and whose backward is the
  hand-written one; float64 runs with ``jax_enable_x64``.

Columns: wall time, evaluations of the loss (JAX's are traced calls: not counted), caught (the
verdict is not a pass), named (the report names the planted element, a row-7 element, or any dW1
element for ``all``; torch and JAX never name one), and the time as a multiple of the default's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _common as common
from reference_nn.gradcheck import check_gradients

SIZES = {"10k": (64, 128, 10), "100k": (784, 128, 10), "1M": (784, 1024, 192, 10)}
QUICK_SIZES = {"~300": (8, 24, 10)}
CASES = ("right", "element", "row", "all")
BATCH = 64
ELEMENT, ROW = (3, 5), 7
CONTENDERS = ("refnn default", "refnn elementwise", "torch gradcheck (full)", "torch gradcheck fast_mode",
              "jax check_grads")
# Seconds per evaluation of the loss, measured per size before the runs: what "predicted" means.
FULL_COST = {"refnn elementwise": 1.0, "torch gradcheck (full)": 2.0}  # evaluations per element


class Problem:
    """A user-written MLP loss and backward at one size and dtype, with a planted case."""

    def __init__(self, dims: tuple[int, ...], dtype, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.params = {}
        for layer in range(1, len(dims)):
            self.params[f"W{layer}"] = (rng.standard_normal((dims[layer], dims[layer - 1]))
                                        / np.sqrt(dims[layer - 1])).astype(dtype)  # fmt: skip
            self.params[f"b{layer}"] = (0.1 * rng.standard_normal((dims[layer], 1))).astype(dtype)
        self.X = rng.standard_normal((dims[0], BATCH)).astype(dtype)
        self.Y = np.eye(dims[-1])[:, rng.integers(0, dims[-1], BATCH)].astype(dtype)
        self.depth, self.dtype, self.calls = len(dims) - 1, np.dtype(dtype), 0
        self.n = sum(v.size for v in self.params.values())

    def forward(self, p):
        A, cache = self.X, [self.X]
        for layer in range(1, self.depth + 1):
            Z = p[f"W{layer}"] @ A + p[f"b{layer}"]
            A = np.tanh(Z) if layer < self.depth else Z
            cache.append(A)
        return cache

    def loss(self, p):
        self.calls += 1
        Z = self.forward(p)[-1]
        shifted = Z - Z.real.max(axis=0, keepdims=True)
        return -(self.Y * (shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True)))).sum() / BATCH

    def grads(self, p, case: str = "right"):
        cache = self.forward(p)
        e = np.exp(cache[-1] - cache[-1].max(axis=0, keepdims=True))
        dZ = (e / e.sum(axis=0, keepdims=True) - self.Y) / BATCH
        out = {}
        for layer in range(self.depth, 0, -1):
            out[f"dW{layer}"] = dZ @ cache[layer - 1].T
            out[f"db{layer}"] = dZ.sum(axis=1, keepdims=True)
            if layer > 1:
                dZ = (p[f"W{layer}"].T @ dZ) * (1 - cache[layer - 1] ** 2)
        dW1 = out["dW1"]
        if case == "element":
            dW1[ELEMENT] *= 1.01
        elif case == "row":
            dW1[ROW] *= 1.5
        elif case == "all":
            dW1 *= 1.01
        return out


def named(case: str, index) -> bool:
    if index is None:
        return False
    return {"right": True, "element": tuple(index) == ELEMENT, "row": index[0] == ROW, "all": True}[case]


# ------------------------------------------------------------------------------ contenders
def refnn(method: str) -> Callable[[Problem, str], dict[str, Any]]:
    def run(problem: Problem, case: str) -> dict[str, Any]:
        report = check_gradients(problem.loss, lambda p: problem.grads(p, case), problem.params, method=method)
        failed = report.failed_parameters
        index = report["W1"].worst_index if failed == ["W1"] else None
        return {"caught": not report.passed, "named": named(case, index) if case != "right" else None,
                "verdict": str(report.verdict)}  # fmt: skip

    return run


class _Stop(Exception):
    """fast_mode found a mismatch and torch re-runs the full check for its message: stopped there."""


# torch's fast mode, on a mismatch, re-runs the slow (2n evaluations) check to write its message: at
# 1M parameters hours. The run is stopped after this many evaluations and counted as caught.
FAST_MODE_MAX_EVALUATIONS = 200


def torch_gradcheck(fast_mode: bool) -> Callable[[Problem, str], dict[str, Any]]:
    def run(problem: Problem, case: str) -> dict[str, Any]:
        torch = common.import_torch()
        names = list(problem.params)

        class UserLoss(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *tensors):
                if fast_mode and problem.calls >= FAST_MODE_MAX_EVALUATIONS:
                    raise _Stop
                ctx.point = {k: t.detach().numpy() for k, t in zip(names, tensors, strict=True)}
                return torch.as_tensor(np.asarray(problem.loss(ctx.point)))

            @staticmethod
            def backward(ctx, upstream):
                g = problem.grads(ctx.point, case)
                return tuple(upstream * torch.from_numpy(np.ascontiguousarray(g[f"d{k}"])) for k in names)

        inputs = [torch.from_numpy(problem.params[k].copy()).requires_grad_() for k in names]
        eps, atol = (1e-6, 1e-5) if problem.dtype == np.float64 else (1e-3, 1e-2)  # torch's float32 advice
        try:
            ok = torch.autograd.gradcheck(UserLoss.apply, inputs, eps=eps, atol=atol, fast_mode=fast_mode,
                                          raise_exception=False)  # fmt: skip
        except _Stop:
            return {"caught": True, "named": False, "verdict": "fail",
                    "note": f"failed; torch's slow re-run for its message stopped at {FAST_MODE_MAX_EVALUATIONS}"}
        return {"caught": not ok, "named": False if case != "right" else None, "verdict": "pass" if ok else "fail"}

    return run


def jax_check_grads(problem: Problem, case: str) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", problem.dtype == np.float64)
    names = list(problem.params)
    shape = jax.ShapeDtypeStruct((), problem.dtype)

    def numpy_loss(*arrays):
        return np.asarray(problem.loss(dict(zip(names, (np.asarray(a) for a in arrays), strict=True))), problem.dtype)

    @jax.custom_vjp
    def f(*arrays):
        return jax.pure_callback(numpy_loss, shape, *arrays)

    def f_fwd(*arrays):
        return f(*arrays), arrays

    def f_bwd(arrays, upstream):
        shapes = tuple(jax.ShapeDtypeStruct(a.shape, a.dtype) for a in arrays)

        def numpy_grads(*values):
            g = problem.grads(dict(zip(names, (np.asarray(v) for v in values), strict=True)), case)
            return tuple(np.asarray(g[f"d{k}"], problem.dtype) for k in names)

        grads = jax.pure_callback(numpy_grads, shapes, *arrays)
        return tuple(upstream * g for g in grads)

    f.defvjp(f_fwd, f_bwd)
    args = tuple(jnp.asarray(problem.params[k]) for k in names)
    try:
        check_grads(f, args, order=1, modes=("rev",))
        ok = True
    except AssertionError:
        ok = False
    return {"caught": not ok, "named": False if case != "right" else None, "verdict": "pass" if ok else "fail"}


def contenders() -> dict[str, Callable[[Problem, str], dict[str, Any]]]:
    table = {"refnn default": refnn("auto"), "refnn elementwise": refnn("elementwise")}
    if common.import_torch() is not None:
        table["torch gradcheck (full)"] = torch_gradcheck(fast_mode=False)
        table["torch gradcheck fast_mode"] = torch_gradcheck(fast_mode=True)
    try:
        import jax  # noqa: F401

        table["jax check_grads"] = jax_check_grads
    except ImportError:
        pass
    return table


# ------------------------------------------------------------------------------- measure
def seconds_per_evaluation(problem: Problem) -> float:
    start = time.perf_counter()
    for _ in range(5):
        problem.loss(problem.params)
    return (time.perf_counter() - start) / 5


def measure(sizes: dict[str, tuple[int, ...]], max_seconds: float, after_size=None) -> list[dict[str, Any]]:
    table, rows = contenders(), []
    for run in table.values():  # first calls: imports, JAX tracing, torch kernel registration
        run(Problem((4, 6, 3), np.float64), "right")
    for label, dims in sizes.items():
        for dtype in (np.float64, np.float32):
            probe = Problem(dims, dtype)
            per_eval = seconds_per_evaluation(probe)
            for case in CASES:
                common.log(f"  gradcheck scale: {label} ({probe.n} parameters) {np.dtype(dtype).name} {case}")
                for name, run in table.items():
                    row = {"size": label, "n_params": probe.n, "dtype": np.dtype(dtype).name, "case": case,
                           "contender": name, "seconds": None, "evaluations": None, "caught": None, "named": None,
                           "note": ""}  # fmt: skip
                    predicted = FULL_COST.get(name, 0.0) * probe.n * per_eval
                    if predicted > max_seconds:
                        row["note"] = f"skipped: {FULL_COST[name] * probe.n:.0f} evaluations, ~{predicted / 60:.0f} min"
                        rows.append(row)
                        continue
                    problem = Problem(dims, dtype)
                    start = time.perf_counter()
                    outcome = run(problem, case)
                    row["seconds"] = time.perf_counter() - start
                    row["evaluations"] = problem.calls if name != "jax check_grads" else None
                    row.update(outcome)
                    rows.append(row)
        if after_size is not None:  # results so far on disk: a long run stopped later still leaves them
            after_size(rows)
    return rows


# -------------------------------------------------------------------------------- report
def markdown(rows: list[dict[str, Any]], machine: dict[str, Any], quick: bool) -> str:
    def default_seconds(r):
        d = next(x for x in rows if x["contender"] == "refnn default" and all(x[k] == r[k] for k in
                                                                              ("size", "dtype", "case")))  # fmt: skip
        return d["seconds"]

    headers = ["size", "dtype", "case", "contender", "wall time", "x default", "evaluations", "caught", "named", "note"]
    body = []
    for r in rows:
        base = default_seconds(r)
        yes_no = {True: "yes", False: "**no**", None: "—"}
        caught = yes_no[r["caught"]] if r["case"] != "right" else ("false alarm" if r["caught"] else "passed")
        body.append([f"{r['size']} ({r['n_params']})", r["dtype"], r["case"], r["contender"],
                     common.fmt_seconds(r["seconds"]) if r["seconds"] is not None else "—",
                     f"{r['seconds'] / base:.2g}x" if r["seconds"] and base else "—",
                     r["evaluations"] if r["evaluations"] is not None else "—", caught,
                     yes_no[r["named"]] if r["case"] != "right" else "—", r["note"]])  # fmt: skip
    return "\n\n".join([
        "## Gradient checks at scale: time, evaluations, caught, named",
        common.describe_machine_markdown(machine),
        "Command: `python -m benchmarks.gradcheck_scale`" + (" --quick" if quick else ""),
        "Model: NumPy MLP " + ", ".join(f"{k}: {'-'.join(map(str, v))}" for k, v in
                                        (QUICK_SIZES if quick else SIZES).items())  # fmt: skip
        + f"; tanh hidden layers, softmax cross-entropy, batch {BATCH}; hand-written backward. Cases: element = "
        f"dW1{ELEMENT} 1% off, row = dW1[{ROW}] x 1.5, all = dW1 x 1.01.",
        common.markdown_table(headers, body),
    ])  # fmt: skip


def plot(rows: list[dict[str, Any]]) -> Any:
    plt = common.pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for axis, case in zip(axes, ("right", "element"), strict=True):
        for name in CONTENDERS:
            measured = [r for r in rows if r["contender"] == name and r["case"] == case and r["dtype"] == "float64"
                        and r["seconds"] is not None]  # fmt: skip
            if measured:
                axis.loglog([r["n_params"] for r in measured], [r["seconds"] for r in measured], "-o", label=name)
        axis.set(xlabel="parameters", title=f"float64, {'right gradient' if case == 'right' else 'one wrong element'}")
    axes[0].set_ylabel("wall time of the check (s)")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> list:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="skip a full (one evaluation per element) check predicted to take longer")  # fmt: skip
    parser.add_argument("--sizes", help=f"comma-separated subset of {','.join(SIZES)} (default all)")
    parser.set_defaults(threads=1)
    args = common.parse_args(parser, argv)
    common.pin_threads(args.threads)
    machine = common.machine_description()

    def write(rows: list[dict[str, Any]]) -> list:
        text = markdown(rows, machine, args.quick)
        figure = plot(rows)
        paths = common.write_outputs("gradcheck_scale", text, {"machine": machine, "rows": rows}, figure,
                                     common.output_dir(args))  # fmt: skip
        common.pyplot().close(figure)
        return paths

    sizes = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        unknown = [k for k in args.sizes.split(",") if k not in SIZES]
        if unknown:
            raise SystemExit(f"error: --sizes: unknown {unknown}; choose from {', '.join(SIZES)}")
        sizes = {k: SIZES[k] for k in args.sizes.split(",")}
    rows = measure(sizes, args.max_seconds, write)
    print(markdown(rows, machine, args.quick))
    return write(rows)


if __name__ == "__main__":
    main()
