"""Shared terminal output for the CLI: one console, progress bars, and table helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table


def _console(stderr: bool = False) -> Console:
    """A console; when output is not a terminal (CI logs, pipes) use a width that fits our tables."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=max(probe.width, 160))


console = _console()
err_console = _console(stderr=True)


def progress() -> Progress:
    """A progress bar for long steps (counts, elapsed time); transient so that tables stay readable."""
    return Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,  # in a pipe or a log it would leave only an empty line
    )


@contextmanager
def progress_callback(description: str) -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress bar shown while the block runs, and the callback ``(what, done, total)`` that moves it
    (the form the domain's long functions report progress in)."""
    with progress() as bar:
        task = bar.add_task(description, total=None)

        def update(what: str, done: int, total: int | None) -> None:
            bar.update(task, description=what, completed=done, total=total)

        yield update


@contextmanager
def working(description: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the elapsed time while a step of unknown length runs (on stderr, gone afterwards), and
    the callback that renames the step as it moves on (reading the season, drawing the map, ...)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold blue]{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=None)

        def rename(what: str) -> None:
            bar.update(task, description=what)

        yield rename


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    justify_numbers: bool = True,
    counts: bool = False,
) -> Table:
    """A rich table; numeric cells are right-aligned, and with ``counts`` whole numbers are printed as counts
    (12,345; not by default: a table may hold years and ids)."""
    rows = [list(r) for r in rows]
    out = Table(title=title, title_justify="left", header_style="bold")
    for i, name in enumerate(columns):
        numeric = (
            justify_numbers and rows and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)
        )
        out.add_column(name, justify="right" if numeric else "left")
    for r in rows:
        out.add_row(*(_cell(v, counts) for v in r))
    return out


def _cell(value: Any, counts: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if counts and type(value) is int:
        return f"{value:,}"
    return str(value)
