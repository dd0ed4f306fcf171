"""The verdict fuzzer as a property, one test per category (equivalence_tests/strategies_verdicts.py).

Each drawn case is a small model written as users write it (NumPy forward + hand backward), checked
through one entry point (check_gradients, check_value_and_grad with a dict or a list, check_vjp,
check_layer), right or with a planted bug; its truth comes from the model's torch float64 twin
(equivalence_tests/verdict_fuzz.py). Asserted per category:

* never PASS on a gradient measured wrong beyond the cap (1% of max(|value|, tensor RMS));
* never FAIL (nor raise) on a right gradient;
* INCONCLUSIVE on right code at most INCONCLUSIVE_BOUND of the right cases.

Categories the checker on main still gets wrong are xfail(strict=True) with the reason (the
findings, with reproducers: /work/wt/NOTES/FUZZ_FINDINGS.md at the time of writing), so the
suite stays green and a fix turns the xfail into a failure: then remove the mark. The confusion
matrix per category: ``python -m tests.gradcheck.verdict_fuzz_matrix --examples N``.
"""

import numpy as np
import pytest
from hypothesis import example, given

from equivalence_tests.profiles import property_settings
from equivalence_tests.strategies_verdicts import CATEGORIES, GENERIC_BUGS, VerdictRecipe, verdict_cases
from equivalence_tests.verdict_fuzz import CAP, Tally, measured_error, run_case

# Largest share of right cases allowed INCONCLUSIVE. 10% where right code should PASS (issue 21: a
# smooth right gradient, float32 inside included, is PASS; the share left covers a ReLU unit whose
# kink falls within a float32 step at a random point: relu is drawn in the smooth categories).
# 100% where INCONCLUSIVE "at a kink" is the honest verdict on right code: exact ReLU zeros and
# exact ties (only false PASS / false FAIL are asserted there).
INCONCLUSIVE_BOUND = {category: 0.10 for category in CATEGORIES} | {"kinks": 1.0, "ties": 1.0}

# Categories that fail on main, with the finding (one mark per category, never a blanket xfail).
KNOWN_HOLES = {
    "kinks": "a right float32-inside gradient FAILs where a second kink lies closer than float32's step (b1: "
             "twin slope -0.0032 from the left up to 1e-5 away, 0.018 at 1e-3; the checker's one-sided steps of "
             "1e-3..5e-3 see only the second piece, and f's float32 rounding resolves no smaller step). Finding 6 "
             "(relu'(0) = 0 with a sample's units all at 0: no subgradient) is gray now: verdict_fuzz.no_subgradient",
    "saturated": "right code INCONCLUSIVE above the 10% bound in the ci draw (2 of 11): fuzz finding 18's exp(-|z|) "
                 "sigmoid, no longer FAIL (complex step refused), has derivatives of ~1e-11 that real differences "
                 "at |f| ~ 0.7 cannot resolve within the cap",
    "normalization": "issue 21 (6): right code INCONCLUSIVE above the 10% bound: 38 of 271 at --examples 500 --seed 0 "
                     "(was 92, and 233 before): 29 float32-inside 'error bound too large' (gradients before the "
                     "normalization ~1e-4 of |f|, which a float32 loss resolves to ~10%: the true reason), 10 float32 "
                     "/ mixed 'far below the largest gradients' (the cross-tensor floor). And a false FAIL (seed 1): "
                     "batch norm of 2 samples, float32 inside: W1[2, 2] analytic 0.01945, Richardson from float32's "
                     "2^-3 steps 0.02058 with a bound 2.2x too small (the function saturates within the step)",
}  # fmt: skip


