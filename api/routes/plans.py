"""Seasonal inspection plans: supervisors create (commit), draw and record results; inspectors fetch their tasks;
the public reads every plan's published files (commitment before the draw, reveal and selection after)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import ScopeDep, SessionDep
from gi.models import Plan, PlanTask, TaskResult, TaskStatus
from sampling.findings import record_findings
from sampling.planning import (
    create_plan,
    draw_plan,
    find_plan,
    list_plans,
    published_documents,
    record_result,
)
from sampling.public import announcement_of
from sampling.tasks import task_in_scope, tasks_in_scope

router = APIRouter(tags=["plans"])


class PlanCreate(BaseModel):
    """A new plan: its period, rounds, products and design parameters (ratios in percent per round)."""

    code: str = Field(min_length=1, max_length=64, pattern=r"^[^\s/\\]+$")
    title: str | None = Field(default=None, max_length=300)
    period_from: date = Field(description="first day (2000-01-01 to 2100-12-31)")
    period_to: date = Field(
        description="last day; a plan covers at most one year (366 days, both ends included)"
    )
    rounds: int = Field(default=3, ge=1, le=12)
    products: list[str] | None = Field(default=None, description="product codes; default every product")
    peak_percent: float = Field(default=15, ge=0, le=100)
    base_percent: float = Field(default=5, ge=0, le=100)
    off_season_percent: float = Field(default=2, ge=0, le=100)
    min_per_product: int = Field(default=1, ge=0, le=1000)
    min_per_county: int = Field(default=1, ge=0, le=1000)
    yearly_cap: int = Field(default=2, ge=1, le=50)
    min_gap_days: int = Field(default=90, ge=0, le=366)
    inspectors_per_task: int = Field(default=2, ge=2, le=5)
    inspector_scope: str = Field(default="province", pattern="^(province|national)$")
    inspection_level: str = Field(default="II", pattern="^(I|II|III)$")
    lot_size: int = Field(default=500, ge=2, le=10_000_000)
    public_value_source: str = Field(
        min_length=1,
        max_length=200,
        description="announced source of the public value, e.g. 中国福利彩票 福彩3D",
    )
    public_value_draw: str = Field(default="", max_length=100, description="announced issue of that draw")
    public_value_draw_at: str = Field(
        description="announced date (YYYY-MM-DD, after today) or date-time with offset of that draw"
    )
    supersedes: str | None = Field(default=None, description="the failed plan this plan re-draws")
    repair: bool = Field(default=False, description="widen the pools of targets that cannot be staffed")


class DrawRequest(BaseModel):
    """The value of the draw announced in the commitment, stated with its source, issue and date."""

    public_value: str = Field(min_length=1, max_length=200)
    public_value_source: str = Field(min_length=1, max_length=200)
    public_value_draw: str = Field(default="", max_length=100)
    public_value_draw_at: str = Field(min_length=10, max_length=40)


class RoundOut(BaseModel):
    """A round's window."""

    number: int
    starts_on: date
    ends_on: date


class PlanOut(BaseModel):
    """A plan as published: its state, commitment and (after the draw) the public value."""

    id: int
    code: str
    title: str
    period_from: date
    period_to: date
    status: str
    commitment_sha256: str | None
    committed_at: datetime | None
    public_value: str | None
    public_value_source: str | None = Field(
        description="whose draw gives the public value: announced in the commitment, so known before the draw"
    )
    public_value_draw: str | None = Field(
        default=None, description="the announced issue of that draw ('' none)"
    )
    public_value_draw_at: str | None = Field(
        default=None, description="the announced date or time of that draw"
    )
    revealed_at: datetime | None
    rounds: list[RoundOut]
    files: list[str]
    warnings: list[str] = []


class InspectorOut(BaseModel):
    """An inspector assigned to a task."""

    code: str
    name: str


class TaskOut(BaseModel):
    """One inspection task: target, window, sample size, inspectors, result."""

    id: int
    plan: str
    round: int
    product: str
    producer_id: int
    producer_name: str
    producer_address: str | None
    county_code: str
    due_from: date
    due_to: date
    season_kind: str
    units_to_take: int
    lot_size: int
    inspection_level: str
    status: str
    result: str | None
    result_note: str | None
    inspectors: list[InspectorOut]


