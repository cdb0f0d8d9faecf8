"""Plans in the database: create (freeze the frame, publish the commitment), draw (reveal, select, assign,
store the tasks), look up, record results, and export the published files and the internal work list."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gi.errors import InputError, NotFoundError
from gi.models import (
    Commitment,
    Inspector,
    Plan,
    PlanRound,
    PlanStatus,
    PlanTask,
    Producer,
    TaskInspector,
    TaskResult,
    TaskStatus,
)
from gi.settings import get_settings
from sampling.assign import pool_of
from sampling.commit import canonical_json, derive_seed, make_commitment, make_reveal, new_secret, sha256_hex
from sampling.design import BP, DesignParameters
from sampling.draw import DrawResult, run_draw
from sampling.frames import UNKNOWN_COUNTY, Frame, FrameRules, build_frame
from sampling.lots import lot_sample
from sampling.rng import TICKS
from sampling.seasons import round_kind, split_rounds
from sampling.verify import (
    ASSIGNMENT_FILE,
    COMMITMENT_FILE,
    FRAME_FILE,
    PARAMETERS_FILE,
    REVEAL_FILE,
    SELECTION_FILE,
    draw_documents,
)


def _now() -> datetime:
    return datetime.now(ZoneInfo(get_settings().timezone)).replace(microsecond=0)


def default_plan_title(code: str, period_from: date, period_to: date) -> str:
    """The title of a plan created without one: its code and period, in Chinese."""
    return f"地理标志产品双随机抽查计划 {code}（{period_from} 至 {period_to}）"


def find_plan(session: Session, key: str | int) -> Plan:
    """A plan by code or numeric id."""
    text = str(key).strip()
    plan = session.scalars(select(Plan).where(Plan.code == text)).first()
    if plan is None and text.isdigit():
        plan = session.get(Plan, int(text))
    if plan is None:
        known = ", ".join(session.scalars(select(Plan.code).order_by(Plan.id.desc()).limit(5))) or "none yet"
        raise NotFoundError(f"plan: no plan {text!r} (latest: {known})")
    return plan


@dataclass
class PlanCreated:
    """A committed plan and what the supervisor should know before the draw."""

    plan: Plan
    frame: Frame
    parameters: DesignParameters
    warnings: list[str] = field(default_factory=list)

    @property
    def commitment(self) -> Commitment:
        """The commitment stored with the plan (a created plan always has one)."""
        if self.plan.commitment is None:
            raise RuntimeError(f"plan {self.plan.code} has no commitment")
        return self.plan.commitment


def create_plan(
    session: Session,
    code: str,
    title: str | None,
    period_from: date,
    period_to: date,
    rounds: int = 3,
    products: list[str] | None = None,
    secret: str | None = None,
    rules: FrameRules | None = None,
    committed_at: datetime | None = None,
    **parameters: Any,
) -> PlanCreated:
    """Create a plan: freeze its frame from the database and its parameters, and store the commitment.

    ``title`` None: :func:`default_plan_title`. ``parameters`` are DesignParameters fields (ratios,
    product_ratios, min_per_county, yearly_cap, ...). The secret is generated unless given; it stays unpublished
    until the draw. ``committed_at`` (default: now) stamps the frame snapshot and the commitment; the draw's
    seed depends on it, so only a reproducible demo or test should fix it.
    """
    code = code.strip()
    if not code or len(code) > 64 or any(ch in code for ch in "/\\ \t\n"):
        raise InputError("code", "a plan code is 1-64 characters without spaces or slashes")
    if session.scalars(select(Plan.id).where(Plan.code == code)).first() is not None:
        raise InputError("code", f"plan {code!r} exists already; choose another code")
    params = DesignParameters(
        plan=code,
        period_from=period_from,
        period_to=period_to,
        rounds=tuple(split_rounds(period_from, period_to, rounds)),
        **parameters,
    )
    committed_at = committed_at or _now()
    frame = build_frame(session, code, period_from, period_to, products, rules, taken_at=committed_at)
    frame_bytes = canonical_json(frame.to_dict())
    params_bytes = canonical_json(params.to_dict())
    secret = secret or new_secret()
    doc = make_commitment(code, frame_bytes, params_bytes, secret, committed_at.isoformat())
    plan = Plan(
        code=code,
        title=title or default_plan_title(code, period_from, period_to),
        period_from=period_from,
        period_to=period_to,
        status=PlanStatus.COMMITTED,
        parameters=params.to_dict(),
    )
    plan.rounds = [
        PlanRound(number=r.number, starts_on=r.starts_on, ends_on=r.ends_on) for r in params.rounds
    ]
    plan.commitment = Commitment(
        scheme=doc.document["scheme"],
        frame_sha256=doc.document["frame_sha256"],
        parameters_sha256=doc.document["parameters_sha256"],
        secret_sha256=doc.document["secret_sha256"],
        commitment_sha256=doc.sha256,
        commitment_json=doc.data.decode("utf-8"),
        frame_json=frame_bytes.decode("utf-8"),
        parameters_json=params_bytes.decode("utf-8"),
        committed_at=committed_at,
        secret=secret,
    )
    session.add(plan)
    session.flush()
    return PlanCreated(plan, frame, params, capacity_precheck(frame, params))


def capacity_precheck(frame: Frame, params: DesignParameters) -> list[str]:
    """Warnings where a round's expected visits may exceed a pool's inspectors (before the draw)."""
    warnings = []
    capacity: dict[str, int] = defaultdict(int)
    for ins in frame.inspectors:
        capacity[pool_of(ins.home_county, params.inspector_scope)] += ins.capacity
    members: dict[str, list[str]] = defaultdict(list)
    for p in frame.producers:
        members[p.product].append(pool_of(p.county, params.inspector_scope))
    for rnd in params.rounds:
        need: dict[str, float] = defaultdict(float)
        for product in frame.products:
            pools = members.get(product.code, [])
            if not pools:
                continue
            ratio = params.ratios_of(product.code).of(round_kind(product.windows, rnd.starts_on, rnd.ends_on))
            if ratio == 0:
                continue
            n = max(-(-ratio * len(pools) // BP), params.min_per_product)
            for pool in set(pools):
                need[pool] += n * pools.count(pool) / len(pools) * params.inspectors_per_task
        for pool, slots in sorted(need.items()):
            if slots > capacity.get(pool, 0):
                warnings.append(
                    f"round {rnd.number}: pool {pool} needs about {slots:.0f} inspector visits, "
                    f"capacity {capacity.get(pool, 0)}"
                )
    pool_members: dict[str, list[str]] = defaultdict(list)
    for ins in frame.inspectors:
        pool_members[pool_of(ins.home_county, params.inspector_scope)].append(ins.home_county)
    for county in sorted({p.county for p in frame.producers}):
        others = sum(
            1 for home in pool_members.get(pool_of(county, params.inspector_scope), []) if home != county
        )
        if others < params.inspectors_per_task:
            warnings.append(
                f"county {county}: only {others} inspectors of its pool live outside it, "
                f"{params.inspectors_per_task} needed per target"
            )
    unknown = sum(1 for p in frame.producers if p.county == UNKNOWN_COUNTY)
    if unknown and params.inspector_scope == "province":
        warnings.append(
            f"{unknown} targets have no county (neither county code nor credit code): no provincial "
            "inspector pool can staff them, so they are not drawn; fix their county codes"
        )
    for product in frame.products:
        if not any(p.product == product.code for p in frame.producers):
            warnings.append(f"product {product.code}: no authorized producer in the frame")
    return warnings


@dataclass
class PlanDrawn:
    """The outcome of a draw."""

    plan: Plan
    result: DrawResult
    selection: dict[str, Any]
    assignment: dict[str, Any]


def draw_plan(
    session: Session,
    key: str | int,
    public_value: str,
    public_value_source: str = "",
    revealed_at: datetime | None = None,
) -> PlanDrawn:
    """Reveal the secret, derive the seed with the public value, draw and assign, and store the tasks
    (``revealed_at`` default: now; it is recorded, the draw does not depend on it)."""
    plan = find_plan(session, key)
    if plan.status != PlanStatus.COMMITTED or plan.commitment is None:
        raise InputError("plan", f"{plan.code} is {plan.status.value}; only a committed plan can be drawn")
    c = plan.commitment
    if (
        sha256_hex(c.frame_json.encode("utf-8")) != c.frame_sha256
        or sha256_hex(c.parameters_json.encode("utf-8")) != c.parameters_sha256
    ):
        raise InputError(
            "plan", f"{plan.code}: the stored frame or parameters no longer match the commitment"
        )
    frame = Frame.from_dict(json.loads(c.frame_json))
    params = DesignParameters.from_dict(json.loads(c.parameters_json))
    seed = derive_seed(c.commitment_sha256, c.secret, public_value)
    result = run_draw(frame, params, seed)
    selection, assignment = draw_documents(params, result, c.commitment_sha256)
    revealed_at = revealed_at or _now()
    reveal = make_reveal(
        plan.code, c.commitment_sha256, c.secret, public_value, public_value_source, revealed_at.isoformat()
    )
    c.public_value = reveal["public_value"]
    c.public_value_source = public_value_source
    c.seed_sha256 = reveal["seed"]
    c.revealed_at = revealed_at
    c.selection_json = canonical_json(selection).decode("utf-8")
    c.assignment_json = canonical_json(assignment).decode("utf-8")
    _store_tasks(session, plan, frame, params, result)
    plan.status = PlanStatus.DRAWN
    plan.drawn_at = revealed_at
    session.flush()
    return PlanDrawn(plan, result, selection, assignment)


def _store_tasks(
    session: Session, plan: Plan, frame: Frame, params: DesignParameters, result: DrawResult
) -> None:
    product_ids = {p.code: p.id for p in frame.products}
    rounds = {r.number: r for r in plan.rounds}
    codes = sorted({code for t in result.tasks for code in t.inspectors})
    inspector_ids = dict(
        session.execute(select(Inspector.code, Inspector.id).where(Inspector.code.in_(codes))).all()
    )
    missing = [c for c in codes if c not in inspector_ids]
    if missing:
        raise InputError(
            "inspectors", f"drawn inspectors no longer in the directory: {', '.join(missing[:5])}"
        )
    producer_ids = {t.producer_id for t in result.tasks}
    present = set(session.scalars(select(Producer.id).where(Producer.id.in_(producer_ids))))
    if producer_ids - present:
        raise InputError(
            "producers", f"drawn targets no longer in the directory: {sorted(producer_ids - present)[:5]}"
        )
    factors = {p.id: p.risk for p in frame.producers}
    for t in result.tasks:
        rnd = rounds[t.round]
        lot = lot_sample(params.lot_size_of(t.product), params.inspection_level)
        task = PlanTask(
            plan_id=plan.id,
            round_id=rnd.id,
            round_number=t.round,
            draw_order=t.order,
            product_id=product_ids[t.product],
            producer_id=t.producer_id,
            county_code=t.county,
            due_from=rnd.starts_on,
            due_to=rnd.ends_on,
            season_kind=t.season_kind,
            inclusion_probability=t.pi_ticks / TICKS,
            risk_weight=t.weight,
            risk_factors=dict(factors[t.producer_id]),
            inspection_level=lot.level,
            lot_size=lot.lot_size,
            code_letter=lot.code_letter,
            units_to_take=lot.units_to_take,
            status=TaskStatus.PLANNED,
        )
        task.assignments = [
            TaskInspector(inspector_id=inspector_ids[code], position=i + 1)
            for i, code in enumerate(t.inspectors)
        ]
        session.add(task)
    session.flush()


def tasks_of_plan(session: Session, plan_id: int) -> list[PlanTask]:
    """The tasks of a plan (round, then assignment order) with product, producer and inspectors loaded."""
    return list(
        session.scalars(
            select(PlanTask)
            .where(PlanTask.plan_id == plan_id)
            .options(
                selectinload(PlanTask.assignments).selectinload(TaskInspector.inspector),
                selectinload(PlanTask.producer),
                selectinload(PlanTask.product),
            )
            .order_by(PlanTask.round_number, PlanTask.draw_order)
        )
    )


def record_result(
    session: Session, task_id: int, result: TaskResult | str, note: str | None = None
) -> PlanTask:
    """Record the outcome of an inspection task (completes the public notice)."""
    task = session.get(PlanTask, task_id)
    if task is None:
        raise NotFoundError(f"task: no plan task {task_id}")
    try:
        task.result = TaskResult(result)
    except ValueError as exc:
        raise InputError(
            "result", f"{result!r} is not one of {', '.join(r.value for r in TaskResult)}"
        ) from exc
    task.result_note = note
    task.result_recorded_at = _now()
    task.status = TaskStatus.COMPLETED
    session.flush()
    return task


def published_documents(plan: Plan) -> dict[str, bytes]:
    """The published files of a plan as stored: frame, parameters, commitment, and after the draw reveal,
    selection and assignment."""
    c = plan.commitment
    if c is None:
        raise InputError("plan", f"{plan.code} has no commitment")
    out = {
        FRAME_FILE: c.frame_json.encode("utf-8"),
        PARAMETERS_FILE: c.parameters_json.encode("utf-8"),
        COMMITMENT_FILE: c.commitment_json.encode("utf-8"),
    }
    if plan.status == PlanStatus.DRAWN and c.selection_json and c.assignment_json and c.public_value:
        out[REVEAL_FILE] = canonical_json(
            make_reveal(
                plan.code,
                c.commitment_sha256,
                c.secret,
                c.public_value,
                c.public_value_source or "",
                c.revealed_at.astimezone(ZoneInfo(get_settings().timezone)).isoformat()
                if c.revealed_at
                else "",
            )
        )
        out[SELECTION_FILE] = c.selection_json.encode("utf-8")
        out[ASSIGNMENT_FILE] = c.assignment_json.encode("utf-8")
    return out


def write_published(plan: Plan, directory: Path) -> list[Path]:
    """Write the published files of a plan into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in published_documents(plan).items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