# Cases a larger draw found (FUZZ_FINDINGS.md), run first on every profile (Hypothesis' explicit
# examples): the ci draw alone does not always reach them, and the xfail marks above must fail for the
# reason they state until the hole is fixed.
REGRESSION_EXAMPLES = {
    "layer_caches": [VerdictRecipe(category="layer_caches", entry="layer", mode="float32-inside", magnitude="normal",
                                   structure="smooth", hidden="relu", head="softmax", bug="x1.05", bug_key=5,
                                   bug_size=1.0, bug_index=1, convention="ge", layer_style="caches",
                                   returns_float=True, n=5, d=2, h=1, k=2, scale=1.0, seed=1)],
    "mixed": [VerdictRecipe(category="mixed", entry="dict", mode="mixed", magnitude="normal", structure="smooth",
                            hidden="tanh", head="mse", bug="one_element", bug_key=1, bug_size=0.02, bug_index=0,
                            convention="gt", layer_style="params", returns_float=False, n=2, d=3, h=2, k=1, scale=1.0,
                            seed=23303)],
    "float32-inside": [VerdictRecipe(category="float32-inside", entry="layer", mode="float32-inside",
                                     magnitude="normal", structure="smooth", hidden="relu", head="bce", bug="x1.05",
                                     bug_key=2, bug_size=10.0, bug_index=9, convention="gt", layer_style="attributes",
                                     returns_float=True, n=4, d=3, h=2, k=4, scale=1.0, seed=761)],
    "huge": [VerdictRecipe(category="huge", entry="vjp", mode="float64", magnitude="huge", structure="smooth",
                           hidden="relu", head="mse", bug="transpose", bug_key=5, bug_size=1.0, bug_index=50,
                           convention="ge", layer_style="attributes", returns_float=True, n=6, d=4, h=4, k=3,
                           scale=1e200, seed=4739441),
        VerdictRecipe(category="huge", entry="value_and_grad", mode="float32-inside", magnitude="huge",
                      structure="smooth", hidden="tanh", head="bce", bug=None, bug_key=3, bug_size=1.0, bug_index=3,
                      convention="gt", layer_style="params", returns_float=False, n=1, d=3, h=3, k=3, scale=1e15,
                      seed=2),
    ],
    "kinks": [VerdictRecipe(category="kinks", entry="vjp", mode="float64", magnitude="normal", structure="kinks",
                            hidden="tanh", head="mse", bug=None, bug_key=4, bug_size=10.0, bug_index=46,
                            convention="gt", layer_style="params", returns_float=False, n=1, d=5, h=5, k=4, scale=1.0,
                            seed=399),
              VerdictRecipe(category="kinks", entry="dict", mode="float32-inside", magnitude="normal",
                            structure="kinks", hidden="tanh", head="bce", bug=None, bug_key=0, bug_size=0.1,
                            bug_index=0, convention="gt", layer_style="params", returns_float=False, n=5, d=1, h=3,
                            k=1, scale=1.0, seed=1193)],
    "ties": [VerdictRecipe(category="ties", entry="value_and_grad", mode="float64", magnitude="normal",
                           structure="ties", hidden="tanh", head="softmax", bug=None, bug_key=5, bug_size=1.0,
                           bug_index=48, convention="first", layer_style="params", returns_float=False, n=5, d=4, h=4,
                           k=2, scale=1.0, seed=20892)],
    "garbage": [VerdictRecipe(category="garbage", entry="value_and_grad", mode="float64", magnitude="normal",
                              structure="smooth", hidden="sigmoid", head="mse", bug="garbage", bug_key=1,
                              bug_size=0.02, bug_index=15, convention="ge", layer_style="attributes",
                              returns_float=True, n=5, d=4, h=1, k=1, scale=1.0, seed=220966)],
    "saturated": [VerdictRecipe(category="saturated", entry="dict", mode="float32", magnitude="saturated",
                                structure="smooth", hidden="tanh", head="softmax", bug="x1.01", bug_key=3, bug_size=1.0,
                                bug_index=45, convention="ge", layer_style="params", returns_float=False, n=6, d=3, h=1,
                                k=4, scale=1.0, seed=23194195),
        VerdictRecipe(category="saturated", entry="vjp", mode="float64", magnitude="saturated", structure="smooth",
                      hidden="sigmoid", head="bce", bug=None, bug_key=3, bug_size=1.0, bug_index=17, convention="gt",
                      layer_style="attributes", returns_float=False, n=1, d=3, h=1, k=3, scale=1.0, seed=71870),
    ],
    "normalization": [VerdictRecipe(category="normalization", entry="dict", mode="float32-inside", magnitude="normal",
                                    structure="normalization", hidden="sigmoid", head="softmax", bug=None, bug_key=0,
                                    bug_size=10.0, bug_index=29, convention="ge", layer_style="attributes",
                                    returns_float=False, n=2, d=3, h=3, k=3, scale=1.0, seed=345, style="staged")],
    "tiny": [VerdictRecipe(category="tiny", entry="dict", mode="float32", magnitude="tiny", structure="smooth",
                           hidden="tanh", head="softmax", bug="x1.01", bug_key=0, bug_size=0.1, bug_index=0,
                           convention="gt", layer_style="params", returns_float=False, n=1, d=1, h=1, k=2, scale=1e-06,
                           seed=0),
             # a ReLU unit 6.75e-3 from its kink under a float32 loss: b1 was FAILed (judge's disputed estimates;
             # found by the verdict corpus's report checks, tests/gradcheck/pins/test_pin_disputed_estimates.py)
             VerdictRecipe(category="tiny", entry="grad_list", mode="float32-inside", magnitude="tiny",
                           structure="smooth", hidden="relu", head="softmax", bug=None, bug_key=2, bug_size=1.0,
                           bug_index=0, convention="gt", layer_style="params", returns_float=True, n=5, d=1, h=1, k=3,
                           scale=1e-20, seed=1258778028, style="staged")],
}  # fmt: skip


