"""The public results of a season (抽检结果公告): one entry per inspected target and product, with what may be
published about it. Read by the notice PDF and the public pages; never written to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data import admin
from gi.models import TASK_RESULT_ZH, GIProduct, Plan, PlanStatus, PlanTask, Producer, Sample, TaskStatus
from gi.reads.season import SeasonSummary
from gi.register.areas import find_product


@dataclass(frozen=True)
class NoticeEntry:
    """One inspected target on the public notice: a firm (or market sampling in a county) and its result."""

    target: str
    credit_code: str
    product_name: str
    county_name: str
    samples: int
    sampled_on: date | None
    result: str  # 合格 | 不合格 | 待定 | 无法判定 | 未发现经营
    items: str  # the non-conforming items, in words


# Origin flags that make a position itself doubtful (gi.origin.rule).
SUSPECT_POSITION = {"swapped_lat_lon", "outside_china", "null_island", "crs_implausible"}

RESULT_ORDER = {"不合格": 0, "待定": 1, "无法判定": 2, "未发现经营": 3, "合格": 4}


def _sample_items(group: pd.DataFrame, tolerance_m: float) -> tuple[str, str]:
    """Result and non-conforming items of a target from its samples."""
    items: list[str] = []
    outside = group[group["origin"] == "outside"]
    failed = group[group["quality"] == "fail"]
    if len(outside):
        # A swapped or foreign position is "outside" by thousands of kilometres: a data error, not a distance.
        suspect = outside["flags"].map(lambda f: bool(set(f or ()) & SUSPECT_POSITION))
        plausible = outside.loc[~suspect, "distance_m"]
        if len(plausible) and plausible.notna().any():
            items.append(f"产地不符（采样点位于保护范围外 {abs(plausible.min()) / 1000:.1f} 千米）")
        elif suspect.any():
            items.append("产地不符（采样坐标异常：经纬度疑似颠倒或位于境外，需核实）")
        else:
            items.append("产地不符（采样点位于保护范围外）")
    for reason in dict.fromkeys(r for r in failed["quality_reason"] if r):
        items.append(reason)
    if len(failed) and not any(failed["quality_reason"]):
        items.append("特色品质指标不合格")
    if items:
        bad = int((group["origin"].eq("outside") | group["quality"].eq("fail")).sum())
        share = f"（{bad}/{len(group)} 批次不合格）" if len(group) > 1 else ""
        return "不合格", "；".join(items) + share
    pending = group["origin"].isin(["uncertain", "unchecked"]) | group["quality"].isin(
        ["pending", "inconclusive"]
    )
    if pending.any():
        return "待定", "结果待复核或检验中"
    return "合格", ""


def notice_entries(
    summary: SeasonSummary,
    task_results: dict[int, str] | None = None,
    planned_targets: Sequence[NoticeEntry] = (),
) -> list[NoticeEntry]:
    """The targets of the season and their results: per producer and product (market samples per county),
    with a recorded task result taking precedence; planned targets not yet sampled are listed as 待定."""
    frame = summary.samples
    entries: list[NoticeEntry] = []
    if len(frame):
        keyed = frame.assign(
            target=frame["producer_name"].where(frame["producer_name"] != "", "市场抽样"),
            county_key=frame["county_name"].where(frame["producer_name"] == "", ""),
        )
        for (target, credit, product, county_key), group in keyed.groupby(
            ["target", "producer_code", "product_name", "county_key"], sort=False
        ):
            result, items = _sample_items(group, summary.tolerance_m)
            known = task_results or {}
            recorded = [known[t] for t in group["task_id"].dropna().unique() if t in known]
            if recorded:
                result = min(recorded, key=lambda r: RESULT_ORDER.get(r, 9))
            counties = group["county_name"].replace("", pd.NA).dropna()
            county = county_key or (counties.mode().iloc[0] if len(counties) else "—")
            name = f"市场抽样（{county}）" if target == "市场抽样" else target
            entries.append(
                NoticeEntry(
                    name,
                    credit,
                    product,
                    county,
                    len(group),
                    min(group["collected_at"]).date(),
                    result,
                    items,
                )
            )
    sampled = {(e.target, e.product_name) for e in entries}
    entries += [e for e in planned_targets if (e.target, e.product_name) not in sampled]
    entries.sort(key=lambda e: (RESULT_ORDER.get(e.result, 9), e.product_name, e.county_name, e.target))
    return entries


def season_task_results(
    session: Session, start: date, end: date, product_ids: Sequence[int] = ()
) -> tuple[dict[int, str], list[NoticeEntry]]:
    """Recorded results of the season's plan tasks (task id -> 合格/不合格/…), and the planned targets with no
    sample yet (as 待定 entries, or with their recorded result such as 未发现经营)."""
    names = admin.county_parts()
    query = (
        select(PlanTask, Producer.name, Producer.credit_code, GIProduct.name_zh)
        .join(Plan, Plan.id == PlanTask.plan_id)
        .join(Producer, Producer.id == PlanTask.producer_id)
        .join(GIProduct, GIProduct.id == PlanTask.product_id)
        .where(
            Plan.status != PlanStatus.CANCELLED,
            PlanTask.status != TaskStatus.CANCELLED,
            PlanTask.due_from <= end,
            PlanTask.due_to >= start,
        )
    )
    if product_ids:
        query = query.where(PlanTask.product_id.in_(list(product_ids)))
    sampled_tasks = set(session.scalars(select(Sample.task_id).where(Sample.task_id.is_not(None)).distinct()))
    results: dict[int, str] = {}
    unsampled: list[NoticeEntry] = []
    for task, producer, credit, product in session.execute(query):
        if task.result is not None:
            results[task.id] = TASK_RESULT_ZH.get(task.result, str(task.result))
        if task.id not in sampled_tasks:
            result = results.get(task.id, "待定")
            unsampled.append(
                NoticeEntry(
                    producer,
                    credit or "",
                    product,
                    names.get(task.county_code, ("", "—"))[1],
                    0,
                    None,
                    result,
                    task.result_note or ("尚未抽样" if result == "待定" else ""),
                )
            )
    return results, unsampled


def season_notice(session: Session, summary: SeasonSummary) -> list[NoticeEntry]:
    """The notice's targets: the season's samples, plus its plans' recorded results and unsampled targets."""
    ids = [find_product(session, code).id for code in summary.product_codes]
    results, unsampled = season_task_results(session, summary.start, summary.end, ids)
    return notice_entries(summary, results, unsampled)
