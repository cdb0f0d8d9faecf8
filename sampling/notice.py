"""The public notice of the targets drawn (抽查对象公示) — no personal data of inspectors — completed with the
results as they are recorded, and the internal work list (tasks with their inspectors) as CSV and Excel."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.models import Plan, PlanTask
from sampling.planning import published_documents, tasks_of_plan
from sampling.published import (
    FRAME_FILE,
    NOTICE_COLUMNS,
    NOTICE_CSV,
    NOTICE_MD,
    PARAMETERS_FILE,
    RESULTS_FILE,
    SELECTION_FILE,
)
from sampling.published import notice_rows as published_notice_rows
from sampling.rng import TICKS


def notice_rows(session: Session, plan: Plan) -> list[dict[str, str]]:
    """The rows of the plan's public notice as published (one per drawn target, results so far)."""
    docs = published_documents(session, plan)
    if NOTICE_CSV not in docs or SELECTION_FILE not in docs:
        return []
    return published_notice_rows(
        json.loads(docs[FRAME_FILE]),
        json.loads(docs[PARAMETERS_FILE]),
        json.loads(docs[SELECTION_FILE]),
        json.loads(docs[RESULTS_FILE]),
    )


def write_notice(session: Session, plan: Plan, directory: Path) -> list[Path]:
    """Write ``notice.csv`` (UTF-8 with BOM, opens in Excel), ``notice.md`` and the ``results.json`` they show,
    as published (the three change together when a result is recorded)."""
    docs = published_documents(session, plan)
    if NOTICE_CSV not in docs:
        raise InputError("plan", f"{plan.code} has not been drawn yet: there is no notice")
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name in (RESULTS_FILE, NOTICE_CSV, NOTICE_MD):
        if name in docs:
            partial = directory / f".{name}.partial"
            partial.write_bytes(docs[name])
            partial.replace(directory / name)
            out.append(directory / name)
    return out


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
    for r in notice_rows(session, plan):
        notice.append([r[key] for key, _ in NOTICE_COLUMNS])
    xlsx_path = directory / "tasks.xlsx"
    book.save(xlsx_path)
    return [csv_path, xlsx_path]
