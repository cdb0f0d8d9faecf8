"""Parsing of command-line option values shared by the command modules."""

from __future__ import annotations

from datetime import date

from gi.errors import InputError


def parse_day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD option value (None when empty), or an InputError naming the option."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(field, f"{value!r} is not a date (YYYY-MM-DD)") from exc
