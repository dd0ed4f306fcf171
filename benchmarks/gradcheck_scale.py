"""Gradient checks at scale: 10k, 100k and 1M parameters, right and planted-wrong gradients, every checker.

    python -m benchmarks.gradcheck_scale                 # ~10 min on 2 cores; writes refnn-output/benchmarks/
    python -m benchmarks.gradcheck_scale --update-docs   # the same into benchmarks/results/ and README's table
    python -m benchmarks.gradcheck_scale --quick         # ~300 parameters, seconds (the smoke test)

The loss is written as a user writes one: a NumPy MLP (tanh hidden layers, softmax cross-entropy,
samples in columns, batch 64) with a hand-written backward pass, in float64 and float32, once
complex-safe (``complex-safe``: refnn uses complex step) and once returning ``float(...)`` (``float()``:
real-valued, as most user code; refnn uses Richardson projections). Cases: ``right``; ``element``
(dW1[3, 5] 1% off); ``row`` (row 7 of dW1 x 1.03); ``all`` (every element of dW1 x 1.01).
Contenders, each given the same loss and backward:

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
LOSSES = ("complex-safe", "float()")
ROW_FACTOR = 1.03
BATCH = 64
ELEMENT, ROW = (3, 5), 7
CONTENDERS = ("refnn default", "refnn elementwise", "torch gradcheck (full)", "torch gradcheck fast_mode",
              "jax check_grads")
# Seconds per evaluation of the loss, measured per size before the runs: what "predicted" means.
FULL_COST = {"refnn elementwise": 1.0, "torch gradcheck (full)": 2.0}  # evaluations per element
# refnn element-wise on a float() loss: Richardson, 2 x 6 levels per element
FULL_COST_REAL_VALUED = {**FULL_COST, "refnn elementwise": 12.0}


class Problem:
    """A user-written MLP loss and backward at one size and dtype, with a planted case."""

    def __init__(self, dims: tuple[int, ...], dtype, seed: int = 0, loss_kind: str = "complex-safe") -> None:
        rng = np.random.default_rng(seed)
        self.params = {}
        for layer in range(1, len(dims)):
            self.params[f"W{layer}"] = (rng.standard_normal((dims[layer], dims[layer - 1]))
                                        / np.sqrt(dims[layer - 1])).astype(dtype)  # fmt: skip
            self.params[f"b{layer}"] = (0.1 * rng.standard_normal((dims[layer], 1))).astype(dtype)
        self.X = rng.standard_normal((dims[0], BATCH)).astype(dtype)
        self.Y = np.eye(dims[-1])[:, rng.integers(0, dims[-1], BATCH)].astype(dtype)
        self.depth, self.dtype, self.calls = len(dims) - 1, np.dtype(dtype), 0
        self.real_valued = loss_kind == "float()"
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
        value = -(self.Y * (shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True)))).sum() / BATCH
        return float(value) if self.real_valued else value

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
            dW1[ROW] *= ROW_FACTOR
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
        share = report["W1"].tolerance_rms_share
        note = f"{report.verdict}; dW1 verified to {share:.0e} x RMS" if share == share else str(report.verdict)
        return {"caught": not report.passed, "named": named(case, index) if case != "right" else None,
                "verdict": str(report.verdict), "note": note}

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
        for loss_kind in LOSSES:
            for dtype in (np.float64, np.float32):
                probe = Problem(dims, dtype, loss_kind=loss_kind)
                per_eval = seconds_per_evaluation(probe)
                for case in CASES:
                    common.log(f"  gradcheck scale: {label} ({probe.n} parameters) {loss_kind} {np.dtype(dtype).name} "
                               f"{case}")  # fmt: skip
                    for name, run in table.items():
                        rows.append(measure_one(name, run, dims, dtype, loss_kind, case, label, per_eval, max_seconds))
        if after_size is not None:  # results so far on disk: a long run stopped later still leaves them
            after_size(rows)
    return rows


def measure_one(name, run, dims, dtype, loss_kind, case, label, per_eval, max_seconds) -> dict[str, Any]:
    problem = Problem(dims, dtype, loss_kind=loss_kind)
    row = {"size": label, "n_params": problem.n, "loss": loss_kind, "dtype": np.dtype(dtype).name, "case": case,
           "contender": name, "seconds": None, "evaluations": None, "caught": None, "named": None, "note": ""}
    cost = (FULL_COST_REAL_VALUED if problem.real_valued else FULL_COST).get(name, 0.0)
    if cost * problem.n * per_eval > max_seconds:
        row["note"] = f"skipped: {cost * problem.n:.0f} evaluations, ~{cost * problem.n * per_eval / 60:.0f} min"
        return row
    start = time.perf_counter()
    outcome = run(problem, case)
    row["seconds"] = time.perf_counter() - start
    row["evaluations"] = problem.calls if name != "jax check_grads" else None
    row.update(outcome)
    return row


# -------------------------------------------------------------------------------- report
def markdown(rows: list[dict[str, Any]], machine: dict[str, Any], quick: bool) -> str:
    def default_seconds(r):
        d = next(x for x in rows if x["contender"] == "refnn default" and all(x.get(k) == r.get(k) for k in
                                                                              ("size", "loss", "dtype", "case")))
        return d["seconds"]

    headers = ["size", "loss", "dtype", "case", "contender", "wall time", "x default", "evaluations", "caught", "named",
               "note"]
    body = []
    for r in rows:
        base = default_seconds(r)
        yes_no = {True: "yes", False: "**no**", None: "—"}
        caught = yes_no[r["caught"]] if r["case"] != "right" else ("false alarm" if r["caught"] else "passed")
        body.append([f"{r['size']} ({r['n_params']})", r.get("loss", "complex-safe"), r["dtype"], r["case"],
                     r["contender"],
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
        + f"; tanh hidden layers, softmax cross-entropy, batch {BATCH}; hand-written backward. Loss: complex-safe "
        "(refnn: complex step) or returning float(...) (refnn: Richardson projections). Cases: element = "
        f"dW1{ELEMENT} 1% off, row = dW1[{ROW}] x {ROW_FACTOR}, all = dW1 x 1.01.",
        common.markdown_table(headers, body),
    ])  # fmt: skip


README_TITLE = "**Gradient checks at scale**"


def readme_table(rows: list[dict[str, Any]]) -> str:
    """The README's summary: one line per (size, loss, dtype, case), one cell per contender: wall time
    and outcome (pass / caught / named / **missed** / false alarm), refnn's stated dW1 tolerance."""
    cells: dict[tuple, dict[str, str]] = {}
    for r in rows:
        key = (f"{r['n_params']:,}", r.get("loss", "complex-safe"), r["dtype"], r["case"])
        if r["seconds"] is None:
            cell = r["note"].replace("skipped: ", "skipped (") + ")" if r["note"] else "—"
        else:
            if r["case"] == "right":
                outcome = "**false alarm**" if r["caught"] else "pass"
            else:
                outcome = ("caught, named" if r["named"] else "caught") if r["caught"] else "**missed**"
            cell = f"{common.fmt_seconds(r['seconds'])} {outcome}"
            if "verified to" in r.get("note", ""):
                cell += f", dW1 to {r['note'].split('verified to ')[1].replace(' x RMS', '')} RMS"
        cells.setdefault(key, {})[r["contender"]] = cell
    headers = ["params", "loss", "dtype", "case", *CONTENDERS]
    body = [[*key, *(by.get(name, "—") for name in CONTENDERS)] for key, by in cells.items()]
    return common.markdown_table(headers, body)


