"""The supervisor's dashboard of a season, scoped to his region: task coverage per product and county (done,
pending, overdue), verdict counts, the non-conformities, and the draw's verification status. Read only; every
count is one grouped query over the caller's scope (``gi.accounts.scope``), whatever the number of samples."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Text, cast, false, func, or_, select, text, true
from sqlalchemy.orm import Session, aliased

from geo_data import admin
from gi import clock
from gi.accounts.scope import Scope, products_in_scope
from gi.errors import InputError, NotFoundError
from gi.market.reads import MarketSummary, market_summary
from gi.models import (
    GIProduct,
    Inspector,
    Plan,
    PlanStatus,
    PlanTask,
    Producer,
    Sample,
    TaskStatus,
)
from gi.reads.season import (
    ENTRY_ERROR_FLAGS,
    RESULT_FAIL,
    RESULT_PASS,
    RESULT_VERIFY,
    UNKNOWN_COUNTY,
    UNKNOWN_COUNTY_ZH,
    SeasonSummary,
    gather_season,
    origin_reason,
    quality_reason,
    sample_date_range,
    sample_number,
    sample_result,
)
from gi.reads.verdicts import current_join
from gi.register.areas import as_aware
from gi.settings import get_settings
from sampling.public import VerificationStatus, verification_status

ORIGIN_CODES = ("inside", "uncertain", "outside", "unchecked")
QUALITY_CODES = ("pass", "fail", "inconclusive", "pending")
ORIGIN_ZH = {"inside": "范围内", "uncertain": "边界存疑", "outside": "范围外", "unchecked": "未核验"}
QUALITY_ZH = {"pass": "合格", "fail": "不合格", "inconclusive": "无法判定", "pending": "待检验"}
BAD_ORIGIN = ("outside", "uncertain")
BAD_QUALITY = ("fail", "inconclusive")
SAMPLE_NUMBER = re.compile(r"\d{6}-([0-9A-Fa-f]{8,})")  # gi.reads.season.sample_number: local date, code
MAX_NONCONFORMITIES = 500  # listed on the page; the campaign report has them all


@dataclass(frozen=True)
class Season:
    """The period the dashboard shows, and the plan it comes from (if any)."""

    start: date
    end: date
    plan_code: str | None
    plan_title: str | None


@dataclass(frozen=True)
class CoverageLine:
    """Tasks of one product in one county: planned, done, pending (still due) and overdue; samples taken."""

    product_code: str
    product_name: str
    county_code: str
    county_name: str
    planned: int
    done: int
    pending: int
    overdue: int
    samples: int


RESULT_CODES = (RESULT_PASS, RESULT_FAIL, RESULT_VERIFY)


@dataclass(frozen=True)
class VerdictCounts:
    """Samples of one product by current origin verdict and current quality outcome, and by the final finding
    the documents publish (合格 / 不合格 / 待核实, ``gi.reads.season.sample_result``)."""

    product_code: str
    product_name: str
    samples: int
    origin: dict[str, int]
    quality: dict[str, int]
    results: dict[str, int] = field(default_factory=dict)
    entry_errors: int = 0  # outside, but the position may be an entry error (swapped, abroad): 待核实


@dataclass(frozen=True)
class Finding:
    """A sample whose current verdict is not conforming (outside, uncertain, fail or inconclusive)."""

    sample_id: str
    code: str
    product_name: str
    county_name: str
    producer_name: str
    collected_at: datetime
    kind: str  # 产地 | 品质
    severity: (
        str  # 不符合 | 存疑 | 待核实 (a position that may be an entry error), as the campaign report lists
    )
    reason: str


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    season: Season
    plans: list[tuple[str, str, str]]  # (code, title, status) to choose from
    coverage: list[CoverageLine] = field(default_factory=list)
    verdicts: list[VerdictCounts] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    findings_total: int = 0
    verification: VerificationStatus | None = None
    today: date | None = None

    @property
    def verdict_totals(self) -> VerdictCounts:
        """The verdict counts summed over the products (合计)."""
        return VerdictCounts(
            "",
            "合计",
            sum(v.samples for v in self.verdicts),
            {k: sum(v.origin.get(k, 0) for v in self.verdicts) for k in ORIGIN_CODES},
            {k: sum(v.quality.get(k, 0) for v in self.verdicts) for k in QUALITY_CODES},
            {k: sum(v.results.get(k, 0) for v in self.verdicts) for k in RESULT_CODES},
            sum(v.entry_errors for v in self.verdicts),
        )

    @property
    def totals(self) -> dict[str, int]:
        """Sums over the coverage and verdict tables (the page's headline figures)."""
        out = {
            key: sum(getattr(c, key) for c in self.coverage)
            for key in ("planned", "done", "pending", "overdue")
        }
        total = self.verdict_totals
        out["samples"] = total.samples
        # 产地不符 is the origin verdict, as the campaign report counts it; the final findings (不合格, 待核实)
        # are the documents' too, so a position that may be an entry error is 待核实, never 不合格.
        out["outside"] = total.origin["outside"]
        out["entry_errors"] = total.entry_errors
        out["fail"] = total.quality["fail"]
        out["failed"] = total.results[RESULT_FAIL]
        out["verify"] = total.results[RESULT_VERIFY]
        out["findings"] = self.findings_total
        return out


def region_label(code: str | None) -> str:
    """A region's name from its adcode or adcode prefix: 浙江省杭州市西湖区, 吉林省 (22 or 220000), or the code."""
    if not code:
        return "（区县未知）"
    if code == UNKNOWN_COUNTY:
        return UNKNOWN_COUNTY_ZH
    parts = admin.county_parts()
    if code in parts:
        province, county = parts[code]
        return f"{province}{county}"
    prefix = code[:2] if len(code) == 2 or code.endswith("0000") else None
    if prefix:
        for county_code, (province, _) in parts.items():
            if county_code.startswith(prefix) and province:
                return province
    if len(code) == 4 or (len(code) == 6 and code.endswith("00")):  # a prefecture: 浙江省杭州市
        frame = admin.counties()
        for county_code, city, province in frame[["adcode", "city", "province"]].itertuples(index=False):
            if str(county_code).startswith(code[:4]) and city:
                return "".join(dict.fromkeys(p for p in (str(province), str(city)) if p))
    return code


def choose_season(
    session: Session, plan_key: str | None = None, start: date | None = None, end: date | None = None
) -> Season:
    """The season asked for: given dates, else the given plan's period, else the drawn plan running today (or the
    newest drawn plan), else the stored samples' dates, else this year."""
    plan = None
    if plan_key:
        from sampling.planning import find_plan

        plan = find_plan(session, plan_key)
    elif start is None or end is None:
        today = clock.today()
        drawn = select(Plan).where(Plan.status == PlanStatus.DRAWN)
        plan = (
            session.scalars(
                drawn.where(Plan.period_from <= today, Plan.period_to >= today).order_by(Plan.id.desc())
            ).first()
            or session.scalars(drawn.order_by(Plan.period_to.desc(), Plan.id.desc())).first()
        )
    if start is None or end is None:
        if plan is not None:
            start, end = start or plan.period_from, end or plan.period_to
        else:
            stored = sample_date_range(session)
            year = clock.today().year
            start = start or (stored[0] if stored else date(year, 1, 1))
            end = end or (stored[1] if stored else date(year, 12, 31))
    if end < start:
        raise InputError("to", f"{end} is before {start}")
    if (end - start).days > 366 * 3:
        raise InputError("to", "a dashboard season covers at most three years")
    return Season(start, end, plan.code if plan else None, plan.title if plan else None)


_Q = TypeVar("_Q", bound=Select)


def _task_scope(query: _Q, scope: Scope) -> _Q:
    if scope.everything:
        return query
    if scope.regions:
        return query.where(or_(*(PlanTask.county_code.startswith(r) for r in scope.regions)))
    return query.where(PlanTask.id.is_(None))


def task_coverage(session: Session, scope: Scope, season: Season, today: date) -> list[CoverageLine]:
    """Per product and county in scope: the season's tasks (of the chosen plan, or of every live plan) planned,
    done (sampled, completed or with a sample), pending (due on or after today) and overdue; and samples taken."""
    has_sample = select(Sample.id).where(Sample.task_id == PlanTask.id).exists()
    done = or_(PlanTask.status.in_([TaskStatus.SAMPLED, TaskStatus.COMPLETED]), has_sample)
    query = (
        select(
            GIProduct.code,
            GIProduct.name_zh,
            PlanTask.county_code,
            func.count(PlanTask.id),
            func.count(PlanTask.id).filter(done),
            func.count(PlanTask.id).filter(~done, PlanTask.due_to >= today),
            func.count(PlanTask.id).filter(~done, PlanTask.due_to < today),
        )
        .join(Plan, Plan.id == PlanTask.plan_id)
        .join(GIProduct, GIProduct.id == PlanTask.product_id)
        .where(
            Plan.status != PlanStatus.CANCELLED,
            PlanTask.status != TaskStatus.CANCELLED,
            PlanTask.due_from <= season.end,
            PlanTask.due_to >= season.start,
        )
        .group_by(GIProduct.code, GIProduct.name_zh, PlanTask.county_code)
    )
    if season.plan_code:
        query = query.where(Plan.code == season.plan_code)
    rows = session.execute(_task_scope(query, scope)).all()
    samples = _samples_per_county(session, scope, season)
    keyed: dict[tuple[str, str], tuple[str, int, int, int, int]] = {
        (r[0], r[2]): (str(r[1]), int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in rows
    }
    lines = []
    for product_code, county in sorted(set(keyed) | set(samples)):
        if (product_code, county) in keyed:
            name, planned, done_, pending, overdue = keyed[(product_code, county)]
        else:
            name, planned, done_, pending, overdue = samples[(product_code, county)][0], 0, 0, 0, 0
        lines.append(
            CoverageLine(
                product_code,
                name,
                county,
                region_label(county),
                planned,
                done_,
                pending,
                overdue,
                samples.get((product_code, county), ("", 0))[1],
            )
        )
    return lines


def _visible(scope: Scope) -> Any:
    """The scope's condition on the ``sample`` table, with its values bound (one sample: correlated lookups)."""
    params: dict[str, Any] = {}
    condition = text(scope.sample_filter("sample", params))
    return condition.bindparams(**params) if params else condition


# The county a sample belongs to, by the scope's rule (its task's, else its producer's, else its collector's home
# county), from outer joins: a grouped query over a million samples hashes three small tables once instead of
# looking each sample's county up three times.
_TASK = aliased(PlanTask)
_PRODUCER = aliased(Producer)
_COLLECTOR = aliased(Inspector)


def _with_county(query: _Q) -> _Q:
    """``query`` over samples joined to what decides their county (:func:`_county`)."""
    return (
        query.outerjoin(_TASK, _TASK.id == Sample.task_id)
        .outerjoin(_PRODUCER, _PRODUCER.id == Sample.producer_id)
        .outerjoin(_COLLECTOR, _COLLECTOR.id == Sample.collector_id)
    )


def _county() -> Any:
    """The county of a sample in a query built with :func:`_with_county` ('' unknown)."""
    return func.coalesce(_TASK.county_code, _PRODUCER.county_code, _COLLECTOR.home_county_code, "")


def _in_scope(scope: Scope) -> Any:
    """The scope's condition (the same as ``Scope.sample_filter``) on a query built with :func:`_with_county`."""
    if scope.everything:
        return true()
    if scope.inspector_id is not None:
        return Sample.collector_id == scope.inspector_id
    if scope.regions:
        return or_(*(_county().startswith(region, autoescape=True) for region in scope.regions))
    return false()


def _season_window(season: Season) -> tuple[datetime, datetime]:
    """The season's collection moments ``[start, end)`` (local dates, the end day included)."""
    return as_aware(season.start), as_aware(season.end + timedelta(days=1))


def _scoped(query: _Q, scope: Scope) -> _Q:
    """``query`` with the joins its scope condition needs (a region's: the county's; others: none)."""
    return (
        _with_county(query)
        if scope.regions and not scope.everything and scope.inspector_id is None
        else query
    )


def _sample_where(scope: Scope, season: Season) -> list[Any]:
    """The season's samples in scope (on a query built with :func:`_with_county`)."""
    start, end = _season_window(season)
    return [Sample.collected_at >= start, Sample.collected_at < end, _in_scope(scope)]


def _samples_per_county(
    session: Session, scope: Scope, season: Season
) -> dict[tuple[str, str], tuple[str, int]]:
    where = _sample_where(scope, season)
    county = _county()
    rows = session.execute(
        _with_county(
            select(GIProduct.code, GIProduct.name_zh, county, func.count(Sample.id)).join(
                GIProduct, GIProduct.id == Sample.product_id
            )
        )
        .where(*where)
        .group_by(GIProduct.code, GIProduct.name_zh, county)
    ).all()
    return {(r[0], r[2] or ""): (r[1], int(r[3])) for r in rows}


VerdictRow = tuple[str, str, str, str, tuple[str, ...], str | None, int]


def _verdict_rows(session: Session, scope: Scope, season: Season) -> list[VerdictRow]:
    """(product code, name, current origin verdict, quality outcome, the origin's entry-error flags, the task's
    recorded result, samples) of the scope's season: what :func:`gi.reads.season.sample_result` decides on."""
    origin, on_origin = current_join("origin", _season_window(season))
    quality, on_quality = current_join("quality", _season_window(season))
    where = _sample_where(scope, season)
    origin_code = func.coalesce(cast(origin.verdict, Text), "unchecked")
    quality_code = func.coalesce(cast(quality.outcome, Text), "pending")
    # Only whether the position may be an entry error matters: grouping by it, not by every flag, keeps the
    # groups few.
    suspect = func.coalesce(origin.flags.overlap(sorted(ENTRY_ERROR_FLAGS)), false())
    task = aliased(PlanTask)
    task_result = cast(task.result, Text)
    rows = session.execute(
        _scoped(
            select(
                GIProduct.code,
                GIProduct.name_zh,
                origin_code,
                quality_code,
                suspect,
                task_result,
                func.count(Sample.id),
            )
            .join(GIProduct, GIProduct.id == Sample.product_id)
            .outerjoin(origin, on_origin)
            .outerjoin(quality, on_quality)
            .outerjoin(task, task.id == Sample.task_id),
            scope,
        )
        .where(*where)
        .group_by(GIProduct.code, GIProduct.name_zh, origin_code, quality_code, suspect, task_result)
    ).all()
    return [
        (
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            tuple(sorted(ENTRY_ERROR_FLAGS)) if r[4] else (),
            None if r[5] is None else str(r[5]),
            int(r[6]),
        )
        for r in rows
    ]


def _tally(rows: list[VerdictRow]) -> list[VerdictCounts]:
    names: dict[str, str] = {}
    origins: dict[str, dict[str, int]] = {}
    qualities: dict[str, dict[str, int]] = {}
    results: dict[str, dict[str, int]] = {}
    entry_errors: dict[str, int] = {}
    for code, name, o, q, flags, task_result, n in rows:
        names[code] = name
        by_origin = origins.setdefault(code, dict.fromkeys(ORIGIN_CODES, 0))
        by_quality = qualities.setdefault(code, dict.fromkeys(QUALITY_CODES, 0))
        by_result = results.setdefault(code, dict.fromkeys(RESULT_CODES, 0))
        by_origin[o] = by_origin.get(o, 0) + n
        by_quality[q] = by_quality.get(q, 0) + n
        result, _ = sample_result(o, q, flags, task_result)  # the final finding, as every document decides it
        by_result[result] += n
        entry_errors[code] = entry_errors.get(code, 0) + (n if o == "outside" and flags else 0)
    return [
        VerdictCounts(
            code,
            names[code],
            sum(origins[code].values()),
            origins[code],
            qualities[code],
            results[code],
            entry_errors[code],
        )
        for code in sorted(names)
    ]


def _nonconforming(rows: list[VerdictRow]) -> int:
    """Samples outside or uncertain in origin, or failing or inconclusive in quality (what :func:`findings`
    lists), from :func:`_verdict_rows`."""
    return sum(n for _, _, o, q, _, _, n in rows if o in BAD_ORIGIN or q in BAD_QUALITY)


def verdict_counts(session: Session, scope: Scope, season: Season) -> list[VerdictCounts]:
    """Per product: the scope's samples of the season by current origin verdict and quality outcome."""
    return _tally(_verdict_rows(session, scope, season))


def findings(
    session: Session,
    scope: Scope,
    season: Season,
    limit: int = MAX_NONCONFORMITIES,
    total: int | None = None,
) -> tuple[list[Finding], int]:
    """The scope's samples of the season that are outside or uncertain, or fail or are inconclusive in quality,
    newest first (at most ``limit``), with the reason in words; and how many there are (counted unless the
    caller knows it as ``total``)."""
    origin, on_origin = current_join("origin", _season_window(season))
    quality, on_quality = current_join("quality", _season_window(season))
    where = _sample_where(scope, season)
    origin_bad = cast(origin.verdict, Text).in_(BAD_ORIGIN)
    quality_bad = cast(quality.outcome, Text).in_(BAD_QUALITY)
    bad = or_(origin_bad, quality_bad)
    base = _scoped(
        select(Sample.id).outerjoin(origin, on_origin).outerjoin(quality, on_quality),
        scope,
    ).where(*where, bad)
    if total is None:
        total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    county = _county()
    rows = session.execute(
        _with_county(
            select(
                Sample.id,
                Sample.collected_at,
                GIProduct.name_zh,
                _PRODUCER.name,
                county,
                origin.verdict,
                origin.distance_m,
                origin.band_m,
                origin.area_version,
                origin.flags,
                quality.outcome,
                quality.indicators,
            )
            .join(GIProduct, GIProduct.id == Sample.product_id)
            .outerjoin(origin, on_origin)
            .outerjoin(quality, on_quality)
        )
        .where(*where, bad)
        .order_by(Sample.collected_at.desc(), Sample.id)
        .limit(limit)
    ).all()
    tz = ZoneInfo(get_settings().timezone)
    tolerance = get_settings().boundary_tolerance_m
    found: list[Finding] = []
    for row in rows:
        sample_id = str(row[0])
        code = sample_number(sample_id, row[1])  # the number the record and the notice print
        common = (
            sample_id,
            code,
            row[2],
            region_label(row[4]),
            row[3] or "市场抽样",
            row[1].astimezone(tz),
        )
        verdict = str(getattr(row[5], "value", row[5])) if row[5] is not None else None
        if verdict in ("outside", "uncertain"):
            reason = origin_reason(
                {
                    "origin": verdict,
                    "distance_m": row[6],
                    "band_m": row[7],
                    "area_version": row[8],
                    "flags": tuple(row[9] or ()),
                },
                tolerance,
            )
            # A position that may be an entry error (swapped, abroad) is 待核实, as the campaign report lists it.
            suspect = bool(set(row[9] or ()) & ENTRY_ERROR_FLAGS)
            severity = "存疑" if verdict == "uncertain" else "待核实" if suspect else "不符合"
            found.append(Finding(*common, "产地", severity, reason))
        outcome = str(getattr(row[10], "value", row[10])) if row[10] is not None else None
        if outcome in ("fail", "inconclusive"):
            reason = quality_reason(row[11]) or "特色品质指标不符合标准"
            found.append(Finding(*common, "品质", "不符合" if outcome == "fail" else "存疑", reason))
    return found, total


def supervisor_dashboard(
    session: Session,
    scope: Scope,
    plan_key: str | None = None,
    start: date | None = None,
    end: date | None = None,
    verify_draw: bool = True,
) -> Dashboard:
    """The dashboard of ``scope`` for a season (see :func:`choose_season`)."""
    season = choose_season(session, plan_key, start, end)
    # Grouped scans of up to a season's million samples: compiling them (JIT) costs more than it saves.
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '32MB'"))  # the anti-joins hash in memory
    today = clock.today()
    plans = [
        (p.code, p.title, p.status.value)
        for p in session.scalars(
            select(Plan).where(Plan.status != PlanStatus.CANCELLED).order_by(Plan.id.desc())
        )
    ]
    board = Dashboard(season=season, plans=plans, today=today)
    board.coverage = task_coverage(session, scope, season, today)
    rows = _verdict_rows(session, scope, season)  # one scan for the counts and the findings' total
    board.verdicts = _tally(rows)
    board.findings, board.findings_total = findings(session, scope, season, total=_nonconforming(rows))
    if verify_draw and season.plan_code:
        board.verification = verification_status(session, season.plan_code)
    return board


def sample_in_scope(session: Session, scope: Scope, key: str) -> uuid.UUID:
    """The id of the sample ``key`` (UUID, 8+ hex code, or the sample number 260901-DF93BEE3 the documents print)
    if the caller may see it; NotFoundError otherwise (also when it exists out of scope, so a record's existence
    does not leak)."""
    from gi.quality.lab import resolve_sample as find_sample

    number = SAMPLE_NUMBER.fullmatch(key.strip())
    try:
        sample = find_sample(session, number.group(1) if number else key)
    except NotFoundError:
        raise NotFoundError(f"sample_id: no sample {key!r} in your scope", field="sample_id") from None
    visible = session.scalar(select(Sample.id).where(Sample.id == sample.id, _visible(scope)))
    if visible is None:
        raise NotFoundError(f"sample_id: no sample {key!r} in your scope", field="sample_id")
    return sample.id


def sample_conclusion(session: Session, sample_id: uuid.UUID) -> tuple[str, str]:
    """A sample's published conclusion (合格 / 不合格 / 待核实) and why it is still to verify, decided from its
    current verdicts and its task's recorded result as every document decides it."""
    origin, on_origin = current_join("origin")
    quality, on_quality = current_join("quality")
    row = session.execute(
        select(origin.verdict, origin.flags, quality.outcome, PlanTask.result, PlanTask.result_note)
        .select_from(Sample)
        .outerjoin(origin, on_origin)
        .outerjoin(quality, on_quality)
        .outerjoin(PlanTask, PlanTask.id == Sample.task_id)
        .where(Sample.id == sample_id)
    ).one()
    verdict, flags, outcome, task_result, task_note = row
    return sample_result(
        str(getattr(verdict, "value", verdict)) if verdict is not None else "unchecked",
        str(getattr(outcome, "value", outcome)) if outcome is not None else "pending",
        tuple(flags or ()),
        str(getattr(task_result, "value", task_result)) if task_result is not None else None,
        task_note or "",
    )


def scoped_season(
    session: Session,
    scope: Scope,
    start: date,
    end: date,
    product_keys: Sequence[str] = (),
    title: str | None = None,
) -> SeasonSummary:
    """The season summary (the campaign report's and the season map's content) narrowed to the scope.

    One rule for every face (the dashboard, its report, GET /reports/campaign, GET /maps/season): a sample is
    the region's when the county it belongs to is (its task's, else its producer's, else its collector's home
    county: the dashboard's counts and the plan tasks' scope); coverage and producers outside go by county; the
    market section and the protected areas follow the region's products (those whose area lies in it).
    """
    summary = gather_season(session, start, end, product_keys, title=title)
    if scope.everything:
        return summary
    frame = summary.samples
    if len(frame):
        where = _sample_where(scope, Season(start, end, None, None))
        ids = {str(i) for i in session.scalars(_with_county(select(Sample.id)).where(*where))}
        summary.samples = frame[frame["sample_id"].isin(ids)].reset_index(drop=True)
    summary.coverage = [c for c in summary.coverage if scope.covers_county(c.county_code)]
    if summary.producers_outside:
        import numpy as np

        located = admin.county_of(
            np.array([f.lon for f in summary.producers_outside]),
            np.array([f.lat for f in summary.producers_outside]),
        )
        summary.producers_outside = [
            f
            for f, code in zip(summary.producers_outside, located["county_code"], strict=True)
            if scope.covers_county(code)
        ]
    regional = set(products_in_scope(session, scope) or ())
    if summary.product_codes:
        regional &= set(summary.product_codes)
    # A region's map and report draw its own products' areas, and those of products sampled in it elsewhere.
    shown = regional | set(summary.samples["product_code"])
    summary.areas = [a for a in summary.areas if a.product_code in shown]
    summary.market = _regional_market(session, summary, regional)
    regions = "、".join(dict.fromkeys(region_label(r) for r in scope.regions))
    summary.title = f"{summary.title}（{regions}）" if regions else summary.title
    summary.quality_available = bool(len(summary.samples)) and bool(
        (summary.samples["quality"] != "pending").any()
    )
    return summary


def _regional_market(session: Session, summary: SeasonSummary, codes: set[str]) -> MarketSummary | None:
    """The market section of the region's products only (none: the region has no GI product of its own)."""
    if summary.market is None or not codes:
        return None
    ids = set(session.scalars(select(GIProduct.id).where(GIProduct.code.in_(sorted(codes)))))
    return market_summary(session, summary.market.seasons, ids)


@dataclass(frozen=True)
class MapView:
    """What the national map page starts with: the year, the products to choose from and those chosen, and how
    many of the caller's samples of that year cannot be drawn (a position no map projection can show)."""

    year: int
    products: list[tuple[str, str]]  # (code, Chinese name)
    chosen: list[str]
    undrawable: int = 0


# The latitudes Web Mercator (and so the map's tiles and sample grid, maps.tiles) can draw: a sample beyond them
# (latitude and longitude swapped, 120°N) is left off the map and counted on the page instead.
DRAWABLE_LAT = 85.0


def undrawable_samples(session: Session, scope: Scope, year: int, product_ids: tuple[int, ...] = ()) -> int:
    """The scope's samples of ``year`` (local time) whose stored position the map cannot draw."""
    params: dict[str, Any] = {"year": year, "tz": get_settings().timezone, "lat": DRAWABLE_LAT}
    where = [
        scope.sample_filter("s", params),
        "extract(year FROM s.collected_at AT TIME ZONE :tz)::int = :year",
        "NOT (ST_Y(s.location) BETWEEN -:lat AND :lat AND ST_X(s.location) BETWEEN -180 AND 180)",
    ]
    if product_ids:
        params["product_ids"] = list(product_ids)
        where.append("s.product_id = ANY(:product_ids)")
    sql = f"SELECT count(*) FROM sample s WHERE {' AND '.join(where)}"
    return int(session.execute(text(sql), params).scalar_one())


def map_view(
    session: Session,
    plan_key: str | None = None,
    year: int | None = None,
    product_keys: list[str] | None = None,
    scope: Scope | None = None,
) -> MapView:
    """The map's year (given, else the chosen season's) and products (codes or Chinese names, checked), and,
    given the caller's ``scope``, how many of his samples the map cannot draw."""
    from gi.register.areas import find_product

    chosen_products = [find_product(session, key) for key in product_keys or []]
    chosen = [p.code for p in chosen_products]
    every = [(p.code, p.name_zh) for p in session.scalars(select(GIProduct).order_by(GIProduct.code))]
    shown = year or choose_season(session, plan_key).start.year
    undrawable = (
        undrawable_samples(session, scope, shown, tuple(p.id for p in chosen_products)) if scope else 0
    )
    return MapView(shown, every, chosen, undrawable)


def product_ids(session: Session, keys: list[str] | None) -> tuple[int, ...]:
    """The ids of products given by code or Chinese name (InputError/NotFoundError naming a wrong one)."""
    from gi.register.areas import find_product

    return tuple(find_product(session, key).id for key in keys or [])