def _marked(category: str):
    reason = KNOWN_HOLES.get(category)
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)] if reason else []
    return pytest.param(category, marks=marks, id=category)


@pytest.mark.parametrize("category", [_marked(c) for c in CATEGORIES])
def test_verdicts_keep_the_contract(category):
    tally = Tally(category)

    def run(recipe):
        outcome = run_case(recipe.build())
        tally.add(outcome)
        assert not outcome.false_pass, f"false PASS: {outcome.describe()}"
        assert not outcome.false_fail, f"false FAIL: {outcome.describe()}"

    test = given(recipe=verdict_cases(category))(run)
    for recipe in REGRESSION_EXAMPLES.get(category, ()):
        test = example(recipe=recipe)(test)
    property_settings("gradcheck/verdict_fuzz", report_multiple_bugs=False)(test)()
    bound = INCONCLUSIVE_BOUND[category]
    assert tally.inconclusive_right_rate <= bound, (
        f"{category}: {tally.inconclusive_right} of {tally.right} right cases INCONCLUSIVE, more than {bound:.0%}"
    )


def _recipe(**changes) -> VerdictRecipe:
    base = dict(category="float64", entry="dict", mode="float64", magnitude="normal", structure="smooth",
                hidden="tanh", head="softmax", bug=None, bug_key=0, bug_size=0.1, bug_index=0, convention="gt",
                layer_style="params", returns_float=True, n=4, d=3, h=3, k=3, scale=1.0, seed=7)  # fmt: skip
    return VerdictRecipe(**(base | changes))


def _hand_gradient(case) -> dict:
    """The case's hand gradient at its point, through the probe (bug applied, recorded)."""
    point = {"x": case.x, **case.params}
    dout = (
        1.0
        if case.chain.head
        else np.random.default_rng(0).standard_normal(case.chain.forward(case.x, case.params)[0].shape)
    )
    with np.errstate(all="ignore"):
        _, cache = case.chain.forward(case.x, case.params)
        return case.probe.gradient(point, dout, lambda: case.chain.backward(dout, cache))


@pytest.mark.parametrize("structure", ["smooth", "kinks", "ties", "normalization"])
@pytest.mark.parametrize("entry", ["dict", "vjp"])
@pytest.mark.parametrize("head", ["softmax", "bce", "mse"])
@pytest.mark.parametrize("style", ["vectorized", "staged"])
def test_the_hand_gradients_equal_the_torch_twin(structure, entry, head, style):
    """The truth labels rest on this: every model's right NumPy gradient is torch's, to float64 rounding,
    kinks and ties included (the right label's limit, verdict_fuzz.RIGHT_LIMIT, is 1e-6 in float64)."""
    for seed in range(3):
        case = _recipe(structure=structure, entry=entry, head=head, h=4, d=4, convention="first" if structure ==
                       "ties" else ("ge" if seed else "gt"), seed=seed, hidden="sigmoid" if seed == 2 else "tanh",
                       style=style).build()  # fmt: skip
        _hand_gradient(case)
        error = measured_error(case)
        # 1e-6: an exactly-zero true gradient (the bias before batch norm) is judged against 1e-9 G
        # (verdict_fuzz.FLOOR), where float64 rounding of the cancelling sums (~1e-16 G) reads ~1e-7
        assert error <= 1e-6, f"{structure} {entry} {head} seed {seed}: hand gradient off torch's by {error:.3g}"


