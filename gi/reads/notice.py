"""The public results of a season (抽检结果公告): one row per sample with what may be published about it, the
per-product tallies with the one definition of the failure rate, and the plans it reports on. Read by the
notice PDF and the public pages; never written to.

Only final findings are published as 不合格: a position that may be an entry error, a boundary case, an
inconclusive or pending test are 待核实 (gi.reads.season.sample_result), with why in the remark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gi.models import Plan, PlanStatus, PlanTask, Sample, TaskResult, TaskStatus
from gi.reads.season import (
    ENTRY_ERROR_FLAGS,
    RESULT_FAIL,
    RESULT_PASS,
    RESULT_VERIFY,
    SeasonSummary,
    result_counts,
)
from gi.register.areas import find_product

RESULT_ORDER = {RESULT_FAIL: 0, RESULT_VERIFY: 1, RESULT_PASS: 2}


@dataclass(frozen=True)
class NoticeItem:
    """One non-conforming item of a sample: what, the required value and the result found."""

    name: str
    standard: str
    result: str


@dataclass(frozen=True)
class NoticeRow:
    """One sample as the notice publishes it (the columns of a 抽检结果公告)."""

    number: str
    labelled_producer: str
    labelled_address: str
    sampled_unit: str
    sampled_address: str
    credit_code: str
    product_name: str
    specification: str
    date_or_lot: str
    items: tuple[NoticeItem, ...]
    laboratory: str
    result: str  # 合格 | 不合格 | 待核实
    remark: str
    county_name: str
    sampled_on: date


@dataclass
class SeasonNotice:
    """What the public notice of a season prints."""

    rows: list[NoticeRow]
    tallies: pd.DataFrame  # gi.reads.season.result_counts
    planned_unsampled: int = 0  # planned targets with no sample and no recorded result yet
    not_operating: int = 0  # planned targets recorded as 未发现经营 (not found operating)
    plans: list[tuple[str, str]] = field(default_factory=list)

    def of(self, result: str) -> list[NoticeRow]:
        """The rows with this result, in notice order."""
        return [r for r in self.rows if r.result == result]


def _text(value: object) -> str:
    return (
        "—" if value is None or value == "" or (isinstance(value, float) and pd.isna(value)) else str(value)
    )


def _date_or_lot(production_date: object, lot: str) -> str:
    parts = []
    if isinstance(production_date, date):
        parts.append(f"{production_date:%Y-%m-%d}")
    if lot:
        parts.append(f"批号 {lot}")
    return "／".join(parts) or "—"


def _origin_item(row: pd.Series, product: str) -> NoticeItem:
    distance = row["distance_m"]
    found = (
        f"采样点位于保护范围外 {abs(float(distance)) / 1000:.1f} 千米"
        if distance is not None and not pd.isna(distance)
        else "采样点位于保护范围外"
    )
    return NoticeItem("产地（保护范围）", f"应在{product}地理标志产品保护范围内", found)


def _origin_remark(row: dict[str, object]) -> str:
    """Which version of the area the position was checked against."""
    version = row.get("area_version")
    if version is None or (isinstance(version, float) and pd.isna(version)):
        return "产地依采样定位核验"
    return f"产地依采样定位核验（保护范围第{int(float(str(version)))}版）"


def notice_rows(summary: SeasonSummary) -> list[NoticeRow]:
    """Every sample of the season as the notice publishes it: 不合格 first, then 待核实, then 合格."""
    rows: list[NoticeRow] = []
    for row in summary.samples.to_dict("records"):
        result, remark = row["result"], row["result_note"]
        items: list[NoticeItem] = []
        if row["origin"] == "outside" and not set(row["flags"] or ()) & ENTRY_ERROR_FLAGS:
            items.append(_origin_item(pd.Series(row), row["product_name"]))
        items += [NoticeItem(*item) for item in row["failed_items"]]
        if result == RESULT_FAIL and not items and not remark:
            remark = "特色品质指标不合格"
        if result == RESULT_FAIL and any(i.name.startswith("产地") for i in items):
            remark = "；".join(p for p in (remark, _origin_remark(row)) if p)
        rows.append(
            NoticeRow(
                number=row["number"],
                labelled_producer=_text(row["labelled_producer"]),
                labelled_address=_text(row["labelled_address"]),
                sampled_unit=_text(row["sampled_unit"]),
                sampled_address=_text(row["sampled_address"]),
                credit_code=_text(row["producer_code"]),
                product_name=row["product_name"],
                specification=_text(row["specification"]),
                date_or_lot=_date_or_lot(row["production_date"], row["lot_number"]),
                items=tuple(items) if result == RESULT_FAIL else (),
                laboratory=_text(row["laboratories"]),
                result=result,
                remark=remark,
                county_name=_text(row["county_name"]),
                sampled_on=row["collected_at"].date(),
            )
        )
    rows.sort(key=lambda r: (RESULT_ORDER.get(r.result, 9), r.product_name, r.sampled_on, r.number))
    return rows


def unsampled_targets(
    session: Session, start: date, end: date, product_ids: Sequence[int] = ()
) -> tuple[int, int]:
    """Of the season's planned targets with no sample: how many have no result yet, and how many were recorded
    as not found operating (未发现经营)."""
    sampled = select(Sample.task_id).where(Sample.task_id.is_not(None))
    query = (
        select(PlanTask.result, func.count())
        .join(Plan, Plan.id == PlanTask.plan_id)
        .where(
            Plan.status != PlanStatus.CANCELLED,
            PlanTask.status != TaskStatus.CANCELLED,
            PlanTask.due_from <= end,
            PlanTask.due_to >= start,
            PlanTask.id.not_in(sampled),
        )
        .group_by(PlanTask.result)
    )
    if product_ids:
        query = query.where(PlanTask.product_id.in_(list(product_ids)))
    counts = {result: int(n) for result, n in session.execute(query)}
    return counts.get(None, 0), counts.get(TaskResult.NOT_FOUND, 0)


def season_notice(session: Session, summary: SeasonSummary) -> SeasonNotice:
    """The public notice of ``summary``: its samples, tallies, the planned targets left and the plans."""
    ids = [find_product(session, code).id for code in summary.product_codes]
    unsampled, not_operating = unsampled_targets(session, summary.start, summary.end, ids)
    return build_notice(summary, unsampled, not_operating)


def build_notice(summary: SeasonSummary, planned_unsampled: int = 0, not_operating: int = 0) -> SeasonNotice:
    """The notice of ``summary`` (no database)."""
    return SeasonNotice(
        notice_rows(summary), result_counts(summary), planned_unsampled, not_operating, list(summary.plans)
    )
