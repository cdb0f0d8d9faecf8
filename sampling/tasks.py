"""Plan tasks as callers see them: an inspector his own, a supervisor his region's, an admin every one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from gi.accounts.scope import Scope
from gi.errors import NotFoundError
from gi.models import PlanTask, TaskInspector, TaskStatus


def scoped(query: Select[Any], scope: Scope) -> Select[Any]:
    """``query`` of plan tasks limited to what ``scope`` may see."""
    if scope.everything:
        return query
    if scope.inspector_id is not None:
        assigned = exists().where(
            TaskInspector.task_id == PlanTask.id, TaskInspector.inspector_id == scope.inspector_id
        )
        return query.where(assigned)
    if scope.regions:
        return query.where(or_(*(PlanTask.county_code.startswith(r) for r in scope.regions)))
    return query.where(PlanTask.id.is_(None))  # the public sees tasks only through published documents


def tasks_in_scope(
    session: Session,
    scope: Scope,
    plan_id: int | None = None,
    status: TaskStatus | None = None,
    limit: int = 500,
    offset: int = 0,
) -> tuple[list[PlanTask], int]:
    """The tasks ``scope`` may see (of one plan, in one state), by due date, and how many there are."""
    query = select(PlanTask)
    if plan_id is not None:
        query = query.where(PlanTask.plan_id == plan_id)
    if status is not None:
        query = query.where(PlanTask.status == status)
    query = scoped(query, scope)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        query.options(
            selectinload(PlanTask.assignments).selectinload(TaskInspector.inspector),
            selectinload(PlanTask.producer),
            selectinload(PlanTask.product),
            selectinload(PlanTask.plan),
        )
        .order_by(PlanTask.due_from, PlanTask.plan_id, PlanTask.round_number, PlanTask.draw_order)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def task_in_scope(session: Session, scope: Scope, task_id: int) -> PlanTask:
    """One task the caller may see, or NotFoundError naming ``task_id`` (also when it is out of scope)."""
    found = session.scalars(scoped(select(PlanTask).where(PlanTask.id == task_id), scope)).first()
    if found is None:
        raise NotFoundError(f"task_id: no plan task {task_id} in your scope", field="task_id")
    return found
