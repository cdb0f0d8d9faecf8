"""Periods (seasons) as people type them: 'YYYY' or 'YYYY-MM-DD..YYYY-MM-DD', both days included."""

from __future__ import annotations

import re
from datetime import date

from gi.errors import InputError


def parse_season(text: str, field: str = "season") -> tuple[date, date]:
    """A season as 'YYYY' (the whole year) or 'YYYY-MM-DD..YYYY-MM-DD' (both days included)."""
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", text)
    if not match:
        raise InputError(field, f"{text!r} is neither YYYY nor YYYY-MM-DD..YYYY-MM-DD")
    try:
        start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
    except ValueError as exc:
        raise InputError(field, f"{text!r}: {exc}") from exc
    if end < start:
        raise InputError(field, f"{text!r} ends before it starts")
    return start, end
