"""The public results pages (公开结果): published plans, how to verify a draw, the notice of drawn targets and
their results. Open to everyone; business data of the targets only, no personal data."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ReadSessionDep
from api.pages.templating import render
from sampling.public import notice_csv, public_plan, published_plans

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/public", response_class=HTMLResponse)
def public_index(request: Request, session: ReadSessionDep) -> HTMLResponse:
    """Every published plan, newest first, with its state and commitment."""
    return render(request, "public_index.html", {"plans": published_plans(session)})


@router.get("/public/plans/{plan_id}", response_class=HTMLResponse)
def public_plan_page(plan_id: str, request: Request, session: ReadSessionDep) -> HTMLResponse:
    """One plan: its files and their hashes, the verification steps, the notice and the results."""
    return render(request, "public_plan.html", {"plan": public_plan(session, plan_id)})


@router.get("/public/plans/{plan_id}/notice.csv")
def public_notice_csv(plan_id: str, session: ReadSessionDep) -> Response:
    """The notice of a drawn plan as CSV (UTF-8 with BOM)."""
    plan = public_plan(session, plan_id)
    return Response(
        notice_csv(plan.notice),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''notice-{quote(plan.code)}.csv"},
    )
