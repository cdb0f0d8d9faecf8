"""`gi results import` and `gi quality check|rule` as a user runs them, and the demo step."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select

from gi.db import get_engine, session_scope
from gi.register.areas import find_product

pytestmark = pytest.mark.postgis
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def samples(register_copy: str) -> dict[str, uuid.UUID]:
    """Committed samples of three products, each with an origin verdict."""
    from gi.models import OriginOutcome, OriginVerdictRecord, Sample

    made: dict[str, uuid.UUID] = {}
    with session_scope(get_engine(register_copy)) as session:
        for name, code, when in [
            ("tea", "xihu-longjing", datetime(2025, 4, 2, 9, tzinfo=SH)),
            ("goji", "ningxia-goji", datetime(2025, 7, 10, 9, tzinfo=SH)),
            ("rice", "wuchang-rice", datetime(2025, 10, 5, 9, tzinfo=SH)),
            ("pear", "korla-fragrant-pear", datetime(2025, 9, 20, 9, tzinfo=SH)),
        ]:
            product = find_product(session, code)
            sample = Sample(
                id=uuid.uuid4(),
                product_id=product.id,
                collected_at=when,
                submitted_x=120.1,
                submitted_y=30.2,
                declared_crs="WGS84",
                gps_accuracy_m=4.0,
                location=from_shape(Point(120.1, 30.2), srid=4326),
                source="quality cli test",
            )
            session.add(sample)
            session.flush()
            session.add(
                OriginVerdictRecord(
                    sample_id=sample.id,
                    product_id=product.id,
                    verdict=OriginOutcome.INSIDE,
                    band_m=30.0,
                    distance_m=250.0,
                    flags=[],
                    other_areas=[],
                    rule="test",
                    inputs={},
                )
            )
            made[name] = sample.id
    return made


def test_import_then_check_one_sample(
    register_copy: str, samples: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    tea = samples["tea"]
    path = tmp_path / "lab.csv"
    path.write_text(
        "sample_id,indicator,value,unit,U,k,laboratory,tested_on\n"
        f"{tea},moisture,6.5,%,0.2,2,Lab A,2025-04-10\n"
        f"{tea},total_ash,52,g/kg,1,2,Lab A,2025-04-10\n"
        f"{tea},powder,0.4,%,,,Lab A,2025-04-10\n"
        f"{tea},water_extract,35.2,%,0.5,2,Lab A,2025-04-10\n"
        f"{tea},lead,<0.1,mg/kg,,,Lab A,2025-04-10\n"
        + "".join(
            f"{tea},{k},{v},{u},,,Iso Lab,2025-04-12\n"
            for k, v, u in [
                ("d13C", -27.7, "‰"),
                ("d15N", 3.2, "‰"),
                ("Rb", 47, "mg/kg"),
                ("Mg", 1.95, "g/kg"),
                ("K", 1.71, "%"),
                ("Mn", 910, "µg/g"),
            ]
        ),
        encoding="utf-8",
    )
    imported = gi(register_copy, "results", "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert "11 results stored for 1 sample" in imported.stdout
    again = gi(register_copy, "results", "import", str(path))
    assert again.returncode == 1 and "11 problem(s), nothing imported" in again.stderr
    assert "already stored" in again.stderr

    listed = gi(register_copy, "results", "list", "--sample", str(tea)[:8])
    assert listed.returncode == 0 and "5.2 %" in listed.stdout  # 52 g/kg converted

    checked = gi(register_copy, "quality", "check", "--sample", str(tea))
    assert checked.returncode == 0, checked.stderr
    out = checked.stdout
    assert "quality: fail" in out and "35.2 % does not meet ≥ 36 %" in out  # water extract
    assert "6.5 % meets ≤ 6.5 %" in out  # moisture exactly at the inclusive limit
    assert "fingerprint: consistent" in out and "origin evidence: consistent" in out

    ruled = gi(register_copy, "quality", "rule", "xihu-longjing", "--set", "guard_band", "--factor", "1")
    assert ruled.returncode == 0 and "guard band" in ruled.stdout
    checked = gi(register_copy, "quality", "check", "--sample", str(tea))
    assert "conditional pass" in checked.stdout  # 6.5 ± 0.2 straddles ≤ 6.5


def test_bad_input_exits_non_zero_with_rows(
    register_copy: str, samples: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "sample_id,indicator,value,unit,laboratory,tested_on\n"
        f"{samples['rice']},moisture,fifteen,%,Lab,2025-10-10\n"
        f"{samples['rice']},gluten,8,%,Lab,2025-10-10\n",
        encoding="utf-8",
    )
    result = gi(register_copy, "results", "import", str(path))
    assert result.returncode == 1
    assert "text in a number field" in result.stderr and "unknown indicator 'gluten'" in result.stderr
    assert gi(register_copy, "quality", "check").returncode == 1  # no selection
    season = gi(register_copy, "quality", "check", "--season", "2025-13-01..2025-12-31")
    assert season.returncode == 1 and "error: --season" in season.stderr
    day = gi(register_copy, "quality", "check", "--from", "2025-13-01")
    assert day.returncode == 1 and "error: --from: '2025-13-01' is not a date" in day.stderr
    both = gi(register_copy, "quality", "check", "--season", "2025", "--to", "2025-12-31")
    assert both.returncode == 1 and "not both" in both.stderr


def test_demo_step_adds_results_and_prints_both_tables(
    register_copy: str, samples: dict[str, uuid.UUID]
) -> None:
    engine = get_engine(register_copy)
    from api.commands.demo import print_quality_step
    from api.console import console
    from demo.quality import judge_season
    from gi.models import FingerprintVerdict, LabResult, OriginEvidence, QualityRule, QualityVerdict

    ids = list(samples.values())
    step = judge_season(ids, seed=7)
    assert step.simulated is not None and step.simulated.samples == 4 and step.simulated.results > 0
    assert len(step.checks) == 4 and {c.sample.id for c in step.checks} == set(ids)
    # The demo judges the tea, goji and rice under its own rules, without configuring the real products.
    assert step.rules == {
        "xihu-longjing": "guard_band",
        "ningxia-goji": "guard_band",
        "wuchang-rice": "guarded_rejection",
    }
    rule_of = {c.sample.product.code: c.quality.rule_config for c in step.checks}
    assert (
        rule_of["xihu-longjing"]["kind"] == "guard_band"
        and rule_of["xihu-longjing"]["quality_rule_id"] is None
    )
    assert rule_of["korla-fragrant-pear"]["kind"] == "simple_acceptance"
    with console.capture() as captured:
        print_quality_step(step)
    out = captured.get()
    assert "Characteristic quality (特色质量) by product" in out and "guard_band (w = 1·U)" in out
    assert "Combined origin evidence" in out and "SYNTHETIC" in out
    with session_scope(engine) as session:
        assert session.scalar(select(QualityRule.id).limit(1)) is None  # no product's configuration changed
        assert session.scalar(select(LabResult.id).where(LabResult.sample_id.in_(ids)).limit(1)) is not None
        assert (
            len(session.scalars(select(QualityVerdict).where(QualityVerdict.sample_id.in_(ids))).all()) == 4
        )
        assert (
            len(session.scalars(select(OriginEvidence).where(OriginEvidence.sample_id.in_(ids))).all()) == 4
        )
        fps = session.scalars(select(FingerprintVerdict).where(FingerprintVerdict.sample_id.in_(ids))).all()
        assert {f.product_id for f in fps} == {
            find_product(session, c).id for c in ("xihu-longjing", "ningxia-goji", "wuchang-rice")
        }
        before = len(session.scalars(select(LabResult.id).where(LabResult.sample_id.in_(ids))).all())
    again = judge_season(ids, seed=7)  # nothing left to simulate: judged again
    assert again.simulated is None and len(again.checks) == 4
    with console.capture() as captured:
        print_quality_step(again)
    assert "already have lab results" in captured.get() and "by product" in captured.get()
    with session_scope(engine) as session:
        assert len(session.scalars(select(LabResult.id).where(LabResult.sample_id.in_(ids))).all()) == before


def test_demo_step_keeps_a_configured_rule(register_copy: str, samples: dict[str, uuid.UUID]) -> None:
    """A product whose decision rule is configured is judged by it, not by the demo's."""
    engine = get_engine(register_copy)
    from demo.quality import judge_season
    from gi.quality.judge import set_rule

    with session_scope(engine) as session:
        set_rule(session, "xihu-longjing", "guarded_acceptance", note="the office's own rule")
    step = judge_season([samples["tea"]], seed=7)
    assert "xihu-longjing" not in step.rules
    assert step.checks[0].quality.rule_config["kind"] == "guarded_acceptance"
