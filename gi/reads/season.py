"""The season read model: everything a season's maps, reports and public pages show, gathered by one module.

``gather_season`` runs the queries and returns a ``SeasonSummary``; the renderers (maps, reports, the service)
only read that object, so they can be tested with constructed summaries as well as the real database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from geo_data import admin
from gi import clock
from gi.db.archive import archived_sample_months
from gi.errors import InputError
from gi.market.reads import MarketSummary, market_summary
from gi.models import (
    CATEGORY_ZH,
    GI_KIND_ZH,
    GIProduct,
    LabResult,
    Plan,
    PlanStatus,
    PlanTask,
    Producer,
    Sample,
    TaskStatus,
)
from gi.quality.wording import flag_label_zh, grade_label, limit_zh, quantity_zh
from gi.reads.verdicts import current_join
from gi.register.areas import area_at, as_aware, find_product
from gi.settings import get_settings

# Columns of SeasonSummary.samples (one row per sample).
SAMPLE_COLUMNS = (
    "sample_id",  # str, the UUID
    "code",  # str, short display code
    "product_code",  # str
    "product_name",  # str, Chinese name
    "lon",
    "lat",  # float, WGS84
    "collected_at",  # datetime, Asia/Shanghai
    "origin",  # inside | uncertain | outside | unchecked
    "distance_m",  # float, signed distance to the boundary (+ inside), NaN when unchecked
    "band_m",  # float, half-width of the uncertain band the verdict used, NaN when unchecked
    "area_version",  # int or <NA>
    "flags",  # tuple[str, ...]
    "quality",  # pass | fail | inconclusive | pending
    "quality_reason",  # str, the failed indicators in words ("" when none)
    "producer_name",  # str ("" for market sampling)
    "producer_code",  # str, unified social credit code ("" for market sampling)
    "task_id",  # Int64, the plan task the sample fulfils (<NA> outside a plan)
    "county_code",
    "county_name",
    "province_name",  # str, from the county reference layer
    "number",  # str, the sample number printed on records and notices (stable: date and code)
    "lot_number",  # str ("" when not recorded)
    "producer_address",  # str
    "producer_kind",  # producer | market_outlet | "" (no registered unit)
    "labelled_producer",
    "labelled_address",  # str, the manufacturer on the label (标称生产企业), "" when unknown
    "sampled_unit",
    "sampled_address",  # str, where the sample was taken (被抽样单位): the producer, the outlet or the place
    "sampled_at",  # producer | outlet | "" (not recorded): where the sample was taken (抽样环节)
    "specification",  # str, 规格型号 ("" when not recorded)
    "production_date",  # date or None
    "laboratories",  # str, the laboratories that tested the sample ("、"-joined, "" when untested)
    "failed_items",  # tuple of (indicator, limit, result) of the failed indicators
    "result",  # 合格 | 不合格 | 待核实: the published conclusion (sample_result)
    "result_note",  # str, why a sample is 待核实 (or "")
)

# The published conclusion of a sample (抽检结论) and the one definition of the failure rate used by every document.
RESULT_PASS, RESULT_FAIL, RESULT_VERIFY = "合格", "不合格", "待核实"
FAILURE_RATE_DEFINITION = (
    "不合格率 = 不合格样品批次 ÷ 抽检样品批次 × 100%，抽检样品批次包括结论待核实的批次；"
    "只有作出最终结论的不合格样品计入不合格批次"
)
# Flags that make an "outside" verdict a suspected data-entry error, not a finding (gi.quality.evidence).
ENTRY_ERROR_FLAGS = frozenset({"swapped_lat_lon", "crs_implausible", "outside_china", "null_island"})


# The county of a task whose target is known by its platform and shop name only (sampling.frames.UNKNOWN_COUNTY),
# printed as the public notice prints it (sampling.public), never as its code.
UNKNOWN_COUNTY = "000000"
UNKNOWN_COUNTY_ZH = "所在地不详（网店）"


def sample_number(sample_id: str, collected_at: datetime) -> str:
    """The sample number (样品编号) on records and notices, e.g. 250402-1A2B3C4D: the local collection date and
    the code, so it never changes when a document is regenerated."""
    code = str(sample_id).replace("-", "")[:8].upper()
    return f"{collected_at.astimezone(clock.zone()):%y%m%d}-{code}"


def sample_result(
    origin: str, quality: str, flags: Sequence[str] = (), task_result: str | None = None, task_note: str = ""
) -> tuple[str, str]:
    """The published conclusion of a sample and a remark: only a final finding is 不合格 (an outside position
    that may be an entry error, a boundary case, an inconclusive or pending test are 待核实, the remark says
    why); an inspector's recorded 不合格 for the sample's task (``task_result``) is final too."""
    suspect = bool(set(flags or ()) & ENTRY_ERROR_FLAGS)
    if quality == "fail" or (origin == "outside" and not suspect):
        return RESULT_FAIL, ""
    if task_result == "nonconforming":
        return RESULT_FAIL, f"现场检查结论：{task_note or '不合格'}"
    if origin == "inside" and quality == "pass":
        return RESULT_PASS, ""
    if origin == "outside":
        return RESULT_VERIFY, "采样坐标异常（疑似经纬度颠倒或位于境外），需核实"
    if origin == "uncertain":
        return RESULT_VERIFY, "采样点在保护范围边界判定容差内或定位不可信，需现场复核"
    if origin == "unchecked":
        return RESULT_VERIFY, "尚未进行产地核验"
    if quality == "inconclusive":
        return RESULT_VERIFY, "特色品质检验结果无法判定，需复检"
    return RESULT_VERIFY, "特色品质检验中"


def failure_rate(failed: int, total: int) -> str:
    """不合格率 as printed (FAILURE_RATE_DEFINITION): '12.5%', or '—' when nothing was sampled."""
    return f"{failed / total:.1%}" if total else "—"


def result_counts(summary: SeasonSummary) -> pd.DataFrame:
    """Per product: samples, 合格, 不合格, 待核实 and 不合格率 (the same figures in every document)."""
    frame = summary.samples
    names = summary.product_names()
    sampled = set(frame["product_code"]) if len(frame) else set()  # once, not per product
    table = (pd.crosstab(frame["product_code"], frame["result"]) if len(frame) else pd.DataFrame()).reindex(
        index=[c for c in names if c in sampled],
        columns=[RESULT_PASS, RESULT_FAIL, RESULT_VERIFY],
        fill_value=0,
    )
    table.insert(0, "samples", table.sum(axis=1))
    table.insert(0, "product_name", [names.get(c, c) for c in table.index])
    table["rate"] = [
        failure_rate(int(f), int(n)) for f, n in zip(table[RESULT_FAIL], table["samples"], strict=True)
    ]
    return table


@dataclass(frozen=True)
class AreaInfo:
    """One protected-area version with the product details a popup or report shows."""

    product_code: str
    name_zh: str
    name_pinyin: str
    name_en: str
    category_zh: str
    gi_kind_zh: str
    standard: str | None
    registration_number: str | None
    administering_office: str | None
    version: int
    valid_from: date
    valid_to: date | None
    area_km2: float
    legal_basis: str
    admin_units: tuple[str, ...]
    geometry: MultiPolygon


@dataclass(frozen=True)
class ProducerFinding:
    """An authorized producer whose registered location lies outside its product's protected area."""

    producer_name: str
    credit_code: str
    product_code: str
    product_name: str
    lon: float
    lat: float
    distance_m: float
    area_version: int
    address: str
    county_name: str


