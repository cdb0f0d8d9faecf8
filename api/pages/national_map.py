"""The national map of the dashboard (全国地图): a MapLibre GL page over vector tiles that PostGIS builds
(``ST_AsMVT``) for samples (aggregated server-side below zoom 12), protected areas and producers, drawn over the
national reference layers (tiles too, cut from their generalization per zoom). Samples are narrowed to the caller's region; nothing is fetched from elsewhere."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ScopeDep, SessionDep, SettingsDep
from api.pages.templating import render
from maps.tiles import (
    MVT_MEDIA_TYPE,
    POINT_MIN_ZOOM,
    PRODUCER_MIN_ZOOM,
    REFERENCE_LAYER,
    REFERENCE_MAX_ZOOM,
    map_version,
    refresh_in_background,
    serve_tile,
    tile_key,
)
from sampling.dashboard import map_view, product_ids

router = APIRouter(tags=["pages"], include_in_schema=False)

# The national view: mainland, Hainan and the South China Sea islands' latitudes (the map opens on it; the page's
# prefetch script computes the same view's tiles from these).
NATIONAL_BOUNDS = ((73.0, 3.0), (135.5, 53.8))
NATIONAL_PADDING_PX = 10

YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
ProductQuery = Annotated[list[str] | None, Query(max_length=50)]


@router.get("/dashboard/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    plan: Annotated[str | None, Query(max_length=64)] = None,
    year: YearQuery = None,
    product: ProductQuery = None,
) -> HTMLResponse:
    """The map page: the year of the chosen season (or ``year``), optionally some products; says how many of the
    caller's samples cannot be drawn."""
    view = map_view(session, plan or None, year, product, scope)
    return render(
        request,
        "map.html",
        {
            "view": view,
            "point_zoom": POINT_MIN_ZOOM,
            "producer_zoom": PRODUCER_MIN_ZOOM,
            "reference_zoom": REFERENCE_MAX_ZOOM,
            "review_number": settings.map_review_number or "",
            "version": map_version(session),
            "bounds": NATIONAL_BOUNDS,
            "padding": NATIONAL_PADDING_PX,
        },
    )


@router.get("/dashboard/tiles/{layer}/{z}/{x}/{y}.mvt")
def tile(
    layer: str,
    z: int,
    x: int,
    y: int,
    session: SessionDep,
    scope: ScopeDep,
    background: BackgroundTasks,
    request: Request,
    year: YearQuery = None,
    product: ProductQuery = None,
    v: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """One vector tile (Mapbox Vector Tile) of ``layer``: samples, areas or producers. Its ETag names the data it
    was drawn from (``304`` when the browser's copy is current); an address carrying the map page's data
    version ``v`` is kept by the browser for a day (the next page after a change has another ``v``)."""
    key = tile_key(z, x, y)
    ids = product_ids(session, product)
    started = time.perf_counter()
    served = serve_tile(session, layer, key, scope, year, ids, request.headers.get("if-none-match"))
    if served.rebuild_due:
        background.add_task(refresh_in_background, request.app.state.engine)
    headers = {
        "ETag": served.etag,
        # the reference outlines change only with a deployment; data tiles under the page's data version ``v``
        "Cache-Control": "private, max-age=86400" if v or layer == REFERENCE_LAYER else "private, no-cache",
        # what the tile took in the service (its queries or the cache), apart from sign-in and transport
        "Server-Timing": f"tile;dur={(time.perf_counter() - started) * 1000:.1f}",
    }
    if served.body is None:
        return Response(status_code=304, headers=headers)
    return Response(served.body, media_type=MVT_MEDIA_TYPE, headers=headers)
