"""What the per-sample inspection record prints, gathered from the database (the season and the public notice
come from gi.reads). Renderers only read these objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data import admin
from gi.models import (
    EvidenceGrade,
    GIProduct,
    LabResult,
    Plan,
    PlanTask,
    Producer,
    ProductionArea,
    QualitySpec,
    Sample,
)
from gi.quality.evidence import fingerprint_items, stored_items
from gi.quality.wording import grade_label, unit_zh, variable_zh
from gi.reads.season import SAMPLED_AT_ZH, AreaInfo, area_infos, origin_reason, sample_result, sample_units
from gi.reads.verdicts import sample_verdicts
from gi.settings import get_settings
from maps.style import ORIGIN, QUALITY, flag_label
from reports.texts import indicator_note_zh, origin_rule_zh, quality_rule_zh, source_zh

LOCATION_SOURCE_ZH = {"device_gps": "设备 GPS 定位", "map_pick": "地图选点", "geocoded_address": "地址解析"}
EVIDENCE_ZH = {
    EvidenceGrade.CONSISTENT: "一致",
    EvidenceGrade.DOUBTFUL: "存疑",
    EvidenceGrade.INCONSISTENT: "不一致",
}


# ---------------------------------------------------------------- per-sample record


@dataclass(frozen=True)
class Person:
    """An inspector as the internal record shows them."""

    code: str
    name: str
    unit: str
    role: str


@dataclass(frozen=True)
class IndicatorLine:
    """One quality indicator of a sample: the limit, the result and the decision."""

    name: str
    limit: str
    value: str
    outcome: str  # pass | fail | inconclusive
    note: str


@dataclass(frozen=True)
class LabLine:
    """One lab result as the laboratory reported it."""

    indicator: str
    reported: str
    method: str
    laboratory: str
    tested_on: date


@dataclass
class SampleRecordData:
    """Everything the inspection record (抽样检验记录单) of one sample prints."""

    sample_id: str
    code: str
    product_name: str
    product_code: str
    standard: str | None
    producer_name: str
    producer_code: str
    producer_address: str
    collected_at: datetime
    lot_number: str | None
    lot_size: int | None
    submitted: str  # coordinates as submitted, with their CRS
    lon: float
    lat: float
    gps_accuracy_m: float | None
    location_source: str
    county: str
    source: str | None
    notes: str | None
    plan: str | None
    task: str | None
    inspectors: list[Person]
    origin: str  # inside | uncertain | outside | unchecked
    origin_reason: str
    origin_details: list[tuple[str, str]]
    area: AreaInfo | None
    quality: str  # pass | fail | inconclusive | pending
    quality_rule: str | None
    indicators: list[IndicatorLine]
    lab_results: list[LabLine]
    evidence: str | None
    evidence_reasons: list[str]
    photos: list[RecordPhoto] = field(default_factory=list)
    number: str = ""  # the sample number (gi.reads.season.sample_number), stable
    # What the notice prints of the sample, derived as the notice derives it (gi.reads.season.sample_units).
    labelled_producer: str = ""
    labelled_address: str = ""
    sampled_unit: str = ""
    sampled_address: str = ""
    sampled_at: str = ""  # 抽样环节 in words, "" when not recorded
    specification: str = ""
    production_date: date | None = None
    # 抽检结论 (合格 / 不合格 / 待核实) and why it is not final, decided as the season's notice decides it.
    conclusion: str = ""
    conclusion_reason: str = ""

    @property
    def record_number(self) -> str:
        """The record's number: the sample's, so every regeneration of the record carries the same one."""
        return f"JL-{self.number or self.code}"


@dataclass(frozen=True)
class RecordPhoto:
    """A photo stored with the sample, as the record prints it: the file (None when it cannot be printed) and
    a caption naming its hash and what its EXIF says against the sample."""

    path: Path | None
    caption: str


# What a photo's EXIF cross-check found (gi.origin.photos), as the record says it.
PHOTO_FLAGS_ZH = {
    "photo_no_exif": "无 EXIF 信息",
    "photo_no_gps": "无拍摄位置",
    "photo_far": "拍摄位置距采样点超出限值",
    "photo_no_time": "无拍摄时间",
    "photo_other_day": "拍摄日期与采样日期不同",
}
PRINTABLE_PHOTOS = ("image/jpeg", "image/png")


def stored_photos(session: Session, sample_id: Any) -> list[RecordPhoto]:
    """The photos stored with a sample (the media store, GI_MEDIA_DIR), in the order they were attached."""
    from gi.models import SamplePhoto
    from gi.origin.photos import media_path

    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    out: list[RecordPhoto] = []
    rows = session.scalars(
        select(SamplePhoto).where(SamplePhoto.sample_id == sample_id).order_by(SamplePhoto.id)
    )
    for photo in rows:
        path: Path | None = media_path(Path(settings.media_dir), photo.sha256)
        notes = [f"SHA-256 {photo.sha256[:16]}…"]
        if photo.taken_at is not None:
            notes.append(f"拍摄于 {photo.taken_at.astimezone(tz):%Y-%m-%d %H:%M}")
        if photo.distance_m is not None:
            notes.append(f"距采样点 {photo.distance_m:,.0f} 米")
        notes += [PHOTO_FLAGS_ZH.get(flag, flag) for flag in photo.flags or ()]
        if path is None or not path.is_file():  # said on the record, never silently left out
            notes.append("照片文件不在存储中")
            path = None
        elif photo.media_type not in PRINTABLE_PHOTOS:
            notes.append(f"{photo.media_type} 格式不在记录中显示")
            path = None
        out.append(RecordPhoto(path, "，".join(notes)))
    return out


def find_sample(session: Session, key: str) -> Sample:
    """A sample by UUID or by its first 8+ hexadecimal digits (the code printed on maps and reports)."""
    from gi.quality.lab import resolve_sample

    return resolve_sample(session, key)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    return str(value)


def gather_sample_record(session: Session, key: str) -> SampleRecordData:
    """The record of the sample ``key`` (UUID or code), with the photos stored with the sample."""
    from gi.reads.season import sample_number

    tz = ZoneInfo(get_settings().timezone)
    sample = find_sample(session, key)
    product = session.get(GIProduct, sample.product_id)
    assert product is not None
    producer = session.get(Producer, sample.producer_id) if sample.producer_id else None
    current = sample_verdicts(session, sample.id)
    origin_row, quality_row = current.origin, current.quality
    evidence_row, fingerprint_row = current.evidence, current.fingerprint
    results = session.scalars(
        select(LabResult)
        .where(LabResult.sample_id == sample.id)
        .order_by(LabResult.indicator_code, LabResult.tested_on)
    ).all()
    task = session.get(PlanTask, sample.task_id) if sample.task_id else None
    indicator_names = {
        code: name
        for code, name in session.execute(
            select(QualitySpec.indicator_code, QualitySpec.name_zh).where(
                QualitySpec.product_id == product.id
            )
        )
        if name
    }
    location = to_shape(sample.location)
    county = admin.county_of([location.x], [location.y]).iloc[0]

    inspectors: list[Person] = []
    if task is not None:
        for position, inspector in enumerate(task.inspectors, start=1):
            inspectors.append(
                Person(
                    inspector.code, inspector.name, inspector.unit, "主检" if position == 1 else "检查人员"
                )
            )
    if sample.collector is not None and all(p.code != sample.collector.code for p in inspectors):
        inspectors.append(
            Person(sample.collector.code, sample.collector.name, sample.collector.unit, "采样人")
        )

    origin = "unchecked"
    reason = "尚未进行产地核验"
    details: list[tuple[str, str]] = []
    area: AreaInfo | None = None
    if origin_row is not None:
        origin = str(origin_row.verdict.value if hasattr(origin_row.verdict, "value") else origin_row.verdict)
        row = {
            "origin": origin,
            "distance_m": origin_row.distance_m,
            "area_version": origin_row.area_version,
            "flags": tuple(origin_row.flags or ()),
            "band_m": origin_row.band_m,
        }
        reason = (
            origin_reason(row, get_settings().boundary_tolerance_m)
            if origin != "inside"
            else f"采样点位于第{origin_row.area_version}版保护范围内"
        )
        details = [
            ("保护范围版本", f"第 {origin_row.area_version} 版" if origin_row.area_version else "无有效版本"),
            ("距边界", _signed_distance(origin_row.distance_m)),
            ("判定容差", f"{origin_row.band_m:g} 米"),
            ("标记", "、".join(flag_label(f) for f in origin_row.flags) if origin_row.flags else "无"),
            ("核验时间", f"{origin_row.checked_at.astimezone(tz):%Y-%m-%d %H:%M}"),
            ("判定规则", origin_rule_zh(origin_row.rule)),
        ]
        if origin_row.other_areas:
            details.insert(
                3, ("其他保护范围", "、".join(str(a.get("name_zh", "")) for a in origin_row.other_areas))
            )
        if origin_row.area_id:
            version = session.get(ProductionArea, origin_row.area_id)
            if version is not None:
                infos = [
                    a
                    for a in area_infos(session, [product.code], at=sample.collected_at)
                    if a.version == version.version
                ]
                area = infos[0] if infos else None
    if area is None:
        infos = area_infos(session, [product.code], at=sample.collected_at)
        area = infos[0] if infos else None

    indicators: list[IndicatorLine] = []
    quality = "pending"
    rule = None
    if quality_row is not None:
        quality = str(
            quality_row.outcome.value if hasattr(quality_row.outcome, "value") else quality_row.outcome
        )
        rule = quality_rule_zh(quality_row.rule_config)
        names = {
            str(i.get("code")): str(i.get("name_zh") or i.get("code")) for i in quality_row.indicators or []
        }
        for item in quality_row.indicators or []:
            name = names[str(item.get("code"))]
            if item.get("grade"):
                name += f"［{grade_label(item['grade'])}］"
            indicators.append(
                IndicatorLine(
                    name=name,
                    limit=str(item.get("limit") or "—"),
                    value=_indicator_value(item),
                    outcome=str(item.get("outcome")),
                    note=indicator_note_zh(item),
                )
            )
        shown = {i.get("code") for i in quality_row.indicators or []}
        for code in quality_row.missing_mandatory or []:
            if code in shown:
                continue  # already listed above, with "无检测结果"
            indicators.append(
                IndicatorLine(
                    name=names.get(code, code),
                    limit="强制性指标",
                    value="无结果",
                    outcome="inconclusive",
                    note="缺少强制性指标结果",
                )
            )
    lab = [
        LabLine(
            indicator_names.get(r.indicator_code) or variable_zh(r.indicator_code),
            _reported(r),
            r.method or "—",
            r.laboratory,
            r.tested_on,
        )
        for r in results
    ]

    evidence = None
    evidence_reasons: list[str] = []
    if evidence_row is not None:
        evidence = EVIDENCE_ZH.get(evidence_row.grade, str(evidence_row.grade))
        evidence_reasons = [i.text_zh for i in stored_items(session, evidence_row)]
    elif fingerprint_row is not None:
        items = fingerprint_items(fingerprint_row, product.code, product.name_zh)
        evidence_reasons = [i.text_zh for i in items]

    conclusion, conclusion_reason = sample_result(
        origin,
        quality,
        tuple(origin_row.flags or ()) if origin_row is not None else (),
        str(getattr(task.result, "value", task.result)) if task is not None and task.result else None,
        (task.result_note or "") if task is not None else "",
    )
    sampled_at = str(getattr(sample.sampled_at, "value", sample.sampled_at or ""))
    units = sample_units(
        producer_name=producer.name if producer else "",
        producer_address=(producer.address or "") if producer else "",
        producer_kind=str(getattr(producer.kind, "value", producer.kind)) if producer else "",
        labelled_producer=sample.labelled_producer,
        labelled_address=sample.labelled_address,
        outlet_name=sample.outlet_name,
        outlet_address=sample.outlet_address,
        sampled_at=sampled_at,
        county_name=county["county_name"],
        province_name=county["province_name"],
        lon=location.x,
        lat=location.y,
    )
    return SampleRecordData(
        sample_id=str(sample.id),
        code=str(sample.id).replace("-", "")[:8].upper(),
        product_name=product.name_zh,
        product_code=product.code,
        standard=product.standard,
        producer_name=units["sampled_unit"],
        producer_code=(producer.credit_code or "") if producer else "",
        producer_address=units["sampled_address"],
        collected_at=sample.collected_at.astimezone(tz),
        lot_number=sample.lot_number,
        lot_size=sample.lot_size,
        submitted=f"{sample.submitted_x:.6f}, {sample.submitted_y:.6f}（{sample.declared_crs}）",
        lon=location.x,
        lat=location.y,
        gps_accuracy_m=sample.gps_accuracy_m,
        location_source=LOCATION_SOURCE_ZH.get(
            str(getattr(sample.location_source, "value", sample.location_source)), str(sample.location_source)
        ),
        county=f"{county['province_name']}{county['county_name']}" or "—",
        source=source_zh(sample.source),
        notes=sample.notes,
        plan=_plan_label(session, task),
        task=_task_label(task),
        inspectors=inspectors,
        origin=origin,
        origin_reason=reason,
        origin_details=details,
        area=area,
        quality=quality,
        quality_rule=rule,
        indicators=indicators,
        lab_results=lab,
        evidence=evidence,
        evidence_reasons=evidence_reasons,
        photos=stored_photos(session, sample.id),
        number=sample_number(str(sample.id), sample.collected_at),
        labelled_producer=units["labelled_producer"],
        labelled_address=units["labelled_address"],
        sampled_unit=units["sampled_unit"],
        sampled_address=units["sampled_address"],
        sampled_at=SAMPLED_AT_ZH.get(sampled_at, ""),
        specification=sample.specification or "",
        production_date=sample.production_date,
        conclusion=conclusion,
        conclusion_reason=conclusion_reason,
    )


def _indicator_value(item: dict[str, Any]) -> str:
    """The result used, in the limit's unit, with its censoring sign ('<0.05 mg/kg')."""
    if item.get("value") is None:
        return "无结果"
    reported = str(item.get("reported") or "")
    sign = reported[:1] if reported[:1] in ("<", ">") else ""
    unit = unit_zh(item.get("unit"))
    return f"{sign}{item['value']} {unit}".strip()


