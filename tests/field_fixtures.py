"""Shared set-up of the field-collection tests: a drawn plan on the real register, with synthetic directories."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, select, update

from demo.directories import create_synthetic_directory, ours_inspectors, ours_producers
from gi.db import session_scope
from gi.models import Inspector, OdkSubmission, Plan, PlanTask, Producer, Sample, SealCode
from sampling.commit import Announcement
from sampling.planning import create_plan, draw_plan

FIELD_PLAN = "FIELD-1"
# Committed before the season, drawn with the value of the draw it announced (sampling/commit.py).
FIELD_LOTTERY = Announcement.make("test lottery", "2026-10-25")
FIELD_COMMITTED = datetime(2026, 10, 21, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
FIELD_REVEALED = datetime(2026, 10, 25, 21, tzinfo=ZoneInfo("Asia/Shanghai"))


def drawn_field_plan(engine: Engine) -> Iterator[str]:
    """Create and draw a small plan (committed), yield its code, then remove it and what hangs on it."""
    with session_scope(engine) as s:
        create_synthetic_directory(s, producers_per_product=4, today=date(2026, 10, 20))
        create_plan(
            s,
            FIELD_PLAN,
            "田间采集测试计划",
            date(2026, 11, 1),
            date(2026, 12, 31),
            rounds=1,
            lot_size=20,
            announcement=FIELD_LOTTERY,
            committed_at=FIELD_COMMITTED,
        )
        draw_plan(
            s,
            FIELD_PLAN,
            "field test public value",
            FIELD_LOTTERY.source,
            FIELD_LOTTERY.draw_at,
            revealed_at=FIELD_REVEALED,
        )
    yield FIELD_PLAN
    with session_scope(engine) as s:
        tasks = select(PlanTask.id).join(Plan).where(Plan.code == FIELD_PLAN)
        samples = select(Sample.id).where(Sample.task_id.in_(tasks))
        s.execute(delete(OdkSubmission).where(OdkSubmission.sample_id.in_(samples)))
        s.execute(delete(SealCode).where(SealCode.task_id.in_(tasks)))
        s.execute(delete(Sample).where(Sample.task_id.in_(tasks)))
        s.execute(update(Sample).where(Sample.task_id.in_(tasks)).values(task_id=None))
        s.execute(delete(Plan).where(Plan.code == FIELD_PLAN))
        s.execute(delete(Producer).where(ours_producers()))
        s.execute(delete(Inspector).where(ours_inspectors()))
