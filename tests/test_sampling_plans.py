"""Plans in PostGIS: the commitment published by `gi plan create` with its pool slack, a draw made by another
process (the CLI in a subprocess) verified from its exported files alone against the pinned commitment; an
infeasible frame refused or repaired at create; a failed draw final, published, and re-drawn only by a new
commitment; tasks, notice and results; frames with risk factors read from the database; synthetic directories."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from demo.directories import create_synthetic_directory, ours_inspectors, ours_producers
from gi.db import session_scope
from gi.errors import ConflictError, InputError
from gi.market.credit_code import is_valid_uscc
from gi.models import (
    GIProduct,
    Inspector,
    InspectorConflict,
    Plan,
    PlanStatus,
    PlanTask,
    Producer,
    ProducerComplaint,
    Sample,
    TaskResult,
)
from sampling.commit import Announcement, sha256_hex
from sampling.export import export_plan
from sampling.feasibility import InfeasibleFrameError
from sampling.frames import build_frame
from sampling.notice import notice_rows
from sampling.planning import (
    PlanCreated,
    PlanDrawn,
    create_plan,
    draw_plan,
    plan_summary,
    record_result,
    tasks_of_plan,
)
from sampling.verify import verify

pytestmark = pytest.mark.postgis

PERIOD = (date(2026, 11, 1), date(2027, 1, 31))
TZ = ZoneInfo("Asia/Shanghai")
SOURCE = "测试彩票"


def _today() -> str:
    return datetime.now(TZ).date().isoformat()


def commit(session: Session, code: str, *args: object, **kw: object) -> PlanCreated:
    """A plan committed yesterday, announcing today's draw of the test lottery (so it can be drawn now)."""
    yesterday = datetime.now(TZ).replace(microsecond=0) - timedelta(days=1)
    return create_plan(
        session,
        code,
        "test",
        *(args or (*PERIOD, 3)),  # type: ignore[arg-type]
        announcement=Announcement.make(SOURCE, _today(), "2026001"),
        committed_at=yesterday,
        **kw,  # type: ignore[arg-type]
    )


def draw(session: Session, code: str, value: str) -> PlanDrawn:
    """Draw with the announced test lottery's value of today."""
    return draw_plan(session, code, value, SOURCE, _today(), "2026001")


@pytest.fixture(scope="module")
def directory(engine: Engine, loaded_register: None) -> Iterator[None]:
    """Synthetic producers and inspectors committed for this module, removed afterwards."""
    with session_scope(engine) as s:
        create_synthetic_directory(s, producers_per_product=30, today=date(2026, 10, 20))
    yield
    with session_scope(engine) as s:
        mine = select(Plan.id).where(Plan.code.in_(["SUB-0", "SUB-1", "DEMO-202608", "T-CLI"]))
        tasks = select(PlanTask.id).where(PlanTask.plan_id.in_(mine))
        s.execute(update(Sample).where(Sample.task_id.in_(tasks)).values(task_id=None))
        s.execute(delete(Plan).where(Plan.id.in_(mine)))
        s.execute(delete(Producer).where(ours_producers()))
        s.execute(delete(Inspector).where(ours_inspectors()))


def _gi(args: list[str], db_url: str) -> subprocess.CompletedProcess[str]:
    return gi(db_url, *args)