class TaskPage(BaseModel):
    """A page of tasks."""

    total: int
    tasks: list[TaskOut]


class ResultIn(BaseModel):
    """The outcome of an inspection task."""

    result: TaskResult
    note: str | None = Field(default=None, max_length=2000)
    correct: bool = Field(
        default=False,
        description="Change a result recorded before: a published correction, the note says why.",
    )


def _plan_out(
    request: Request, session: SessionDep, plan: Plan, warnings: list[str] | None = None
) -> PlanOut:
    c = plan.commitment
    announced = announcement_of(plan)  # the commitment names the draw before it takes place
    return PlanOut(
        id=plan.id,
        code=plan.code,
        title=plan.title,
        period_from=plan.period_from,
        period_to=plan.period_to,
        status=plan.status.value,
        commitment_sha256=c.commitment_sha256 if c else None,
        committed_at=c.committed_at if c else None,
        public_value=c.public_value if c else None,
        public_value_source=(c.public_value_source if c else None)
        or (announced.source if announced else None),
        public_value_draw=announced.draw if announced else None,
        public_value_draw_at=announced.draw_at if announced else None,
        revealed_at=c.revealed_at if c else None,
        rounds=[RoundOut(number=r.number, starts_on=r.starts_on, ends_on=r.ends_on) for r in plan.rounds],
        files=[
            f"{request.base_url}plans/{plan.code}/files/{name}" for name in published_documents(session, plan)
        ]
        if c
        else [],
        warnings=warnings or [],
    )


def _task_out(task: PlanTask) -> TaskOut:
    return TaskOut(
        id=task.id,
        plan=task.plan.code,
        round=task.round_number,
        product=task.product.code,
        producer_id=task.producer_id,
        producer_name=task.producer.name,
        producer_address=task.producer.address,
        county_code=task.county_code,
        due_from=task.due_from,
        due_to=task.due_to,
        season_kind=task.season_kind,
        units_to_take=task.units_to_take,
        lot_size=task.lot_size,
        inspection_level=task.inspection_level,
        status=task.status.value,
        result=task.result.value if task.result else None,
        result_note=task.result_note,
        inspectors=[InspectorOut(code=i.code, name=i.name) for i in task.inspectors],
    )


@router.get("/plans", summary="Every plan, newest first", response_model=list[PlanOut])
def plans(request: Request, session: SessionDep) -> list[PlanOut]:
    """Plans with their commitments (public: the commitment is published before the draw)."""
    return [_plan_out(request, session, p) for p in list_plans(session)]


@router.post(
    "/plans", summary="Create a plan and publish its commitment", status_code=201, response_model=PlanOut
)
def new_plan(body: PlanCreate, request: Request, session: SessionDep) -> PlanOut:
    """Freeze the frame and parameters and store the commitment; the secret stays unpublished until the draw."""
    from sampling.commit import Announcement
    from sampling.design import Ratios, percent_to_bp

    created = create_plan(
        session,
        body.code,
        body.title,
        body.period_from,
        body.period_to,
        body.rounds,
        products=body.products,
        announcement=Announcement.make(
            body.public_value_source, body.public_value_draw_at, body.public_value_draw
        ),
        supersedes=body.supersedes,
        repair=body.repair,
        ratios=Ratios(
            percent_to_bp(body.peak_percent),
            percent_to_bp(body.base_percent),
            percent_to_bp(body.off_season_percent),
        ),
        min_per_product=body.min_per_product,
        min_per_county=body.min_per_county,
        yearly_cap=body.yearly_cap,
        min_gap_days=body.min_gap_days,
        inspectors_per_task=body.inspectors_per_task,
        inspector_scope=body.inspector_scope,
        inspection_level=body.inspection_level,
        lot_size=body.lot_size,
    )
    session.commit()
    return _plan_out(request, session, created.plan, created.feasibility.repairs + created.warnings)


@router.get("/plans/{plan_id}", summary="One plan (by code or id)", response_model=PlanOut)
def plan(plan_id: str, request: Request, session: SessionDep) -> PlanOut:
    """A plan's state, commitment and published files."""
    return _plan_out(request, session, find_plan(session, plan_id))