@dataclass(frozen=True)
class CoverageRow:
    """Inspection tasks planned and done, and samples taken, for one product in one county."""

    product_code: str
    product_name: str
    county_code: str
    county_name: str
    planned: int | None  # tasks of the plan due in the season (None: no plan covers the season)
    done: int | None  # of those, tasks sampled or completed
    samples: int  # samples collected in the season (with or without a task)

    @property
    def completion(self) -> float | None:
        """Share of the planned tasks done (None when nothing was planned)."""
        return None if not self.planned else (self.done or 0) / self.planned


@dataclass(frozen=True)
class NonConformity:
    """A sample that failed (or could not pass) a check, with the reason in words."""

    sample_code: str  # the sample number (sample_number), as on the notice and the record
    product_name: str
    county_name: str
    collected_at: datetime
    kind: str  # 产地 | 品质
    severity: str  # 不符合 | 存疑 | 待核实 (a position that may be an entry error)
    reason: str
    producer_name: str


@dataclass
class SeasonSummary:
    """The content of a season's map, campaign report and public notice."""

    title: str
    start: date
    end: date
    generated_at: datetime
    areas: list[AreaInfo]
    samples: pd.DataFrame
    producers_outside: list[ProducerFinding] = field(default_factory=list)
    coverage: list[CoverageRow] = field(default_factory=list)
    planning_available: bool = False
    quality_available: bool = False
    tolerance_m: float = 30.0
    notes: list[str] = field(default_factory=list)
    product_codes: tuple[str, ...] = ()  # the products asked for (empty: every product)
    market: MarketSummary | None = None  # mass balance and flagged sellers of the period's harvest years
    plans: list[tuple[str, str]] = field(default_factory=list)  # (title, code) of the plans of the season

    def __post_init__(self) -> None:
        missing = [c for c in SAMPLE_COLUMNS if c not in self.samples.columns]
        if missing:  # a summary constructed by hand (tests, the map benchmark): derive what it lacks
            self.samples = with_derived_columns(self.samples)

    @property
    def period(self) -> str:
        """The season as printed: 2025年03月15日—2025年06月30日."""
        return f"{self.start:%Y年%m月%d日}—{self.end:%Y年%m月%d日}"

    def product_names(self) -> dict[str, str]:
        """Product code -> Chinese name, in the order of the areas (then of the samples)."""
        names = {a.product_code: a.name_zh for a in self.areas}
        for code, name in (
            self.samples[["product_code", "product_name"]].drop_duplicates().itertuples(index=False)
        ):
            names.setdefault(code, name)
        return names


