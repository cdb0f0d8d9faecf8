"""The public notice of the targets drawn (抽查对象公示) — no personal data of inspectors — completed with the
results as they are recorded, and the internal work list (tasks with their inspectors) as CSV and Excel."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gi.models import TASK_RESULT_ZH, Plan, PlanTask
from sampling.planning import tasks_of_plan
from sampling.rng import TICKS

NOTICE_COLUMNS = (
    ("round", "轮次"),
    ("due", "检查期限"),
    ("product", "地理标志产品"),
    ("target", "检查对象"),
    ("credit_code", "统一社会信用代码"),
    ("county", "所在县（市、区）代码"),
    ("kind", "类型"),
    ("season", "季节"),
    ("lot_sample", "抽样（GB/T 2828.1）"),
    ("result", "检查结果"),
    ("result_date", "结果日期"),
)
KIND_ZH = {"producer": "专用标志使用人", "market_outlet": "市场经营者"}
SEASON_ZH = {"peak": "旺季", "regular": "常规", "off_season": "淡季"}


def notice_rows(tasks: list[PlanTask]) -> list[dict[str, Any]]:
    """One row per drawn target; the result columns stay '待检查' until a result is recorded."""
    rows = []
    for t in tasks:
        rows.append(
            {
                "round": t.round_number,
                "due": f"{t.due_from:%Y-%m-%d} 至 {t.due_to:%Y-%m-%d}",
                "product": t.product.name_zh,
                "target": t.producer.name
                + ("（合成数据）" if t.producer.synthetic and "合成" not in t.producer.name else ""),
                "credit_code": t.producer.credit_code,
                "county": t.county_code,
                "kind": KIND_ZH.get(t.producer.kind, t.producer.kind),
                "season": SEASON_ZH.get(t.season_kind, t.season_kind),
                "lot_sample": f"{t.code_letter}: {t.units_to_take} / {t.lot_size}（{t.inspection_level}）",
                "result": TASK_RESULT_ZH[t.result] if t.result else "待检查",
                "result_date": f"{t.result_recorded_at:%Y-%m-%d}" if t.result_recorded_at else "",
            }
        )
    return rows


def write_notice(session: Session, plan: Plan, directory: Path) -> list[Path]:
    """Write ``notice.csv`` (UTF-8 with BOM, opens in Excel) and ``notice.md`` of the drawn targets."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = notice_rows(tasks_of_plan(session, plan.id))
    csv_path = directory / "notice.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([zh for _, zh in NOTICE_COLUMNS])
        for r in rows:
            writer.writerow([r[key] for key, _ in NOTICE_COLUMNS])
    done = sum(1 for r in rows if r["result"] != "待检查")
    c = plan.commitment
    lines = [
        f"# {plan.title}",
        "",
        f"双随机、一公开 抽查对象公示 — 计划 {plan.code}，{plan.period_from:%Y-%m-%d} 至 {plan.period_to:%Y-%m-%d}，"
        f"共 {len(rows)} 个检查对象，已公布结果 {done} 个。",
        "",
        f"承诺值 (commitment SHA-256): `{c.commitment_sha256 if c else ''}`  ",
        f"公开随机数 (public value): `{c.public_value if c else ''}` "
        f"{(c.public_value_source or '') if c else ''}  ",
        "任何人可用公开文件复核本次抽取：`gi plan verify <目录>`。检查人员信息不予公示。",
        "",
        "| " + " | ".join(zh for _, zh in NOTICE_COLUMNS) + " |",
        "|" + "---|" * len(NOTICE_COLUMNS),
    ]
    lines += ["| " + " | ".join(str(r[key]) for key, _ in NOTICE_COLUMNS) + " |" for r in rows]
    md_path = directory / "notice.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [csv_path, md_path]


WORKLIST_COLUMNS = (
    "task_id",
    "round",
    "order",
    "due_from",
    "due_to",
    "product",
    "producer_id",
    "producer",
    "credit_code",
    "county",
    "kind",
    "season",
    "inclusion_probability",
    "risk_weight",
    "risk_factors",
    "level",
    "lot_size",
    "code_letter",
    "units_to_take",
    "inspector_codes",
    "inspectors",
    "status",
    "result",
)


def worklist_rows(tasks: list[PlanTask]) -> list[dict[str, Any]]:
    """Internal work list: every task with its inspectors (names included — not for publication)."""
    return [
        {
            "task_id": t.id,
            "round": t.round_number,
            "order": t.draw_order,
            "due_from": t.due_from.isoformat(),
            "due_to": t.due_to.isoformat(),
            "product": t.product.code,
            "producer_id": t.producer_id,
            "producer": t.producer.name,
            "credit_code": t.producer.credit_code,
            "county": t.county_code,
            "kind": t.producer.kind,
            "season": t.season_kind,
            "inclusion_probability": round(t.inclusion_probability, 6),
            "pi_ticks": round(t.inclusion_probability * TICKS),
            "risk_weight": t.risk_weight,
            "risk_factors": ",".join(k for k, v in sorted(t.risk_factors.items()) if v),
            "level": t.inspection_level,
            "lot_size": t.lot_size,
            "code_letter": t.code_letter,
            "units_to_take": t.units_to_take,
            "inspector_codes": " ".join(a.inspector.code for a in t.assignments),
            "inspectors": "、".join(a.inspector.name for a in t.assignments),
            "status": t.status.value,
            "result": t.result.value if t.result else "",
        }
        for t in tasks
    ]


def write_worklist(session: Session, plan: Plan, directory: Path) -> list[Path]:
    """Write ``tasks.csv`` and ``tasks.xlsx`` (internal: includes inspectors' names)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    directory.mkdir(parents=True, exist_ok=True)
    rows = worklist_rows(tasks_of_plan(session, plan.id))
    csv_path = directory / "tasks.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(WORKLIST_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "tasks"
    sheet.append(list(WORKLIST_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        sheet.append([r[k] for k in WORKLIST_COLUMNS])
    sheet.freeze_panes = "A2"
    notice = book.create_sheet("notice 公示")
    notice.append([zh for _, zh in NOTICE_COLUMNS])
    for r in notice_rows(tasks_of_plan(session, plan.id)):
        notice.append([r[key] for key, _ in NOTICE_COLUMNS])
    xlsx_path = directory / "tasks.xlsx"
    book.save(xlsx_path)
    return [csv_path, xlsx_path]
