"""Run a fuzzed (loss, gradient) case through its checker entry point; say how wrong the gradient
truly was (torch twin, float64) and whether the verdict kept the contract.

    outcome = run_case(case)      # a strategies_verdicts.Case: the model, the bug, the entry point
    outcome.false_pass            # PASS on a gradient wrong beyond the cap
    outcome.false_fail            # FAIL (or the checker raising) on a right gradient

Truth, independent of the checker: every gradient the checker received at a real point is recorded
(verdict_bugs.Probe) and compared with the twin's autograd gradient at that point (for check_vjp /
check_layer with the upstream gradient it was given). Per tensor, the error of element i is
|g_i - t_i| / max(|t_i|, RMS t, FLOOR G), G the case's largest true-gradient RMS:

* CAP = 1% of max(|value|, tensor RMS) is the checker's stated cap (issue 21: never verify with a
  wider tolerance). A planted bug whose measured error reaches 0.99% is *wrong*: never PASS. (0.99,
  not 1.00: a x1.01 bug computed in float32 measures 1% +- 1e-7.)
* FLOOR: a tensor whose gradient is tiny beside the case's largest one is judged against FLOOR G.
  A float32 backward rounds intermediates of size G at ~1e-7 G per operation, and the checker's
  cross-tensor floor is 1000 ulps of G (1.2e-4 G); FLOOR = 1e-3 keeps 1% of it (1e-5 G) above the
  rounding of the few operations of these models. float64: 1e-9 (1% of it, 1e-11 G, is ~5e4 ulps).
* A gradient with no planted bug is *right* when it is within RIGHT_LIMIT of the truth (float32
  rounding of these small models stays below 1e-4 of the scale; float64 below 1e-9); a planted bug
  measuring below the cap, or right code beyond RIGHT_LIMIT, is *gray*: run, counted, not judged;
  so is right code at an exact kink whose twin gradient is no subgradient (no_subgradient).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from reference_nn.gradcheck import check_gradients, check_layer, check_value_and_grad, check_vjp

CAP = 0.0099
FLOOR = {"low": 1e-3, "float64": 1e-9}
RIGHT_LIMIT = {"low": 1e-3, "float64": 1e-6}


@dataclass
class Outcome:
    """One case's result: truth label, verdict, and the evidence (report text, recipe)."""

    category: str
    entry: str
    mode: str
    bug: str
    label: str  # "right", "wrong", "gray"
    verdict: str  # "PASS", "FAIL", "INCONCLUSIVE", "ERROR"
    error: float  # the measured error (multiples of the element scale; CAP is 0.0099)
    detail: str  # the report (or the exception) and the recipe

    @property
    def false_pass(self) -> bool:
        return self.label == "wrong" and self.verdict == "PASS"

    @property
    def false_fail(self) -> bool:
        return self.label == "right" and self.verdict in ("FAIL", "ERROR")

    def describe(self) -> str:
        return (
            f"{self.category}: {self.entry} {self.mode} bug={self.bug} truth={self.label} "
            f"(error {self.error:.3g} of the element scale, cap {CAP}) verdict={self.verdict}\n{self.detail}"
        )


class FuzzLayer:
    """A layer object around a Chain, in one of the storage styles people use:

    "params"      self.params / self.grads dicts (the course style), caches in self.cache
    "attributes"  self.W1, self.b1 and self.dW1, self.db1; caches in self.cache
    "caches"      attributes, plus self.x, self.out, self.dout, self.dx (what many layers keep)
    """

    def __init__(self, chain, params: dict, style: str, probe):
        self._chain, self._names, self._style, self._probe = chain, list(params), style, probe
        if style == "params":
            self.params, self.grads = dict(params), {}
        else:
            for name, value in params.items():
                setattr(self, name, value)

    def _current(self) -> dict:
        return dict(self.params) if self._style == "params" else {n: getattr(self, n) for n in self._names}

    def forward(self, x):
        p = self._current()
        with np.errstate(all="ignore"):
            out, cache = self._chain.forward(x, p)
        self.cache = (cache, x, p)
        if self._style == "caches":
            self.x, self.out = x, out
        return out

    def backward(self, dout):
        cache, x, p = self.cache
        with np.errstate(all="ignore"):
            grads = self._probe.gradient({"x": x, **p}, dout, lambda: self._chain.backward(dout, cache))
        for name in self._names:
            if self._style == "params":
                self.grads[name] = grads[name]
            else:
                setattr(self, "d" + name, grads[name])
        if self._style == "caches":
            self.dout, self.dx = dout, grads["x"]
        return grads["x"]


