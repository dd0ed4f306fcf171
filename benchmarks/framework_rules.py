"""Hand-written framework rules at scale: check_torch vs torch gradcheck (slow, fast_mode) and jax check_grads.

    python -m benchmarks.framework_rules                    # 1k, 100k, 1M; writes refnn-output/benchmarks/
    python -m benchmarks.framework_rules --sizes 1k,100k    # a subset
    python -m benchmarks.framework_rules --update-docs      # into benchmarks/results/ and README's table
    python -m benchmarks.framework_rules --quick            # 200 elements, one dtype (the smoke test)

The rule: SiLU, y = x sigmoid(x), as a ``torch.autograd.Function`` (and the same rule as a
``jax.custom_vjp`` for check_grads), on a vector x of n elements, in float64, float32 and bfloat16.
Cases: ``right``; ``element`` (dx[n // 3] x 1.1); ``sign`` (the backward uses 1.2 g where g < 0: right
for positive upstream gradients); ``missing term`` (g sigmoid(x), the x s (1 - s) term forgotten);
``double`` (right values, but sigmoid(x) saved from the no-grad forward: the backward's own
derivative is wrong; checked at order 2: check_torch(order=2), gradgradcheck, check_grads(order=2)).
Contenders: ``refnn check_torch`` (its default method; --max-seconds as its time_budget: what is
not verified by then is INCONCLUSIVE, a wrong element found stays FAIL); ``torch gradcheck`` (slow
mode builds the dense n x n Jacobian: skipped where that exceeds 2 GB); ``torch fast_mode`` (on a
mismatch torch re-runs slow mode to write its message: stopped after 200 forward calls and counted
as caught); ``jax check_grads`` (modes=("rev",), its default eps and tolerances per dtype; x64 on for
float64). torch's tolerances: its defaults for float64; for float32 eps 1e-3, atol 1e-2 (the advice
torch users get); for bfloat16 eps 1e-2, atol = rtol = 1e-1.
Columns: verdict (PASS / FAIL / INCONCLUSIVE for refnn, pass / fail for the anchors), caught (a
planted bug not passed), named (refnn's report names the planted element for ``element``), forward
calls of the op (JAX's jitted calls are not counted), seconds. Right cases: a fail is a false alarm.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks import _common as common

SIZES = {"1k": 1_000, "100k": 100_000, "1M": 1_000_000}
QUICK_SIZES = {"200": 200}
DTYPES = ("float64", "float32", "bfloat16")
CASES = ("right", "element", "sign", "missing term", "double")
CONTENDERS = ("refnn check_torch", "torch gradcheck", "torch fast_mode", "jax check_grads")
SLOW_MODE_MAX_BYTES = 2 * 1024**3  # the dense Jacobian torch's slow mode builds: n^2 x 8 bytes
FAST_MODE_MAX_CALLS = 200
TORCH_TOLERANCES = {"float64": {}, "float32": {"eps": 1e-3, "atol": 1e-2},
                    "bfloat16": {"eps": 1e-2, "atol": 1e-1, "rtol": 1e-1}}  # fmt: skip


class _Stop(Exception):
    """fast_mode found a mismatch and re-runs slow mode for its message: stopped there."""


def silu_function(case: str, counter: dict) -> Any:
    """The SiLU autograd.Function with the case's backward; counter["forward"] counts forward calls."""
    import torch

    class SiLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            counter["forward"] += 1
            if counter.get("limit") and counter["forward"] > counter["limit"]:
                raise _Stop
            s = torch.sigmoid(x)
            ctx.save_for_backward(x, s.detach() if case == "double" else torch.empty(0))
            return x * s

        @staticmethod
        def backward(ctx, g):
            x, saved = ctx.saved_tensors
            s = saved if case == "double" else torch.sigmoid(x)
            if case == "missing term":
                return g * s
            d = s + x * s * (1 - s)
            if case == "sign":
                return torch.where(g > 0, g, 1.2 * g) * d
            out = g * d
            if case == "element":
                out = out.clone()
                out[x.numel() // 3] *= 1.1
            return out

    return SiLU


def refnn(case: str, x, counter: dict, max_seconds: float) -> dict[str, Any]:
    from reference_nn.gradcheck import check_torch

    fn = silu_function(case, counter).apply
    report = check_torch(fn, x, order=2 if case == "double" else 1, time_budget=max_seconds)
    wrong = [r for r in report.results.values() if r.status == "FAIL"]
    named = any(r.worst_index == (x.numel() // 3,) for r in wrong) if case == "element" else None
    contracts = [c.name for c in report.contracts if c.status != "PASS"]
    note = f"contracts: {', '.join(contracts)}" if contracts else ""
    return {"verdict": str(report.verdict), "caught": report.verdict != "PASS", "named": named, "note": note}


def torch_gradcheck(fast_mode: bool):
    def run(case: str, x, counter: dict, max_seconds: float) -> dict[str, Any]:
        import torch

        if not fast_mode and x.numel() ** 2 * 8 > SLOW_MODE_MAX_BYTES:
            return {"skipped": f"dense Jacobian {x.numel() ** 2 * 8 / 1e9:.0f} GB"}
        fn = silu_function(case, counter).apply
        counter["limit"] = FAST_MODE_MAX_CALLS if fast_mode else None
        inputs = (x.detach().clone().requires_grad_(),)
        check = torch.autograd.gradgradcheck if case == "double" else torch.autograd.gradcheck
        try:
            ok = check(fn, inputs, fast_mode=fast_mode, raise_exception=False, **TORCH_TOLERANCES[_name(x.dtype)])
        except _Stop:
            return {"verdict": "fail", "caught": True, "note": f"slow re-run stopped at {FAST_MODE_MAX_CALLS} calls"}
        except RuntimeError as error:  # e.g. bfloat16 unsupported by a kernel gradcheck needs
            return {"verdict": "error", "caught": None, "note": str(error).splitlines()[0][:80]}
        return {"verdict": "pass" if ok else "fail", "caught": not ok}

    return run


def jax_check_grads(case: str, x, counter: dict, max_seconds: float) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    from reference_nn.gradcheck.frameworks.jax_adapter import x64

    @jax.custom_vjp
    def silu(v):
        return v * jax.nn.sigmoid(v)

    def bwd(v, g):
        s = jax.nn.sigmoid(jax.lax.stop_gradient(v) if case == "double" else v)
        if case == "missing term":
            return (g * s,)
        d = s + v * s * (1 - s)
        if case == "sign":
            return (jnp.where(g > 0, g, 1.2 * g) * d,)
        out = g * d
        return (out.at[v.size // 3].multiply(1.1) if case == "element" else out,)

    silu.defvjp(lambda v: (silu(v), v), bwd)
    dtype = _name(x.dtype)
    with x64(dtype == "float64"):
        array = jnp.asarray(x.to(dtype=__import__("torch").float64).numpy()).astype(dtype)
        try:
            check_grads(silu, (array,), order=2 if case == "double" else 1, modes=("rev",))
            return {"verdict": "pass", "caught": False}
        except AssertionError:
            return {"verdict": "fail", "caught": True}


def _name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def measure(sizes: dict[str, int], dtypes, max_seconds: float, after=None) -> list[dict[str, Any]]:
    import torch

    table = {"refnn check_torch": refnn, "torch gradcheck": torch_gradcheck(False),
             "torch fast_mode": torch_gradcheck(True), "jax check_grads": jax_check_grads}  # fmt: skip
    rows = []
    for label, n in sizes.items():
        for dtype in dtypes:
            generator = torch.Generator().manual_seed(0)
            x = torch.randn(n, generator=generator, dtype=torch.float64).to(getattr(torch, dtype))
            for case in CASES:
                common.log(f"  framework rules: {label} {dtype} {case}")
                for name, run in table.items():
                    counter = {"forward": 0}
                    start = time.perf_counter()
                    outcome = run(case, x, counter, max_seconds)
                    seconds = time.perf_counter() - start
                    row = {"size": label, "n": n, "dtype": dtype, "case": case, "contender": name,
                           "seconds": None if "skipped" in outcome else seconds,
                           "calls": None if name.startswith("jax") or "skipped" in outcome else counter["forward"],
                           "verdict": outcome.get("verdict", "skipped"), "caught": outcome.get("caught"),
                           "named": outcome.get("named"), "note": outcome.get("note", outcome.get("skipped", ""))}
                    rows.append(row)
            if after is not None:
                after(rows)
    return rows


def readme_table(rows: list[dict[str, Any]]) -> str:
    """One line per (n, dtype, case), one cell per contender: verdict, seconds, forward calls."""
    cells: dict[tuple, dict[str, str]] = {}
    for r in rows:
        key = (f"{r['n']:,}", r["dtype"], r["case"])
        if r["seconds"] is None:
            cell = f"skipped ({r['note']})"
        else:
            verdict = r["verdict"]
            if r["case"] == "right" and r["caught"]:
                verdict = f"**{verdict}: false alarm**"
            elif r["case"] != "right" and r["caught"] is False:
                verdict = f"**{verdict}: missed**"
            calls = f", {r['calls']} calls" if r["calls"] is not None else ""
            cell = f"{verdict}{', named' if r['named'] else ''} {common.fmt_seconds(r['seconds'])}{calls}"
        cells.setdefault(key, {})[r["contender"]] = cell
    headers = ["n", "dtype", "case", *CONTENDERS]
    return common.markdown_table(headers, [[*key, *(by.get(c, "—") for c in CONTENDERS)] for key, by in cells.items()])


README_TITLE = "**Hand-written framework rules**"


def update_readme(rows: list[dict[str, Any]], readme) -> None:
    """Replace the table under README_TITLE in ``readme`` (a Path) with readme_table(rows)."""
    text = readme.read_text()
    head, sep, rest = text.partition(README_TITLE)
    start = rest.index("\n| n |") + 1
    end = rest.index("\n\n", start)
    readme.write_text(head + sep + rest[:start] + readme_table(rows) + rest[end:])


def plot(rows: list[dict[str, Any]]) -> Any:
    plt = common.pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for axis, case in zip(axes, ("right", "element"), strict=True):
        for name in CONTENDERS:
            for dtype, style in (("float64", "-o"), ("float32", "--s")):
                measured = [r for r in rows if r["contender"] == name and r["case"] == case and r["dtype"] == dtype
                            and r["seconds"] is not None]  # fmt: skip
                if measured:
                    axis.loglog([r["n"] for r in measured], [r["seconds"] for r in measured], style,
                                label=f"{name} {dtype}")
        axis.set(xlabel="elements of x", title=f"SiLU autograd.Function, {case}")
    axes[0].set_ylabel("wall time of the check (s)")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> list:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=60.0, help="refnn's time_budget per check")
    parser.add_argument("--sizes", help=f"comma-separated subset of {','.join(SIZES)} (default all)")
    parser.set_defaults(threads=1)
    args = common.parse_args(parser, argv)
    common.pin_threads(args.threads)
    machine = common.machine_description()
    sizes = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        unknown = [k for k in args.sizes.split(",") if k not in SIZES]
        if unknown:
            raise SystemExit(f"error: --sizes: unknown {unknown}; choose from {', '.join(SIZES)}")
        sizes = {k: SIZES[k] for k in args.sizes.split(",")}
    command = "python -m benchmarks.framework_rules" + (f" --sizes {args.sizes}" if args.sizes else "") + (
        " --quick" if args.quick else "")

    def write(rows: list[dict[str, Any]]) -> list:
        text = "\n\n".join(["## Hand-written framework rules: verdict, forward calls, seconds",
                            common.describe_machine_markdown(machine), f"Command: `{command}`", readme_table(rows)])
        figure = plot(rows)
        paths = common.write_outputs("framework_rules", text, {"machine": machine, "rows": rows}, figure,
                                     common.output_dir(args))  # fmt: skip
        common.pyplot().close(figure)
        return paths

    rows = measure(sizes, ("float64",) if args.quick else DTYPES, args.max_seconds, write)
    print(readme_table(rows))
    if args.update_docs:
        update_readme(rows, common.RESULTS_DIR.parents[1] / "README.md")
    return write(rows)


if __name__ == "__main__":
    main()
