"""The season calendar: yearly month-day market windows (which may wrap over the new year), a plan's period
split into rounds, and the season kind (peak, regular, off season) of a product in a round. Dates are local
dates in Asia/Shanghai; nothing here looks at a clock (``gi.clock`` does)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from gi.errors import InputError

PEAK = "peak"
REGULAR = "regular"
OFF_SEASON = "off_season"


@dataclass(frozen=True)
class Window:
    """A yearly market window from (start_month, start_day) to (end_month, end_day), both days included."""

    start_month: int
    start_day: int
    end_month: int
    end_day: int
    kind: str  # "peak" | "regular"

    @property
    def wraps(self) -> bool:
        """True when the window runs over the new year (e.g. 11-01 .. 01-31)."""
        return (self.end_month, self.end_day) < (self.start_month, self.start_day)

    def text(self) -> str:
        """``MM-DD..MM-DD`` as published in the frame."""
        return f"{self.start_month:02d}-{self.start_day:02d}..{self.end_month:02d}-{self.end_day:02d}"

    @classmethod
    def parse(cls, text: str, kind: str) -> Window:
        """The inverse of ``text()``."""
        try:
            start, end = text.split("..")
            sm, sd = (int(x) for x in start.split("-"))
            em, ed = (int(x) for x in end.split("-"))
        except ValueError as exc:
            raise InputError("season window", f"{text!r} is not MM-DD..MM-DD") from exc
        if not (1 <= sm <= 12 and 1 <= em <= 12 and 1 <= sd <= 31 and 1 <= ed <= 31):
            raise InputError("season window", f"{text!r} has no such month or day")
        if kind not in (PEAK, REGULAR):
            raise InputError("season kind", f"{kind!r} is neither {PEAK!r} nor {REGULAR!r}")
        return cls(sm, sd, em, ed, kind)

    def contains(self, day: date) -> bool:
        """Whether ``day`` lies in the window (compares month and day, so a window is the same every year)."""
        md = (day.month, day.day)
        start = (self.start_month, self.start_day)
        end = (self.end_month, self.end_day)
        if self.wraps:
            return md >= start or md <= end
        return start <= md <= end


def day_kind(windows: Sequence[Window], day: date) -> str:
    """Season kind of one day: peak if any peak window holds it, else regular if any window does, else off
    season.

    A product without any window is on the market all year: every day is regular.
    """
    if not windows:
        return REGULAR
    kinds = {w.kind for w in windows if w.contains(day)}
    if PEAK in kinds:
        return PEAK
    return REGULAR if kinds else OFF_SEASON


def round_kind(windows: Sequence[Window], starts_on: date, ends_on: date) -> str:
    """Season kind of a round: the kind covering most of its days; ties go to the higher frequency.

    Higher frequency first: peak > regular > off season, so a round half in peak season is a peak round.
    """
    counts = {PEAK: 0, REGULAR: 0, OFF_SEASON: 0}
    day = starts_on
    while day <= ends_on:
        counts[day_kind(windows, day)] += 1
        day += timedelta(days=1)
    return max((PEAK, REGULAR, OFF_SEASON), key=lambda k: (counts[k], -(PEAK, REGULAR, OFF_SEASON).index(k)))


@dataclass(frozen=True)
class Round:
    """One round of a plan: number (from 1) and its due window, both days included."""

    number: int
    starts_on: date
    ends_on: date

    @property
    def days(self) -> int:
        """Length of the round in days."""
        return (self.ends_on - self.starts_on).days + 1


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    return date(day.year + month0 // 12, month0 % 12 + 1, 1)


# A plan is one season's programme: at most a year. The design reads risk factors, authorizations and season
# windows once for the period, keeps 400 days of inspection history and caps inspections per calendar year; a
# longer period (a 384-year one reached the draw through the API once) would draw on a frame that no longer
# describes the directory, so it is refused here, for every door (CLI, service, demo, parameters.json).
MAX_PLAN_DAYS = 366
EARLIEST_PERIOD = date(2000, 1, 1)
LATEST_PERIOD = date(2100, 12, 31)


def check_period(period_from: date, period_to: date) -> None:
    """Refuse a plan period that is reversed, longer than one year (366 days, both ends included) or outside
    2000-01-01..2100-12-31, naming the field."""
    if not EARLIEST_PERIOD <= period_from <= LATEST_PERIOD:
        raise InputError("period_from", f"{period_from} is outside {EARLIEST_PERIOD}..{LATEST_PERIOD}")
    if period_to < period_from:
        raise InputError("period_to", f"{period_to} is before period_from ({period_from})")
    days = (period_to - period_from).days + 1
    if days > MAX_PLAN_DAYS:
        raise InputError(
            "period_to",
            f"{period_from}..{period_to} is {days} days; a plan covers at most one year ({MAX_PLAN_DAYS} days, "
            "both ends included): split a longer programme into yearly plans",
        )


def check_rounds(period_from: date, period_to: date, rounds: Sequence[Round]) -> None:
    """Refuse rounds that do not tile the period: numbered 1, 2, ... without gap or overlap, from its first
    day to its last."""
    if not rounds:
        raise InputError("rounds", "a plan needs at least one round")
    expected_start = period_from
    for i, r in enumerate(rounds, start=1):
        if r.number != i or r.starts_on != expected_start or r.ends_on < r.starts_on:
            raise InputError(
                "rounds",
                f"round {r.number} ({r.starts_on}..{r.ends_on}) is not round {i} starting {expected_start}: "
                "rounds are numbered from 1 and tile the period without gap or overlap",
            )
        expected_start = r.ends_on + timedelta(days=1)
    if rounds[-1].ends_on != period_to:
        raise InputError(
            "rounds", f"the last round ends {rounds[-1].ends_on}, not on period_to ({period_to})"
        )


def split_rounds(period_from: date, period_to: date, rounds: int) -> list[Round]:
    """Split a period into ``rounds`` consecutive rounds.

    When the period is whole calendar months and their number is a multiple of ``rounds``, each round is the
    same number of whole months (a quarter in 3 rounds = 3 calendar months); otherwise the days are split as
    evenly as possible, earlier rounds taking the extra days.
    """
    check_period(period_from, period_to)
    if rounds < 1:
        raise InputError("rounds", "a plan needs at least one round")
    total_days = (period_to - period_from).days + 1
    if rounds > total_days:
        raise InputError("rounds", f"{rounds} rounds do not fit in {total_days} days")
    months = (period_to.year - period_from.year) * 12 + period_to.month - period_from.month + 1
    if period_from.day == 1 and _is_month_end(period_to) and months % rounds == 0:
        step = months // rounds
        out = []
        for i in range(rounds):
            start = _add_months(period_from, i * step)
            end = _add_months(period_from, (i + 1) * step) - timedelta(days=1)
            out.append(Round(i + 1, start, end))
        return out
    base, extra = divmod(total_days, rounds)
    out, start = [], period_from
    for i in range(rounds):
        length = base + (1 if i < extra else 0)
        end = start + timedelta(days=length - 1)
        out.append(Round(i + 1, start, end))
        start = end + timedelta(days=1)
    return out


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter holding ``day``."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return first, _add_months(first, 3) - timedelta(days=1)


def season_period(day: date, months: int = 3) -> tuple[date, date]:
    """A planning period of ``months`` whole calendar months starting with the month of ``day``."""
    first = date(day.year, day.month, 1)
    return first, _add_months(first, months) - timedelta(days=1)


class SeasonLike(Protocol):
    """What a season window is read from: a MarketSeason row or anything shaped like one."""

    @property
    def start_month(self) -> int: ...
    @property
    def start_day(self) -> int: ...
    @property
    def end_month(self) -> int: ...
    @property
    def end_day(self) -> int: ...
    @property
    def kind(self) -> object: ...


def windows_of(seasons: Iterable[SeasonLike]) -> list[Window]:
    """Windows from MarketSeason rows (anything with start_month, start_day, end_month, end_day and kind)."""
    out = []
    for s in seasons:
        kind = s.kind
        out.append(
            Window(
                int(s.start_month),
                int(s.start_day),
                int(s.end_month),
                int(s.end_day),
                str(getattr(kind, "value", kind)),
            )
        )
    return sorted(out, key=lambda w: (w.start_month, w.start_day, w.end_month, w.end_day, w.kind))
