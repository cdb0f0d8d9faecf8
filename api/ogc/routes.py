"""OGC API - Features (Part 1 core, GeoJSON, OpenAPI 3.0; queryables and property filters of Part 3).

Client notes kept here: OWSLib sends no Accept header and reads the landing page as JSON, and needs a ``type`` on
every link and the exact OpenAPI 3.0 media type on ``service-desc``; GDAL's OAPIF driver starts at /collections,
accepts only JSON content types, pages by ``rel=next`` only, reads ``numberMatched``, and filters server-side on
the properties that /queryables lists. Parameter errors answer 400 naming the parameter.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api.access import COLLECTIONS as COLLECTION_ACCESS
from api.access import allowed
from api.deps import Caller, ReadSessionDep, ScopeDep
from api.openapi import OPENAPI_30
from api.problems import HTTPProblem
from gi.errors import InputError
from gi.features.catalog import COLLECTIONS, Collection
from gi.features.cql import filter_sql
from gi.features.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    FeatureQuery,
    extent,
    find_collection,
    item,
    items,
    parse_bbox,
    parse_interval,
    parse_value,
)

router = APIRouter(tags=["OGC API - Features"])

JSON = "application/json"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
]
STANDARD_PARAMS = {
    "bbox",
    "bbox-crs",
    "datetime",
    "limit",
    "offset",
    "f",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
}


class GeoJSONResponse(JSONResponse):
    """GeoJSON (RFC 7946)."""

    media_type = GEOJSON


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _bad_parameter(exc: InputError) -> HTTPProblem:
    return HTTPProblem(400, str(exc), field=exc.field)


def _check_format(request: Request) -> None:
    f = request.query_params.get("f")
    if f is not None and f not in ("json", "geojson"):
        raise HTTPProblem(400, f"f: {f!r} is not offered; use json", field="f")


def _readable(collection_id: str, caller: Any) -> Collection:
    collection = find_collection(collection_id)
    roles = COLLECTION_ACCESS[collection.id]
    role = caller.role.value if caller is not None else None
    if not allowed(roles, role):
        if caller is None:
            raise HTTPProblem(
                401,
                f"Authorization: collection {collection.id} is for supervisors; sign in first",
                field="Authorization",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise HTTPProblem(403, f"a {role} may not read collection {collection.id}")
    return collection


@router.get("/", summary="Landing page", response_class=JSONResponse)
def landing(request: Request) -> dict[str, Any]:
    """Links to the service description, conformance and the collections (OGC API landing page)."""
    _check_format(request)
    base = _base(request)
    return {
        "title": "GI supervision service (地理标志监管服务)",
        "description": "Origin and quality supervision of Chinese geographical-indication products: production "
        "areas and their versions, producers and samples as OGC API - Features; uploads, plans, maps and reports.",
        "links": [
            _link(f"{base}/", "self", JSON, "This document"),
            _link(f"{base}/api", "service-desc", OPENAPI_30, "The API definition (OpenAPI 3.0)"),
            _link(f"{base}/docs", "service-doc", "text/html", "The API documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "OGC API conformance classes"),
            _link(f"{base}/collections", "data", JSON, "Feature collections"),
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request) -> dict[str, list[str]]:
    """The OGC conformance classes this service implements."""
    _check_format(request)
    return {"conformsTo": CONFORMANCE}


def _collection_doc(request: Request, session: Any, collection: Collection, scope: Any) -> dict[str, Any]:
    base = _base(request)
    url = f"{base}/collections/{collection.id}"
    ext = extent(session, collection, scope)
    doc: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            _link(url, "self", JSON, collection.title),
            _link(f"{url}/items", "items", GEOJSON, "Features"),
            _link(f"{url}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON),
        ],
    }
    spatial: dict[str, Any] = {"crs": CRS84}
    if ext.bbox is not None:
        spatial["bbox"] = [list(ext.bbox)]
    temporal = {
        "interval": [[_iso(ext.start), _iso(ext.end)]],
        "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
    }
    doc["extent"] = {"spatial": spatial, "temporal": temporal}
    return doc


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@router.get("/collections", summary="Feature collections")
def collections(request: Request, session: ReadSessionDep, caller: Caller, scope: ScopeDep) -> dict[str, Any]:
    """The collections the caller may read (samples only for supervisors and administrators)."""
    _check_format(request)
    role = caller.role.value if caller is not None else None
    docs = [
        _collection_doc(request, session, c, scope)
        for c in COLLECTIONS.values()
        if allowed(COLLECTION_ACCESS[c.id], role)
    ]
    base = _base(request)
    return {"links": [_link(f"{base}/collections", "self", JSON, "Feature collections")], "collections": docs}


@router.get(
    "/collections/{collection_id}",
    summary="One feature collection",
    responses={404: {"description": "No such"}},
)
def collection(
    collection_id: str, request: Request, session: ReadSessionDep, caller: Caller, scope: ScopeDep
) -> dict[str, Any]:
    """Description, extent and links of one collection."""
    _check_format(request)
    found = _readable(collection_id, caller)
    return _collection_doc(request, session, found, scope)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Properties that may be filtered",
    response_class=JSONResponse,
    responses={200: {"content": {SCHEMA_JSON: {}}}},
)
def queryables(collection_id: str, request: Request, caller: Caller) -> JSONResponse:
    """A JSON Schema of the collection's queryable properties (used as ``?name=value`` filters)."""
    _check_format(request)
    found = _readable(collection_id, caller)
    properties: dict[str, Any] = {}
    for name, q in found.queryables.items():
        schema: dict[str, Any] = {"title": q.title, "type": q.type}
        if q.format:
            schema["format"] = q.format
        if q.enum:
            schema["enum"] = list(q.enum)
        properties[name] = schema
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{found.id}/queryables",
        "type": "object",
        "title": found.title,
        "properties": properties,
        "additionalProperties": False,
    }
    return JSONResponse(doc, media_type=SCHEMA_JSON)


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    response_class=GeoJSONResponse,
    responses={200: {"content": {GEOJSON: {}}}, 400: {"description": "A bad parameter"}},
    description="Filter by `bbox` (CRS84), `datetime` (RFC 3339 instant or interval with `..`), and by any "
    "queryable property as `name=value` (see /collections/{collectionId}/queryables). Page with `limit` and "
    "`offset`, or follow the `next` link.",
)
def features(
    collection_id: str,
    request: Request,
    session: ReadSessionDep,
    caller: Caller,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (CRS84)")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    filter_: Annotated[
        str | None, Query(alias="filter", max_length=4000, description="a CQL2 filter on the queryables")
    ] = None,
    filter_lang: Annotated[str, Query(alias="filter-lang", pattern="^cql2-(text|json)$")] = "cql2-text",
) -> Response:
    """A page of features, with ``numberReturned``, ``numberMatched`` (when counted) and ``next``/``prev`` links."""
    _check_format(request)
    found = _readable(collection_id, caller)
    filters: list[tuple[str, object]] = []
    try:
        for name, value in request.query_params.multi_items():
            if name in STANDARD_PARAMS:
                continue
            queryable = found.queryables.get(name)
            if queryable is None:
                raise InputError(
                    name, f"unknown parameter; queryables of {found.id}: {', '.join(found.queryables)}"
                )
            filters.append((name, parse_value(name, queryable, value)))
        for name in ("bbox-crs", "filter-crs"):
            crs = request.query_params.get(name)
            if crs is not None and crs != CRS84:
                raise InputError(name, f"only {CRS84} is offered")
        where, where_params = filter_sql(found, filter_, filter_lang) if filter_ else (None, {})
        query = FeatureQuery(
            bbox=parse_bbox(bbox) if bbox is not None else None,
            interval=parse_interval(datetime_) if datetime_ is not None else None,
            filters=tuple(filters),
            limit=limit,
            offset=offset,
            extra_where=where,
            extra_params=tuple(where_params.items()),
        )
    except InputError as exc:
        raise _bad_parameter(exc) from None
    return features_response(
        request, session, found, scope, query, f"{_base(request)}/collections/{found.id}/items"
    )


