"""Sampling frames (名录库): the targets (authorized producers and registered market outlets, with their risk
factors and inspection history) and the inspectors (with home county, qualifications, capacity and declared
conflicts), read from the database and frozen into a snapshot that is published with the plan's commitment."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from gi import clock
from gi.errors import InputError
from gi.market.reads import flag_counts
from gi.models import (
    GIProduct,
    Inspector,
    InspectorConflict,
    OriginVerdictRecord,
    Plan,
    PlanStatus,
    PlanTask,
    Producer,
    ProducerComplaint,
    Sample,
    TaskInspector,
    TaskResult,
    TaskStatus,
)
from gi.settings import get_settings
from sampling.seasons import Window, windows_of

FRAME_SCHEME = "gi-plan-frame/2"
UNKNOWN_COUNTY = "000000"
ONLINE_SELLER = (
    "online_seller"  # Producer.kind of sellers the mass balance flagged online (gi.market.balance)
)
ONLINE_SEGMENT = "online"
RISK_FACTORS = (
    "failure",
    "inconclusive",
    "complaints",
    "new_authorization",
    "long_since_inspection",
    "outside_area",
)


@dataclass(frozen=True)
class FrameRules:
    """How the frame's risk factors are derived from the records (published in the frame)."""

    failure_lookback_days: int = 730  # a failed or inconclusive result counts for two years
    complaint_lookback_days: int = 365
    new_authorization_days: int = 365  # authorized to use the special mark within the last year
    long_since_days: int = 730  # SAMR Order No. 49: every target checked at least once in two years
    history_days: int = 400  # inspection dates kept for the yearly cap and the minimum gap

    def to_dict(self) -> dict[str, int]:
        """Plain dict for the snapshot."""
        return dict(self.__dict__)


