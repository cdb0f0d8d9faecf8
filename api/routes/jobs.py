"""Batch uploads of sample files as job resources: submit (202 with a Location), then read the progress."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile
from pydantic import BaseModel

from api.deps import CurrentUser, SessionDep, SettingsDep
from gi.errors import InputError, TooLargeError
from gi.jobs import create_job, find_job, run_sample_file_job
from gi.models import Role, UploadJob

router = APIRouter(tags=["jobs"])
SAMPLE_FILE_SUFFIXES = {".csv", ".xlsx", ".geojson", ".json"}


class JobOut(BaseModel):
    """An upload job: where it is, how far, what was stored and refused (with the rows' problems)."""

    id: uuid.UUID
    kind: str
    status: str
    filename: str
    file_sha256: str
    total: int | None
    processed: int
    stored: int
    already_stored: int
    refused: int
    problems: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    href: str


def _job_out(request: Request, job: UploadJob) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status.value,
        filename=job.filename,
        file_sha256=job.file_sha256,
        total=job.total,
        processed=job.processed,
        stored=job.stored,
        already_stored=job.already_stored,
        refused=job.refused,
        problems=list(job.problems or []),
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        href=f"{request.base_url}jobs/{job.id}",
    )


@router.post(
    "/jobs/samples",
    summary="Submit a sample file (CSV, xlsx or GeoJSON) to be stored in the background",
    status_code=202,
    response_model=JobOut,
)
def submit_sample_file(
    file: Annotated[UploadFile, File(description="a sample file as `gi check` reads it")],
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    crs: Annotated[str | None, Form(max_length=40, description="coordinate system of the file")] = None,
) -> JobOut:
    """Answer 202 at once with the job's URL; rows are stored chunk by chunk (each committed) while it runs."""
    name = FilePath(file.filename or "samples.csv").name
    suffix = FilePath(name).suffix.lower()
    if suffix not in SAMPLE_FILE_SUFFIXES:
        raise InputError("file", f"{name}: send a .csv, .xlsx or .geojson file")
    if file.size is not None and file.size > settings.api_max_request_bytes:
        raise TooLargeError("file", f"larger than {settings.api_max_request_bytes} bytes")
    job_id = uuid.uuid4()
    folder = settings.media_dir / "jobs" / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    digest = hashlib.sha256()
    with path.open("wb") as out:
        while chunk := file.file.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    job = create_job(session, "samples", name, digest.hexdigest(), user.user_id)
    job.id = job_id
    session.commit()
    engine = session.get_bind()
    thread = threading.Thread(
        target=run_sample_file_job,
        args=(engine, job_id, path, crs, settings),
        name=f"gi-job-{job_id}",
        daemon=True,
    )
    thread.start()
    response.headers["Location"] = f"{request.base_url}jobs/{job_id}"
    return _job_out(request, job)


@router.get("/jobs/{job_id}", summary="An upload job's progress and outcome", response_model=JobOut)
def job(
    job_id: Annotated[uuid.UUID, Path()], request: Request, session: SessionDep, user: CurrentUser
) -> JobOut:
    """Your job (administrators: any job): status, rows processed, stored, refused, and the rows' problems."""
    found = find_job(session, job_id, user.user_id, user.role is Role.ADMIN)
    session.commit()
    return _job_out(request, found)