def features_response(
    request: Request, session: Any, collection: Collection, scope: Any, query: FeatureQuery, base: str
) -> Response:
    """A page of features as a GeoJSON FeatureCollection with ``self``/``next``/``prev`` links and counts."""
    page = items(session, collection, scope, query)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    limit, offset = query.limit, query.offset

    def page_url(start: int) -> str:
        return f"{base}?{urlencode([*kept, ('limit', str(limit)), ('offset', str(start))])}"

    links = [
        _link(page_url(offset), "self", GEOJSON, "This page"),
        _link(f"{_base(request)}/collections/{collection.id}", "collection", JSON, collection.title),
    ]
    if page.has_next(offset):
        links.append(_link(page_url(offset + limit), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(_link(page_url(max(0, offset - limit)), "prev", GEOJSON, "Previous page"))
    counts: dict[str, Any] = {"numberReturned": page.number_returned}
    if page.number_matched is not None:  # optional in the standard; left out when not counted
        counts = {"numberMatched": page.number_matched, **counts}
    frame = json.dumps(
        {"links": links, **counts, "timeStamp": datetime.now(UTC).isoformat(timespec="seconds")},
        ensure_ascii=False,
    )
    body = '{"type":"FeatureCollection","features":' + page.features_json + "," + frame[1:]
    return Response(body.encode("utf-8"), media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=GeoJSONResponse,
    responses={200: {"content": {GEOJSON: {}}}, 404: {"description": "No such feature"}},
)
def feature(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: ReadSessionDep,
    caller: Caller,
    scope: ScopeDep,
) -> Response:
    """One feature with links to itself and its collection."""
    _check_format(request)
    found = _readable(collection_id, caller)
    text_value = item(session, found, scope, feature_id)
    base = f"{_base(request)}/collections/{found.id}"
    links = json.dumps(
        [_link(f"{base}/items/{feature_id}", "self", GEOJSON), _link(base, "collection", JSON, found.title)],
        ensure_ascii=False,
    )
    body = text_value[:-1] + ',"links":' + links + "}"
    return Response(body.encode("utf-8"), media_type=GEOJSON)
