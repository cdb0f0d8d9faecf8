"""A double-random plan built from imported directories: `gi plan create` refuses a frame with no target or no
inspector in one line; once the office's producers, outlets and inspectors are imported, the frame holds them
and the draw picks targets and inspectors from them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import shapely
from fixtures import gi
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gi.db import get_engine, session_scope
from gi.errors import InputError
from gi.market.directories import import_inspectors, import_outlets, import_producers
from gi.models import Inspector, Producer, ProductionArea, ReferenceTask
from gi.settings import get_settings
from sampling.commit import Announcement
from sampling.frames import build_frame
from sampling.planning import PlanCreated, create_plan, draw_plan, tasks_of_plan, write_published
from sampling.references import derive_reference_tasks
from sampling.verify import verify

pytestmark = pytest.mark.postgis

EXAMPLES = Path(__file__).parents[1] / "examples" / "market"
PRODUCTS = ["xihu-longjing", "wuchang-rice", "yangchenghu-crab"]
PERIOD = (date(2025, 4, 1), date(2025, 6, 30))
TZ = ZoneInfo("Asia/Shanghai")
SOURCE = "测试彩票"


def test_plan_create_refuses_empty_directories(register_copy: str, tmp_path: Path) -> None:
    tomorrow = (datetime.now(TZ).date() + timedelta(days=1)).isoformat()
    args = ["plan", "create", "EMPTY-1", "--from", "2025-04-01", "--to", "2025-06-30"]
    announce = ["--value-source", SOURCE, "--value-issue", "2025001", "--value-date", tomorrow]
    done = gi(register_copy, *args, *announce, out=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "no target" in done.stderr and "gi producers import" in done.stderr and "Traceback" not in done.stderr
    )
    assert "committed" not in done.stdout
    with session_scope(get_engine(register_copy)) as session:
        import_producers(session, EXAMPLES / "producers.csv")
        with pytest.raises(InputError, match="no inspector.*gi inspectors import"):
            build_frame(session, "EMPTY-2", *PERIOD, PRODUCTS)


def test_a_plan_is_built_from_imported_directories(register_copy: str) -> None:
    with session_scope(get_engine(register_copy)) as session:
        import_producers(session, EXAMPLES / "producers.csv")
        import_outlets(session, EXAMPLES / "outlets.csv")
        import_inspectors(session, EXAMPLES / "inspectors.csv")
    with session_scope(get_engine(register_copy)) as session:
        directory = {p.id: p for p in session.scalars(select(Producer))}
        staff = set(session.scalars(select(Inspector.code)))
        assert len(directory) == 10 and len(staff) == 13  # 7 producers, 3 outlets; 13 inspectors
        today = datetime.now(TZ).date().isoformat()
        created = create_plan(
            session,
            "MK-1",
            None,
            *PERIOD,
            1,
            PRODUCTS,
            secret="s" * 40,
            announcement=Announcement.make(SOURCE, today, "2025001"),
            committed_at=datetime.now(TZ).replace(microsecond=0) - timedelta(days=1),
        )
        frame = build_frame(session, "MK-1", *PERIOD, PRODUCTS)
        assert {p.id for p in frame.producers} == set(directory)
        assert {p.kind for p in frame.producers} == {"producer", "market_outlet"}
        assert {i.code for i in frame.inspectors} == staff
        assert created.plan.code == "MK-1"
        drawn = draw_plan(session, "MK-1", "20250401", SOURCE, today, "2025001")
        tasks = tasks_of_plan(session, drawn.plan.id)
        # Every product with a directory is inspected (two per product and round at least).
        assert {t.product.code for t in tasks} == set(PRODUCTS) and len(tasks) >= 6
        for t in tasks:
            assert t.producer_id in directory
            assert len(t.inspectors) >= 2 and {i.code for i in t.inspectors} <= staff
            assert all(i.home_county_code != t.county_code for i in t.inspectors)


def _directories(url: str) -> None:
    with session_scope(get_engine(url)) as session:
        import_producers(session, EXAMPLES / "producers.csv")
        import_outlets(session, EXAMPLES / "outlets.csv")
        import_inspectors(session, EXAMPLES / "inspectors.csv")


def _create(session: Session, code: str, products: list[str], **options: Any) -> PlanCreated:
    return create_plan(
        session,
        code,
        None,
        *PERIOD,
        1,
        products,
        secret="r" * 40,
        announcement=Announcement.make(SOURCE, datetime.now(TZ).date().isoformat(), "2025001"),
        committed_at=datetime.now(TZ).replace(microsecond=0) - timedelta(days=1),
        repair=True,
        **options,
    )


def test_plan_creation_adds_reference_tasks_where_thin_and_stays_verifiable(
    register_copy: str, tmp_path: Path
) -> None:
    _directories(register_copy)
    with session_scope(get_engine(register_copy)) as session:
        created = _create(session, "MK-REF", PRODUCTS)
        # The bundled reference sets are synthetic: every product's 2025 set is thin (a new year).
        planned = {need.product.code: (need, tasks) for need, tasks in created.references}
        assert set(planned) == set(PRODUCTS)
        longjing_need, longjing_tasks = planned["xihu-longjing"]
        assert longjing_need.reasons[0] == "new_year" and len(longjing_tasks) == longjing_need.minimum
        crab_need, crab_tasks = planned["yangchenghu-crab"]
        assert {t.county_code for t in crab_tasks} == set(crab_need.counties) and len(crab_need.counties) > 1
        stored = session.scalars(select(ReferenceTask).where(ReferenceTask.plan_id == created.plan.id)).all()
        assert len(stored) == created.reference_tasks == sum(len(t) for _, t in created.references)
        assert {t.campaign for t in stored} == {"MK-REF"} and {t.harvest_year for t in stored} == {2025}
        for code in PRODUCTS:  # every suggested point inside the product's protected area
            area = session.scalars(
                select(ProductionArea).where(
                    ProductionArea.product_id == planned[code][0].product.id,
                    ProductionArea.valid_to.is_(None),
                )
            ).one()
            geom = to_shape(area.geom)
            assert all(
                shapely.contains(geom, to_shape(t.point)) for t in planned[code][1] if t.point is not None
            )
        # Separate from the inspections: the draw's tasks are producers and outlets, never reference tasks.
        drawn = draw_plan(
            session, "MK-REF", "20250401", SOURCE, datetime.now(TZ).date().isoformat(), "2025001"
        )
        assert all(t.producer_id is not None for t in tasks_of_plan(session, drawn.plan.id))
        assert "reference" not in drawn.plan.commitment.frame_json  # type: ignore[union-attr]
        write_published(session, drawn.plan, tmp_path / "published")
        # The reference tasks follow from public inputs alone: derived again, they are the same, points included.
        again = derive_reference_tasks(
            session, [need.product for need, _ in created.references], 2025, plan=created.plan
        )
        assert [_task_key(t) for _, tasks in again for t in tasks] == [
            _task_key(t) for _, tasks in created.references for t in tasks
        ]
    report = verify([tmp_path / "published"], created.commitment.commitment_sha256)
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.ok]


def _task_key(task: ReferenceTask) -> tuple[object, ...]:
    point = to_shape(task.point).coords[0] if task.point is not None else None
    return (task.campaign, task.product_id, task.number, task.county_code, task.reason, point)


def test_no_reference_task_where_references_suffice(
    register_copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_market_references import _add_real_rows, _copy_set

    _add_real_rows(_copy_set(tmp_path / "refs", "xihu-longjing"), 2025, "330106", 60)
    monkeypatch.setenv("GI_REFERENCES_DIR", str(tmp_path / "refs"))
    get_settings.cache_clear()
    _directories(register_copy)
    with session_scope(get_engine(register_copy)) as session:
        created = _create(session, "MK-SUFFICIENT", ["xihu-longjing"])
        [(need, tasks)] = created.references
        assert need.authentic == 60 and not need.thin and tasks == [] and created.reference_tasks == 0
        assert session.scalar(select(func.count()).select_from(ReferenceTask)) == 0
        # An explicit opt-out plans none either, even where thin (the other products of the bundled sets).
        bare = _create(session, "MK-BARE", PRODUCTS, reference_tasks=False)
        assert bare.references == [] and session.scalar(select(func.count()).select_from(ReferenceTask)) == 0
