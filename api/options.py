"""Parsing of command-line option values shared by the command modules."""

from __future__ import annotations

from datetime import date

import typer

from gi.errors import InputError
from gi.period import parse_season

# One period syntax on every command that reads a season: --from/--to, each end optional where the command says
# what it defaults to; --season accepts the compact form ('2025' or '2025-04-01..2025-06-30') as their alias.
PERIOD_FROM = typer.Option(
    None, "--from", metavar="DATE", help="First day, YYYY-MM-DD (default: the first sample's day)."
)
PERIOD_TO = typer.Option(
    None, "--to", metavar="DATE", help="Last day, YYYY-MM-DD (default: the last sample's day)."
)
PERIOD_SEASON = typer.Option(
    None,
    "--season",
    metavar="PERIOD",
    help="Alias of --from/--to: YYYY (the whole year) or YYYY-MM-DD..YYYY-MM-DD.",
)


def parse_day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD option value (None when empty), or an InputError naming the option."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(field, f"{value!r} is not a date (YYYY-MM-DD)") from exc


def check_angle(value: str, field: str) -> str:
    """An angle option value (decimal degrees or D°M′S″) as given, or an InputError naming the option."""
    from geo_data.io import parse_angle

    try:
        parse_angle(value)
    except ValueError as exc:
        raise InputError(field, str(exc)) from exc
    return value


def parse_period(start: str | None, end: str | None, season: str | None) -> tuple[date | None, date | None]:
    """The period given by --from/--to (either may be missing), or by --season as their alias; both is refused."""
    if season:
        if start or end:
            raise InputError("--season", "give the period either with --from/--to or with --season, not both")
        return parse_season(season, "--season")
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if first is not None and last is not None and last < first:
        raise InputError("--to", f"{last} is before {first}")
    return first, last
