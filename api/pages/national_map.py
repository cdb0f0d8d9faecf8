"""The national map of the dashboard (全国地图): a MapLibre GL page over vector tiles that PostGIS builds
(``ST_AsMVT``) for samples (aggregated server-side below zoom 12), protected areas and producers, drawn over the
national reference layers. Samples are narrowed to the caller's region; nothing is fetched from elsewhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ScopeDep, SessionDep, SettingsDep
from api.pages.templating import render
from maps.tiles import (
    MVT_MEDIA_TYPE,
    POINT_MIN_ZOOM,
    PRODUCER_MIN_ZOOM,
    layer_tile,
    reference_layers,
    refresh_in_background,
    refresh_in_request,
    tile_key,
)
from sampling.dashboard import map_view, product_ids

router = APIRouter(tags=["pages"], include_in_schema=False)

YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
ProductQuery = Annotated[list[str] | None, Query(max_length=50)]


@router.get("/dashboard/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    plan: Annotated[str | None, Query(max_length=64)] = None,
    year: YearQuery = None,
    product: ProductQuery = None,
) -> HTMLResponse:
    """The map page: the year of the chosen season (or ``year``), optionally some products."""
    view = map_view(session, plan or None, year, product)
    return render(
        request,
        "map.html",
        {
            "view": view,
            "point_zoom": POINT_MIN_ZOOM,
            "producer_zoom": PRODUCER_MIN_ZOOM,
            "review_number": settings.map_review_number or "",
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
) -> Response:
    """One vector tile (Mapbox Vector Tile) of ``layer``: samples, areas or producers."""
    key = tile_key(z, x, y)
    ids = product_ids(session, product)
    if layer == "samples" and z < POINT_MIN_ZOOM:
        _, due = refresh_in_request(session)
        if due:
            background.add_task(refresh_in_background, request.app.state.engine)
    body = layer_tile(session, layer, key, scope, year, ids)
    return Response(body, media_type=MVT_MEDIA_TYPE, headers={"Cache-Control": "private, max-age=60"})


@router.get("/dashboard/map/reference.geojson")
def reference(request: Request) -> Response:
    """The national reference layers (country with Taiwan and the South China Sea islands, provinces, the
    maritime line) as GeoJSON, gzip-compressed when the browser accepts it."""
    plain, packed = reference_layers()
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            packed, media_type="application/geo+json", headers=headers | {"Content-Encoding": "gzip"}
        )
    return Response(plain, media_type="application/geo+json", headers=headers)