def empty_samples() -> pd.DataFrame:
    """A samples frame with the right columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SAMPLE_COLUMNS})


# ---------------------------------------------------------------- aggregates used by maps and reports


def origin_counts(summary: SeasonSummary) -> pd.DataFrame:
    """Per product: samples and the count of each origin verdict (inside, uncertain, outside, unchecked)."""
    return _counts(summary, "origin", ("inside", "uncertain", "outside", "unchecked"))


def quality_counts(summary: SeasonSummary) -> pd.DataFrame:
    """Per product: samples and counts of each quality verdict."""
    return _counts(summary, "quality", ("pass", "fail", "inconclusive", "pending"))


def _counts(summary: SeasonSummary, column: str, codes: Sequence[str]) -> pd.DataFrame:
    frame = summary.samples
    names = summary.product_names()
    table = pd.crosstab(frame["product_code"], frame[column]) if len(frame) else pd.DataFrame()
    table = table.reindex(
        index=[c for c in names if c in table.index] if len(table) else [], columns=list(codes), fill_value=0
    )
    table.insert(0, "samples", table.sum(axis=1))
    table.insert(0, "product_name", [names.get(c, c) for c in table.index])
    return table


def non_conformities(summary: SeasonSummary) -> list[NonConformity]:
    """Every sample outside its area, in the boundary band, or failing quality, oldest first."""
    found: list[NonConformity] = []
    frame = summary.samples
    if not len(frame):
        return found
    mask = frame["origin"].isin(["outside", "uncertain"]) | frame["quality"].isin(["fail", "inconclusive"])
    for row in frame[mask].sort_values(["collected_at", "code"]).itertuples(index=False):
        county = row.county_name or "（区县未知）"
        if row.origin in ("outside", "uncertain"):
            suspect = bool(set(row.flags or ()) & ENTRY_ERROR_FLAGS)
            found.append(
                NonConformity(
                    row.number,
                    row.product_name,
                    county,
                    row.collected_at,
                    "产地",
                    "存疑" if row.origin == "uncertain" else "待核实" if suspect else "不符合",
                    origin_reason(row._asdict(), summary.tolerance_m),
                    row.sampled_unit,
                )
            )
        if row.quality in ("fail", "inconclusive"):
            found.append(
                NonConformity(
                    row.number,
                    row.product_name,
                    county,
                    row.collected_at,
                    "品质",
                    "不符合" if row.quality == "fail" else "存疑",
                    row.quality_reason or "特色品质指标不符合标准",
                    row.sampled_unit,
                )
            )
    return found


def origin_reason(row: dict, tolerance_m: float) -> str:
    """Why a sample's origin verdict is outside or uncertain, in words."""
    raw_distance = row.get("distance_m")
    distance = None if raw_distance is None or pd.isna(raw_distance) else float(raw_distance)
    band = row.get("band_m")
    band = tolerance_m if band is None or pd.isna(band) else float(band)
    version = row.get("area_version")
    version_text = (
        f"第{int(version)}版保护范围" if version is not None and not pd.isna(version) else "保护范围"
    )
    flags = [flag_label_zh(f) for f in (row.get("flags") or ())]
    metres = float(distance) if distance is not None and not pd.isna(distance) else None
    suspect = bool(set(row.get("flags") or ()) & {"swapped_lat_lon", "outside_china", "null_island"})
    if row.get("origin") == "outside":
        shown = metres is not None and not suspect  # a swapped or foreign position is a data error
        text_ = f"采样点位于{version_text}外" + (f" {_distance_text(metres)}" if shown and metres else "")
    elif metres is not None and abs(metres) <= band:
        side = "内" if metres >= 0 else "外"
        text_ = (
            f"采样点在{version_text}边界{side} {_distance_text(metres)}，"
            f"处于 {band:g} 米判定容差内，需现场复核"
        )
    elif flags:
        text_ = f"定位不可信，无法确认是否在{version_text}内，需现场复核"
    else:
        text_ = f"无法确认是否在{version_text}内，需现场复核"
    if flags:
        text_ += "（" + "、".join(flags) + "）"
    return text_


def _distance_text(metres: float) -> str:
    metres = abs(metres)
    return f"{metres / 1000:.1f} 千米" if metres >= 1000 else f"{metres:.0f} 米"


# ---------------------------------------------------------------- queries