def run_entry(case):
    """The checker's report for ``case`` through its entry point (may raise what the checker raises)."""
    chain, x, params, probe = case.chain, case.x, case.params, case.probe
    names = list(params)

    def value(loss):
        return float(loss) if case.returns_float or chain.mode == "float32-inside" else loss

    def loss_and_grads(p, xx):
        with np.errstate(all="ignore"):
            loss, cache = chain.forward(xx, p)
            return value(loss), probe.gradient({"x": xx, **p}, 1.0, lambda: chain.backward(1.0, cache))

    if case.entry == "dict":

        def f(p):
            with np.errstate(all="ignore"):
                return value(chain.forward(x, p)[0])

        return check_gradients(f, lambda p: {"d" + k: g for k, g in loss_and_grads(p, x)[1].items() if k in p},
                               params)  # fmt: skip
    if case.entry == "grad_list":  # [W1, b1, W2, b2] -> [dW1, db1, dW2, db2]

        def f_list(plist):
            with np.errstate(all="ignore"):
                return value(chain.forward(x, dict(zip(names, plist, strict=True)))[0])

        def grad_list(plist):
            g = loss_and_grads(dict(zip(names, plist, strict=True)), x)[1]
            return [g[k] for k in names]

        return check_gradients(f_list, grad_list, [params[k] for k in names])
    if case.entry == "value_and_grad":

        def fn(p, X):
            loss, g = loss_and_grads(p, X)
            return loss, {k: g[k] for k in p}

        return check_value_and_grad(fn, params, x)
    if case.entry == "list":

        def fn_list(plist, X):
            loss, g = loss_and_grads(dict(zip(names, plist, strict=True)), X)
            return loss, [g[k] for k in names]

        return check_value_and_grad(fn_list, [params[k] for k in names], x)
    if case.entry == "vjp":

        def forward(x, *ps):
            p = dict(zip(names, ps, strict=True))
            with np.errstate(all="ignore"):
                out, cache = chain.forward(x, p)
            return out, (cache, x, p)

        def backward(dout, cache):
            inner, xx, p = cache
            with np.errstate(all="ignore"):
                g = probe.gradient({"x": xx, **p}, dout, lambda: chain.backward(dout, inner))
            return (g["x"], *[g[k] for k in names]) if names else g["x"]

        return check_vjp(forward, backward, x, *[params[k] for k in names])
    if case.entry == "layer":
        return check_layer(FuzzLayer(chain, params, case.layer_style, probe), x)
    raise ValueError(f"unknown entry point {case.entry!r}")


def truth_label(case, error: float | None = None) -> str:
    """"right", "wrong" or "gray" (module docstring) of a case already run (its probe holds the
    gradients the checker received); ``error``: measured_error(case), when already computed."""
    error = measured_error(case) if error is None else error
    low = "float64" if case.chain.mode == "float64" else "low"
    if case.probe.bug is None:
        return "right" if error <= RIGHT_LIMIT[low] and not no_subgradient(case) else "gray"
    return "wrong" if error >= CAP else "gray"


def no_subgradient(case) -> bool:
    """Right code at an exact kink where the twin's own gradient (torch's convention, relu'(0) = 0) is
    no subgradient along some coordinate: outside [min, max] of the twin's one-sided slopes there (a
    sample whose units all sit at 0 with upstream weights of one sign). Issue 21 (5): a gradient that
    is no subgradient FAILs, so such a case is *gray* (torch's value, but no derivative to verify),
    not *right*. Only the kinks category is asked (exact zeros are built there); float64 twin, steps
    1e-7 of each coordinate's size, slopes piecewise linear there up to O(h) curvature: 1e-5 of the
    element scale separates outside from inside."""
    if case.recipe.structure != "kinks" or not case.probe.records:
        return False
    point, dout, _ = case.probe.records[0]
    point = {k: np.asarray(v, dtype=np.float64) for k, v in point.items()}
    params = {k: v for k, v in point.items() if k != "x"}
    truth = case.chain.true_gradient(point["x"], params, dout)

    def value(key, i, t):
        moved = {k: v.copy() for k, v in point.items()}
        moved[key].reshape(-1)[i] += t
        return case.chain.true_value(moved["x"], {k: v for k, v in moved.items() if k != "x"}, dout)

    base = case.chain.true_value(point["x"], params, dout)
    for key in case.checked_keys:
        t = truth[key].reshape(-1)
        scale = max(float(np.sqrt(np.mean(t * t))), 1e-300)
        for i, x_i in enumerate(point[key].reshape(-1)):
            h = 1e-7 * max(1.0, abs(float(x_i)))
            right, left = (value(key, i, h) - base) / h, (base - value(key, i, -h)) / h
            lo, hi = min(left, right), max(left, right)
            if not lo - 1e-5 * max(scale, abs(t[i])) <= t[i] <= hi + 1e-5 * max(scale, abs(t[i])):
                return True
    return False


