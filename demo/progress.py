"""How a demo step reports its progress to whoever shows it (the CLI's progress bar, a log, or nobody)."""

from __future__ import annotations

from collections.abc import Callable

# (what is being done, units done so far, units in all or None when unknown)
StepProgress = Callable[[str, int, int | None], None]


def no_progress(what: str, done: int, total: int | None) -> None:
    """The default: progress is not shown."""
