"""Feasibility before the commitment: a target without enough eligible inspectors, or a pool without enough
capacity, is named (and refused), or repaired by widening pools with the change reported; each pool's slack is
exact; a repaired frame draws and verifies."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import pytest

from sampling.design import DesignParameters
from sampling.draw import run_draw
from sampling.feasibility import InfeasibleFrameError, check_feasibility, repair_frame
from sampling.frames import Frame, FrameInspector, FrameProducer, FrameProduct
from sampling.seasons import split_rounds

NONE = {"failure": 0}


def _frame(inspectors: list[FrameInspector], extra: list[FrameProducer] | None = None) -> Frame:
    producers = [
        FrameProducer(
            i, "tea", ("330101", "330102", "330103")[i % 3], "producer", "X", f"茶企{i}", True, NONE
        )
        for i in range(1, 31)
    ]
    return Frame(
        "F",
        "2026-01-01T00:00:00+08:00",
        [FrameProduct("tea", 1, "茶", "farm_product", ())],
        producers + (extra or []),
        inspectors,
    )


def _params(**changes: object) -> DesignParameters:
    rounds = tuple(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3))
    return DesignParameters("F", date(2026, 1, 1), date(2026, 3, 31), rounds, **changes)  # type: ignore[arg-type]


ZHEJIANG = [
    FrameInspector(f"Z{k}", ("330101", "330102", "330103", "330100")[k % 4], ("farm_product",), 4)
    for k in range(8)
]


def test_pool_slack_is_the_largest_demand_a_draw_can_make() -> None:
    report = check_feasibility(_frame(ZHEJIANG), _params())
    assert report.ok and not report.targets
    (pool,) = report.pools
    # 30 targets at 5 %: n = max(ceil(1.5), 2, 3 counties x 1) = 3 tasks x 2 inspectors in every round.
    assert (pool.pool, pool.capacity, pool.demand, pool.round, pool.slack) == ("33", 32, 6, 1, 26)
    assert pool.tightest_category == "farm_product" and pool.category_slack == 26
    assert "slack 26" in pool.text()


def test_a_target_lacking_inspectors_is_named_or_repaired() -> None:
    """Target 99 lives in 330104, where the only two qualified inspectors of its province also live."""
    lonely = FrameProducer(99, "tea", "330104", "producer", "X", "孤县茶企", True, NONE)
    inspectors = [
        FrameInspector("Z0", "330104", ("farm_product",), 4),
        FrameInspector("Z1", "330104", ("farm_product",), 4),
        FrameInspector("Z2", "330101", ("handicraft",), 4),
        FrameInspector("J0", "320101", ("farm_product",), 4),
        FrameInspector("J1", "320102", ("farm_product",), 4),
        FrameInspector("J2", "320103", ("farm_product",), 4),
    ]
    frame = _frame(inspectors, [lonely])
    params = _params()
    report = check_feasibility(frame, params)
    assert [t.producer_id for t in report.targets][-1] == 99 and not report.ok
    line = next(t.text() for t in report.targets if t.producer_id == 99)
    assert "孤县茶企" in line and "pool 33" in line and "0 eligible inspectors" in line
    with pytest.raises(InfeasibleFrameError, match="not feasible"):
        raise InfeasibleFrameError(report)
    repaired, after = repair_frame(frame, params)
    assert after.ok and any("target 99 孤县茶企: pool 33 -> *" in r for r in after.repairs)
    assert next(p for p in repaired.producers if p.id == 99).pool == "*"
    assert {p.pool for p in after.pools} >= {"*"}
    # Alone in its county, the target is certain to be drawn once (min_per_county), from the whole directory.
    result = run_draw(repaired, params, hashlib.sha256(b"r").digest())
    task = next(t for t in result.tasks if t.producer_id == 99)
    assert all(code.startswith("J") for code in task.inspectors)  # from the whole directory, not its county


def test_a_target_that_may_be_drawn_twice_needs_twice_the_inspectors() -> None:
    # Four eligible inspectors outside each county: enough once, enough twice (2 x 2).
    frame = _frame(ZHEJIANG)
    params = _params(min_gap_days=0, yearly_cap=3)
    assert check_feasibility(frame, params).ok
    three = [
        FrameInspector(f"Z{k}", ("330101", "330102", "330104")[k], ("farm_product",), 30) for k in range(3)
    ]
    short = check_feasibility(_frame(three), params)
    twice = [t for t in short.targets if t.twice]
    # Every target has 2 or 3 eligible inspectors: enough once, not for two rounds.
    assert len(twice) == 30 and all(t.available_any in (2, 3) and t.needed == 4 for t in twice)
    assert "may be drawn twice" in twice[0].text()
    assert check_feasibility(_frame(three), _params()).ok  # the 90-day gap: never twice in a quarter


def test_a_pool_short_of_capacity_is_named_or_widened() -> None:
    small = [replace(i, capacity=1) for i in ZHEJIANG[:4]]
    national = [FrameInspector(f"J{k}", f"32010{k}", ("farm_product",), 5) for k in range(4)]
    frame = _frame(small + national)
    report = check_feasibility(frame, _params())
    bad = [p for p in report.pools if not p.ok]
    assert [p.pool for p in bad] == ["33"] and bad[0].slack == 4 - 6
    repaired, after = repair_frame(frame, _params())
    assert (
        after.ok
        and "pool 33 lacks capacity: its 30 targets draw from the whole directory (*)" in after.repairs
    )
    assert {p.pool for p in repaired.producers} == {"*"}
    # Nothing can help when the whole directory is too small.
    with pytest.raises(InfeasibleFrameError):
        repair_frame(_frame(small), _params())


def test_unknown_county_targets_are_reported_and_repaired() -> None:
    nowhere = FrameProducer(98, "tea", "000000", "producer", "", "无县码茶企", True, NONE)
    frame = _frame(ZHEJIANG, [nowhere])
    report = check_feasibility(frame, _params())
    assert report.ok and report.unpooled == [98]
    repaired, after = repair_frame(frame, _params())
    assert any("无县码茶企: no county" in r for r in after.repairs)
    assert next(p for p in repaired.producers if p.id == 98).pool == "*"
