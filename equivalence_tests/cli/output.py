"""Everything a command prints besides its result: progress bars, spinners, tables, JSON encoding,
and silencing TensorFlow's native log lines."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


@contextlib.contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[str], None]]:
    """Yield ``advance(label)``: call it when one of ``total`` units of work starts.

    A rich progress bar on a terminal when rich is installed, else tqdm, else one line per unit on
    stderr; nothing at all when stderr is not a terminal (pipes, CI logs, ``--json``)."""
    if not sys.stderr.isatty():
        yield lambda label: None
        return
    try:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        Progress = None
    if Progress is not None:
        from rich.console import Console

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(description, total=total)
            started = [False]

            def advance_rich(label: str) -> None:
                if started[0]:
                    bar.advance(task)
                started[0] = True
                bar.update(task, description=f"{description}: {label}")

            yield advance_rich
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        with tqdm(total=total, desc=description, file=sys.stderr, leave=False) as bar:
            started = [False]

            def advance_tqdm(label: str) -> None:
                if started[0]:
                    bar.update(1)
                started[0] = True
                bar.set_postfix_str(label)

            yield advance_tqdm
        return
    counter = [0]

    def advance_plain(label: str) -> None:
        counter[0] += 1
        print(f"[{counter[0]}/{total}] {description}: {label}", file=sys.stderr, flush=True)

    yield advance_plain


@contextlib.contextmanager
def spinner(message: str) -> Iterator[None]:
    """A rich status spinner on a terminal; nothing otherwise."""
    if sys.stderr.isatty():
        try:
            from rich.console import Console
        except ImportError:
            print(f"{message} ...", file=sys.stderr, flush=True)
        else:
            with Console(stderr=True).status(message):
                yield
            return
    yield


def json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool) -> Iterator[None]:
    """Silence file descriptor 2 while TensorFlow initializes: its C++ runtime logs (oneDNN, absl)
    bypass Python and TF_CPP_MIN_LOG_LEVEL does not catch them all. Python-level errors still surface
    as exceptions, which are reported after the descriptor is restored."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def plain_table(header: list[str], body: list[list[str]]) -> str:
    header = [cell.replace("\n", " ") for cell in header]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *body]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def rich_table(title: str, header: list[str], body: list[list[str]], footer: list[str]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for position, column in enumerate(header):
        table.add_column(column, justify="left" if position == 0 else "right", no_wrap=True)
    for row in body:
        table.add_row(*[cell.replace("FAIL", "[bold red]FAIL[/]") for cell in row])
    console = Console(record=True, width=200 if not sys.stdout.isatty() else None, file=io.StringIO())
    console.print(table)
    for line in footer:
        console.print(line, markup=False, highlight=False)
    text = console.export_text(styles=sys.stdout.isatty())
    return "\n".join(line.rstrip() for line in text.splitlines())  # the fixed width pads every line


def rich_available() -> bool:
    return importlib.util.find_spec("rich") is not None