@pytest.mark.parametrize("bug", [*GENERIC_BUGS, "garbage", "first_call", "nondeterministic"])
def test_each_planted_bug_measures_wrong_beyond_the_cap(bug):
    """A planted bug is labelled wrong by its measured error, not by its name: on a model with no zero
    gradient, every bug (x1.01 included, at the cap) measures at least CAP."""
    case = _recipe(bug=bug, bug_key=0, d=3, h=3, bug_size=0.1).build()
    _hand_gradient(case)
    if bug == "nondeterministic":  # the noise differs on every call: a second call is wrong too
        _hand_gradient(case)
    assert measured_error(case) >= CAP, f"{bug}: measured {measured_error(case):.3g} < cap {CAP}"


def test_tie_all_measures_wrong_and_first_or_split_right():
    """At a tie, giving the gradient to every tied maximum is no subgradient (measured ~1 of the scale);
    first-maximum and split-evenly are torch's own values (measured at rounding)."""
    errors = {}
    for convention, bug in (("first", None), ("split", None), ("first", "tie_all")):
        case = _recipe(structure="ties", entry="vjp", convention=convention, bug=bug, d=4, h=4).build()
        _hand_gradient(case)
        errors[convention, bug] = measured_error(case)
    assert errors["first", None] <= 1e-10 and errors["split", None] <= 1e-10, f"right tie conventions: {errors}"
    assert errors["first", "tie_all"] >= CAP, f"tie_all: {errors}"


def test_the_matrix_script_prints_a_row_per_category(capsys):
    from verdict_fuzz_matrix import main  # tests/gradcheck is on sys.path (pytest rootdir insertion)

    main(["--examples", "3", "--categories", "float64", "ties"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    assert [r[0] for r in rows if r and r[0] in ("float64", "ties", "total")] == ["float64", "ties", "total"], out
    assert ["3"] == sorted({r[1] for r in rows if r and r[0] in ("float64", "ties")}), out


@pytest.mark.parametrize("verdict", ["PASS", "FAIL"])
def test_the_classification_can_fail(monkeypatch, verdict):
    """The property is not vacuous: a checker that always says PASS is caught on a planted x2, one that
    always says FAIL on right code (the real gradient is still computed and measured)."""
    import equivalence_tests.verdict_fuzz as fuzz

    class Stub:
        def __init__(self, f, grad_f, params, **options):
            grad_f(params)  # the checker sees the gradient once: the probe records it
            self.verdict = verdict

    monkeypatch.setattr(fuzz, "check_gradients", Stub)
    wrong, right = _recipe(bug="x2").build(), _recipe().build()
    assert fuzz.run_case(wrong).false_pass == (verdict == "PASS"), "a PASS on x2 must read as a false PASS"
    assert fuzz.run_case(right).false_fail == (verdict == "FAIL"), "a FAIL on right code must read as a false FAIL"


def test_the_fuzzers_truth_calls_no_subgradient_gray_and_a_one_sided_slope_right():
    """verdict_fuzz.no_subgradient: finding 6's case (a sample's units all at 0, relu'(0) = 0 for each:
    the twin's own gradient is outside the one-sided slopes of x) is gray, not right; the
    float32-inside kink case, whose twin gradient is the left slope of b1, is right (its FAIL is the
    checker's: the kinks mark above)."""
    finding_6, one_sided = REGRESSION_EXAMPLES["kinks"]
    outcome = run_case(finding_6.build())
    assert outcome.label == "gray", f"no subgradient: gray\n{outcome.describe()}"
    outcome = run_case(one_sided.build())
    assert outcome.label == "right", f"the twin's value is a one-sided slope: right\n{outcome.describe()}"


def test_the_readme_states_the_fuzzers_bounds():
    from pathlib import Path

    text = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    smooth = {b for c, b in INCONCLUSIVE_BOUND.items() if c not in ("kinks", "ties")}
    assert smooth == {0.10} and INCONCLUSIVE_BOUND["kinks"] == INCONCLUSIVE_BOUND["ties"] == 1.0, INCONCLUSIVE_BOUND
    assert "at most 10% INCONCLUSIVE on right code (100% at exact kinks and ties)" in text, "README's fuzzer paragraph"
    assert "python -m tests.gradcheck.verdict_fuzz_matrix --examples 500 --seed 0" in text, "the matrix command"
