"""Maps and reports of a season: the campaign report and the season map for supervisors (their region, by the
dashboard's rule), the public notice for everyone, and a sample's inspection record for those who may see the sample.

PDFs and the map are built on request into a temporary folder and streamed; the map's JavaScript and CSS are the
vendored files served at /maps/assets, so it works without the internet.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import date
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.background import BackgroundTask

from api.deps import ScopeDep, SessionDep
from gi.accounts.scope import Scope, products_in_scope
from gi.errors import NotFoundError

if TYPE_CHECKING:  # the season read model is imported when a report is asked for
    from gi.reads.season import SeasonSummary

router = APIRouter(tags=["maps and reports"])
MAP_ASSETS = "/maps/assets"
PDF = "application/pdf"


def mount_assets(app: FastAPI) -> None:
    """Serve the vendored map libraries (Leaflet and its plugins) for the season map."""
    from maps.offline import ASSETS_DIR

    app.mount(MAP_ASSETS, StaticFiles(directory=ASSETS_DIR), name="map-assets")


def _products(session: SessionDep, scope: Scope, requested: list[str] | None) -> list[str]:
    allowed = products_in_scope(session, scope)
    if allowed is None:
        return list(requested or [])
    chosen = [p for p in (requested or allowed) if p in allowed]
    if not chosen:
        raise NotFoundError("product: no GI product of your region among those asked for", field="product")
    return chosen


def _season(
    session: SessionDep, scope: Scope, start: date | None, end: date | None, products: list[str] | None
) -> SeasonSummary:
    """The season of the caller's region by the dashboard's rule (sampling.dashboard.scoped_season): the
    samples of the region's counties, not every sample of the region's products."""
    from gi.reads.season import season_bounds
    from gi.register.areas import find_product
    from sampling.dashboard import scoped_season

    chosen = _products(session, scope, products) if products else []
    ids = [find_product(session, key).id for key in chosen]
    first, last = season_bounds(session, start, end, ids)
    return scoped_season(session, scope, first, last, chosen)


def _pdf(path: FilePath, folder: FilePath, name: str) -> FileResponse:
    return FileResponse(
        path,
        media_type=PDF,
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


Start = Annotated[date | None, Query(alias="from", description="first day (default: the first sample)")]
End = Annotated[date | None, Query(alias="to", description="last day (default: the last sample)")]
Products = Annotated[list[str] | None, Query(alias="product", description="product codes (repeatable)")]


@router.get(
    "/reports/campaign",
    summary="The season's campaign report (PDF, Chinese)",
    response_class=FileResponse,
    responses={200: {"content": {PDF: {}}}},
)
def campaign(
    session: SessionDep, scope: ScopeDep, start: Start = None, end: End = None, product: Products = None
) -> FileResponse:
    """Coverage, verdicts, non-conformities, maps and charts of the season, for the caller's region."""
    from reports.campaign import campaign_report
    from reports.layout import ReportOptions

    summary = _season(session, scope, start, end, product)
    folder = FilePath(tempfile.mkdtemp(prefix="gi-report-"))
    name = f"campaign_{summary.start:%Y%m%d}_{summary.end:%Y%m%d}.pdf"
    files = campaign_report(summary, folder / name, ReportOptions.from_settings())
    return _pdf(files.pdf, folder, name)


@router.get(
    "/reports/notice",
    summary="The public notice of the season's results (PDF, Chinese)",
    response_class=FileResponse,
    responses={200: {"content": {PDF: {}}}},
)
def notice(
    session: SessionDep, start: Start = None, end: End = None, product: Products = None
) -> FileResponse:
    """The results of the season's inspections as published: no personal data of inspectors."""
    from gi.reads.notice import season_notice
    from gi.reads.season import gather_season
    from reports.layout import ReportOptions
    from reports.notice import public_notice

    summary = gather_season(session, start, end, product or [])
    folder = FilePath(tempfile.mkdtemp(prefix="gi-notice-"))
    name = f"notice_{summary.start:%Y%m%d}_{summary.end:%Y%m%d}.pdf"
    files = public_notice(
        summary, folder / name, ReportOptions.from_settings(), season_notice(session, summary)
    )
    return _pdf(files.pdf, folder, name)


@router.get(
    "/reports/records/{sample_id}",
    summary="A sample's inspection record (PDF, Chinese)",
    response_class=FileResponse,
    responses={200: {"content": {PDF: {}}}},
)
def record(sample_id: Annotated[uuid.UUID, Path()], session: SessionDep, scope: ScopeDep) -> FileResponse:
    """The sample, its location and origin verdict, lab results against the limits, inspectors and photos."""
    from gi.features.catalog import SAMPLES
    from gi.features.query import item
    from reports.data import gather_sample_record
    from reports.layout import ReportOptions
    from reports.record import sample_record

    item(session, SAMPLES, scope, str(sample_id))  # 404 outside the caller's scope
    data = gather_sample_record(session, str(sample_id))  # with the photos stored with the sample
    folder = FilePath(tempfile.mkdtemp(prefix="gi-record-"))
    name = f"record_{str(sample_id)[:8]}.pdf"
    files = sample_record(data, folder / name, ReportOptions.from_settings())
    return _pdf(files.pdf, folder, name)


@router.get("/maps/season", summary="The season map (HTML, offline assets)", response_class=HTMLResponse)
def season_map_page(
    session: SessionDep, scope: ScopeDep, start: Start = None, end: End = None, product: Products = None
) -> HTMLResponse:
    """Samples by origin and quality verdict, non-conformities and producers outside their areas, for the
    caller's region."""
    from maps.folium_maps import MapOptions, season_map, write_map

    summary = _season(session, scope, start, end, product)
    options = MapOptions.from_settings(asset_base=f"{MAP_ASSETS}/")
    with tempfile.TemporaryDirectory(prefix="gi-map-") as tmp:
        path = write_map(season_map(summary, options), FilePath(tmp) / "season.html", options)
        return HTMLResponse(path.read_text(encoding="utf-8"))