def test_create_publishes_the_commitment_and_the_pool_slack(
    directory: None, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    tomorrow = (datetime.now(TZ).date() + timedelta(days=1)).isoformat()
    args = ["plan", "create", "SUB-0", "--from", "2026-11-01", "--to", "2027-01-31", "--rounds", "3"]
    announce = ["--value-source", "中国福利彩票 福彩3D", "--value-issue", "2026309", "--value-date", tomorrow]
    centuries = _gi(
        ["plan", "create", "SUB-X", "--from", "2026-01-01", "--to", "2409-12-31", *announce], db_url
    )
    assert centuries.returncode == 1 and len(centuries.stderr.strip().splitlines()) == 1, centuries.stderr
    assert "period_to" in centuries.stderr and "at most one year" in centuries.stderr
    created = _gi([*args, *announce, "--out", str(out)], db_url)
    assert created.returncode == 0, created.stderr
    assert (
        "commitment SHA-256" in created.stdout
        and "slack" in created.stdout
        and "第 2026309 期" in created.stdout
    )
    assert {p.name for p in (out / "published").iterdir()} == {
        "frame.json",
        "parameters.json",
        "commitment.json",
    }
    commitment = json.loads((out / "published" / "commitment.json").read_bytes())
    assert commitment["public_value"] == {
        "source": "中国福利彩票 福彩3D",
        "draw": "2026309",
        "draw_at": tomorrow,
    }
    sha = sha256_hex((out / "published" / "commitment.json").read_bytes())
    pre = _gi(["plan", "verify", str(out / "published"), "--commitment", sha], db_url)
    assert pre.returncode == 0 and "not drawn yet" in pre.stdout
    # The announced draw has not taken place: the value cannot be known, and is refused.
    early = _gi(
        [
            "plan",
            "draw",
            "SUB-0",
            "--public-value",
            "4 1 7",
            "--source",
            "中国福利彩票 福彩3D",
            "--issue",
            "2026309",
            "--date",
            tomorrow,
        ],
        db_url,
    )
    assert early.returncode == 1 and "has not taken place yet" in early.stderr
    # An announcement of a draw that is not after the commitment is refused: nothing is committed.
    past = _gi(
        [*args[:2], "SUB-00", *args[3:], "--value-source", "福彩3D", "--value-date", "2026-11-01"], db_url
    )
    assert past.returncode == 1 and "not after the commitment" in past.stderr


def test_draw_in_another_process_verified_from_files(
    directory: None, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    with session_scope(engine) as s:
        commit(s, "SUB-1")
    value = ["--public-value", "福彩3D 2026308: 4 1 7"]
    wrong = _gi(
        ["plan", "draw", "SUB-1", *value, "--source", "体彩", "--date", _today(), "--issue", "2026001"],
        db_url,
    )
    assert wrong.returncode == 1 and "not the announced source" in wrong.stderr
    early = _gi(
        ["plan", "draw", "SUB-1", *value, "--source", SOURCE, "--date", "2020-01-01", "--issue", "2026001"],
        db_url,
    )
    assert early.returncode == 1 and "predates the commitment" in early.stderr
    drawn = _gi(
        [
            "plan",
            "draw",
            "SUB-1",
            *value,
            "--source",
            SOURCE,
            "--date",
            _today(),
            "--issue",
            "2026001",
            "--out",
            str(out),
        ],
        db_url,
    )
    assert drawn.returncode == 0, drawn.stderr
    sha = sha256_hex((out / "published" / "commitment.json").read_bytes())
    # This process verifies from the files alone (no database involved in verify).
    report = verify([out / "published"], sha)
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
    # No command draws twice on one commitment.
    again = _gi(
        ["plan", "draw", "SUB-1", *value, "--source", SOURCE, "--date", _today(), "--issue", "2026001"],
        db_url,
    )
    assert again.returncode == 1 and "drawn only once" in again.stderr
    # `gi plan verify` in a third process, pinned; a tampered assignment is refused with exit code 1 and the
    # published and reproduced inspectors shown in full.
    ok = _gi(["plan", "verify", str(out / "published"), "--commitment", sha], db_url)
    assert ok.returncode == 0 and "verified" in ok.stdout
    assignment = out / "published" / "assignment.json"
    doc = json.loads(assignment.read_bytes())
    doc["tasks"][0]["inspectors"] = list(reversed(doc["tasks"][0]["inspectors"]))
    assignment.write_bytes(
        (json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
    )
    bad = _gi(["plan", "verify", str(out / "published"), "--commitment", sha], db_url)
    assert bad.returncode == 1 and "NOT verified" in bad.stderr
    found = json.dumps(doc["tasks"][0]["inspectors"], ensure_ascii=False, separators=(",", ":"))
    assert f"found:    {found}" in bad.stderr
    other = _gi(["plan", "verify", str(out / "published"), "--commitment", "0" * 64], db_url)
    assert other.returncode == 1 and f"found:    {sha}" in other.stderr
    # The internal work list exists as CSV and Excel; the notice names no inspector.
    assert (out / "internal" / "tasks.xlsx").stat().st_size > 0
    notice = (out / "published" / "notice.csv").read_text(encoding="utf-8-sig")
    assert "检查结果" in notice and "SYN-" not in notice and "检查员" not in notice
    shown = _gi(["plan", "show", "SUB-1", "--tasks", "5"], db_url)
    assert shown.returncode == 0 and "round 3" in shown.stdout


def test_tasks_fields_results_and_sample_link(directory: None, session: Session) -> None:
    created = commit(session, "T-1", secret="s" * 40)
    drawn = draw(session, "T-1", "12345")
    assert drawn.result is not None
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
    commit(session, "T-2")
    drawn = draw(session, "T-2", "abc")
    tasks = tasks_of_plan(session, drawn.plan.id)
    failed = record_result(session, tasks[0].id, "nonconforming", "标志使用不规范")
    record_result(session, tasks[1].id, TaskResult.CONFORMING)
    with pytest.raises(InputError):
        record_result(session, tasks[2].id, "maybe")
    rows = notice_rows(session, drawn.plan)
    assert rows[0]["result"] == "不合格" and rows[1]["result"] == "合格" and rows[2]["result"] == "待检查"
    assert rows[0]["result_date"] == datetime.now(TZ).date().isoformat()
    assert not any("SYN-" in str(v) for r in rows for v in r.values())
    # The next season's frame sees the failure, the inspection date and the previous inspectors.
    frame = build_frame(session, "NEXT", date(2027, 2, 1), date(2027, 4, 30))
    target = next(p for p in frame.producers if p.id == failed.producer_id)
    assert target.risk["failure"] == 1
    assert target.inspections == (failed.due_from,)
    assert set(target.previous_inspectors) == {i.code for i in failed.inspectors}


def test_a_recorded_result_changes_only_as_an_explained_correction(directory: None, session: Session) -> None:
    commit(session, "T-C")
    drawn = draw(session, "T-C", "abc")
    task = tasks_of_plan(session, drawn.plan.id)[0]
    record_result(session, task.id, "nonconforming", "粉末超标")
    first = task.result_recorded_at
    assert record_result(session, task.id, "nonconforming").result_recorded_at == first  # a retry: no change
    with pytest.raises(ConflictError, match="already has the result nonconforming") as refused:
        record_result(session, task.id, "conforming", "抽检合格")
    assert refused.value.differences["result"] == ("nonconforming", "conforming")
    with pytest.raises(InputError, match="a correction needs a note"):
        record_result(session, task.id, "conforming", correct=True)
    assert task.result is TaskResult.NONCONFORMING and task.result_note == "粉末超标"
    corrected = record_result(session, task.id, "conforming", "复检合格，更正", correct=True)
    assert corrected.result is TaskResult.CONFORMING and corrected.result_note == "复检合格，更正"
    assert notice_rows(session, drawn.plan)[0]["result"] == "合格"


def test_cli_refuses_a_silent_change_of_a_recorded_result(
    directory: None, engine: Engine, db_url: str
) -> None:
    """`gi plan result` says what changed, and refuses (one line, no traceback) a different result without
    --correct."""
    with session_scope(engine) as s:
        commit(s, "T-CLI")
        drawn = draw(s, "T-CLI", "abc")
        task_id = str(tasks_of_plan(s, drawn.plan.id)[0].id)
    first = _gi(["plan", "result", task_id, "nonconforming", "--note", "粉末超标"], db_url)
    assert first.returncode == 0 and "of T-CLI: nonconforming" in first.stdout, first.stdout + first.stderr
    again = _gi(["plan", "result", task_id, "conforming"], db_url)
    assert again.returncode != 0 and "Traceback" not in again.stderr
    assert "already has the result nonconforming" in again.stderr and "--correct" in again.stderr
    fixed = _gi(["plan", "result", task_id, "conforming", "--correct", "--note", "复检合格"], db_url)
    assert fixed.returncode == 0 and "nonconforming -> conforming (correction)" in fixed.stdout, fixed.stderr
    same = _gi(["plan", "result", task_id, "conforming"], db_url)
    assert same.returncode == 0 and "already recorded; nothing changed" in same.stdout


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
    commit(session, "T-3")
    with pytest.raises(InputError, match="exists already"):
        commit(session, "T-3")
    draw(session, "T-3", "1")
    with pytest.raises(ConflictError, match="drawn only once"):
        draw(session, "T-3", "2")
    with pytest.raises(InputError, match="products"):
        commit(session, "T-4", products=["no-such-product"])
    with pytest.raises(ConflictError, match="only a failed draw"):
        commit(session, "T-5", supersedes="T-3")
    with pytest.raises(InputError) as centuries:  # reached the draw once through the API (384 years)
        commit(session, "T-6", date(2026, 1, 1), date(2409, 12, 31), 3)
    assert centuries.value.field == "period_to"
    assert session.scalars(select(Plan.id).where(Plan.code == "T-6")).first() is None


HAINAN = "460105"  # a province without GI product in the register, so the test controls its whole pool


def _hainan(session: Session, inspectors: list[tuple[str, str, int]]) -> list[int]:
    """Three xihu-longjing producers registered in a Hainan county, and the given Hainan inspectors."""
    xihu = session.scalars(select(GIProduct).where(GIProduct.code == "xihu-longjing")).one()
    producers = [
        Producer(
            product_id=xihu.id,
            name=f"合成·海南{k}",
            credit_code=f"9146010{k}MA0000000X",
            county_code=HAINAN,
            synthetic=True,
        )
        for k in range(3)
    ]
    session.add_all(producers)
    session.add_all(
        Inspector(
            code=code,
            name=f"合成检查员{code}",
            unit="合成·海南测试",
            home_county_code=county,
            synthetic=True,
            qualifications=[xihu.category.value],
            capacity_per_round=capacity,
            active=True,
        )
        for code, county, capacity in inspectors
    )
    session.flush()
    return [p.id for p in producers]


def test_create_refuses_a_target_lacking_inspectors_or_repairs_it(directory: None, session: Session) -> None:
    """Hainan's only inspectors live in the targets' county: every Hainan target lacks inspectors. The plan is
    refused with the targets and pool named, and nothing is committed; with repair their pool is widened to the
    whole directory and the change reported."""
    ids = _hainan(session, [("T-HN-1", HAINAN, 5), ("T-HN-2", HAINAN, 5)])
    with pytest.raises(InfeasibleFrameError) as refused:
        commit(session, "R-1", products=["xihu-longjing"])
    lines = refused.value.report.problems()
    assert {t.producer_id for t in refused.value.report.targets} == set(ids)
    assert all("pool 46" in line and "0 eligible inspectors" in line for line in lines), lines
    assert session.scalars(select(Plan).where(Plan.code == "R-1")).first() is None
    created = commit(session, "R-1", products=["xihu-longjing"], repair=True)
    assert sum("pool 46 -> *" in line for line in created.feasibility.repairs) == 3
    frame = json.loads(
        created.plan.commitment.commitment_json if False else created.plan.commitment.frame_json
    )
    assert {p["pool"] for p in frame["producers"] if p["id"] in ids} == {"*"}
    assert any(p.pool == "*" for p in created.feasibility.pools)


def test_failed_draw_is_final_published_and_redrawn_by_a_new_commitment(
    directory: None, session: Session, tmp_path: Path
) -> None:
    """Feasible on paper (two Hainan inspectors outside the targets' county, pool capacity to spare), but with
    every Hainan target drawn in one round those two, with room for one task each, cannot staff them all."""
    _hainan(
        session,
        [("T-HN-3", HAINAN, 9), ("T-HN-5", "460106", 1), ("T-HN-6", "460107", 1)],
    )
    args = (date(2026, 11, 1), date(2026, 11, 30), 1)
    created = commit(session, "F-1", *args, products=["xihu-longjing"], min_per_county=3)
    assert created.feasibility.ok
    drawn = draw(session, "F-1", "5 5 5")
    assert drawn.failed and drawn.plan.status == PlanStatus.FAILED and drawn.problems
    assert any(p.county == HAINAN and p.binding == "capacity" for p in drawn.problems)
    c = drawn.plan.commitment
    assert c is not None and c.public_value == "5 5 5" and c.failure_json and not drawn.plan.tasks
    # Published: the reveal (value, secret), the failure and a notice saying so; and it verifies.
    files = export_plan(session, drawn.plan, tmp_path / "F-1")
    names = {p.name for p in files.published}
    assert {
        "reveal.json",
        "failure.json",
        "notice.md",
        "notice.csv",
    } <= names and "selection.json" not in names
    notice = (tmp_path / "F-1" / "published" / "notice.md").read_text(encoding="utf-8")
    assert "抽取失败" in notice and "5 5 5" in notice
    report = verify([tmp_path / "F-1"], c.commitment_sha256)
    assert report.ok and report.status == "failed", [(x.name, x.detail) for x in report.checks if not x.ok]
    summary = plan_summary(session, drawn.plan)
    assert summary.status == "failed" and len(summary.failure) == len(drawn.problems)
    # Final: no second draw on this commitment, not even by writing to the database.
    with pytest.raises(ConflictError, match="failed; a draw is final"):
        draw(session, "F-1", "6 6 6")
    with pytest.raises(Exception, match="a draw is final"), session.begin_nested():
        session.execute(
            text("UPDATE plan_commitment SET public_value = '6 6 6' WHERE id = :id"), {"id": c.id}
        )
    with pytest.raises(Exception, match="is final"), session.begin_nested():
        session.execute(text("UPDATE plan SET status = 'committed' WHERE id = :id"), {"id": drawn.plan.id})
    # A re-draw is a new plan whose commitment names the failed one; the notice lists both.
    again = commit(session, "F-2", *args, products=["xihu-longjing"], supersedes="F-1", repair=True)
    commitment = json.loads(again.plan.commitment.commitment_json)
    assert commitment["supersedes"] == {
        "plan": "F-1",
        "commitment_sha256": c.commitment_sha256,
        "failure_sha256": sha256_hex(c.failure_json.encode("utf-8")),
        "public_value": "5 5 5",
    }
    redrawn = draw(session, "F-2", "7 7 7")
    assert not redrawn.failed
    export_plan(session, redrawn.plan, tmp_path / "F-2")
    md = (tmp_path / "F-2" / "published" / "notice.md").read_text(encoding="utf-8")
    assert (
        f"| F-1 | `{c.commitment_sha256}` | `5 5 5` | 抽取失败" in md and "| F-2 |" in md and "已抽取" in md
    )
    assert verify([tmp_path / "F-2"], again.plan.commitment.commitment_sha256).ok
    with pytest.raises(ConflictError, match="re-drawn already by plan F-2"):
        commit(session, "F-3", *args, products=["xihu-longjing"], supersedes="F-1")


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
    created = commit(session, "T-6", products=["xihu-longjing"], min_per_product=40)
    assert any("no county" in w for w in created.warnings)
    drawn = draw(session, "T-6", "x")
    assert drawn.result is not None and drawn.result.tasks
    assert all(t.county != "000000" for t in drawn.result.tasks)
