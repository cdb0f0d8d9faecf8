"""Upload jobs: a sample file stored chunk by chunk in the background, its progress readable while it runs.

A job row is committed before the work starts; the runner updates it in short transactions of its own (at most
twice a second, and after every committed chunk), so a reader sees rows processed and stored as they are
committed. A job whose process died is reported as interrupted: re-submitting the file is safe, because rows
without a UUID get one derived from their content and stored rows are recognised.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from gi.errors import NotFoundError, classify
from gi.models import JobStatus, UploadJob
from gi.settings import Settings

MAX_PROBLEMS = 200


def runner_id() -> str:
    """This process, as a job's runner."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_job(session: Session, kind: str, filename: str, sha256: str, user_id: int | None) -> UploadJob:
    """A queued job (the caller commits it before starting the work)."""
    job = UploadJob(
        kind=kind, filename=filename, file_sha256=sha256, user_id=user_id, status=JobStatus.QUEUED
    )
    session.add(job)
    session.flush()
    return job


def find_job(session: Session, job_id: uuid.UUID, user_id: int | None, everything: bool) -> UploadJob:
    """A job its submitter (or staff, ``everything``) may read; NotFoundError naming ``job_id`` otherwise."""
    job = session.get(UploadJob, job_id)
    if job is None or not (everything or job.user_id == user_id):
        raise NotFoundError(f"job_id: no job {job_id}", field="job_id")
    if job.status in (JobStatus.RUNNING, JobStatus.QUEUED) and _dead(job.runner):
        job.status = JobStatus.FAILED
        job.error = (
            "interrupted: the service stopped while it ran; submit the file again (nothing is stored twice)"
        )
        job.finished_at = datetime.now(UTC)
        session.flush()
    return job


def _dead(runner: str | None) -> bool:
    if not runner or ":" not in runner:
        return False
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _update(engine: Engine, job_id: uuid.UUID, **values: Any) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(UploadJob).where(UploadJob.id == job_id).values(**values))


def run_sample_file_job(
    engine: Engine, job_id: uuid.UUID, path: Path, crs: str | None = None, settings: Settings | None = None
) -> None:
    """Store the samples of ``path`` (chunk by chunk, each committed) and keep the job row up to date."""
    from gi.origin.batch import BatchRow, RowStatus
    from gi.origin.files import check_sample_file

    _update(engine, job_id, status=JobStatus.RUNNING, started_at=datetime.now(UTC), runner=runner_id())
    counts = {"processed": 0, "stored": 0, "already_stored": 0, "refused": 0}
    problems: list[dict[str, Any]] = []
    last = 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= 0.5:
            last = now
            _update(engine, job_id, total=total or None)

    def on_rows(rows: Sequence[BatchRow]) -> None:
        for r in rows:
            counts["processed"] += 1
            if r.status is RowStatus.STORED:
                counts["stored"] += 1
            elif r.status is RowStatus.ALREADY_STORED:
                counts["already_stored"] += 1
            else:
                counts["refused"] += 1
                if len(problems) < MAX_PROBLEMS:
                    problems.append(
                        {"row": r.row, "status": r.status.value, "field": r.field, "problem": r.problem}
                    )
        _update(engine, job_id, problems=list(problems), **counts)

    try:
        with engine.connect() as conn:
            check_sample_file(conn, path, crs=crs, progress=progress, on_rows=on_rows, settings=settings)
    except BaseException as exc:
        problem = classify(exc)
        _update(engine, job_id, status=JobStatus.FAILED, error=problem.message, finished_at=datetime.now(UTC))
        if not isinstance(exc, Exception):
            raise
        return
    finally:
        path.unlink(missing_ok=True)
    _update(
        engine,
        job_id,
        status=JobStatus.DONE,
        total=counts["processed"],
        finished_at=datetime.now(UTC),
        problems=list(problems),
        **counts,
    )


def jobs_of(session: Session, user_id: int, limit: int = 50) -> list[UploadJob]:
    """A user's latest jobs."""
    return list(
        session.scalars(
            select(UploadJob)
            .where(UploadJob.user_id == user_id)
            .order_by(UploadJob.created_at.desc())
            .limit(limit)
        )
    )