def area_infos(
    session: Session, product_keys: Sequence[str] = (), at: date | datetime | None = None
) -> list[AreaInfo]:
    """The area version valid at ``at`` (default: now) of each given product, or of every product."""
    moment = as_aware(at) if at is not None else clock.now()
    if product_keys:
        products = [find_product(session, key) for key in product_keys]
    else:
        products = list(session.scalars(select(GIProduct).order_by(GIProduct.code)))
    infos = []
    for product in products:
        area = area_at(session, product.id, moment)
        if area is None:
            continue
        units = tuple(str(u.get("name") or u.get("code")) for u in (area.admin_units or []))
        infos.append(
            AreaInfo(
                product_code=product.code,
                name_zh=product.name_zh,
                name_pinyin=product.name_pinyin,
                name_en=product.name_en,
                category_zh=CATEGORY_ZH.get(product.category, str(product.category)),
                gi_kind_zh=GI_KIND_ZH.get(product.gi_kind, str(product.gi_kind)),
                standard=product.standard,
                registration_number=product.registration_number,
                administering_office=product.administering_office,
                version=area.version,
                valid_from=area.valid_from.astimezone(clock.zone()).date(),
                valid_to=area.valid_to.astimezone(clock.zone()).date() if area.valid_to else None,
                area_km2=float(area.area_km2),
                legal_basis=area.legal_basis,
                admin_units=units,
                geometry=to_shape(area.geom),
            )
        )
    return infos


def season_samples_query(
    start: date, end: date, product_ids: Sequence[int] = (), plan_id: int | None = None
) -> Select[Any]:
    """The query of :func:`season_samples`: the season's samples joined to their current verdicts in the season's
    month partitions only (docs/scale.md, "Partitioned history")."""
    window = (as_aware(start), as_aware(end + timedelta(days=1)))
    latest, on_latest = current_join("origin", window)
    quality, on_quality = current_join("quality", window)
    labs = (
        select(LabResult.sample_id, func.array_agg(LabResult.laboratory.distinct()).label("laboratories"))
        .group_by(LabResult.sample_id)
        .subquery()
    )
    query = (
        select(
            Sample.id,
            GIProduct.code,
            GIProduct.name_zh,
            func.ST_X(Sample.location),
            func.ST_Y(Sample.location),
            Sample.collected_at,
            latest.verdict,
            latest.distance_m,
            latest.area_version,
            latest.flags,
            Producer.name,
            quality.outcome,
            quality.indicators,
            PlanTask.county_code,
            Producer.credit_code,
            Sample.task_id,
            latest.band_m,
            Sample.lot_number,
            Producer.address,
            Producer.kind,
            Sample.labelled_producer,
            Sample.labelled_address,
            Sample.outlet_name,
            Sample.outlet_address,
            Sample.sampled_at,
            Sample.specification,
            Sample.production_date,
            labs.c.laboratories,
            PlanTask.result,
            PlanTask.result_note,
        )
        .join(GIProduct, GIProduct.id == Sample.product_id)
        .outerjoin(labs, labs.c.sample_id == Sample.id)
        .outerjoin(latest, on_latest)
        .outerjoin(quality, on_quality)
        .outerjoin(Producer, Producer.id == Sample.producer_id)
        .outerjoin(PlanTask, PlanTask.id == Sample.task_id)
        .where(Sample.collected_at >= window[0], Sample.collected_at < window[1])
        .order_by(Sample.collected_at)
    )
    if product_ids:
        query = query.where(Sample.product_id.in_(list(product_ids)))
    if plan_id is not None:  # the samples of one plan's tasks only
        query = query.where(PlanTask.plan_id == plan_id)
    return query


