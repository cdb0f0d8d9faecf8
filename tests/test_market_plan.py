"""A double-random plan built from imported directories: `gi plan create` refuses a frame with no target or no
inspector in one line; once the office's producers, outlets and inspectors are imported, the frame holds them
and the draw picks targets and inspectors from them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi
from sqlalchemy import select

from gi.db import get_engine, session_scope
from gi.errors import InputError
from gi.market.directories import import_inspectors, import_outlets, import_producers
from gi.models import Inspector, Producer
from sampling.commit import Announcement
from sampling.frames import build_frame
from sampling.planning import create_plan, draw_plan, tasks_of_plan

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
