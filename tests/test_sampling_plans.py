"""Plans in PostGIS: a draw made by another process (the CLI in a subprocess) verified from its exported files
alone; tasks, notice and results; frames with risk factors read from the database; synthetic directories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from demo.directories import create_synthetic_directory, ours_inspectors, ours_producers
from gi.db import session_scope
from gi.errors import InputError
from gi.market.credit_code import is_valid_uscc
from gi.models import (
    GIProduct,
    Inspector,
    InspectorConflict,
    Plan,
    PlanTask,
    Producer,
    ProducerComplaint,
    Sample,
    TaskResult,
)
from sampling.frames import build_frame
from sampling.notice import notice_rows
from sampling.planning import create_plan, draw_plan, record_result, tasks_of_plan
from sampling.verify import verify

pytestmark = pytest.mark.postgis

PERIOD = (date(2026, 11, 1), date(2027, 1, 31))


@pytest.fixture(scope="module")
def directory(engine: Engine, loaded_register: None) -> Iterator[None]:
    """Synthetic producers and inspectors committed for this module, removed afterwards."""
    with session_scope(engine) as s:
        create_synthetic_directory(s, producers_per_product=30, today=date(2026, 10, 20))
    yield
    with session_scope(engine) as s:
        mine = select(Plan.id).where(Plan.code.in_(["SUB-1", "INF-1", "DEMO-202608"]))
        tasks = select(PlanTask.id).where(PlanTask.plan_id.in_(mine))
        s.execute(update(Sample).where(Sample.task_id.in_(tasks)).values(task_id=None))
        s.execute(delete(Plan).where(Plan.id.in_(mine)))
        s.execute(delete(Producer).where(ours_producers()))
        s.execute(delete(Inspector).where(ours_inspectors()))


def test_draw_in_another_process_verified_from_files(
    directory: None, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    created = gi(
        db_url,
        "plan",
        "create",
        "SUB-1",
        "--from",
        "2026-11-01",
        "--to",
        "2027-01-31",
        "--rounds",
        "3",
        "--out",
        str(out),
    )
    assert created.returncode == 0, created.stderr
    assert "commitment SHA-256" in created.stdout
    before = {p.name for p in (out / "published").iterdir()}
    assert before == {"frame.json", "parameters.json", "commitment.json"}  # nothing about the draw yet
    drawn = gi(
        db_url,
        "plan",
        "draw",
        "SUB-1",
        "--public-value",
        "福彩3D 2026308: 4 1 7",
        "--source",
        "test lottery",
        "--out",
        str(out),
    )
    assert drawn.returncode == 0, drawn.stderr
    # This process verifies from the files alone (no database involved in verify).
    report = verify([out / "published"])
    assert report.ok, [c for c in report.checks if not c.ok]
    assert report.tasks > 0 and report.public_value == "福彩3D 2026308: 4 1 7"
    selection = json.loads((out / "published" / "selection.json").read_bytes())
    with session_scope(engine) as s:
        plan = s.scalars(select(Plan).where(Plan.code == "SUB-1")).one()
        tasks = tasks_of_plan(s, plan.id)
        assert [(t.round_number, t.draw_order, t.producer_id) for t in tasks] == [
            (t["round"], t["order"], t["producer_id"]) for t in selection["tasks"]
        ]
        assert all(
            round(t.inclusion_probability * 2**32) == x["pi_ticks"]
            for t, x in zip(tasks, selection["tasks"], strict=True)
        )
    # `gi plan verify` in a third process; and a tampered assignment is refused with exit code 1.
    ok = gi(db_url, "plan", "verify", str(out / "published"))
    assert ok.returncode == 0 and "verified" in ok.stdout
    assignment = out / "published" / "assignment.json"
    doc = json.loads(assignment.read_bytes())
    doc["tasks"][0]["inspectors"] = list(reversed(doc["tasks"][0]["inspectors"]))
    assignment.write_bytes(
        (json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
    )
    bad = gi(db_url, "plan", "verify", str(out / "published"))
    assert bad.returncode == 1 and "NOT verified" in bad.stderr
    # The internal work list exists as CSV and Excel; the notice names no inspector.
    assert (out / "internal" / "tasks.xlsx").stat().st_size > 0
    notice = (out / "published" / "notice.csv").read_text(encoding="utf-8-sig")
    assert "检查结果" in notice and "SYN-" not in notice and "检查员" not in notice
    shown = gi(db_url, "plan", "show", "SUB-1", "--tasks", "5")
    assert shown.returncode == 0 and "round 3" in shown.stdout


def test_tasks_fields_results_and_sample_link(directory: None, session: Session) -> None:
    created = create_plan(session, "T-1", "test", *PERIOD, 3, secret="s" * 40)
    drawn = draw_plan(session, "T-1", "12345", "test")
    tasks = tasks_of_plan(session, drawn.plan.id)
    assert tasks and len(tasks) == len(drawn.result.tasks)
    rounds = {r.number: r for r in created.plan.rounds}
    for t in tasks:
        assert len(t.inspectors) >= 2 and t.product_id == t.producer.product_id
        assert (t.due_from, t.due_to) == (rounds[t.round_number].starts_on, rounds[t.round_number].ends_on)
        assert t.units_to_take == 50 and t.code_letter == "H" and 0 < t.inclusion_probability <= 1
        assert all(i.home_county_code != t.county_code for i in t.inspectors)
    # The origin demo links a sample to a task (FK added by migration 0003).
    t = tasks[0]
    sample = Sample(
        product_id=t.product_id,
        producer_id=t.producer_id,
        task_id=t.id,
        collected_at=datetime(2026, 11, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        submitted_x=120.1,
        submitted_y=30.2,
        declared_crs="WGS84",
        location="SRID=4326;POINT(120.1 30.2)",
        collector_id=t.inspectors[0].id,
    )
    session.add(sample)
    session.flush()
    assert session.scalar(select(Sample.task_id).where(Sample.id == sample.id)) == t.id
    with pytest.raises(IntegrityError, match="fk_sample_task_id_plan_task"), session.begin_nested():
        session.execute(text("UPDATE sample SET task_id = -1 WHERE id = :id"), {"id": sample.id})


def test_results_complete_the_notice_and_feed_the_next_frame(directory: None, session: Session) -> None:
    create_plan(session, "T-2", "test", *PERIOD, 3)
    drawn = draw_plan(session, "T-2", "abc", "test")
    tasks = tasks_of_plan(session, drawn.plan.id)
    failed = record_result(session, tasks[0].id, "nonconforming", "标志使用不规范")
    record_result(session, tasks[1].id, TaskResult.CONFORMING)
    with pytest.raises(InputError):
        record_result(session, tasks[2].id, "maybe")
    rows = notice_rows(tasks_of_plan(session, drawn.plan.id))
    assert rows[0]["result"] == "不合格" and rows[1]["result"] == "合格" and rows[2]["result"] == "待检查"
    assert not any("SYN-" in str(v) for r in rows for v in r.values())
    # The next season's frame sees the failure, the inspection date and the previous inspectors.
    frame = build_frame(session, "NEXT", date(2027, 2, 1), date(2027, 4, 30))
    target = next(p for p in frame.producers if p.id == failed.producer_id)
    assert target.risk["failure"] == 1
    assert target.inspections == (failed.due_from,)
    assert set(target.previous_inspectors) == {i.code for i in failed.inspectors}


def test_frame_risk_factors_from_the_database(directory: None, session: Session) -> None:
    producer = session.scalars(select(Producer).where(ours_producers()).order_by(Producer.id)).first()
    inspector = session.scalars(select(Inspector).where(ours_inspectors())).first()
    session.add(ProducerComplaint(producer_id=producer.id, received_on=date(2026, 9, 1), summary="test"))
    session.add(ProducerComplaint(producer_id=producer.id, received_on=date(2026, 10, 1), summary="test"))
    session.add(
        InspectorConflict(
            inspector_id=inspector.id, producer_id=producer.id, reason="test", declared_on=date(2026, 10, 1)
        )
    )
    producer.authorized_from = date(2026, 6, 1)
    session.flush()
    frame = build_frame(session, "F", *PERIOD)
    p = next(x for x in frame.producers if x.id == producer.id)
    assert (
        p.risk["complaints"] >= 2
        and p.risk["new_authorization"] == 1
        and p.risk["long_since_inspection"] == 0
    )
    assert (inspector.code, producer.id) in frame.conflicts
    # Producers placed outside their area are flagged by PostGIS.
    outside = (
        session.execute(
            text(
                "SELECT p.id FROM producer p JOIN production_area a ON a.product_id = p.product_id "
                "AND a.valid_to IS NULL "
                "WHERE p.location IS NOT NULL AND NOT ST_Covers(a.geom, p.location)"
            )
        )
        .scalars()
        .all()
    )
    flagged = {x.id for x in frame.producers if x.risk["outside_area"]}
    assert outside and flagged == set(outside)
    assert all(not i.code.startswith("SYN-") or i.home_county for i in frame.inspectors)
    assert "name" not in frame.to_dict()["inspectors"][0]  # no personal data of inspectors in the frame


def test_synthetic_directory_is_labelled_and_valid(directory: None, session: Session) -> None:
    producers = session.scalars(select(Producer).where(ours_producers())).all()
    products = session.scalar(select(func.count()).select_from(GIProduct))
    assert len(producers) == 30 * products
    assert all(p.name.startswith("合成") and is_valid_uscc(p.credit_code) for p in producers)
    assert all(p.credit_code[2:8] == p.county_code for p in producers)
    inspectors = session.scalars(select(Inspector).where(ours_inspectors())).all()
    assert inspectors and all(i.code.startswith("SYN-") and i.name.startswith("合成") for i in inspectors)
    # Idempotent: a second call adds nothing.
    assert create_synthetic_directory(session).county_source == "already present"
    assert not is_valid_uscc(
        producers[0].credit_code[:-1] + ("0" if producers[0].credit_code[-1] != "0" else "1")
    )


def test_plan_rules(directory: None, session: Session) -> None:
    create_plan(session, "T-3", "test", *PERIOD, 3)
    with pytest.raises(InputError, match="exists already"):
        create_plan(session, "T-3", "test", *PERIOD, 3)
    draw_plan(session, "T-3", "1", "")
    with pytest.raises(InputError, match="only a committed plan"):
        draw_plan(session, "T-3", "2", "")
    with pytest.raises(InputError, match="products"):
        create_plan(session, "T-4", "test", *PERIOD, 3, products=["no-such-product"])


def test_infeasible_draw_reports_and_stores_nothing(
    directory: None, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    created = gi(
        db_url,
        "plan",
        "create",
        "INF-1",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--rounds",
        "1",
        "--inspectors-per-task",
        "30",
        "--product",
        "xihu-longjing",
        "--out",
        str(tmp_path),
    )
    assert created.returncode == 0, created.stderr
    assert "warning" in created.stdout
    drawn = gi(db_url, "plan", "draw", "INF-1", "--public-value", "x", "--out", str(tmp_path))
    assert drawn.returncode == 1
    assert "infeasible" in drawn.stderr and "county 330106" in drawn.stderr and "constraint" in drawn.stderr
    with session_scope(engine) as s:
        plan = s.scalars(select(Plan).where(Plan.code == "INF-1")).one()
        assert plan.status.value == "committed" and not plan.tasks
        s.delete(plan)


def test_demo_step(
    directory: None,
    use_test_db: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.commands.demo import print_plan_step
    from demo.planning import DEMO_PUBLIC_VALUE, plan_season
    from gi.settings import get_settings

    monkeypatch.setenv("GI_OUTPUT_DIR", str(tmp_path))
    get_settings.cache_clear()
    step = plan_season(today=date(2026, 11, 24))
    # The three whole months before November, committed the morning before they start.
    assert step.code == "DEMO-202608" and step.period == (date(2026, 8, 1), date(2026, 10, 31))
    assert step.created and step.drawn_now and step.public_value == DEMO_PUBLIC_VALUE
    assert step.summary is not None and step.summary.committed_at.startswith("2026-07-31T09:00:00")
    assert step.verification.ok and step.verification.tasks > 0
    assert step.published == tmp_path / "plans" / "DEMO-202608" / "published"
    assert (step.published / "selection.json").exists()
    with session_scope() as s:
        assert len(tasks_of_plan(s, step.plan_id)) == step.verification.tasks
    print_plan_step(step)
    out = capsys.readouterr().out
    assert "plan DEMO-202608 committed" in out and "reproduced exactly" in out
    # Running the demo again reuses the drawn plan.
    again = plan_season(today=date(2026, 11, 24))
    assert again.plan_id == step.plan_id and not again.created and not again.drawn_now
    assert again.commitment_sha256 == step.commitment_sha256 and again.status_before == "drawn"
    print_plan_step(again)
    assert "exists already (status drawn); reusing it" in capsys.readouterr().out


def test_county_from_credit_code_and_unknown_county(directory: None, session: Session) -> None:
    """A target without county code takes the registration area of its credit code; one without either is
    reported and left out under the provincial pools (no pool could staff it)."""
    from sampling.frames import county_of

    assert county_of(None, "91330106MA2XXXXX0X") == "330106" and county_of("330102", "91330106") == "330102"
    assert county_of(None, "91000000X") == "000000" and county_of(None, None) == "000000"
    xihu = session.scalars(select(GIProduct).where(GIProduct.code == "xihu-longjing")).one()
    session.add(
        Producer(product_id=xihu.id, name="合成·无县码", credit_code="ABCDEFGHJKLMNPQRTU", synthetic=True)
    )
    session.flush()
    created = create_plan(session, "T-5", "test", *PERIOD, 3, products=["xihu-longjing"], min_per_product=40)
    assert any("no county" in w for w in created.warnings)
    drawn = draw_plan(session, "T-5", "x", "")
    assert drawn.result.tasks and all(t.county != "000000" for t in drawn.result.tasks)