def season_samples(
    session: Session, start: date, end: date, product_ids: Sequence[int] = (), plan_id: int | None = None
) -> pd.DataFrame:
    """Samples collected from ``start`` to ``end`` (local dates, inclusive) with their latest verdicts (of one
    plan's tasks only, when ``plan_id`` is given)."""
    rows = session.execute(season_samples_query(start, end, product_ids, plan_id)).all()
    if not rows:
        return empty_samples()
    tz = clock.zone()
    frame = pd.DataFrame(
        rows,
        columns=[
            "sample_id",
            "product_code",
            "product_name",
            "lon",
            "lat",
            "collected_at",
            "origin",
            "distance_m",
            "area_version",
            "flags",
            "producer_name",
            "quality",
            "indicators",
            "task_county",
            "producer_code",
            "task_id",
            "band_m",
            "lot_number",
            "producer_address",
            "producer_kind",
            "labelled_producer",
            "labelled_address",
            "outlet_name",
            "outlet_address",
            "sampled_at",
            "specification",
            "production_date",
            "laboratories",
            "task_result",
            "task_note",
        ],
    )
    frame["sample_id"] = frame["sample_id"].astype(str)
    frame["code"] = frame["sample_id"].str.replace("-", "").str[:8].str.upper()
    frame["collected_at"] = [t.astimezone(tz) for t in frame["collected_at"]]
    frame["origin"] = [
        str(v.value if hasattr(v, "value") else v) if v is not None else "unchecked" for v in frame["origin"]
    ]
    frame["distance_m"] = frame["distance_m"].astype(float)
    frame["band_m"] = frame["band_m"].astype(float)
    frame["area_version"] = frame["area_version"].astype("Int64")
    frame["flags"] = [tuple(f or ()) for f in frame["flags"]]
    frame["producer_name"] = frame["producer_name"].fillna("")
    frame["producer_code"] = frame["producer_code"].fillna("")
    frame["task_id"] = frame["task_id"].astype("Int64")
    frame["quality_reason"] = [
        quality_reason(ind) if q is not None and str(getattr(q, "value", q)) != "pass" else ""
        for q, ind in zip(frame["quality"], frame["indicators"], strict=True)
    ]
    frame["failed_items"] = [failed_items(ind) for ind in frame["indicators"]]
    frame["quality"] = [str(getattr(q, "value", q)) if q is not None else "pending" for q in frame["quality"]]
    for column in (
        "lot_number",
        "producer_address",
        "producer_kind",
        "labelled_producer",
        "labelled_address",
        "outlet_name",
        "outlet_address",
        "specification",
    ):
        frame[column] = frame[column].fillna("").astype(str)
    # array_agg gives a list per tested sample and NULL (NaN after the outer join) for an untested one; never
    # stringify the list first, or the join below would run over its characters.
    frame["laboratories"] = [
        "、".join(sorted(labs)) if isinstance(labs, list | tuple) else "" for labs in frame["laboratories"]
    ]
    frame["production_date"] = [d if isinstance(d, date) else None for d in frame["production_date"]]
    frame["sampled_at"] = [str(getattr(v, "value", v)) if v is not None else "" for v in frame["sampled_at"]]
    frame["number"] = [
        sample_number(i, t) for i, t in zip(frame["sample_id"], frame["collected_at"], strict=True)
    ]
    decided = [
        sample_result(o, q, f, None if t is None else str(getattr(t, "value", t)), n or "")
        for o, q, f, t, n in zip(
            frame["origin"],
            frame["quality"],
            frame["flags"],
            frame["task_result"],
            frame["task_note"],
            strict=True,
        )
    ]
    frame["result"] = [r for r, _ in decided]
    frame["result_note"] = [n for _, n in decided]
    counties = admin.county_of(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    for column in counties.columns:
        frame[column] = counties[column].to_numpy()
    # A planned sample belongs to its task's county (the producer's), whatever the fix says.
    has_task = frame["task_county"].notna() & (frame["task_county"] != "")
    if has_task.any():
        labels = admin.county_parts()
        frame.loc[has_task, "county_code"] = frame.loc[has_task, "task_county"]
        frame.loc[has_task, "county_name"] = [
            UNKNOWN_COUNTY_ZH if c == UNKNOWN_COUNTY else labels.get(c, ("", c))[1]
            for c in frame.loc[has_task, "task_county"]
        ]
        frame.loc[has_task, "province_name"] = [
            labels.get(c, ("", ""))[0] for c in frame.loc[has_task, "task_county"]
        ]
    _sampled_units(frame)
    return frame[list(SAMPLE_COLUMNS)]


_DEFAULTS: dict[str, object] = {
    "lot_number": "",
    "producer_address": "",
    "labelled_producer": "",
    "labelled_address": "",
    "outlet_name": "",
    "outlet_address": "",
    "sampled_at": "",
    "specification": "",
    "production_date": None,
    "laboratories": "",
    "failed_items": (),
}


def with_derived_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A samples frame with every column of SAMPLE_COLUMNS: the missing ones get their defaults or are derived
    (number, published result, sampled unit) as season_samples derives them."""
    frame = frame.copy()
    for column, default in _DEFAULTS.items():
        if column not in frame.columns:
            frame[column] = [default] * len(frame)
    if "producer_kind" not in frame.columns:
        frame["producer_kind"] = ["producer" if name else "" for name in frame["producer_name"].fillna("")]
    if "number" not in frame.columns:
        frame["number"] = [
            sample_number(i, t) for i, t in zip(frame["sample_id"], frame["collected_at"], strict=True)
        ]
    if "result" not in frame.columns or "result_note" not in frame.columns:
        decided = [
            sample_result(o, q, f)
            for o, q, f in zip(frame["origin"], frame["quality"], frame["flags"], strict=True)
        ]
        frame["result"] = [r for r, _ in decided]
        frame["result_note"] = [n for _, n in decided]
    if "sampled_unit" not in frame.columns or "sampled_address" not in frame.columns:
        _sampled_units(frame)
    return frame[list(SAMPLE_COLUMNS)] if len(frame.columns) else frame


SAMPLED_AT_ZH = {"producer": "生产环节（在生产者处抽样）", "outlet": "流通环节（在经营场所抽样）"}


def sample_units(**values: object) -> dict[str, str]:
    """The labelled producer and the sampled unit, with addresses, of one sample, derived as the notice derives
    them (``values``: the columns _sampled_units reads; missing ones are empty)."""
    row = {
        "producer_name": "",
        "producer_address": "",
        "producer_kind": "",
        "labelled_producer": "",
        "labelled_address": "",
        "outlet_name": "",
        "outlet_address": "",
        "sampled_at": "",
        "county_name": "",
        "province_name": "",
        "lon": 0.0,
        "lat": 0.0,
    }
    row.update({k: ("" if v is None else v) for k, v in values.items()})
    frame = pd.DataFrame([row])
    _sampled_units(frame)
    names = ("labelled_producer", "labelled_address", "sampled_unit", "sampled_address")
    return {name: str(frame.at[0, name]) for name in names}


def _sampled_units(frame: pd.DataFrame) -> None:
    """Fill the labelled producer and the sampled unit (被抽样单位) with their addresses.

    The sampled unit is the one recorded with the sample; else the registered unit the sample names (a producer,
    an outlet); else, for a sample taken at the producer (生产环节), the producer on the label; else the place
    (county and position), so that unidentified sellers are never merged into one. A sample taken at the
    producer names it on both sides: the label's producer is the sampled unit and the other way round.
    """
    at_producer = frame["sampled_at"].eq("producer") | (
        frame["sampled_at"].eq("") & frame["producer_kind"].eq("producer")
    )
    registered = frame["producer_name"].ne("")
    is_producer = frame["producer_kind"].eq("producer")
    labelled = frame["labelled_producer"].where(
        frame["labelled_producer"].ne("") | ~is_producer, frame["producer_name"]
    )
    labelled_address = frame["labelled_address"].where(
        frame["labelled_address"].ne("") | ~is_producer, frame["producer_address"]
    )
    place = pd.Series(
        [
            f"未登记经营者（{county or '区县未知'}，北纬{lat:.3f}° 东经{lon:.3f}°）"
            for county, lat, lon in zip(frame["county_name"], frame["lat"], frame["lon"], strict=True)
        ],
        index=frame.index,
    )
    county = frame["province_name"].fillna("") + frame["county_name"].fillna("")
    recorded = frame["outlet_name"].ne("")
    unit = frame["producer_name"].where(registered, labelled.where(at_producer & labelled.ne(""), place))
    unit_address = frame["producer_address"].where(
        registered, labelled_address.where(at_producer & labelled.ne(""), county)
    )
    frame["sampled_unit"] = frame["outlet_name"].where(recorded, unit)
    frame["sampled_address"] = frame["outlet_address"].where(
        recorded & frame["outlet_address"].ne(""), unit_address.where(~recorded, county)
    )
    # Taken at the producer with no label recorded: the producer it was taken from made it.
    frame["labelled_producer"] = labelled.where(
        labelled.ne("") | ~at_producer, frame["sampled_unit"].where(registered | recorded, "")
    )
    frame["labelled_address"] = labelled_address.where(
        labelled.ne("") | ~at_producer, frame["sampled_address"].where(registered | recorded, "")
    )


def failed_items(indicators: list[dict[str, Any]] | None) -> tuple[tuple[str, str, str], ...]:
    """(indicator, limit, result) of each failed indicator of a quality verdict, in Chinese."""
    out = []
    for item in indicators or []:
        if item.get("outcome") != "fail":
            continue
        name = str(item.get("name_zh") or item.get("code") or "指标")
        if item.get("grade"):
            name += f"［{grade_label(item['grade'])}］"
        unit = str(item.get("unit") or "")
        value = item.get("value")
        measured = quantity_zh(value, unit) if value is not None else "无结果"
        out.append((name, limit_zh(item.get("limit"), unit), measured))
    return tuple(dict.fromkeys(out))


def quality_reason(indicators: list[dict] | None) -> str:
    """The failing or undecided indicators of a quality verdict in words.

    For example: 可溶性固形物实测 12.1%，要求 ≥ 14%（不合格）.
    """
    parts = []
    for item in indicators or []:
        outcome = item.get("outcome")
        if outcome not in ("fail", "inconclusive"):
            continue
        name = item.get("name_zh") or item.get("code") or "指标"
        if item.get("grade"):
            name += f"［{grade_label(item['grade'])}］"
        unit = item.get("unit") or ""
        measured = (
            f"实测 {quantity_zh(item['value'], unit)}" if item.get("value") is not None else "无检测结果"
        )
        limit = f"，要求 {limit_zh(item['limit'], unit)}" if item.get("limit") else ""
        parts.append(f"{name}{measured}{limit}（{'不合格' if outcome == 'fail' else '无法判定'}）")
    return "；".join(dict.fromkeys(parts))


def producers_outside(
    session: Session, product_ids: Sequence[int] = (), at: date | datetime | None = None
) -> list[ProducerFinding]:
    """Authorized producers (not market outlets) whose registered location is outside the area version valid
    at ``at`` of the product they are authorized for, by the origin rule itself (gi.origin.rule.check_producers,
    not stored: a map or report must not write verdicts)."""
    from gi.origin.rule import check_producers

    moment = as_aware(at) if at is not None else clock.now()
    checks = check_producers(session, product_ids[0] if len(product_ids) == 1 else None, moment, store=False)
    wanted = set(product_ids)
    outside = [
        c
        for c in checks
        if str(getattr(c.verdict.verdict, "value", c.verdict.verdict)) == "outside"
        and (not wanted or c.verdict.product_id in wanted)
    ]
    if not outside:
        return []
    rows = {
        r.id: r
        for r in session.execute(
            select(
                Producer.id,
                Producer.address,
                Producer.county_code,
                func.ST_X(Producer.location).label("x"),
                func.ST_Y(Producer.location).label("y"),
            ).where(Producer.id.in_([c.producer_id for c in outside]))
        )
    }
    names = admin.county_names()
    findings = []
    for c in outside:
        row = rows[c.producer_id]
        distance = abs(c.verdict.distance_m) if c.verdict.distance_m is not None else float("nan")
        findings.append(
            ProducerFinding(
                c.producer_name,
                c.credit_code,
                c.product_code,
                c.product_name_zh,
                float(row.x),
                float(row.y),
                distance,
                int(c.verdict.area_version or 0),
                row.address or "",
                names.get(row.county_code or "", ""),
            )
        )
    findings.sort(key=lambda f: (f.product_code, -f.distance_m))
    return findings


def coverage_from_samples(
    samples: pd.DataFrame,
    planned: dict[tuple[str, str], tuple[int, int]] | None = None,
    names: dict[str, str] | None = None,
) -> list[CoverageRow]:
    """Per product and county: samples taken and, when a plan is known, its tasks planned and done
    (``planned`` maps (product code, county code) to (tasks planned, tasks done))."""
    taken = (
        samples.assign(county_code=samples["county_code"].replace("", "未知"))
        .groupby(["product_code", "county_code"])
        .size()
        if len(samples)
        else pd.Series(dtype=int)
    )
    county_labels: dict[str, str] = {}
    product_labels = dict(names or {})
    if len(samples):
        county_labels = dict(zip(samples["county_code"], samples["county_name"], strict=False))
        product_labels.update(dict(zip(samples["product_code"], samples["product_name"], strict=False)))
    keys = set(taken.index) | set((planned or {}).keys())
    parts = admin.county_parts() if planned else {}
    rows = []
    for product_code, county_code in sorted(keys):
        plan = (planned or {}).get((product_code, county_code))
        rows.append(
            CoverageRow(
                product_code=product_code,
                product_name=product_labels.get(product_code, product_code),
                county_code=county_code,
                county_name=(
                    county_labels.get(county_code)
                    or parts.get(county_code, ("", ""))[1]
                    or (UNKNOWN_COUNTY_ZH if county_code == UNKNOWN_COUNTY else "")
                    or county_code
                    or "未知"
                ),
                planned=(plan[0] if plan else 0) if planned is not None else None,
                done=(plan[1] if plan else 0) if planned is not None else None,
                samples=int(taken.get((product_code, county_code), 0)),
            )
        )
    return rows


def planned_tasks(
    session: Session, start: date, end: date, product_ids: Sequence[int] = ()
) -> tuple[dict[tuple[str, str], tuple[int, int]], dict[str, str]]:
    """Tasks of the (not cancelled) plans due within the season, per (product code, county code): (planned,
    done), where done means sampled or completed, or with a sample linked; plus product names."""
    sampled = select(Sample.task_id).where(Sample.task_id.is_not(None)).distinct().subquery()
    query = (
        select(
            GIProduct.code,
            GIProduct.name_zh,
            PlanTask.county_code,
            func.count(PlanTask.id),
            func.count(PlanTask.id).filter(
                PlanTask.status.in_([TaskStatus.SAMPLED, TaskStatus.COMPLETED])
                | PlanTask.id.in_(select(sampled.c.task_id))
            ),
        )
        .join(Plan, Plan.id == PlanTask.plan_id)
        .join(GIProduct, GIProduct.id == PlanTask.product_id)
        .where(
            Plan.status != PlanStatus.CANCELLED,
            PlanTask.status != TaskStatus.CANCELLED,
            PlanTask.due_from <= end,
            PlanTask.due_to >= start,
        )
        .group_by(GIProduct.code, GIProduct.name_zh, PlanTask.county_code)
    )
    if product_ids:
        query = query.where(PlanTask.product_id.in_(list(product_ids)))
    planned: dict[tuple[str, str], tuple[int, int]] = {}
    names: dict[str, str] = {}
    for code, name, county, total, done in session.execute(query):
        planned[(code, county)] = (int(total), int(done))
        names[code] = name
    return planned, names


def _plan_title(session: Session, start: date, end: date) -> str | None:
    """The title of the (not cancelled) plan of exactly this period, if any: a plan that only overlaps it
    would print another period in the title."""
    return session.scalars(
        select(Plan.title)
        .where(Plan.status != PlanStatus.CANCELLED, Plan.period_from == start, Plan.period_to == end)
        .order_by(Plan.id)
        .limit(1)
    ).first()


def season_plans(session: Session, start: date, end: date) -> list[tuple[str, str]]:
    """(title, code) of the (not cancelled) plans whose period overlaps the season: the plans a document on
    the season cites."""
    rows = session.execute(
        select(Plan.title, Plan.code)
        .where(Plan.status != PlanStatus.CANCELLED, Plan.period_from <= end, Plan.period_to >= start)
        .order_by(Plan.period_from, Plan.id)
    )
    return [(str(title), str(code)) for title, code in rows]


# The activity the notice and the campaign report are about, named one way in both (抽检: sampling and testing).
ACTIVITY = "监督抽检"


def default_title(start: date, end: date) -> str:
    """The title of a season from its dates: 2026年4月1日至10月31日地理标志产品监督抽检."""
    last = f"{end.month}月{end.day}日" if end.year == start.year else f"{end.year}年{end.month}月{end.day}日"
    return f"{start.year}年{start.month}月{start.day}日至{last}地理标志产品{ACTIVITY}"


def document_title(title: str) -> str:
    """A season's title as the documents print it: a plan titled "…监督抽查" names the same activity, printed
    as 监督抽检 like every other line of the notice and the report."""
    return title.replace("监督抽查", ACTIVITY)


def gather_season(
    session: Session,
    start: date | None,
    end: date | None,
    product_keys: Sequence[str] = (),
    title: str | None = None,
) -> SeasonSummary:
    """The summary of the season ``start``..``end`` for the given products (codes or Chinese names; default:
    all); a missing end defaults to the first/last stored sample's date."""
    settings = get_settings()
    products = [find_product(session, key) for key in product_keys]
    product_ids = [p.id for p in products]
    start, end = season_bounds(session, start, end, product_ids)
    areas = area_infos(session, [p.code for p in products], at=end)
    samples = season_samples(session, start, end, product_ids)
    summary = SeasonSummary(
        title=title or _plan_title(session, start, end) or default_title(start, end),
        start=start,
        end=end,
        generated_at=clock.now(),
        areas=areas,
        samples=samples,
        producers_outside=producers_outside(session, product_ids, at=end),
        tolerance_m=settings.boundary_tolerance_m,
        product_codes=tuple(p.code for p in products),
        plans=season_plans(session, start, end),
    )
    planned, planned_names = planned_tasks(session, start, end, product_ids)
    summary.planning_available = bool(planned)
    summary.quality_available = bool(len(samples)) and bool((samples["quality"] != "pending").any())
    summary.coverage = coverage_from_samples(
        samples, planned or None, {a.product_code: a.name_zh for a in areas} | planned_names
    )
    # The balance of the harvest years the period touches and of the one before (a spring campaign reads the
    # last complete season's marks and sales).
    summary.market = market_summary(session, range(start.year - 1, end.year + 1), product_ids)
    archived = archived_sample_months(session, start, end)
    if archived:
        # Reports read the live months only: say which of the period's months are archived (gi db archive).
        months = "、".join(f"{m.year}年{m.month}月" for m in archived)
        summary.notes.append(
            f"{months}的样品已归档（gi db archive），未计入本报告；归档数据仍由审计日志校验。"
        )
    if not len(samples):
        summary.notes.append("本期无抽样记录。")
    return summary


def producers_outside_summary(
    session: Session, product_keys: Sequence[str] = (), at: date | None = None
) -> SeasonSummary:
    """A season-shaped summary of the authorized producers located outside their areas on ``at`` (default:
    today): the content of the producers map."""
    day = at or clock.now().date()
    products = [find_product(session, key) for key in product_keys]
    return SeasonSummary(
        title="登记位置在保护范围外的授权生产者",
        start=day,
        end=day,
        generated_at=clock.now(),
        areas=area_infos(session, [p.code for p in products], at=day),
        samples=empty_samples(),
        producers_outside=producers_outside(session, [p.id for p in products], at=day),
        product_codes=tuple(p.code for p in products),
    )


def season_bounds(
    session: Session, first: date | None, last: date | None, product_ids: Sequence[int] = ()
) -> tuple[date, date]:
    """The season asked for; a missing end defaults to the first/last stored sample's local date."""
    if first is None or last is None:
        stored = sample_date_range(session, product_ids)
        if stored is None:
            raise InputError("from", "no samples are stored; give the season with --from and --to")
        first, last = first or stored[0], last or stored[1]
    if last < first:
        raise InputError("to", f"{last} is before {first}")
    return first, last


def sample_date_range(session: Session, product_ids: Sequence[int] = ()) -> tuple[date, date] | None:
    """First and last local collection dates of the stored samples (None when there is none)."""
    query = select(func.min(Sample.collected_at), func.max(Sample.collected_at))
    if product_ids:
        query = query.where(Sample.product_id.in_(list(product_ids)))
    first, last = session.execute(query).one()
    if first is None:
        return None
    tz = clock.zone()
    return first.astimezone(tz).date(), last.astimezone(tz).date()