@router.post(
    "/plans/{plan_id}/draw", summary="Draw: reveal the secret with the public value", response_model=PlanOut
)
def draw(plan_id: str, body: DrawRequest, request: Request, session: SessionDep) -> PlanOut:
    """Derive the seed from the secret and the announced public value, draw targets and inspectors, store tasks.
    A draw that cannot be staffed is final too: the plan comes back ``failed``, its failure published."""
    drawn = draw_plan(
        session,
        plan_id,
        body.public_value,
        body.public_value_source,
        body.public_value_draw_at,
        body.public_value_draw,
    )
    session.commit()
    return _plan_out(request, session, drawn.plan, [p.text() for p in drawn.problems])


class FindingsOut(BaseModel):
    """What recording a plan's findings did (tasks in the caller's region, or every task for an admin)."""

    plan: str
    conforming: int = Field(description="tasks recorded 合格 now: every sample passed origin and quality")
    nonconforming: int = Field(description="tasks recorded 不合格 now: a sample has a final non-conformity")
    to_verify: int = Field(description="sampled tasks whose finding is not final (待核实): left open")
    unsampled: int = Field(description="tasks without a sample: left open")
    kept: int = Field(description="tasks that had a result already: unchanged")


@router.post(
    "/plans/{plan_id}/findings",
    summary="Record task results from the samples' final findings",
    response_model=FindingsOut,
)
def findings(plan_id: str, session: SessionDep, scope: ScopeDep) -> FindingsOut:
    """Each open task of the plan in your scope whose samples have a final finding gets its result (合格 or
    不合格, with the reason as its public note); tasks still to verify or unsampled stay open, results recorded
    before are kept. The plan's published results and notice show them at once."""
    done = record_findings(session, plan_id, scope)
    session.commit()
    return FindingsOut(
        plan=done.plan_code,
        conforming=done.recorded["conforming"],
        nonconforming=done.recorded["nonconforming"],
        to_verify=done.to_verify,
        unsampled=done.unsampled,
        kept=done.kept,
    )


@router.get("/plans/{plan_id}/files", summary="Names of a plan's published files", response_model=list[str])
def files(plan_id: str, session: SessionDep) -> list[str]:
    """The published files: frame, parameters and commitment; after the draw, reveal, selection, assignment,
    results and the notice (after a failed draw: reveal, failure and the notice)."""
    return list(published_documents(session, find_plan(session, plan_id)))


@router.get(
    "/plans/{plan_id}/files/{name}",
    summary="One published file, byte for byte",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}, "text/markdown": {}}},
        404: {"description": "No such file"},
    },
)
def published_file(plan_id: str, name: str, session: SessionDep) -> Response:
    """Exactly the bytes that were committed to (so `gi plan verify` can check them)."""
    from gi.errors import NotFoundError

    documents = published_documents(session, find_plan(session, plan_id))
    if name not in documents:
        raise NotFoundError(
            f"name: no published file {name!r}; published: {', '.join(documents)}", field="name"
        )
    media = {"csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8"}
    return Response(
        documents[name],
        media_type=media.get(name.rsplit(".", 1)[-1], "application/json"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/plans/{plan_id}/tasks", summary="Tasks of a plan in your scope", response_model=TaskPage)
def plan_tasks(
    plan_id: str,
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TaskPage:
    """An inspector's own tasks, a supervisor's region's, or all (admin)."""
    found = find_plan(session, plan_id)
    rows, total = tasks_in_scope(session, scope, plan_id=found.id, limit=limit, offset=offset)
    return TaskPage(total=total, tasks=[_task_out(t) for t in rows])


@router.get(
    "/tasks", summary="Your tasks (inspectors) or your region's (supervisors)", response_model=TaskPage
)
def my_tasks(
    session: SessionDep,
    scope: ScopeDep,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TaskPage:
    """Tasks in the caller's scope, by due date."""
    rows, total = tasks_in_scope(session, scope, status=status, limit=limit, offset=offset)
    return TaskPage(total=total, tasks=[_task_out(t) for t in rows])


@router.post("/tasks/{task_id}/result", summary="Record a task's result", response_model=TaskOut)
def task_result(
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ResultIn, session: SessionDep, scope: ScopeDep
) -> TaskOut:
    """The outcome of an inspection (conforming, nonconforming, ...); it completes the public notice."""
    task = task_in_scope(session, scope, task_id)
    record_result(session, task.id, body.result, body.note, correct=body.correct)
    session.commit()
    return _task_out(task_in_scope(session, scope, task_id))
