"""An evaluation / time budget for a gradient check, and its optional progress bar.

    budget = Budget(max_evaluations=10_000, time_budget=30.0, progress=True)
    budget.spend()          # one evaluation of f; raises BudgetExhausted once a limit is passed

When a limit is passed the check stops where it is and every element not yet verified is reported
INCONCLUSIVE ("budget exhausted"), never passed. The progress bar (rich, else tqdm, on stderr)
appears only when asked for, only on a terminal, and only once the check has run for
PROGRESS_AFTER_SECONDS: a check that ends sooner prints nothing.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

# A bar for a check shorter than this is flicker; 2 s is where people start to wonder.
PROGRESS_AFTER_SECONDS = 2.0
# Redraw at most this often: a bar redraw costs far more than a cheap evaluation of f.
PROGRESS_REFRESH_SECONDS = 0.1


class BudgetExhausted(BaseException):
    """Raised by Budget.spend when a limit is passed; ``reason`` says which.

    A BaseException (like KeyboardInterrupt): it is a stop signal, and the checker's own
    ``except Exception`` around calls of f (a probe that asks whether f takes complex input) must
    not mistake it for f failing."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Budget:
    """Counts evaluations of f and elapsed time against optional limits; drives the progress bar.

    max_evaluations: int > 0 or None; time_budget: seconds > 0 or None; progress: bool, or
    "always" to draw even when stderr is not a terminal. ``units`` / ``done`` are the elements to
    verify and verified so far (for the bar), set by the check.
    """

    def __init__(self, max_evaluations: int | None = None, time_budget: float | None = None,
                 progress: bool | str = False):
        if max_evaluations is not None and (isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int)
                                            or max_evaluations < 1):
            raise ValueError(f"max_evaluations must be a positive int or None; got {max_evaluations!r}")
        if time_budget is not None and (isinstance(time_budget, bool) or not isinstance(time_budget, int | float)
                                        or not math.isfinite(time_budget) or time_budget <= 0):
            raise ValueError(f"time_budget must be a positive number of seconds or None; got {time_budget!r}")
        if progress not in (True, False, "always"):
            raise ValueError(f"progress must be True, False or 'always'; got {progress!r}")
        self.max_evaluations = max_evaluations
        self.time_budget = None if time_budget is None else float(time_budget)
        self.progress = progress
        self.evaluations = 0
        self.start = time.perf_counter()
        self.units = 0
        self.done = 0
        self.label = ""
        self._bar: Any = None
        self._last_draw = 0.0
        self.exhausted: str | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def spend(self, evaluations: int = 1) -> None:
        """Count ``evaluations`` calls of f; raise BudgetExhausted if a limit is now passed."""
        self.evaluations += evaluations
        if self.exhausted is None:
            if self.max_evaluations is not None and self.evaluations > self.max_evaluations:
                self.exhausted = f"max_evaluations={self.max_evaluations} reached"
            elif self.time_budget is not None and self.elapsed > self.time_budget:
                self.exhausted = f"time_budget={self.time_budget:g} s reached"
        if self.exhausted is not None:
            raise BudgetExhausted(self.exhausted)
        self._draw()

    def advance(self, elements: int, label: str | None = None) -> None:
        """``elements`` more elements settled (verified, failed or given up); for the bar."""
        self.done += elements
        if label is not None:
            self.label = label
        self._draw()

    def _draw(self) -> None:
        if not self.progress:
            return
        now = time.perf_counter()
        if now - self._last_draw < PROGRESS_REFRESH_SECONDS or now - self.start < PROGRESS_AFTER_SECONDS:
            return
        self._last_draw = now
        if self._bar is None:
            self._bar = _open_bar(self.progress == "always")
            if self._bar is None:
                self.progress = False
                return
        self._bar.update(min(self.done, self.units), max(self.units, 1),
                         f"{self.label} ({self.evaluations} evaluations of f)")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _open_bar(always: bool) -> Any:
    """A bar on stderr: rich if installed, else tqdm, else None (no bar, no error)."""
    if not (always or sys.stderr.isatty()):
        return None
    try:
        return _RichBar()
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - rich refuses a second live display (a caller's spinner): no bar
        return None
    try:
        return _TqdmBar()
    except ImportError:
        return None


class _RichBar:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("gradient check"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("elements  {task.description}"), TimeElapsedColumn(),
                                  console=Console(stderr=True), transient=True)
        self._task = self._progress.add_task("", total=1)
        self._progress.start()

    def update(self, done: int, total: int, text: str) -> None:
        self._progress.update(self._task, completed=done, total=total, description=text)

    def close(self) -> None:
        self._progress.stop()


class _TqdmBar:
    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=1, desc="gradient check", unit="elements", file=sys.stderr, leave=False)

    def update(self, done: int, total: int, text: str) -> None:
        self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        self._bar.close()
