"""Paged, filtered reads of a feature collection, built as one SQL statement per page.

A page is one round trip: the matching rows are counted and the page's features are built as GeoJSON text by
PostgreSQL (``json_build_object``, ``ST_AsGeoJSON``), so the service only frames them with links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from gi.accounts.scope import Scope
from gi.errors import InputError, NotFoundError
from gi.features.catalog import COLLECTIONS, Collection, Queryable
from gi.settings import get_settings

MAX_LIMIT = 1000
# Matches are counted exactly up to this many past the page; beyond, numberMatched (optional in OGC API -
# Features) is left out rather than counting millions of samples for every page.
COUNT_BEYOND = 10_000
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Interval:
    """A time instant or interval (either end open: None)."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class FeatureQuery:
    """What a client asked of a collection's items."""

    bbox: tuple[float, float, float, float] | None = None
    interval: Interval | None = None
    filters: tuple[tuple[str, object], ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    extra_where: str | None = None  # a parsed CQL2 filter (Part 3), already parameterized
    extra_params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class FeaturePage:
    """One page of features: the JSON array text, how many matched (None: more than ``COUNT_BEYOND`` past the
    page, not counted) and how many are on the page."""

    features_json: str
    number_matched: int | None
    number_returned: int

    def has_next(self, offset: int) -> bool:
        """True when rows match beyond this page (an uncounted total is known to reach past it)."""
        return self.number_matched is None or offset + self.number_returned < self.number_matched


def find_collection(collection_id: str) -> Collection:
    """A collection by id, or NotFoundError naming ``collection_id``."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFoundError(f"collectionId: no collection {collection_id!r}", field="collectionId")
    return found


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` in CRS84 (a 6-number 3D box drops its heights)."""
    parts = [p.strip() for p in value.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InputError("bbox", f"{value!r} is not 4 (or 6) comma-separated numbers") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InputError("bbox", f"{value!r} is not 4 (or 6) comma-separated numbers")
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError("bbox", f"{value!r} is not longitude/latitude (CRS84) with min <= max")
    return minx, miny, maxx, maxy


def _moment(text_value: str, end: bool) -> datetime | None:
    value = text_value.strip()
    if value in ("", ".."):
        return None
    zone = ZoneInfo(get_settings().timezone)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min, zone)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError("datetime", f"{text_value!r} is not an RFC 3339 date-time or date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_interval(value: str) -> Interval:
    """An RFC 3339 instant, or an interval ``start/end`` with ``..`` (or nothing) for an open end."""
    if "/" in value:
        left, right = value.split("/", 1)
        start, end = _moment(left, False), _moment(right, True)
        if start is None and end is None:
            raise InputError("datetime", "an interval needs at least one end")
        if start is not None and end is not None and end < start:
            raise InputError("datetime", f"{value!r} ends before it starts")
        return Interval(start, end)
    moment = _moment(value, False)
    if moment is None:
        raise InputError("datetime", f"{value!r} is not an RFC 3339 date-time or date")
    if len(value.strip()) == 10:  # a whole day
        return Interval(moment, _moment(value, True))
    return Interval(moment, moment)


def parse_value(name: str, queryable: Queryable, value: str) -> object:
    """A query-string value in its queryable's type, or InputError naming the property."""
    if queryable.type == "integer":
        try:
            return int(value)
        except ValueError:
            raise InputError(name, f"{value!r} is not an integer") from None
    if queryable.type == "number":
        try:
            number = float(value)
        except ValueError:
            raise InputError(name, f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise InputError(name, f"{value!r} is not a finite number")
        return number
    if queryable.type == "boolean":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise InputError(name, f"{value!r} is not true or false")
        return lowered == "true"
    if queryable.enum and value not in queryable.enum:
        raise InputError(name, f"{value!r} is not one of {', '.join(queryable.enum)}")
    return value


def _conditions(
    collection: Collection, scope: Scope, query: FeatureQuery, params: dict[str, Any]
) -> list[str]:
    conditions = [collection.where]
    if collection.scoped_alias:
        conditions.append(scope.sample_filter(collection.scoped_alias, params))
    if query.bbox is not None:
        params.update(zip(("bx0", "by0", "bx1", "by1"), query.bbox, strict=True))
        envelope = "ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)"
        conditions.append(
            f"{collection.geom_sql} && {envelope} AND ST_Intersects({collection.geom_sql}, {envelope})"
        )
    if query.interval is not None:
        start_sql, end_sql = collection.temporal
        end_sql = end_sql or start_sql
        if query.interval.end is not None:
            params["t_end"] = query.interval.end
            conditions.append(f"{start_sql} <= :t_end")
        if query.interval.start is not None:
            params["t_start"] = query.interval.start
            # An open end (NULL) means still valid; a validity end is exclusive, an instant's inclusive.
            if collection.temporal[1] is None:
                conditions.append(f"{start_sql} >= :t_start")
            else:
                conditions.append(f"({end_sql} IS NULL OR {end_sql} > :t_start)")
    for i, (name, value) in enumerate(query.filters):
        params[f"q{i}"] = value
        conditions.append(f"{collection.queryables[name].sql} = :q{i}")
    if query.extra_where:
        conditions.append(f"({query.extra_where})")
        params.update(dict(query.extra_params))
    return conditions


def _feature_sql(collection: Collection) -> str:
    props = ", ".join(f"'{name}', m.\"{name}\"" for name in collection.properties)
    return (
        "json_build_object('type', 'Feature', 'id', m.fid, "
        "'geometry', ST_AsGeoJSON(m.geom, 6)::json, "
        f"'properties', json_build_object({props}))"
    )


def _select_columns(collection: Collection) -> str:
    columns = [f"{collection.id_sql} AS fid", f"{collection.geom_sql} AS geom"]
    columns += [f'{sql} AS "{name}"' for name, sql in collection.properties.items()]
    return ", ".join(columns)


def items(session: Session, collection: Collection, scope: Scope, query: FeatureQuery) -> FeaturePage:
    """One page of a collection's features that match ``query`` inside ``scope``, and how many match."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InputError("limit", f"must be between 1 and {MAX_LIMIT}")
    if query.offset < 0:
        raise InputError("offset", "must not be negative")
    params: dict[str, Any] = {"limit": query.limit, "offset": query.offset}
    where = " AND ".join(_conditions(collection, scope, query, params))
    # One round trip. The page's sort keys are found first with only the joins the conditions need, so a deep
    # offset walks an index rather than building (and discarding) every skipped row's verdict look-ups; each key
    # then finds its row (an index look-up, in its own month partition for samples), joined and built as
    # GeoJSON. The count is its own scalar subquery over the joins the conditions need, none of the page's
    # columns (a window count would build every matching row), and stops COUNT_BEYOND rows past the page.
    keys = [k.strip() for k in collection.order_sql.split(",")]
    named = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    on_key = " AND ".join(f"{k} = k.k{i}" for i, k in enumerate(keys))
    by_key = ", ".join(f"k.k{i}" for i in range(len(keys)))
    sql = f"""
        WITH keys AS MATERIALIZED (
            SELECT {named}
            FROM {collection.from_sql(f"{where} {collection.order_sql}")} WHERE {where}
            ORDER BY {collection.order_sql} LIMIT :limit OFFSET :offset
        ), page AS (
            SELECT m.* FROM keys k CROSS JOIN LATERAL (
                SELECT {_select_columns(collection)}
                FROM {collection.from_sql()} WHERE {where} AND {on_key}
                OFFSET 0  -- kept a subquery: flattened, the planner would hash-join every row instead
            ) m
            ORDER BY {by_key}
        )
        SELECT coalesce(json_agg({_feature_sql(collection)})::text, '[]'), count(*),
               (SELECT count(*) FROM (SELECT FROM {collection.from_sql(where)} WHERE {where} LIMIT :cap) c)
        FROM page m
    """
    params["cap"] = cap = query.offset + query.limit + COUNT_BEYOND
    features, returned, matched = session.execute(text(sql), params).one()
    return FeaturePage(features, int(matched) if matched < cap else None, int(returned))


def item(session: Session, collection: Collection, scope: Scope, feature_id: str) -> str:
    """One feature as GeoJSON text, or NotFoundError naming ``featureId``."""
    params: dict[str, Any] = {"fid": feature_id}
    conditions = _conditions(collection, scope, FeatureQuery(), params)
    conditions.append(f"{collection.id_sql} = :fid")
    sql = f"""
        SELECT {_feature_sql(collection)}::text
        FROM (SELECT {_select_columns(collection)} FROM {collection.from_sql()}
              WHERE {" AND ".join(conditions)}) m
    """
    found = session.execute(text(sql), params).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"featureId: no feature {feature_id!r} in {collection.id}", field="featureId")
    return str(found)


@dataclass(frozen=True)
class Extent:
    """Spatial (CRS84 box) and temporal extent of a collection's rows."""

    bbox: tuple[float, float, float, float] | None
    start: datetime | None
    end: datetime | None


def extent(session: Session, collection: Collection, scope: Scope) -> Extent:
    """The extent of the rows of ``collection`` the caller may see."""
    params: dict[str, Any] = {}
    where = " AND ".join(_conditions(collection, scope, FeatureQuery(), params))
    start_sql, end_sql = collection.temporal
    end_sql = end_sql or start_sql
    row = session.execute(
        text(
            f"""SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 FROM (
                  SELECT ST_Extent({collection.geom_sql}) AS e, min({start_sql}) AS t0,
                         CASE WHEN bool_or({end_sql} IS NULL) THEN NULL ELSE max({end_sql}) END AS t1
                  FROM {collection.from_sql(f"{where} {collection.geom_sql} {start_sql} {end_sql}")}
                  WHERE {where}) x"""
        ),
        params,
    ).one()
    bbox = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    return Extent(bbox, row[4], row[5])
