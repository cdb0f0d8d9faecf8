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

from gi import clock
from gi.errors import ConflictError, InputError, NotFoundError
from gi.models import (
    Commitment,
    GIProduct,
    Inspector,
    Plan,
    PlanRound,
    PlanStatus,
    PlanTask,
    Producer,
    ReferenceTask,
    TaskInspector,
    TaskResult,
    TaskStatus,
)
from gi.settings import get_settings
from sampling.assign import Infeasibility, InfeasiblePlanError
from sampling.commit import (
    COMMITMENT_SCHEME,
    Announcement,
    Predecessor,
    canonical_json,
    check_announced_in_advance,
    check_claim,
    derive_seed,
    make_commitment,
    make_reveal,
    new_secret,
    sha256_hex,
)
from sampling.design import DesignParameters
from sampling.draw import DrawResult, run_draw
from sampling.feasibility import FeasibilityReport, InfeasibleFrameError, check_feasibility, repair_frame
from sampling.frames import Frame, FrameRules, build_frame
from sampling.lots import lot_sample
from sampling.published import (
    ASSIGNMENT_FILE,
    COMMITMENT_FILE,
    FAILURE_FILE,
    FRAME_FILE,
    NOTICE_CSV,
    NOTICE_MD,
    PARAMETERS_FILE,
    RESULTS_FILE,
    REVEAL_FILE,
    SELECTION_FILE,
    PublishedResult,
    draw_documents,
    failure_document,
    notice_rows,
    render_notice_csv,
    render_notice_md,
    results_document,
)
from sampling.references import ReferenceNeed, plan_reference_tasks
from sampling.rng import TICKS
from sampling.seasons import split_rounds


def _now() -> datetime:
    # Whole seconds: the moment is printed in commitments and notices that anyone re-computes.
    return clock.now().replace(microsecond=0)


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
    feasibility: FeasibilityReport = field(default_factory=FeasibilityReport)
    references: list[tuple[ReferenceNeed, list[ReferenceTask]]] = field(default_factory=list)

    @property
    def reference_tasks(self) -> int:
        """Reference-collection tasks planned with the plan (apart from its inspections)."""
        return sum(len(tasks) for _, tasks in self.references)

    @property
    def commitment(self) -> Commitment:
        """The commitment stored with the plan (a created plan always has one)."""
        if self.plan.commitment is None:
            raise RuntimeError(f"plan {self.plan.code} has no commitment")
        return self.plan.commitment