def update_readme(rows: list[dict[str, Any]], readme) -> None:
    """Replace the table under README_TITLE in ``readme`` (a Path) with readme_table(rows)."""
    text = readme.read_text()
    head, sep, rest = text.partition(README_TITLE)
    start = rest.index("\n| params |") + 1
    end = rest.index("\n\n", start)
    readme.write_text(head + sep + rest[:start] + readme_table(rows) + rest[end:])


def plot(rows: list[dict[str, Any]]) -> Any:
    plt = common.pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for axis, case in zip(axes, ("right", "element"), strict=True):
        for name in CONTENDERS:
            for loss_kind in LOSSES:
                measured = [r for r in rows if r["contender"] == name and r["case"] == case and r["dtype"] == "float64"
                            and r.get("loss", "complex-safe") == loss_kind and r["seconds"] is not None]
                if measured and (loss_kind == "complex-safe" or name.startswith("refnn")):
                    axis.loglog([r["n_params"] for r in measured], [r["seconds"] for r in measured],
                                "-o" if loss_kind == "complex-safe" else "--s",
                                label=name if loss_kind == "complex-safe" else f"{name}, float() loss")
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
        text = markdown(rows, machine, args.quick) + "\n\nREADME summary:\n\n" + readme_table(rows)
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
    print(readme_table(rows))
    if args.update_docs:  # the README's table is quoted from these results: refreshed with them
        update_readme(rows, common.RESULTS_DIR.parents[1] / "README.md")
    return write(rows)


if __name__ == "__main__":
    main()
