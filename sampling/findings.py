"""A plan's task results from the final findings of its samples (完成公示): what the public notice of the plan
shows once a season's samples are judged.

A task's result is recorded only from a final finding, the one the season's notice publishes
(``gi.reads.season.sample_result``): 不合格 when any sample of the task is (a test failed, or a position outside
the area that is not a possible entry error), 合格 when every sample passed origin and quality. A task with a
sample still to verify (待核实: a boundary case, an inconclusive or pending test, a position that may be an
entry error) stays open, as does a task with no sample; a result recorded already (by an inspector or an
earlier run) is kept. So the command can run again whenever more findings become final.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi import clock
from gi.accounts.scope import Scope
from gi.models import PlanTask, TaskResult
from gi.reads.season import ENTRY_ERROR_FLAGS, RESULT_FAIL, RESULT_PASS, origin_reason, season_samples
from gi.settings import get_settings
from sampling.planning import find_plan, record_result
from sampling.tasks import scoped

CONFORMING_NOTE = "产地核验与特色品质检验均合格"


@dataclass
class FindingsRecorded:
    """What recording a plan's findings did, task by task."""

    plan_code: str
    recorded: Counter[str] = field(default_factory=Counter)  # TaskResult value -> tasks recorded now
    to_verify: int = 0  # sampled tasks whose finding is not final (待核实): left open
    unsampled: int = 0  # tasks without any sample: left open
    kept: int = 0  # tasks that had a result already: unchanged

    @property
    def total_recorded(self) -> int:
        """Tasks whose result this run recorded."""
        return sum(self.recorded.values())


def _failure_note(row: dict, tolerance_m: float) -> str:
    """The public note of a non-conforming task: every final ground of the sample, the failed indicators and
    a position outside the area (not one that may be an entry error), as the season's notice lists them."""
    grounds = []
    if row["quality"] == "fail" and row["quality_reason"]:
        grounds.append(f"特色品质：{row['quality_reason']}")
    if row["origin"] == "outside" and not set(row.get("flags") or ()) & ENTRY_ERROR_FLAGS:
        grounds.append(f"产地：{origin_reason(row, tolerance_m)}")
    return "；".join(grounds) or f"产地：{origin_reason(row, tolerance_m)}"


def record_findings(session: Session, plan_key: str | int, scope: Scope | None = None) -> FindingsRecorded:
    """Record the result of every open task of a drawn plan (those ``scope`` may see, when given) whose
    samples have a final finding."""
    plan = find_plan(session, plan_key)
    tolerance_m = get_settings().boundary_tolerance_m
    report = FindingsRecorded(plan.code)
    query = select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.id)
    tasks = list(session.scalars(scoped(query, scope) if scope is not None else query))
    if not tasks:
        return report
    # Samples are collected in the plan's period, or late, but never after today.
    end = max(plan.period_to, clock.today())
    frame = season_samples(session, plan.period_from, end, plan_id=plan.id)
    ids = {t.id for t in tasks}
    rows_by_task: dict[int, list[dict]] = {}
    for row in frame.to_dict("records"):
        task_id = row["task_id"]
        if task_id is not None and task_id == task_id and int(task_id) in ids:  # <NA> is not equal to itself
            rows_by_task.setdefault(int(task_id), []).append(row)
    for task in tasks:
        if task.result is not None:
            report.kept += 1
            continue
        rows = sorted(rows_by_task.get(task.id, []), key=lambda r: r["collected_at"])
        if not rows:
            report.unsampled += 1
            continue
        failed = [r for r in rows if r["result"] == RESULT_FAIL]
        if failed:
            record_result(session, task.id, TaskResult.NONCONFORMING, _failure_note(failed[0], tolerance_m))
            report.recorded[TaskResult.NONCONFORMING.value] += 1
        elif all(r["result"] == RESULT_PASS for r in rows):
            record_result(session, task.id, TaskResult.CONFORMING, CONFORMING_NOTE)
            report.recorded[TaskResult.CONFORMING.value] += 1
        else:
            report.to_verify += 1
    return report
