"""The sample form's media files, made per caller: his open tasks (tasks.csv) and the products (products.csv).

ODK Collect downloads them with the form (the manifest lists each with its MD5) and reads them offline for
``select_one_from_file``. The CSVs are deterministic, so an unchanged task list keeps its hash and Collect
downloads nothing again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gi.errors import NotFoundError
from gi.field.form import PRODUCTS_COLUMNS, PRODUCTS_CSV, TASKS_COLUMNS, TASKS_CSV
from gi.models import GIProduct, Plan, PlanStatus, PlanTask, TaskInspector, TaskStatus


@dataclass(frozen=True)
class MediaFile:
    """One media file of a form: name, bytes and their MD5 (the manifest's hash)."""

    name: str
    content: bytes
    content_type: str = "text/csv"

    @property
    def md5(self) -> str:
        """MD5 of the content, as the OpenRosa manifest's ``hash`` (``md5:`` added by the face)."""
        return hashlib.md5(self.content).hexdigest()


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def open_tasks(
    session: Session, inspector_id: int | None, regions: Sequence[str] | None = None
) -> list[PlanTask]:
    """Tasks that still take samples (planned or sampled, of a drawn plan): an inspector's own, or those in
    ``regions`` (county code prefixes; None = everywhere) for a caller who is not an inspector."""
    query = (
        select(PlanTask)
        .join(Plan, Plan.id == PlanTask.plan_id)
        .where(Plan.status == PlanStatus.DRAWN, PlanTask.status.in_([TaskStatus.PLANNED, TaskStatus.SAMPLED]))
        .options(joinedload(PlanTask.product), joinedload(PlanTask.producer), joinedload(PlanTask.plan))
        .order_by(PlanTask.id)
    )
    if inspector_id is not None:
        query = query.join(TaskInspector, TaskInspector.task_id == PlanTask.id).where(
            TaskInspector.inspector_id == inspector_id
        )
    tasks = list(session.scalars(query).unique())
    if inspector_id is None and regions is not None:
        tasks = [t for t in tasks if any(t.county_code.startswith(r) for r in regions)]
    return tasks


def tasks_csv(tasks: Sequence[PlanTask]) -> MediaFile:
    """tasks.csv: one row per task (name = task id; label as the inspector picks it)."""
    rows = [
        (
            t.id,
            f"任务{t.id}｜{t.product.name_zh}｜{t.producer.name}｜{t.due_from:%m-%d}至{t.due_to:%m-%d}",
            t.product.code,
            t.producer.name,
            t.producer.credit_code,
            t.lot_size,
            t.units_to_take,
        )
        for t in tasks
    ]
    return MediaFile(TASKS_CSV, _csv(TASKS_COLUMNS, rows))


def products_csv(session: Session) -> MediaFile:
    """products.csv: every product of the register (name = code, label = Chinese name)."""
    rows = [(p.code, p.name_zh) for p in session.scalars(select(GIProduct).order_by(GIProduct.code))]
    return MediaFile(PRODUCTS_CSV, _csv(PRODUCTS_COLUMNS, rows))


def form_media(
    session: Session, inspector_id: int | None, regions: Sequence[str] | None = None
) -> dict[str, MediaFile]:
    """The sample form's media files for one caller, by name."""
    files = [tasks_csv(open_tasks(session, inspector_id, regions)), products_csv(session)]
    return {f.name: f for f in files}


def media_file(
    session: Session, name: str, inspector_id: int | None, regions: Sequence[str] | None = None
) -> MediaFile:
    """One media file of the sample form for one caller."""
    if name == TASKS_CSV:
        return tasks_csv(open_tasks(session, inspector_id, regions))
    if name == PRODUCTS_CSV:
        return products_csv(session)
    raise NotFoundError(f"attachment: the sample form has no media file {name!r}")
