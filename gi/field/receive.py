"""A sample arriving from the field, by either door (a JSON upload or an ODK submission), taken in one way.

:func:`receive_sample` checks the task against the inspector who sends it, records the sample through the one
intake (:func:`gi.origin.intake.record_sample`) and claims the seal codes scanned on its sealed units. The task
becomes ``sampled`` when the sample is stored (a trigger on ``sample``, so sample files do it too). Photos go to
the one photo store (:func:`gi.origin.photos.attach_photo`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.field.seals import claim_seal_codes, sample_seal_codes
from gi.models import PlanTask, TaskInspector, TaskStatus
from gi.origin.intake import RecordedSample, record_sample, record_samples_together
from gi.settings import Settings


@dataclass(frozen=True)
class Submitter:
    """Who sends a sample: the signed-in account, and his inspectors' directory entry when he has one."""

    username: str
    inspector_id: int | None = None
    inspector_code: str | None = None


@dataclass(frozen=True)
class ReceivedSample:
    """The recorded sample (and its verdict) and the seal codes it carries."""

    recorded: RecordedSample
    seal_codes: list[str]


def check_task(session: Session, task_id: int, submitter: Submitter, field: str = "task") -> PlanTask:
    """The task a sample is sent for: it exists, is assigned to the sending inspector, and still takes samples."""
    task = session.get(PlanTask, task_id)
    if task is None:
        raise InputError(field, f"there is no task {task_id}: refresh the form's task list (获取空白表单)")
    if submitter.inspector_id is not None:
        assigned = session.scalar(
            select(TaskInspector.task_id).where(
                TaskInspector.task_id == task_id, TaskInspector.inspector_id == submitter.inspector_id
            )
        )
        if assigned is None:
            raise InputError(field, f"task {task_id} is not assigned to {submitter.username}")
    if task.status in (TaskStatus.CANCELLED, TaskStatus.COMPLETED):
        raise InputError(field, f"task {task_id} is {task.status.value}: it takes no more samples")
    return task


class Submission(NamedTuple):
    """One sample as it arrives: its fields, who sends it, and the seal codes scanned on its sealed units."""

    fields: Mapping[str, Any]
    submitter: Submitter
    seal_codes: Sequence[str] = ()


def _known_inspector(submitter: Submitter) -> dict[str, int] | None:
    """The sending inspector's code and id, already resolved, so the intake does not look them up again."""
    if submitter.inspector_code and submitter.inspector_id is not None:
        return {submitter.inspector_code: submitter.inspector_id}
    return None


def _with_seals(fields: Mapping[str, Any], seal_codes: Sequence[str]) -> Mapping[str, Any]:
    if seal_codes and not fields.get("seal_code"):
        # The sample records the codes it carries, as a sample file's seal column does (the intake checks them).
        return {**fields, "seal_code": ", ".join(seal_codes)}
    return fields


def _seal_codes_of(
    session: Session, recorded: RecordedSample, submission: Submission, seals_required: bool = False
) -> list[str]:
    """Claim the scanned codes for the recorded sample (again, harmlessly, on a retry); the codes it carries."""
    if submission.seal_codes or seals_required:
        return claim_seal_codes(
            session, submission.seal_codes, submission.fields.get("task_id"), recorded.sample_id
        )
    if not recorded.created:
        return sample_seal_codes(session, recorded.sample_id)
    return []


def receive_sample(
    session: Session,
    fields: Mapping[str, Any],
    submitter: Submitter,
    seal_codes: Sequence[str] = (),
    settings: Settings | None = None,
    seals_required: bool = False,
    task_field: str = "task_id",
) -> ReceivedSample:
    """Check the task, record the sample with its verdict and claim its seal codes, in the caller's transaction.

    A retried submission (same UUID, same content) claims the same codes again, which changes nothing.
    """
    task_id = fields.get("task_id")
    if task_id is not None:
        check_task(session, int(task_id), submitter, task_field)
    recorded = record_sample(
        session,
        _with_seals(fields, seal_codes),
        actor=submitter.username,
        settings=settings,
        inspector_ids=_known_inspector(submitter),
    )
    return ReceivedSample(
        recorded, _seal_codes_of(session, recorded, Submission(fields, submitter, seal_codes), seals_required)
    )


def receive_samples_together(
    session: Session, submissions: Sequence[Submission], settings: Settings | None = None
) -> list[ReceivedSample]:
    """:func:`receive_sample` for samples that arrive together, stored as one group in the caller's transaction
    (:func:`gi.origin.intake.record_samples_together`): all or none. Any one's problem raises; the caller then
    rolls back and receives each alone, so that each gets its own answer. The caller's transaction records one
    actor, so the submissions are those of one account."""
    known: dict[str, int] = {}
    for submission in submissions:
        task_id = submission.fields.get("task_id")
        if task_id is not None:
            check_task(session, int(task_id), submission.submitter, "task_id")
        known.update(_known_inspector(submission.submitter) or {})
    recorded = record_samples_together(
        session, [_with_seals(s.fields, s.seal_codes) for s in submissions], settings, known or None
    )
    return [
        ReceivedSample(r, _seal_codes_of(session, r, s)) for r, s in zip(recorded, submissions, strict=True)
    ]