def _signed_distance(distance: float | None) -> str:
    if distance is None:
        return "—"
    side = "界内" if distance >= 0 else "界外"
    metres = abs(distance)
    return f"{side} {metres / 1000:.2f} 千米" if metres >= 1000 else f"{side} {metres:.0f} 米"


def _reported(result: LabResult) -> str:
    value = f"{result.censored or ''}{result.value.normalize():f} {unit_zh(result.unit)}"
    if result.uncertainty is not None:
        value += (
            f"（U = {result.uncertainty.normalize():f}"
            + (f"，k = {result.coverage_factor.normalize():f}" if result.coverage_factor is not None else "")
            + "）"
        )
    return value


def _plan_label(session: Session, task: PlanTask | None) -> str | None:
    if task is None:
        return None
    plan = session.get(Plan, task.plan_id)
    return f"{plan.title}（{plan.code}）" if plan else None


def _task_label(task: PlanTask | None) -> str | None:
    if task is None:
        return None
    return (
        f"第 {task.round_number} 轮，任务 {task.id}，"
        f"期限 {task.due_from:%Y-%m-%d} 至 {task.due_to:%Y-%m-%d}，"
        f"应抽 {task.units_to_take} 件（批量 {task.lot_size}，字码 {task.code_letter}）"
    )


__all__ = [
    "ORIGIN",
    "QUALITY",
    "IndicatorLine",
    "LabLine",
    "Person",
    "SampleRecordData",
    "find_sample",
    "gather_sample_record",
]
