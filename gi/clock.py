"""The office's clock: the moment and the date in the configured zone (``GI_TIMEZONE``, Asia/Shanghai).

Dates that decide something (which standard or area version is current, a season's day, a notice's date) are
the office's dates, not the machine's: a server on UTC is a day behind Beijing from 16:00 to 24:00 UTC. Every
"now" and "today" of the system is read here, so one clock decides them all and tests can move it in one place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from gi.settings import get_settings


def zone() -> ZoneInfo:
    """The configured office time zone."""
    return ZoneInfo(get_settings().timezone)


def _system_now() -> datetime:
    # The one read of the system clock (aware, UTC); tests replace this function to move time.
    return datetime.now(UTC)


def now() -> datetime:
    """The current moment as an aware datetime in the office time zone."""
    return _system_now().astimezone(zone())


def today() -> date:
    """Today's date in the office time zone."""
    return now().date()
