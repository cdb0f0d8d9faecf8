"""Seal labels as an endpoint: a supervisor registers the seal codes of a plan's tasks and downloads the sheet."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import ScopeDep, SessionDep
from gi.field.seals import issue_seal_codes
from reports.labels import label_sheet_pdf
from sampling.planning import find_plan

router = APIRouter(tags=["plans"])


@router.post(
    "/plans/{plan_id}/labels",
    summary="Register the seal codes of a plan's tasks and print their QR labels (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "A4 sheets of 14 labels"}},
)
def seal_labels(
    plan_id: str,
    session: SessionDep,
    scope: ScopeDep,
    task: Annotated[list[int] | None, Query(description="Only these tasks (repeatable)")] = None,
) -> Response:
    """One label per task and unit to be taken, in the caller's region; a reprint shows the same codes."""
    plan = find_plan(session, plan_id)
    labels = issue_seal_codes(session, plan, task or None, None if scope.everything else scope.regions)
    session.commit()  # the codes are registered before any label exists
    pdf = label_sheet_pdf(labels, f"封样标签 · 计划 {plan.code}")
    filename = quote(f"{plan.code}-labels.pdf")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
