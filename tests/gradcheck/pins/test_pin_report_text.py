"""Pins of the report (report.py) word for word, on results built here: the headline per verdict, the
table (verified counts, err/tol, worst index, values), reasons, grouped notes, hints, the reproducer,
JSON (non-finite numbers as None / "inf" / "-inf") and an unchecked tensor."""

import json
import math

from reference_nn.gradcheck.report import (
    AT_KINK,
    FAIL,
    INCONCLUSIVE,
    PASS,
    GradientReport,
    ParameterResult,
    _json_number,
)


def _result(name, status, **kw):
    base = dict(name=name, gradient_key="d" + name, shape=(2, 3), dtype="float64", eval_dtype="float64",
                method="richardson", step=0.0625, status=status, max_abs_error=1e-9, max_rel_error=2e-9,
                worst_index=(1, 2), analytic=0.5, numeric=0.5000001, numeric_error=1e-12, tolerance=1e-8,
                n_elements=6)  # fmt: skip
    return ParameterResult(**{**base, **kw})


def test_a_failing_report_word_for_word():
    w = _result("W", FAIL, n_failed=2, error_ratio=123.456, note="shared note; W only", hint="transposed?",
                analytic=-1.25, numeric=1.25)  # fmt: skip
    b = _result("b", INCONCLUSIVE, shape=(3,), worst_index=(0,), n_inconclusive=1, error_ratio=0.5,
                inconclusive_reasons={AT_KINK: 1}, note="shared note")  # fmt: skip
    report = GradientReport({"W": w, "b": b}, "richardson", seed=7, n_evaluations=99, notes=["a report note"])
    assert report.verdict == FAIL and report.failed and not report.passed and not report.inconclusive, report.verdict
    assert report.failed_parameters == ["W"], report.failed_parameters
    assert w.n_verified == 4 and b.n_verified == 5, (w.n_verified, b.n_verified)
    assert str(report).splitlines() == [
        "Gradient check FAIL (W): method=richardson, 99 evaluations of f, seed=7",
        "param  verdict       verified  err/tol  worst index  analytic  numeric  method      dtype",
        "W      FAIL          4/6       1.2e+02  (1,2)        -1.25     1.25     richardson  float64",
        "b      INCONCLUSIVE  5/6       0.5      (0,)         0.5       0.5      richardson  float64",
        "  INCONCLUSIVE: b: 1 of 6 element(s) at a kink",
        "  note: a report note",
        "  W, b: shared note",
        "  W: W only",
        "  W: hint (a guess from the pattern, not a verdict): transposed?",
    ], str(report)
    assert report.reproducer.splitlines() == [
        "report = check_gradients(f, grad_f, params, method='richardson', seed=7)",
        "numerical_gradient(f, params, method='richardson')['W'][(1, 2)]  # expect 1.25, grad_f gives -1.25",
    ], report.reproducer
    assert repr(report) == "<GradientReport verdict=FAIL params=['W', 'b']>", repr(report)
    assert report["b"] is b, "indexing by name"


def test_the_reproducer_names_the_inner_method_of_a_projection():
    w = _result("W", FAIL, method="projection(complex)")
    text = GradientReport({"W": w}, "auto").reproducer
    assert "numerical_gradient(f, params, method='complex')['W'][(1, 2)]" in text, text
    arrow = _result("W", FAIL, method="central -> richardson")
    assert "method='richardson')" in GradientReport({"W": arrow}, "auto").reproducer, "the method after ->"
    none = _result("W", FAIL, worst_index=None)
    assert GradientReport({"W": none}, "auto").reproducer.count("\n") == 0, "no index: no line"


def test_headlines_of_inconclusive_and_pass():
    b = _result("b", INCONCLUSIVE, n_inconclusive=4)
    c = _result("c", INCONCLUSIVE, n_inconclusive=1)
    report = GradientReport({"b": b, "c": c}, "complex", n_evaluations=5)
    assert report.headline() == ("Gradient check INCONCLUSIVE (no wrong element found; 5 element(s) not verified): "
                                 "method=complex, 5 evaluations of f, seed=0"), report.headline()  # fmt: skip
    assert report.inconclusive and report.failed_parameters == [], report.verdict
    ok = GradientReport({"a": _result("a", PASS)}, "complex", n_evaluations=3)
    assert ok.headline() == "Gradient check PASS (every element verified): method=complex, 3 evaluations of f, seed=0"
    assert ok.passed and ok.reasons == [], ok.reasons
    problem = GradientReport({"a": _result("a", PASS)}, "complex", problems=["f is not deterministic"])
    assert problem.verdict == INCONCLUSIVE and problem.reasons == ["f is not deterministic"], problem.reasons


def test_a_row_without_judged_elements_shows_dashes():
    r = ParameterResult.unchecked("W", "dW", (2, 2), "float32", "not deterministic", "f moved")
    assert (r.n_elements, r.n_inconclusive, r.n_verified, r.status) == (4, 4, 0, INCONCLUSIVE), r
    assert r.inconclusive_reasons == {"not deterministic": 4} and r.note == "f moved", r
    line = str(GradientReport({"W": r}, "auto")).splitlines()[2]
    assert line == "W      INCONCLUSIVE  0/4       -        -            -         -        -       float32", line


def test_json_numbers():
    assert _json_number(math.nan) is None and _json_number(math.inf) == "inf" and _json_number(-math.inf) == "-inf"
    assert _json_number(1.5) == 1.5 and _json_number("x") == "x", "finite numbers and others as they are"
    r = ParameterResult.unchecked("W", "dW", (2,), "float64", AT_KINK, "")
    d = GradientReport({"W": r}, "auto", cost={"determinism": {"seconds": math.inf}}).to_dict()
    json.dumps(d, allow_nan=False)  # raises on a nan or inf left in
    assert d["cost"] == {"determinism": {"seconds": "inf"}} and d["parameters"]["W"]["worst_index"] is None, d
    assert d["parameters"]["W"]["status"] == "INCONCLUSIVE" and d["parameters"]["W"]["hint"] is None, d
    assert d["parameters"]["W"]["shape"] == [2] and d["parameters"]["W"]["n_verified"] == 0, d
    full = _result("W", FAIL, inconclusive_indices=[(0, 1)], hint="h").to_dict()
    assert full["worst_index"] == [1, 2] and full["inconclusive_indices"] == [[0, 1]] and full["hint"] == "h", full
    assert (d["verdict"], d["passed"], d["inconclusive"]) == ("INCONCLUSIVE", False, True), d