@dataclass(frozen=True, slots=True)
class FrameProduct:
    """A product of the frame with its market windows."""

    code: str
    id: int
    name_zh: str
    category: str
    windows: tuple[Window, ...]

    def to_dict(self) -> dict[str, Any]:
        """Snapshot form."""
        return {
            "code": self.code,
            "id": self.id,
            "name_zh": self.name_zh,
            "category": self.category,
            "windows": [{"window": w.text(), "kind": w.kind} for w in self.windows],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameProduct:
        """Inverse of ``to_dict``."""
        return cls(
            str(d["code"]),
            int(d["id"]),
            str(d["name_zh"]),
            str(d["category"]),
            tuple(Window.parse(w["window"], w["kind"]) for w in d["windows"]),
        )


@dataclass(frozen=True, slots=True)
class FrameProducer:
    """A target: one authorized producer (or market outlet) of one product."""

    id: int
    product: str
    county: str
    kind: str
    credit_code: str
    name: str
    synthetic: bool
    risk: dict[str, int]
    inspections: tuple[date, ...] = ()
    previous_inspectors: tuple[str, ...] = ()
    # Extension points, carried as data so that draws stay verifiable: ``segment`` splits a product's
    # directory into strata of their own (e.g. "online" sellers, with their own ratios under
    # ``product_ratios_bp["<product>/online"]``); ``pool`` overrides where the target's inspectors come from
    # ("*" = the whole directory, or a two-digit province code; None = by the parameters' inspector_scope).
    segment: str = ""
    pool: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Snapshot form."""
        return {
            "id": self.id,
            "product": self.product,
            "segment": self.segment,
            "county": self.county,
            "kind": self.kind,
            "credit_code": self.credit_code,
            "name": self.name,
            "synthetic": self.synthetic,
            "risk": {k: int(v) for k, v in sorted(self.risk.items())},
            "inspections": [d.isoformat() for d in sorted(set(self.inspections))],
            "previous_inspectors": sorted(set(self.previous_inspectors)),
            "pool": self.pool,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameProducer:
        """Inverse of ``to_dict``."""
        return cls(
            int(d["id"]),
            str(d["product"]),
            str(d["county"]),
            str(d["kind"]),
            str(d["credit_code"]),
            str(d["name"]),
            bool(d["synthetic"]),
            {str(k): int(v) for k, v in d["risk"].items()},
            tuple(date.fromisoformat(x) for x in d["inspections"]),
            tuple(d["previous_inspectors"]),
            str(d["segment"]),
            None if d["pool"] is None else str(d["pool"]),
        )


@dataclass(frozen=True, slots=True)
class FrameInspector:
    """An inspector of the directory, without personal data: code, home county, qualifications, capacity."""

    code: str
    home_county: str
    qualifications: tuple[str, ...]
    capacity: int

    def to_dict(self) -> dict[str, Any]:
        """Snapshot form."""
        return {
            "code": self.code,
            "home_county": self.home_county,
            "qualifications": sorted(self.qualifications),
            "capacity": self.capacity,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameInspector:
        """Inverse of ``to_dict``."""
        return cls(
            str(d["code"]), str(d["home_county"]), tuple(sorted(d["qualifications"])), int(d["capacity"])
        )


@dataclass
class Frame:
    """The frozen frame of a plan: products, targets, inspectors and declared conflicts."""

    plan: str
    taken_at: str
    products: list[FrameProduct]
    producers: list[FrameProducer]
    inspectors: list[FrameInspector]
    conflicts: list[tuple[str, int]] = field(default_factory=list)
    rules: FrameRules = field(default_factory=FrameRules)

    def to_dict(self) -> dict[str, Any]:
        """Snapshot form (lists sorted, so the same frame always gives the same bytes)."""
        return {
            "scheme": FRAME_SCHEME,
            "plan": self.plan,
            "taken_at": self.taken_at,
            "rules": self.rules.to_dict(),
            "products": [p.to_dict() for p in sorted(self.products, key=lambda p: p.code)],
            "producers": [p.to_dict() for p in sorted(self.producers, key=lambda p: p.id)],
            "inspectors": [i.to_dict() for i in sorted(self.inspectors, key=lambda i: i.code)],
            "conflicts": [[c, p] for c, p in sorted(set(self.conflicts))],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Frame:
        """Inverse of ``to_dict``; refuses another scheme."""
        if d.get("scheme") != FRAME_SCHEME:
            raise InputError("frame", f"scheme {d.get('scheme')!r} is not {FRAME_SCHEME!r}")
        return cls(
            plan=str(d["plan"]),
            taken_at=str(d["taken_at"]),
            products=[FrameProduct.from_dict(p) for p in d["products"]],
            producers=[FrameProducer.from_dict(p) for p in d["producers"]],
            inspectors=[FrameInspector.from_dict(i) for i in d["inspectors"]],
            conflicts=[(str(c), int(p)) for c, p in d["conflicts"]],
            rules=FrameRules(**d["rules"]),
        )


def county_of(county_code: str | None, credit_code: str | None) -> str:
    """The target's county: its county code, else the registration area in its credit code (characters 3-8 of a
    unified social credit code), else ``000000`` (unknown)."""
    if county_code and len(county_code) == 6 and county_code.isdigit():
        return county_code
    area = (credit_code or "")[2:8]
    if len(area) == 6 and area.isdigit() and not area.endswith("0000"):
        return area
    return UNKNOWN_COUNTY


def _local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def _require_directories(
    producers: Sequence[FrameProducer],
    inspectors: Sequence[FrameInspector],
    products: Sequence[FrameProduct],
    period_from: date,
    period_to: date,
) -> None:
    """Refuse a frame nothing can be drawn from: a plan with 0 targets or 0 inspectors would be committed and
    published as if the office had checked its directories."""
    if not producers:
        names = "、".join(p.name_zh for p in products[:5]) + ("…" if len(products) > 5 else "")
        raise InputError(
            "frame",
            f"no target: the directories hold no producer, outlet or online seller of {names} authorized "
            f"between {period_from} and {period_to}; import them first (`gi producers import FILE`, "
            "`gi outlets import FILE`, `gi marks authorizations import FILE`)",
        )
    if not inspectors:
        raise InputError(
            "frame",
            "no inspector: the inspectors' directory has no active inspector; import it first "
            "(`gi inspectors import FILE`)",
        )


def build_frame(
    session: Session,
    plan_code: str,
    period_from: date,
    period_to: date,
    product_codes: Sequence[str] | None = None,
    rules: FrameRules | None = None,
    exclude_plan_id: int | None = None,
    taken_at: datetime | None = None,
) -> Frame:
    """Read the frame of a plan from the database: products (all, or ``product_codes``), the producers
    authorized during the period with their risk factors and inspection history, and the active inspectors
    (``taken_at``, default now, is when the snapshot is recorded as taken)."""
    rules = rules or FrameRules()
    query = select(GIProduct).order_by(GIProduct.code)
    if product_codes:
        query = query.where(GIProduct.code.in_(list(product_codes)))
    products = list(session.scalars(query))
    if product_codes:
        missing = sorted(set(product_codes) - {p.code for p in products})
        if missing:
            raise InputError("products", f"unknown product code(s): {', '.join(missing)}")
    if not products:
        raise InputError("products", "the register holds no product; load it with `gi register load`")
    frame_products = [
        FrameProduct(p.code, p.id, p.name_zh, p.category.value, tuple(windows_of(p.seasons)))
        for p in products
    ]
    code_of = {p.id: p.code for p in products}

    rows = session.execute(
        select(
            Producer.id,
            Producer.product_id,
            Producer.county_code,
            Producer.kind,
            Producer.credit_code,
            Producer.name,
            Producer.synthetic,
            Producer.authorized_from,
        )
        .where(Producer.product_id.in_(list(code_of)))
        .where(or_(Producer.authorized_from.is_(None), Producer.authorized_from <= period_to))
        .where(or_(Producer.authorized_to.is_(None), Producer.authorized_to >= period_from))
    ).all()
    ids = [r.id for r in rows]
    history = _inspection_history(session, ids, exclude_plan_id)
    failures, inconclusive = _past_results(
        session, ids, period_from - timedelta(days=rules.failure_lookback_days)
    )
    complaints = _complaints(
        session, ids, period_from - timedelta(days=rules.complaint_lookback_days), period_from
    )
    outside = _outside_area(session, list(code_of), period_from)
    # Mass-balance flags (marks beyond capacity, sales without authorization...) of the harvest years within the
    # failure look-back: how many kinds each target was flagged with by the latest runs (gi.market.balance).
    first_season = (period_from - timedelta(days=rules.failure_lookback_days)).year
    balance = flag_counts(session, list(code_of), range(first_season, period_to.year + 1))
    keep_from = period_from - timedelta(days=rules.history_days)

    producers = []
    for r in rows:
        events = history.get(r.id, [])
        past = [e for e in events if e[0] <= period_from]
        last = max(past, key=lambda e: e[0]) if past else None
        reference = last[0] if last else r.authorized_from
        risk = {
            "balance_flags": balance.get(r.id, 0),
            "failure": int(r.id in failures),
            "inconclusive": int(r.id in inconclusive),
            "complaints": complaints.get(r.id, 0),
            "new_authorization": int(
                r.authorized_from is not None
                and (period_from - r.authorized_from).days < rules.new_authorization_days
            ),
            "long_since_inspection": int(
                reference is not None and (period_from - reference).days > rules.long_since_days
            ),
            "outside_area": int(r.id in outside),
        }
        dates = tuple(sorted({e[0] for e in events if keep_from <= e[0] <= period_to}))
        county = county_of(r.county_code, r.credit_code)
        online = r.kind == ONLINE_SELLER
        producers.append(
            FrameProducer(
                id=r.id,
                product=code_of[r.product_id],
                county=county,
                kind=r.kind,
                credit_code=r.credit_code or "",  # online sellers may have none
                name=r.name,
                synthetic=bool(r.synthetic),
                risk=risk,
                inspections=dates,
                previous_inspectors=tuple(sorted(last[1])) if last else (),
                # Online sellers flagged by the mass balance form their product's online-market stratum; one
                # known only by its shop is checked online, by inspectors of the whole directory.
                segment=ONLINE_SEGMENT if online else "",
                pool="*" if online and county == UNKNOWN_COUNTY else None,
            )
        )

    inspectors = [
        FrameInspector(
            i.code, i.home_county_code, tuple(sorted(i.qualifications or ())), int(i.capacity_per_round)
        )
        for i in session.scalars(select(Inspector).where(Inspector.active.is_(True)))
    ]
    _require_directories(producers, inspectors, frame_products, period_from, period_to)
    conflicts = [
        (code, pid)
        for code, pid in session.execute(
            select(Inspector.code, InspectorConflict.producer_id)
            .join(Inspector)
            .where(InspectorConflict.producer_id.in_(ids), Inspector.active.is_(True))
        )
    ]
    moment = taken_at or clock.now()
    return Frame(
        plan=plan_code,
        taken_at=moment.replace(microsecond=0).isoformat(),
        products=frame_products,
        producers=producers,
        inspectors=inspectors,
        conflicts=conflicts,
        rules=rules,
    )


def _inspection_history(
    session: Session, producer_ids: list[int], exclude_plan_id: int | None
) -> dict[int, list[tuple[date, frozenset[str]]]]:
    """Per producer: (date, inspector codes) of every inspection — drawn tasks of other plans and samples."""
    out: dict[int, list[tuple[date, frozenset[str]]]] = defaultdict(list)
    if not producer_ids:
        return out
    task_query = (
        select(PlanTask.id, PlanTask.producer_id, PlanTask.due_from, Inspector.code)
        .join(Plan, Plan.id == PlanTask.plan_id)
        .outerjoin(TaskInspector, TaskInspector.task_id == PlanTask.id)
        .outerjoin(Inspector, Inspector.id == TaskInspector.inspector_id)
        .where(
            PlanTask.producer_id.in_(producer_ids),
            PlanTask.status != TaskStatus.CANCELLED,
            Plan.status == PlanStatus.DRAWN,
        )
    )
    if exclude_plan_id is not None:
        task_query = task_query.where(PlanTask.plan_id != exclude_plan_id)
    tasks: dict[int, tuple[int, date, set[str]]] = {}
    for task_id, producer_id, due_from, code in session.execute(task_query):
        entry = tasks.setdefault(task_id, (producer_id, due_from, set()))
        if code:
            entry[2].add(code)
    sampled_tasks: set[int] = set()
    for sample_producer, sample_task, collected_at, code in session.execute(
        select(Sample.producer_id, Sample.task_id, Sample.collected_at, Inspector.code)
        .outerjoin(Inspector, Inspector.id == Sample.collector_id)
        .where(Sample.producer_id.in_(producer_ids))
    ):
        if sample_task is not None and sample_task in tasks:
            # A sample of a known task dates that task; its inspectors stay those of the task.
            sampled_tasks.add(sample_task)
            pid, _, codes = tasks[sample_task]
            tasks[sample_task] = (pid, _local_date(collected_at), codes)
        elif sample_producer is not None:  # always: the query asks for these producers' samples
            out[sample_producer].append((_local_date(collected_at), frozenset({code} if code else set())))
    for producer_id, day, codes in tasks.values():
        out[producer_id].append((day, frozenset(codes)))
    return out


def _past_results(session: Session, producer_ids: list[int], since: date) -> tuple[set[int], set[int]]:
    """Producers with a failed, and with an inconclusive, task result or origin verdict since ``since``."""
    failures: set[int] = set()
    inconclusive: set[int] = set()
    if not producer_ids:
        return failures, inconclusive
    for producer_id, result in session.execute(
        select(PlanTask.producer_id, PlanTask.result).where(
            PlanTask.producer_id.in_(producer_ids),
            PlanTask.result.is_not(None),
            func.date(PlanTask.result_recorded_at) >= since,
        )
    ):
        if result == TaskResult.NONCONFORMING:
            failures.add(producer_id)
        elif result == TaskResult.INCONCLUSIVE:
            inconclusive.add(producer_id)
    for sample_producer, verdict in session.execute(
        select(Sample.producer_id, OriginVerdictRecord.verdict)
        .join(Sample, Sample.id == OriginVerdictRecord.sample_id)
        .where(Sample.producer_id.in_(producer_ids), func.date(OriginVerdictRecord.checked_at) >= since)
    ):
        if sample_producer is None:  # never: the query asks for these producers' samples
            continue
        if verdict.value == "outside":
            failures.add(sample_producer)
        elif verdict.value == "uncertain":
            inconclusive.add(sample_producer)
    return failures, inconclusive


def _complaints(session: Session, producer_ids: list[int], since: date, until: date) -> dict[int, int]:
    """Number of complaints per producer received in [since, until]."""
    if not producer_ids:
        return {}
    return dict(
        session.execute(
            select(ProducerComplaint.producer_id, func.count())
            .where(
                ProducerComplaint.producer_id.in_(producer_ids),
                and_(ProducerComplaint.received_on >= since, ProducerComplaint.received_on <= until),
            )
            .group_by(ProducerComplaint.producer_id)
        ).all()
    )


def _outside_area(session: Session, product_ids: list[int], moment: date) -> set[int]:
    """Producers located outside their product's area version valid at ``moment`` (local midnight)."""
    from gi.register.areas import local_midnight

    rows = session.execute(
        text(
            "SELECT p.id FROM producer p JOIN production_area a ON a.product_id = p.product_id "
            "AND a.valid_from <= :t AND (a.valid_to IS NULL OR a.valid_to > :t) "
            "WHERE p.location IS NOT NULL AND p.product_id = ANY(:ids) AND NOT ST_Covers(a.geom, p.location)"
        ),
        {"t": local_midnight(moment), "ids": product_ids},
    ).scalars()
    return set(rows)
