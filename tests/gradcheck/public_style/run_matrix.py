"""Run every QA case with every method and print the counts and each wrong verdict.

    PYTHONPATH=$PWD:$PWD/tests/gradcheck python -m public_style.run_matrix [--methods auto,central] [-k NAME]
"""

import argparse
import collections
import time
import warnings

from reference_nn.gradcheck import METHODS

from .cases import all_cases, judge


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("-k", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    counts = collections.Counter()
    wrong = []
    for case in all_cases():
        if args.k not in case.name:
            continue
        for method in args.methods.split(","):
            t = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    report = case.run(method)
                outcome, verdict = judge(case, report), str(report.verdict)
                detail = f"{report.failed_parameters} " + "; ".join(report.reasons)[:160]
                if case.tensor in report.results and report[case.tensor].worst_index is not None:
                    detail += f" worst={report[case.tensor].worst_index}"
            except Exception as e:  # noqa: BLE001 - a crash is an outcome to count
                refused = method == "complex" and "does not support complex" in str(e)
                outcome = "refused (f not complex)" if refused else "error"
                verdict, detail = "ERROR", f"{type(e).__name__}: {str(e)[:200]}"
            dt = time.perf_counter() - t
            counts[(case.dtype, method, "cases")] += 1
            counts[(case.dtype, method, outcome)] += 1
            if not outcome.startswith(("ok", "refused")) or args.v:
                wrong.append(f"{outcome:22s} {case.name} [{case.dtype}, {method}] expect {case.expect}, got {verdict}"
                             f" ({dt:.2f}s) {detail}")
    for line in wrong:
        print(line)
    print()
    outcomes = sorted({k[2] for k in counts} - {"cases"})
    print("dtype    method       cases  " + "  ".join(outcomes))
    for dtype in ("float64", "float32", "mixed"):
        for method in args.methods.split(","):
            if counts[(dtype, method, "cases")]:
                print(f"{dtype:8s} {method:12s} {counts[(dtype, method, 'cases')]:5d}  "
                      + "  ".join(f"{counts[(dtype, method, o)]:{len(o)}d}" for o in outcomes))


if __name__ == "__main__":
    main()
