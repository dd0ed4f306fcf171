"""Pins of the budget (budget.py): the evaluation and time limits at their edge, the reasons they give,
bad arguments, and when the progress bar is drawn (after PROGRESS_AFTER_SECONDS, at most every
PROGRESS_REFRESH_SECONDS, with the counts it shows), on a recording bar in place of rich / tqdm."""

import importlib.util
import time

import numpy as np
import pytest

from reference_nn.gradcheck import budget as bm
from reference_nn.gradcheck.budget import Budget, BudgetExhausted


def test_max_evaluations_is_reached_after_that_many():
    budget = Budget(max_evaluations=5)
    for _ in range(5):
        budget.spend()
    assert budget.evaluations == 5 and budget.exhausted is None, "five evaluations are within a budget of five"
    with pytest.raises(BudgetExhausted) as caught:
        budget.spend()
    assert caught.value.reason == "max_evaluations=5 reached" == budget.exhausted, caught.value.reason
    with pytest.raises(BudgetExhausted):
        budget.spend(0)  # once exhausted, every later call stops too
    several = Budget(max_evaluations=5)
    several.spend(5)
    with pytest.raises(BudgetExhausted):
        several.spend(1)


def test_the_time_budget():
    budget = Budget(time_budget=30)
    budget.spend()
    budget.start -= 31.0  # 31 s ago
    with pytest.raises(BudgetExhausted) as caught:
        budget.spend()
    assert caught.value.reason == "time_budget=30 s reached", caught.value.reason
    assert isinstance(budget.time_budget, float) and 31.0 <= budget.elapsed < 60.0, budget.elapsed
    assert issubclass(BudgetExhausted, BaseException) and not issubclass(BudgetExhausted, Exception), "a stop signal"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_evaluations": 0}, "max_evaluations must be a positive int or None; got 0"),
        ({"max_evaluations": True}, "max_evaluations must be a positive int or None; got True"),
        ({"max_evaluations": 2.0}, "max_evaluations must be a positive int or None; got 2.0"),
        ({"time_budget": 0}, "time_budget must be a positive number of seconds or None; got 0"),
        ({"time_budget": float("inf")}, "time_budget must be a positive number of seconds or None; got inf"),
        ({"time_budget": False}, "time_budget must be a positive number of seconds or None; got False"),
        ({"time_budget": "3"}, "time_budget must be a positive number of seconds or None; got '3'"),
        ({"progress": "yes"}, "progress must be True, False or 'always'; got 'yes'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError) as caught:
        Budget(**kwargs)
    assert str(caught.value) == message, str(caught.value)


def test_edge_values_are_accepted():
    assert Budget(max_evaluations=1, time_budget=1e-3).max_evaluations == 1, "1 evaluation, 1 ms"
    assert Budget(progress="always").progress == "always", "always"


class Recording:
    def __init__(self):
        self.updates, self.closed = [], False

    def update(self, done, total, text):
        self.updates.append((done, total, text))

    def close(self):
        self.closed = True


def test_the_bar_appears_after_two_seconds_and_is_throttled(monkeypatch):
    bar = Recording()
    opened = []
    monkeypatch.setattr(bm, "_open_bar", lambda always: opened.append(always) or bar)
    budget = Budget(progress=True)
    budget.units, budget.label = 10, "W1"
    budget.advance(3)
    assert opened == [] and bar.updates == [], "nothing in the first two seconds"
    budget.start -= bm.PROGRESS_AFTER_SECONDS + 0.5
    budget.spend()
    assert opened == [False] and bar.updates == [(3, 10, "W1 (1 evaluations of f)")], bar.updates
    budget.advance(20, label="b1")  # within the refresh interval: not drawn
    assert len(bar.updates) == 1, bar.updates
    budget._last_draw -= bm.PROGRESS_REFRESH_SECONDS + 0.05
    budget.advance(0)
    assert bar.updates[-1] == (10, 10, "b1 (1 evaluations of f)"), "done capped at units, the new label"
    budget.close()
    assert bar.closed and budget._bar is None, "closed"
    budget.close()  # twice: nothing to close


def test_no_bar_without_progress_and_none_where_it_cannot_open(monkeypatch):
    monkeypatch.setattr(bm, "_open_bar", lambda always: pytest.fail("no bar asked for"))
    quiet = Budget()
    quiet.start -= 10.0
    quiet.spend()
    quiet.advance(1)
    monkeypatch.setattr(bm, "_open_bar", lambda always: None)
    refused = Budget(progress="always")
    refused.start -= 10.0
    refused.spend()
    assert refused.progress is False, "a bar that cannot open turns progress off"
    empty = Recording()
    monkeypatch.setattr(bm, "_open_bar", lambda always: empty)
    zero = Budget(progress=True)
    zero.start -= 10.0
    zero.advance(0)
    assert empty.updates == [(0, 1, " (0 evaluations of f)")], f"no units: a total of 1: {empty.updates}"


def test_open_bar_off_a_terminal_is_none_unless_always(monkeypatch):
    monkeypatch.setattr(bm.sys.stderr, "isatty", lambda: False, raising=False)
    assert bm._open_bar(False) is None, "not a terminal: no bar"
    started = time.perf_counter()
    bar = bm._open_bar(True)
    installed = any(importlib.util.find_spec(name) for name in ("rich", "tqdm"))
    try:
        assert (bar is not None) == installed, f"always: a bar from rich or tqdm where one is installed ({bar!r})"
        if bar is not None:
            bar.update(1, 2, "x")
    finally:
        if bar is not None:
            bar.close()
    assert time.perf_counter() - started < 2.0, "opening a bar is quick"


def test_the_bar_redraws_after_exactly_the_refresh_interval(monkeypatch):
    bar = Recording()
    monkeypatch.setattr(bm, "_open_bar", lambda always: bar)
    budget = Budget(progress=True)
    budget.start, budget._last_draw = -5.0, 0.0
    monkeypatch.setattr(bm.time, "perf_counter", lambda: bm.PROGRESS_REFRESH_SECONDS)  # now - last = 0.1 exactly
    budget.advance(1)
    assert len(bar.updates) == 1, "an interval of exactly PROGRESS_REFRESH_SECONDS is not too soon"


@pytest.mark.parametrize("method", ["central", "richardson", "auto"])
def test_f_is_never_called_more_often_than_max_evaluations(method):
    """Every budget from a few below what the check needs to one above: f is called at most
    max_evaluations times in all (the final determinism call included: it is skipped, with a note, when the
    budget is spent exactly), and a check that fits its budget with room to spare makes that final call."""
    from reference_nn.gradcheck import check_gradients

    calls = []

    def f(p):
        calls.append(1)
        return float(np.sum(np.sin(p["w"])))

    point = {"w": np.array([0.3, -0.7, 1.1])}
    check_gradients(f, lambda p: {"w": np.cos(p["w"])}, point, method=method)
    needed = len(calls)
    for budget in range(needed - 4, needed + 2):
        calls.clear()
        report = check_gradients(f, lambda p: {"w": np.cos(p["w"])}, point, method=method, max_evaluations=budget)
        assert len(calls) <= budget, f"{method}: f called {len(calls)} times under max_evaluations={budget}"
        skipped = any(n.startswith("f was not evaluated again at the given point") for n in report.notes)
        assert skipped == (budget < needed), f"{method}, budget {budget} of {needed}: final call skipped {skipped}"
