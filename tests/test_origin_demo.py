"""The simulated season: every scenario gets the verdict and flags it was made for; the demo step prints them."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.orm import Session

from demo.samples import simulate_season
from gi.origin.intake import record_samples

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


def test_demo_step_prints_the_verdict_table(
    use_test_db: str, loaded_register: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.commands.check import run_origin_demo

    run_origin_demo(seed=11, per_product=3)
    out = capsys.readouterr().out
    assert "origin verdicts" in out and "Season summary" in out and "swapped" in out
    run_origin_demo(seed=11, per_product=3)  # idempotent: the second run shows the stored verdicts
    assert "already stored" in capsys.readouterr().out
