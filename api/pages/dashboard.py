"""The supervisor dashboard (监管看板): the season of his region (coverage, verdicts, non-conformities, the draw's
verification), each non-conformity's inspection record, and the report, notice and record downloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import ReadSessionDep, ScopeDep
from api.pages.templating import render
from gi.origin.photos import photo_file, photos_of, sniff_photo
from reports.data import gather_sample_record
from reports.downloads import Download, sample_record_pdf, season_notice_pdf, season_report_pdf
from sampling.dashboard import (
    ORIGIN_ZH,
    QUALITY_ZH,
    choose_season,
    sample_conclusion,
    sample_in_scope,
    supervisor_dashboard,
)

router = APIRouter(tags=["pages"], include_in_schema=False)

BROWSER_IMAGES = ("image/jpeg", "image/png", "image/webp")  # TIFF is offered as a download only
PlanQuery = Annotated[str | None, Query(alias="plan", max_length=64)]
FromQuery = Annotated[date | None, Query(alias="from")]
ToQuery = Annotated[date | None, Query(alias="to")]


def _pdf(download: Download) -> Response:
    return Response(
        download.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(download.filename)}",
            "X-Report-Id": download.report_id,
            "Cache-Control": "no-store",
        },
    )


def _season_query(plan: str | None, start: date | None, end: date | None) -> str:
    parts = [f"plan={quote(plan)}"] if plan else []
    if start and end:
        parts += [f"from={start}", f"to={end}"]
    return "&".join(parts)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: ReadSessionDep,
    scope: ScopeDep,
    plan: PlanQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
) -> HTMLResponse:
    """The season of the caller's region: coverage, verdict counts, non-conformities, the draw's verification."""
    board = supervisor_dashboard(session, scope, plan or None, start, end)
    query = _season_query(board.season.plan_code, start, end)
    return render(
        request,
        "dashboard.html",
        {"board": board, "query": query, "origin_zh": ORIGIN_ZH, "quality_zh": QUALITY_ZH},
    )


@router.get("/dashboard/samples/{sample_id}", response_class=HTMLResponse)
def sample_page(sample_id: str, request: Request, session: ReadSessionDep, scope: ScopeDep) -> HTMLResponse:
    """One sample's inspection record: position, verdicts with their reasons, the published conclusion, lab
    results, inspectors and the stored photos."""
    found = sample_in_scope(session, scope, sample_id)
    record = gather_sample_record(session, str(found))
    # The record's photos (captions as the PDF prints them) in the order stored, with the hash that names each.
    stored = photos_of(session, found)
    photos = [
        (p.sha256, p.media_type in BROWSER_IMAGES, shown.caption)
        for p, shown in zip(stored, record.photos, strict=False)
    ]
    conclusion = sample_conclusion(session, found)
    return render(request, "record.html", {"record": record, "photos": photos, "conclusion": conclusion})


@router.get("/dashboard/samples/{sample_id}/photos/{sha256}")
def sample_photo(
    sample_id: str,
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    session: ReadSessionDep,
    scope: ScopeDep,
) -> FileResponse:
    """A photo stored with the sample, for whoever may see the sample (the page's session, unlike the API's
    ``/samples/{id}/photos/{sha256}``, which wants a bearer token)."""
    path = photo_file(session, sample_in_scope(session, scope, sample_id), sha256)
    return FileResponse(
        path,
        media_type=sniff_photo(path.read_bytes()),
        # named by its content: the same address is always the same bytes
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )


@router.get("/dashboard/samples/{sample_id}/record.pdf")
def sample_record_download(sample_id: str, session: ReadSessionDep, scope: ScopeDep) -> Response:
    """The inspection record as PDF (抽样检验记录单)."""
    return _pdf(sample_record_pdf(session, scope, sample_id))


@router.get("/dashboard/report.pdf")
def report_download(
    session: ReadSessionDep,
    scope: ScopeDep,
    plan: PlanQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """The season's campaign report for the caller's region (PDF)."""
    return _pdf(season_report_pdf(session, scope, choose_season(session, plan or None, start, end)))


@router.get("/dashboard/notice.pdf")
def notice_download(
    session: ReadSessionDep, plan: PlanQuery = None, start: FromQuery = None, end: ToQuery = None
) -> Response:
    """The season's public notice of results (PDF)."""
    return _pdf(season_notice_pdf(session, choose_season(session, plan or None, start, end)))
