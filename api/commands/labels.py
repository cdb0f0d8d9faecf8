"""`gi labels PLAN`: register the seal codes of a plan's tasks and print them as a sheet of QR labels (PDF)."""

from __future__ import annotations

from pathlib import Path

import typer

from api.console import console, working
from gi.db import session_scope


def labels(
    plan: str = typer.Argument(..., help="Plan code or id."),
    task: list[int] = typer.Option(None, "--task", "-t", help="Only this task (repeatable)."),
    out: Path = typer.Option(None, "--out", "-o", help="PDF path (default: out/labels/PLAN-labels.pdf)."),
) -> None:
    """Register a seal code per task and unit to be taken, then write the label sheet (reprints keep the codes)."""
    from gi.field.seals import issue_seal_codes
    from gi.settings import get_settings
    from reports.labels import write_label_sheet
    from sampling.planning import find_plan

    with working("registering the seal codes") as step:
        with session_scope() as session:
            found = find_plan(session, plan)
            plan_code = found.code
            sheet = issue_seal_codes(session, found, task or None)
        # The codes are committed before the sheet exists: a printed code is always a registered one.
        path = out or get_settings().output_dir / "labels" / f"{plan_code}-labels.pdf"
        step(f"drawing {len(sheet)} labels")
        write_label_sheet(sheet, path, title=f"封样标签 · 计划 {plan_code}")
    tasks = len({label.task_id for label in sheet})
    used = sum(label.used for label in sheet)
    note = f", {used} already used by samples" if used else ""
    console.print(f"{len(sheet)} seal labels for {tasks} tasks of plan {plan_code}{note}\nwrote {path}")