@dataclass
class RoundSummary:
    """One round of a drawn plan: tasks, inspectors used and their loads."""

    number: int
    starts_on: date
    ends_on: date
    tasks: int
    peak_products: list[str]
    inspectors_used: int
    load_min: int
    load_max: int


@dataclass
class PlanSummary:
    """What `gi plan show` and the demo print about a plan."""

    code: str
    title: str
    status: str
    period_from: date
    period_to: date
    products: int
    targets: int
    inspectors: int
    commitment_sha256: str
    committed_at: str
    public_value: str | None
    public_value_source: str | None
    seed: str | None
    strata: list[dict[str, Any]] = field(default_factory=list)
    product_names: dict[str, str] = field(default_factory=dict)
    rounds: list[RoundSummary] = field(default_factory=list)
    results: dict[str, int] = field(default_factory=dict)


def plan_summary(session: Session, plan: Plan) -> PlanSummary:
    """Summary of a plan from its stored commitment, published draw and tasks."""
    c = plan.commitment
    frame = json.loads(c.frame_json) if c else {"products": [], "producers": [], "inspectors": []}
    summary = PlanSummary(
        code=plan.code,
        title=plan.title,
        status=plan.status.value,
        period_from=plan.period_from,
        period_to=plan.period_to,
        products=len(frame["products"]),
        targets=len(frame["producers"]),
        inspectors=len(frame["inspectors"]),
        commitment_sha256=c.commitment_sha256 if c else "",
        committed_at=json.loads(c.commitment_json)["committed_at"] if c else "",
        public_value=c.public_value if c else None,
        public_value_source=c.public_value_source if c else None,
        seed=c.seed_sha256 if c else None,
        product_names={p["code"]: p["name_zh"] for p in frame["products"]},
    )
    if c is None or not c.selection_json or not c.assignment_json:
        return summary
    selection, assignment = json.loads(c.selection_json), json.loads(c.assignment_json)
    summary.strata = selection["strata"]
    for r in plan.rounds:
        loads = list(assignment["loads"].get(str(r.number), {}).values())
        summary.rounds.append(
            RoundSummary(
                number=r.number,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                tasks=sum(1 for t in selection["tasks"] if t["round"] == r.number),
                peak_products=[
                    s["product"]
                    for s in summary.strata
                    if s["round"] == r.number and s["season_kind"] == "peak"
                ],
                inspectors_used=len(loads),
                load_min=min(loads, default=0),
                load_max=max(loads, default=0),
            )
        )
    counts: dict[str, int] = defaultdict(int)
    for status, result in session.execute(
        select(PlanTask.status, PlanTask.result).where(PlanTask.plan_id == plan.id)
    ):
        counts[result.value if result else status.value] += 1
    summary.results = dict(counts)
    return summary


def list_plans(session: Session) -> list[Plan]:
    """Every plan, newest first."""
    return list(session.scalars(select(Plan).order_by(Plan.id.desc())))


def declare_conflict(
    session: Session, inspector_code: str, producer_id: int, reason: str, declared_on: date | None = None
) -> None:
    """Record a declared conflict of interest; it enters the frames of plans created afterwards."""
    from gi.models import InspectorConflict

    inspector = session.scalars(select(Inspector).where(Inspector.code == inspector_code)).first()
    if inspector is None:
        raise NotFoundError(f"inspector: no inspector {inspector_code!r}")
    if session.get(Producer, producer_id) is None:
        raise NotFoundError(f"producer: no producer {producer_id}")
    session.add(
        InspectorConflict(
            inspector_id=inspector.id,
            producer_id=producer_id,
            reason=reason,
            declared_on=declared_on or _now().date(),
        )
    )
    session.flush()
