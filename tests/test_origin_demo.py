"""The simulated season: every scenario gets the verdict and flags it was made for; the demo step prints them."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.orm import Session

from demo.samples import simulate_season
from gi.origin.batch import record_samples

pytestmark = pytest.mark.postgis

EXPECTED = {
    "inside": {"inside"},
    "GCJ-02": {"inside"},
    "BD-09": {"inside"},
    "outside": {"outside"},
    "near boundary": {"uncertain"},
    "swapped": {"outside"},
    "mock location": {"uncertain"},
}


def test_simulated_season_exercises_every_path(session: Session, loaded_register: None) -> None:
    simulated = simulate_season(session, seed=7, per_product=8)
    assert len(simulated) >= 8 * 10
    scenarios = Counter(s.scenario for s in simulated)
    assert scenarios["mock location"] == 1
    assert {"inside", "outside", "near boundary", "GCJ-02", "BD-09", "swapped"} <= set(scenarios)
    result = record_samples(
        session, [(i + 1, s.fields) for i, s in enumerate(simulated)], source="test season"
    )
    assert not result.refused, [(r.field, r.problem) for r in result.refused][:3]
    for row, sim in zip(result.rows, simulated, strict=True):
        verdict = row.verdict
        assert verdict.verdict.value in EXPECTED[sim.scenario], (sim.scenario, verdict)
        if sim.scenario == "swapped":
            assert "swapped_lat_lon" in verdict.flags
        if sim.scenario == "mock location":
            assert "accuracy_zero" in verdict.flags
        if sim.scenario in ("GCJ-02", "BD-09"):
            assert "crs_implausible" not in verdict.flags
    # Deterministic: the same seed gives the same samples, so a second run stores nothing new.
    again = simulate_season(session, seed=7, per_product=8)
    assert [s.fields for s in again] == [s.fields for s in simulated]


def test_demo_step_stores_the_season_once_and_prints_the_verdict_table(
    register_copy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.commands.demo import print_origin_step
    from demo.origin import check_season

    step = check_season(seed=11, per_product=3)
    assert step.result.stored and not step.result.refused and not step.result.duplicates
    assert len(step.lines) == len(step.result.rows)
    # The unusual samples come first (scenario or verdict other than inside), then the ordinary ones.
    ordinary = [line.ordinary for line in step.lines]
    assert ordinary == sorted(ordinary) and not ordinary[0] and ordinary[-1]
    assert {line.scenario for line in step.lines} >= {"inside", "swapped", "mock location"}
    print_origin_step(step)
    out = capsys.readouterr().out
    assert "origin verdicts" in out and "Season summary" in out and "swapped" in out

    again = check_season(seed=11, per_product=3)  # idempotent: the second run stores nothing new
    assert not again.result.stored and len(again.result.duplicates) == len(step.result.stored)
    assert [(a.row, a.verdict, a.flags) for a in again.lines] == [
        (b.row, b.verdict, b.flags) for b in step.lines
    ]
    print_origin_step(again)
    assert "already stored" in capsys.readouterr().out