def measured_error(case) -> float:
    """The largest error, over every recorded call and checked tensor, in multiples of the element
    scale max(|t_i|, RMS t, FLOOR G) (module docstring); nan when nothing was recorded."""
    from equivalence_tests.verdict_bugs import safe_rms

    floor = FLOOR["float64" if case.chain.mode == "float64" else "low"]
    worst = float("nan")
    for point, dout, returned in case.probe.records:
        params = {k: v for k, v in point.items() if k != "x"}
        truth = case.chain.true_gradient(point["x"], params, dout)
        largest = max(safe_rms(truth[k]) for k in case.checked_keys)
        for key in case.checked_keys:
            t, g = truth[key], np.asarray(returned[key], dtype=np.float64).reshape(truth[key].shape)
            scale = np.maximum(np.maximum(np.abs(t), safe_rms(t)), floor * largest)
            with np.errstate(all="ignore"):
                ratio = np.where(scale > 0, np.abs(g - t) / np.where(scale > 0, scale, 1.0),
                                 np.where(g == t, 0.0, np.inf))  # fmt: skip
            worst = max(float(np.max(ratio)), 0.0 if np.isnan(worst) else worst)
    return worst


def run_case(case) -> Outcome:
    """Run ``case`` through the checker, measure its truth, and classify."""
    try:
        with warnings.catch_warnings():  # as users run it: NumPy's RuntimeWarning (an overflow inside the checker)
            warnings.simplefilter("ignore", RuntimeWarning)  # is printed, not raised (pytest's "error" filter would)
            report = run_entry(case)
        verdict, text = str(report.verdict), str(report)
    except Exception as error:  # noqa: BLE001 - the checker raising is an outcome too (never a PASS)
        verdict, text = "ERROR", f"{type(error).__name__}: {error}"
    error = measured_error(case)
    label = truth_label(case, error)
    return Outcome(case.category, case.entry, case.chain.mode, str(case.probe.bug), label, verdict, error,
                   f"{text}\nreproduce: {case.recipe!r}.build()")  # fmt: skip


@dataclass
class Tally:
    """The confusion counts of one category: runs, and per truth label the verdicts seen."""

    category: str
    runs: int = 0
    right: int = 0
    wrong: int = 0
    gray: int = 0
    pass_right: int = 0
    false_fail: int = 0  # FAIL or the checker raising, on right code
    inconclusive_right: int = 0
    fail_wrong: int = 0
    false_pass: int = 0
    inconclusive_wrong: int = 0
    error_wrong: int = 0  # the checker raised on wrong code (not a PASS; not the verdict the contract asks)

    def add(self, outcome: Outcome) -> None:
        self.runs += 1
        if outcome.label == "right":
            self.right += 1
            self.pass_right += outcome.verdict == "PASS"
            self.false_fail += outcome.false_fail
            self.inconclusive_right += outcome.verdict == "INCONCLUSIVE"
        elif outcome.label == "wrong":
            self.wrong += 1
            self.fail_wrong += outcome.verdict == "FAIL"
            self.false_pass += outcome.false_pass
            self.inconclusive_wrong += outcome.verdict == "INCONCLUSIVE"
            self.error_wrong += outcome.verdict == "ERROR"
        else:
            self.gray += 1

    @property
    def inconclusive_right_rate(self) -> float:
        return self.inconclusive_right / self.right if self.right else 0.0


MATRIX_COLUMNS = ("runs", "right", "pass_right", "false_fail", "inconclusive_right", "wrong", "fail_wrong",
                  "false_pass", "inconclusive_wrong", "error_wrong", "gray")  # fmt: skip
MATRIX_HEADERS = ("runs", "right", "PASS", "false FAIL", "INC", "wrong", "FAIL", "false PASS", "INC", "error",
                  "gray")  # fmt: skip


def confusion_matrix(tallies, label: str = "category") -> str:
    """A text table, one row per category (and a total): on right code PASS / false FAIL (FAIL or the
    checker raising) / INCONCLUSIVE; on wrong code FAIL / false PASS / INCONCLUSIVE / raised; gray
    (planted below the cap, or right code beyond RIGHT_LIMIT: not judged)."""
    rows = [(t.category, *[getattr(t, c) for c in MATRIX_COLUMNS]) for t in tallies]
    rows.append(("total", *[sum(getattr(t, c) for t in tallies) for c in MATRIX_COLUMNS]))
    widths = [max(len(str(r[0])) for r in rows + [(label,)])] + [max(len(h), 5) for h in MATRIX_HEADERS]
    line = "  ".join(f"{h:>{w}}" for h, w in zip((label, *MATRIX_HEADERS), widths, strict=True))
    starts = [sum(widths[:i]) + 2 * i for i in range(len(widths))]  # where each column begins
    right, wrong = starts[2], starts[MATRIX_COLUMNS.index("wrong") + 1]
    group = " " * right + "| on right code".ljust(wrong - right) + "| on wrong code"
    out = [group, line]
    out += ["  ".join(f"{v:>{w}}" for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)
