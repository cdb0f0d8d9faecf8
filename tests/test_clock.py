"""One clock: "today" is the office's date (GI_TIMEZONE, Asia/Shanghai), not the machine's, wherever it decides."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from api.cli import app
from gi import clock
from gi.settings import get_settings

# 20:00 UTC on 6 December is 04:00 on 7 December in Beijing: a UTC machine is a day behind the office.
EVENING_UTC = datetime(2031, 12, 6, 20, 0, tzinfo=UTC)


@pytest.fixture
def evening(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Stop the clock at 20:00 UTC, 6 December 2031."""
    monkeypatch.setattr(clock, "_system_now", lambda: EVENING_UTC)
    return EVENING_UTC


def test_today_is_the_office_date_after_16_utc(evening: datetime) -> None:
    assert clock.today() == date(2031, 12, 7)
    assert clock.now().utcoffset() is not None and clock.now().hour == 4
    assert clock.now() == evening  # the same moment, read in the office zone


def test_the_configured_zone_decides(evening: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GI_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    try:
        assert clock.today() == date(2031, 12, 6)
    finally:
        monkeypatch.delenv("GI_TIMEZONE")
        get_settings.cache_clear()
    assert clock.today() == date(2031, 12, 7)


@pytest.mark.postgis
def test_the_rule_in_force_is_the_one_of_the_office_date(register_copy: str, evening: datetime) -> None:
    """A decision rule in force from 7 December shows as current at 04:00 Beijing time on 7 December, although
    the machine's (UTC) date is still the 6th."""
    runner = CliRunner()
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    older = runner.invoke(
        app,
        ["quality", "rule", "xihu-longjing", "--set", "simple_acceptance", "--from", "2026-01-01"],
        env=env,
    )
    assert older.exit_code == 0, older.output
    newer = runner.invoke(
        app,
        ["quality", "rule", "xihu-longjing", "--set", "guard_band", "--factor", "1", "--from", "2031-12-07"],
        env=env,
    )
    assert newer.exit_code == 0, newer.output
    assert "stored, from 2031-12-07" in newer.output and "guard band" in newer.output