def _predecessor(session: Session, key: str) -> tuple[Plan, Predecessor]:
    """The failed plan a new plan re-draws, checked: failed, and not re-drawn already."""
    old = find_plan(session, key)
    c = old.commitment
    if old.status != PlanStatus.FAILED or c is None or c.failure_json is None:
        raise ConflictError(
            f"supersedes: {old.code} is {old.status.value}; only a failed draw is re-drawn by a new plan",
            "supersedes",
        )
    successor = session.scalars(select(Plan.code).where(Plan.supersedes_id == old.id)).first()
    if successor is not None:
        raise ConflictError(f"supersedes: {old.code} was re-drawn already by plan {successor}", "supersedes")
    return old, Predecessor(
        old.code, c.commitment_sha256, sha256_hex(c.failure_json.encode("utf-8")), c.public_value or ""
    )


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
    *,
    announcement: Announcement,
    supersedes: str | None = None,
    repair: bool = False,
    committed_at: datetime | None = None,
    reference_tasks: bool = True,
    **parameters: Any,
) -> PlanCreated:
    """Create a plan: freeze its frame from the database and its parameters, check that the draw can be
    staffed, and store the commitment with the announced public value.

    ``parameters`` are DesignParameters fields (ratios, product_ratios, min_per_county, yearly_cap, ...).
    An infeasible frame raises InfeasibleFrameError naming the targets and pools, unless ``repair`` widens their
    pools (reported in ``feasibility.repairs``). ``supersedes`` names the failed plan this one re-draws. The
    secret is generated unless given; it stays unpublished until the draw. ``committed_at`` (default: now)
    stamps the frame snapshot and the commitment; the seed depends on it, so only a reproducible demo or test
    should fix it. ``title`` None: :func:`default_plan_title`.

    With ``reference_tasks`` (the default), each product of the frame whose origin-fingerprint references are thin
    for the harvest year the period starts in gets reference-collection tasks inside its area, by county, stored
    apart from the inspections (``sampling.references``). They are not drawn from the plan's seed: they follow
    from public inputs alone (reference sets, area, county boundaries, plan code), so the commitment and the
    draw, and their verification, are unchanged. A re-draw (``supersedes``) keeps those of the failed plan.
    """
    code = code.strip()
    if not code or len(code) > 64 or not code.isascii() or any(ch in code for ch in "/\\ \t\n|"):
        raise InputError("code", "a plan code is 1-64 ASCII characters without spaces, slashes or '|'")
    if session.scalars(select(Plan.id).where(Plan.code == code)).first() is not None:
        raise InputError("code", f"plan {code!r} exists already; choose another code")
    params = DesignParameters(
        plan=code,
        period_from=period_from,
        period_to=period_to,
        rounds=tuple(split_rounds(period_from, period_to, rounds)),
        title=title or default_plan_title(code, period_from, period_to),
        **parameters,
    )
    previous = _predecessor(session, supersedes) if supersedes else None
    committed_at = committed_at or _now()
    frame = build_frame(session, code, period_from, period_to, products, rules, taken_at=committed_at)
    if repair:
        frame, report = repair_frame(frame, params)
    else:
        report = check_feasibility(frame, params)
        if not report.ok:
            raise InfeasibleFrameError(report)
    check_announced_in_advance(announcement, committed_at)
    frame_bytes = canonical_json(frame.to_dict())
    params_bytes = canonical_json(params.to_dict())
    secret = secret or new_secret()
    doc = make_commitment(
        code,
        frame_bytes,
        params_bytes,
        secret,
        committed_at.isoformat(),
        announcement,
        previous[1] if previous else None,
    )
    plan = Plan(
        code=code,
        title=params.title,
        period_from=period_from,
        period_to=period_to,
        status=PlanStatus.COMMITTED,
        parameters=params.to_dict(),
        supersedes_id=previous[0].id if previous else None,
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
    references = []
    # A re-draw keeps the failed plan's reference tasks: they were never part of the draw that failed.
    kept = previous is not None and (
        session.scalar(select(ReferenceTask.id).where(ReferenceTask.plan_id == previous[0].id).limit(1))
        is not None
    )
    if reference_tasks and not kept:
        codes = sorted(p.code for p in frame.products)
        chosen = list(
            session.scalars(select(GIProduct).where(GIProduct.code.in_(codes)).order_by(GIProduct.code))
        )
        references = plan_reference_tasks(session, chosen, period_from.year, plan_code=code)
    return PlanCreated(plan, frame, params, frame_warnings(frame, params, report), report, references)


def frame_warnings(frame: Frame, params: DesignParameters, report: FeasibilityReport) -> list[str]:
    """What the supervisor should know about a feasible frame before publishing the commitment."""
    warnings = []
    if report.unpooled:
        warnings.append(
            f"{len(report.unpooled)} targets have no county (neither county code nor credit code): no "
            "provincial inspector pool can staff them, so they are never drawn; fix their county codes or "
            "create the plan with --repair (they then draw from the whole directory)"
        )
    for product in frame.products:
        if not any(p.product == product.code for p in frame.producers):
            warnings.append(f"product {product.code}: no authorized producer in the frame")
    return warnings


@dataclass
class PlanDrawn:
    """The outcome of a draw: drawn, or failed (final and published, with the targets that could not be
    staffed)."""

    plan: Plan
    result: DrawResult | None
    selection: dict[str, Any] | None
    assignment: dict[str, Any] | None
    problems: list[Infeasibility] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the draw could not be staffed (the plan is now failed)."""
        return self.plan.status == PlanStatus.FAILED


def committed_moment(plan: Plan) -> datetime:
    """When the plan's commitment was made, as published in commitment.json."""
    if plan.commitment is None:
        raise InputError("plan", f"{plan.code} has no commitment")
    return datetime.fromisoformat(json.loads(plan.commitment.commitment_json)["committed_at"])


def draw_plan(
    session: Session,
    key: str | int,
    public_value: str,
    source: str,
    draw_at: str,
    draw: str = "",
    revealed_at: datetime | None = None,
) -> PlanDrawn:
    """Reveal the secret, derive the seed with the announced public value, draw and assign, store the tasks.

    The stated ``source``, ``draw_at`` and ``draw`` (issue) must be those announced in the commitment; the
    value must not predate the commitment nor come before the announced draw. A plan is drawn once: when the
    draw cannot be staffed the plan becomes failed, with its public value and the reasons recorded for
    publication, and only a new plan (``create_plan(..., supersedes=code)``) draws again. ``revealed_at``
    (default: now) is recorded and checked against the announcement; only a reproducible demo or test fixes it.
    """
    found = find_plan(session, key)
    # Lock the plan row: two concurrent draws of one commitment must not both proceed.
    plan = session.scalars(
        select(Plan).where(Plan.id == found.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    c = plan.commitment
    if plan.status == PlanStatus.FAILED and c is not None:
        raise ConflictError(
            f"plan: {plan.code} was drawn with the public value {c.public_value!r} and failed; a draw is final "
            f"— re-draw with a new plan: gi plan create NEW --supersedes {plan.code} ...",
            "plan",
        )
    if plan.status != PlanStatus.COMMITTED or c is None:
        value = f" with the public value {c.public_value!r}" if c is not None and c.public_value else ""
        raise ConflictError(
            f"plan: {plan.code} is {plan.status.value}{value}; a plan is drawn only once", "plan"
        )
    if c.scheme != COMMITMENT_SCHEME:
        raise InputError(
            "plan",
            f"{plan.code} was committed under {c.scheme}, which announced no public value; create a new plan",
        )
    if (
        sha256_hex(c.frame_json.encode("utf-8")) != c.frame_sha256
        or sha256_hex(c.parameters_json.encode("utf-8")) != c.parameters_sha256
    ):
        raise InputError(
            "plan", f"{plan.code}: the stored frame or parameters no longer match the commitment"
        )
    commitment = json.loads(c.commitment_json)
    announcement = Announcement.from_dict(commitment["public_value"])
    revealed_at = revealed_at or _now()
    check_claim(announcement, committed_moment(plan), source, draw_at, draw, revealed_at)
    frame = Frame.from_dict(json.loads(c.frame_json))
    params = DesignParameters.from_dict(json.loads(c.parameters_json))
    seed = derive_seed(c.commitment_sha256, c.secret, public_value)
    reveal = make_reveal(
        plan.code, c.commitment_sha256, c.secret, public_value, announcement, revealed_at.isoformat()
    )
    c.public_value = reveal["public_value"]
    c.public_value_source = announcement.source
    c.seed_sha256 = reveal["seed"]
    c.revealed_at = revealed_at
    c.reveal_json = canonical_json(reveal).decode("utf-8")
    plan.drawn_at = revealed_at
    try:
        result = run_draw(frame, params, seed)
    except InfeasiblePlanError as exc:
        # Final: the value is recorded and the failure published; the caller commits this state.
        c.failure_json = canonical_json(
            failure_document(plan.code, c.commitment_sha256, exc.problems)
        ).decode("utf-8")
        plan.status = PlanStatus.FAILED
        session.flush()
        return PlanDrawn(plan, None, None, None, exc.problems)
    selection, assignment = draw_documents(params, result, c.commitment_sha256)
    c.selection_json = canonical_json(selection).decode("utf-8")
    c.assignment_json = canonical_json(assignment).decode("utf-8")
    _store_tasks(session, plan, frame, params, result)
    plan.status = PlanStatus.DRAWN
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
    session: Session,
    task_id: int,
    result: TaskResult | str,
    note: str | None = None,
    correct: bool = False,
) -> PlanTask:
    """Record the outcome of an inspection task (completes the public notice); changing a recorded result is
    a correction, which must be asked for (``correct``) and explained (``note``)."""
    task = session.get(PlanTask, task_id)
    if task is None:
        raise NotFoundError(f"task: no plan task {task_id}")
    try:
        outcome = TaskResult(result)
    except ValueError as exc:
        raise InputError(
            "result", f"{result!r} is not one of {', '.join(r.value for r in TaskResult)}"
        ) from exc
    note = (note or "").strip() or None
    if task.result is not None:
        if task.result == outcome and (note is None or note == task.result_note):
            return task  # the same result again (a retry): nothing changes, not even its date
        # A recorded result is public (the notice, results.json): changing it silently would make the
        # published record say two things. The audit log keeps the earlier row either way.
        if not correct:
            recorded = task.result_recorded_at.date().isoformat() if task.result_recorded_at else "?"
            raise ConflictError(
                f"result: task {task.id} already has the result {task.result.value} (recorded {recorded}); "
                'changing a recorded result is a correction: ask for it (--correct, or "correct": true) '
                "with a note saying why, which is published",
                field="result",
                differences={"result": (task.result.value, outcome.value), "note": (task.result_note, note)},
            )
        if note is None:
            raise InputError("note", "a correction needs a note saying why (it is published with the result)")
    task.result = outcome
    task.result_note = note
    task.result_recorded_at = _now()
    task.status = TaskStatus.COMPLETED
    session.flush()
    return task


def results_of(session: Session, plan: Plan) -> list[PublishedResult]:
    """The recorded results of a plan's tasks, as published."""
    tz = ZoneInfo(get_settings().timezone)
    return [
        PublishedResult(
            t.round_number,
            t.draw_order,
            t.producer_id,
            t.result.value,
            t.result_recorded_at.astimezone(tz).date().isoformat() if t.result_recorded_at else "",
            t.result_note or "",
        )
        for t in session.scalars(
            select(PlanTask)
            .where(PlanTask.plan_id == plan.id, PlanTask.result.is_not(None))
            .order_by(PlanTask.round_number, PlanTask.draw_order)
        )
        if t.result is not None
    ]


def published_documents(session: Session, plan: Plan) -> dict[str, bytes]:
    """Every published file of a plan by name: frame, parameters and commitment; after a draw the reveal,
    selection, assignment, results and the notice; after a failed draw the reveal, the failure and the
    notice. The JSON documents are the stored bytes; results and notice are made from them and the results
    recorded so far."""
    c = plan.commitment
    if c is None:
        raise InputError("plan", f"{plan.code} has no commitment")
    out = {
        FRAME_FILE: c.frame_json.encode("utf-8"),
        PARAMETERS_FILE: c.parameters_json.encode("utf-8"),
        COMMITMENT_FILE: c.commitment_json.encode("utf-8"),
    }
    if c.reveal_json is None or c.scheme != COMMITMENT_SCHEME:
        if c.reveal_json is not None:  # drawn before gi-plan-commitment/2: its files as they were published
            out[REVEAL_FILE] = c.reveal_json.encode("utf-8")
            out[SELECTION_FILE] = (c.selection_json or "").encode("utf-8")
            out[ASSIGNMENT_FILE] = (c.assignment_json or "").encode("utf-8")
        return out
    out[REVEAL_FILE] = c.reveal_json.encode("utf-8")
    docs = {name: json.loads(data) for name, data in out.items()}
    if c.failure_json is not None:
        out[FAILURE_FILE] = c.failure_json.encode("utf-8")
        failure = json.loads(c.failure_json)
        out[NOTICE_CSV] = render_notice_csv([])
        out[NOTICE_MD] = render_notice_md(
            docs[PARAMETERS_FILE],
            docs[COMMITMENT_FILE],
            c.commitment_sha256,
            docs[REVEAL_FILE],
            [],
            failure,
            docs[FRAME_FILE],
        )
        return out
    if c.selection_json is None or c.assignment_json is None:
        raise InputError("plan", f"{plan.code}: a revealed plan without its selection")
    out[SELECTION_FILE] = c.selection_json.encode("utf-8")
    out[ASSIGNMENT_FILE] = c.assignment_json.encode("utf-8")
    results = results_document(plan.code, c.commitment_sha256, results_of(session, plan))
    out[RESULTS_FILE] = canonical_json(results)
    rows = notice_rows(docs[FRAME_FILE], docs[PARAMETERS_FILE], json.loads(c.selection_json), results)
    out[NOTICE_CSV] = render_notice_csv(rows)
    out[NOTICE_MD] = render_notice_md(
        docs[PARAMETERS_FILE], docs[COMMITMENT_FILE], c.commitment_sha256, docs[REVEAL_FILE], rows
    )
    return out


def write_published(session: Session, plan: Plan, directory: Path) -> list[Path]:
    """Write the published files of a plan into ``directory`` (each file whole: written aside, then renamed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in published_documents(session, plan).items():
        path = directory / name
        partial = directory / f".{name}.partial"
        partial.write_bytes(data)
        partial.replace(path)
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
    failure: list[dict[str, Any]] = field(default_factory=list)  # a failed draw's problems, as published


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
    if c is not None and c.failure_json:
        summary.failure = json.loads(c.failure_json)["problems"]
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
