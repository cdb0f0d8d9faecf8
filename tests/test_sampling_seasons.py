"""Season calendar: windows (incl. over the new year), round kinds, rounds of a period, raised peak ratio."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from demo.directories import synthetic_frame
from gi.errors import InputError
from sampling.design import DesignParameters, Ratios
from sampling.draw import run_draw
from sampling.seasons import (
    OFF_SEASON,
    PEAK,
    REGULAR,
    Round,
    Window,
    day_kind,
    round_kind,
    season_period,
    split_rounds,
)

NAVEL_ORANGE = (Window(11, 1, 1, 31, PEAK), Window(2, 1, 3, 31, REGULAR))


def test_window_wrapping_the_new_year() -> None:
    w = NAVEL_ORANGE[0]
    assert w.wraps and w.text() == "11-01..01-31"
    assert w.contains(date(2026, 12, 31)) and w.contains(date(2027, 1, 1)) and w.contains(date(2026, 11, 1))
    assert not w.contains(date(2026, 10, 31)) and not w.contains(date(2027, 2, 1))
    assert Window.parse("11-01..01-31", PEAK) == w
    with pytest.raises(InputError):
        Window.parse("13-01..01-31", PEAK)


def test_day_kind() -> None:
    assert day_kind(NAVEL_ORANGE, date(2026, 12, 15)) == PEAK
    assert day_kind(NAVEL_ORANGE, date(2026, 3, 1)) == REGULAR
    assert day_kind(NAVEL_ORANGE, date(2026, 7, 1)) == OFF_SEASON
    assert day_kind((), date(2026, 7, 1)) == REGULAR  # no window: on the market all year
    # A peak window inside a regular one wins.
    crab = (Window(9, 20, 12, 31, REGULAR), Window(10, 15, 11, 15, PEAK))
    assert day_kind(crab, date(2026, 11, 1)) == PEAK and day_kind(crab, date(2026, 12, 1)) == REGULAR


def test_round_kind_majority_with_ties_going_up() -> None:
    crab = (Window(9, 20, 12, 31, REGULAR), Window(10, 15, 11, 15, PEAK))
    assert round_kind(crab, date(2026, 11, 1), date(2026, 11, 30)) == PEAK  # 15 peak days, 15 regular: tie
    assert round_kind(crab, date(2026, 11, 1), date(2026, 12, 31)) == REGULAR
    assert round_kind(crab, date(2027, 1, 1), date(2027, 1, 31)) == OFF_SEASON


def test_split_rounds_by_months_or_days() -> None:
    rounds = split_rounds(date(2026, 11, 1), date(2027, 1, 31), 3)
    assert [(r.starts_on, r.ends_on) for r in rounds] == [
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 31)),
    ]
    two = split_rounds(date(2026, 1, 1), date(2026, 12, 31), 2)
    assert two[0].ends_on == date(2026, 6, 30) and two[1].starts_on == date(2026, 7, 1)
    odd = split_rounds(date(2026, 3, 10), date(2026, 4, 9), 3)  # 31 days -> 11, 10, 10
    assert [r.days for r in odd] == [11, 10, 10] and odd[-1].ends_on == date(2026, 4, 9)
    with pytest.raises(InputError) as reversed_:
        split_rounds(date(2026, 3, 10), date(2026, 3, 1), 1)
    assert reversed_.value.field == "period_to"
    assert season_period(date(2026, 11, 24)) == (date(2026, 11, 1), date(2027, 1, 31))


def test_raised_ratio_in_peak_season() -> None:
    """The same directory draws 15 % in a peak round and 5 % in a regular or off-season round."""
    windows = [(Window(1, 1, 1, 31, PEAK), Window(2, 1, 2, 28, REGULAR))]
    frame = synthetic_frame(
        2000, 400, 1, seed=3, windows=windows, counties_per_product=4, history_share=0, capacity=(20, 30)
    )
    params = DesignParameters(
        "P",
        date(2026, 1, 1),
        date(2026, 3, 31),
        tuple(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3)),
        min_gap_days=0,
        yearly_cap=3,
    )
    result = run_draw(frame, params, hashlib.sha256(b"peak").digest())
    by_round = {s.round: s for s in result.strata}
    assert [by_round[r].season_kind for r in (1, 2, 3)] == [PEAK, REGULAR, OFF_SEASON]
    assert [by_round[r].sample_size for r in (1, 2, 3)] == [300, 100, 100]
    assert [len(result.tasks_of_round(r)) for r in (1, 2, 3)] == [300, 100, 100]
    # Configurable per product: no inspection off season, a 30 % peak.
    custom = params.with_changes(product_ratios={"syn-00": Ratios(peak=3000, regular=500, off_season=0)})
    result = run_draw(frame, custom, hashlib.sha256(b"peak").digest())
    assert [s.sample_size for s in result.strata] == [600, 100, 0]


def test_a_plan_covers_at_most_one_year() -> None:
    """A 384-year period once reached the draw through the API: every door refuses it, naming the field."""
    leap = split_rounds(date(2028, 1, 1), date(2028, 12, 31), 4)  # 366 days, both ends included
    assert leap[-1].ends_on == date(2028, 12, 31)
    for start, end, field in [
        (date(2026, 1, 1), date(2409, 12, 31), "period_to"),
        (date(2028, 1, 1), date(2029, 1, 1), "period_to"),  # 367 days: one too many
        (date(1642, 1, 1), date(1642, 3, 31), "period_from"),
        (date(2101, 1, 1), date(2101, 3, 31), "period_from"),
    ]:
        with pytest.raises(InputError) as refused:
            split_rounds(start, end, 3)
        assert refused.value.field == field, refused.value
        with pytest.raises(InputError) as refused:
            DesignParameters("LONG", start, end, (Round(1, start, end),))
        assert refused.value.field == field
    assert "at most one year" in str(
        pytest.raises(InputError, split_rounds, date(2026, 1, 1), date(2409, 12, 31), 3).value
    )


def test_parameters_refuse_rounds_that_do_not_tile_the_period() -> None:
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    good = tuple(split_rounds(start, end, 3))
    for rounds in [
        (),
        (good[0], good[0], good[2]),  # a number twice: one target could be stored twice in "round 1"
        (good[0], good[2]),  # a gap
        (good[0], good[1], Round(3, good[2].starts_on, date(2026, 3, 30))),  # ends before the period
        (Round(1, start, date(2026, 2, 10)), good[1], good[2]),  # overlap
    ]:
        with pytest.raises(InputError) as refused:
            DesignParameters("T", start, end, rounds)
        assert refused.value.field == "rounds"
    assert DesignParameters("T", start, end, good).rounds == good
