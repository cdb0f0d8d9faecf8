"""Values as people type them in spreadsheets: Excel-style and Chinese dates, degrees-minutes-seconds.

These readers turn text into the plain values a validator expects (an ISO moment, decimal degrees). Coordinates
they do not recognize are returned unchanged, so the validator's own message names the problem; dates and times
they cannot read are refused here, with a message naming the forms that are accepted (the validator's own would
read a plain number as Unix seconds, and name only the character it stumbled on).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

# Full-width digits and punctuation, as Chinese input methods type them.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．：－／　", "0123456789.:-/ ")

# 2026/4/5 9:40, 2026-4-5, 2026.4.5 09:40:30, 2026年4月5日, 2026年4月5日 9时40分, 2026年4月5日9:40
_LOCAL_MOMENT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:时點点]\s*(\d{1,2})\s*分?(?:\s*[:]?\s*(\d{1,2}(?:\.\d{1,6})?)\s*秒?)?)?\s*"
)
_ISO_START = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
).fullmatch


MOMENT_FORMS = (
    "ISO 8601 like 2026-04-05 09:30+08:00 (no offset: local time), 2026/4/5 9:30 or 2026年4月5日 9时30分"
)
# Excel's date serials of 1990-01-01 and 2100-01-01: a number between them in a date column was a date cell once.
EXCEL_SERIALS = (32874, 73051)
DATE_FORMS = "2026-03-28, 2026/3/28 or 2026年3月28日"


def local_moment(value: Any) -> Any:
    """A date-time typed as in Excel ("2026/4/5 9:40") or in Chinese ("2026年4月5日 9时40分") as a naive datetime;
    valid ISO text, and values that are not text, are returned as they are (the caller's validator reads them).

    Other text raises :class:`ValueError` naming the accepted forms: a number (an Excel date serial such as
    ``46117.375`` saved as text, or Unix seconds), a day-first or month-first date (``4/7/2026`` is ambiguous),
    or a field out of range (``2026-04-05 25:61``, ``2026/2/30``).
    """
    if type(value) is not str:
        return value
    text = value.strip()
    if _ISO_START(text):
        try:
            datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid date/time ({exc}); use {MOMENT_FORMS}") from None
        return value  # ISO 8601: the validator reads it, with its offset
    match = _LOCAL_MOMENT.fullmatch(text.translate(_FULL_WIDTH))
    if match is None:
        if _PLAIN_NUMBER(text):
            excel = EXCEL_SERIALS[0] <= float(text) < EXCEL_SERIALS[1]
            hint = " (an Excel date serial: format the column as a date before saving)" if excel else ""
            raise ValueError(f"{text!r} is a number, not a date/time{hint}; use {MOMENT_FORMS}")
        raise ValueError(f"{text!r} is not a date/time; use {MOMENT_FORMS}")
    year, month, day, hour, minute, second = match.groups()
    seconds = float(second or 0)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(seconds),
            round((seconds % 1) * 1_000_000),
        )
    except ValueError as exc:  # 2026/2/30, 2026/4/5 25:00
        raise ValueError(f"{text!r} is not a valid date/time ({exc}); use {MOMENT_FORMS}") from None


def local_date(value: Any) -> Any:
    """A date typed as in Excel ("2026/3/28"), in Chinese ("2026年3月28日") or as ISO text, or an Excel cell's
    date-time at midnight, as a date; text that is no date raises :class:`ValueError` naming the accepted forms,
    and anything else is returned as it is (the caller's validator decides)."""
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if type(value) is not str:
        return value
    text = value.strip()
    if _ISO_START(text) and len(text) > 10:
        text = text.replace("T", " ")
        if text[10:].strip() in ("00:00", "00:00:00"):
            return date.fromisoformat(text[:10])
        return value
    try:
        moment = local_moment(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; use {DATE_FORMS}") from None
    if isinstance(moment, datetime) and moment.time() == datetime.min.time():
        return moment.date()
    return value


_PLAIN_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*").fullmatch
_ANGLE = re.compile(
    r"\s*(?P<sign>[+-])?\s*(?P<pre>[NSEW北南东西])?\s*(?P<deg>\d+(?:\.\d+)?)\s*(?:°|º|度|d)?\s*"
    r"(?:(?P<min>\d+(?:\.\d+)?)\s*(?:′|'|’|分|m)\s*)?"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:″|\"|''|”|秒|s)\s*)?"
    r"(?P<hemi>[NSEW北南东西])?\s*",
    re.IGNORECASE,
)
_NEGATIVE = {"S", "W", "南", "西"}


def angle(value: Any) -> Any:
    """Degrees-minutes-seconds text ("120°05′30.5″E", "30度15分N", "N30°15'") as decimal degrees; plain numbers
    and anything else are returned as they are."""
    if type(value) is not str or _PLAIN_NUMBER(value):
        return value
    match = _ANGLE.fullmatch(value.translate(_FULL_WIDTH))
    if match is None or (match["pre"] and match["hemi"]):
        return value
    minutes = float(match["min"] or 0)
    seconds = float(match["sec"] or 0)
    if minutes >= 60 or seconds >= 60:
        return value
    degrees = float(match["deg"]) + minutes / 60 + seconds / 3600
    hemisphere = (match["pre"] or match["hemi"] or "").upper()
    return -degrees if match["sign"] == "-" or hemisphere in _NEGATIVE else degrees


def angle_decimals(text: str) -> int | None:
    """Decimal places equivalent to the precision of a degrees-minutes-seconds text (None for a plain number).

    A second of arc is about 31 m: whole seconds count as 3 decimals of a degree, tenths of a second as 4; whole
    minutes (1.9 km) as 1.
    """
    if _PLAIN_NUMBER(text):
        return None
    match = _ANGLE.fullmatch(text.translate(_FULL_WIDTH))
    if match is None:
        return None

    def places(part: str) -> int:
        return len(part.partition(".")[2])

    if match["sec"] is not None:
        return 3 + places(match["sec"])
    if match["min"] is not None:
        return 1 + places(match["min"])
    return places(match["deg"])
