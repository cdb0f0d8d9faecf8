"""Vector tiles (Mapbox Vector Tile, built by PostGIS ``ST_AsMVT``) of samples, protected areas and producers,
and the national reference layers the map draws under them.

Samples are aggregated server-side below :data:`POINT_MIN_ZOOM`: a tile is a 32 x 32 grid of cells, each with its
sample count, the non-conforming and doubtful counts and the cells' centre of mass. The counts come from the
sample grid (``sample_grid``, :mod:`gi.models.maps`), which holds every zoom level's cells (64 per tile side)
per year, product and county, so a national tile of a million samples reads a few thousand grid rows instead of
the samples; callers who see every region read its sum over counties (``sample_grid_national``), a fraction of
the rows. Both are stored in tile order, so a tile's rows are a few adjacent pages. The grid is derived data:
:func:`refresh_sample_grid` rebuilds it from the samples and their current verdicts (the read model's
``latest_query``), and :func:`grid_status` tells whether it still matches them. From :data:`POINT_MIN_ZOOM` on,
tiles carry the samples themselves, read live, up to :data:`POINT_CAP` a tile; a denser tile up to
:data:`CAPPED_MAX_ZOOM` is served as the finest grid's cells instead, so a dense tile costs a bounded amount of
work; zoomed in further (a tile of a kilometre or two), every sample is shown.

Tiles are cached in the process (:data:`TILE_CACHE`, an LRU bounded in bytes) under their layer, address,
filters and the version of the data they are drawn from (:func:`layer_version`), which is also their ETag: a
new sample, verdict, area version or producer changes the version, so nothing stale is served.

Who sees what is decided by the caller's :class:`~gi.accounts.scope.Scope`: samples are filtered to his region
(the same rule as the OGC samples collection); areas and producers are public.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import literal_column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gi.accounts.scope import SAMPLE_COUNTY_SQL, Scope
from gi.errors import InputError, NotFoundError
from gi.models import OriginVerdictRecord, QualityVerdict
from gi.reads.verdicts import latest_query
from gi.settings import get_settings

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096  # tile coordinate units (the MVT default)
CELL_SHIFT = 6  # 2**6 = 64 grid cells per tile side at each stored level
# A served tile has 32 x 32 cells (16 px at MapLibre's 512 px tiles, smaller than a cluster's circle): the cells
# of the stored level one zoom up, so a tile at zoom z reads level z - 1. Fewer features make tiles quick to encode.
TILE_CELL_SHIFT = 5
POINT_MIN_ZOOM = 12  # from this zoom on, sample tiles carry single samples
POINT_CAP = 200  # at most this many single samples a tile; a denser one is served as cells ...
CAPPED_MAX_ZOOM = 14  # ... up to this zoom (the finest grid still gives 8 cells a side); closer, every sample
GRID_LEVELS = range(POINT_MIN_ZOOM)  # grid levels 0..11: one per zoom that shows clusters
PRODUCER_MIN_ZOOM = 7  # producers are shown from the scale of a prefecture on
MAX_ZOOM = 22
HALF_WORLD = 20037508.342789244  # Web Mercator half extent (metres)
GRID_LOCK = 0x6769_6D61_7067  # pg advisory lock key of the grid rebuild ("gimapg")
SYNC_REBUILD_LIMIT = (
    50_000  # grids of up to this many samples are rebuilt in the request that finds them stale
)
MIN_REBUILD_INTERVAL_S = 30.0  # a larger grid is rebuilt in the background, at most this often

LAYERS = ("samples", "areas", "producers")  # the data layers (their versions make the map page's)
REFERENCE_LAYER = "reference"  # the national outlines under them (bundled data, the same for everyone)
TILE_LAYERS = (*LAYERS, REFERENCE_LAYER)
REFERENCE_MAX_ZOOM = 8  # the finest generalization stored (``map_reference``); the map overzooms it
# The reference rows change only with a migration that reloads them (and a deployment restarts the service).
REFERENCE_VERSION = "map_reference-1"


@dataclass(frozen=True)
class TileKey:
    """A tile address: zoom, column, row (XYZ, rows from the north)."""

    z: int
    x: int
    y: int


def tile_key(z: int, x: int, y: int) -> TileKey:
    """A checked tile address (InputError naming the coordinate that is out of range)."""
    if not 0 <= z <= MAX_ZOOM:
        raise InputError("z", f"zoom {z} is outside 0..{MAX_ZOOM}")
    side = 1 << z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < side:
            raise InputError(name, f"{value} is outside 0..{side - 1} at zoom {z}")
    return TileKey(z, x, y)


def _compiled(statement: Any) -> str:
    """SQL text of a SQLAlchemy statement (no bound values: the read model's queries have none)."""
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


@lru_cache(maxsize=1)
def _latest_sql() -> tuple[str, str]:
    """The current origin verdict and quality outcome of the sample aliased ``s`` (LATERAL subqueries built
    from the read model, so "current" means the same here as everywhere)."""
    # collected_at too: the verdict tables are partitioned by it, so each look-up reads one partition.
    origin = latest_query("origin", OriginVerdictRecord.verdict).where(
        OriginVerdictRecord.sample_id == literal_column("s.id"),
        OriginVerdictRecord.collected_at == literal_column("s.collected_at"),
    )
    quality = latest_query("quality", QualityVerdict.outcome).where(
        QualityVerdict.sample_id == literal_column("s.id"),
        QualityVerdict.collected_at == literal_column("s.collected_at"),
    )
    return _compiled(origin.limit(1)), _compiled(quality.limit(1))


def _class_sql() -> str:
    """bad / doubt / ok of a sample from its current verdicts ``o`` and ``q``."""
    return (
        "CASE WHEN o.verdict::text = 'outside' OR q.outcome::text = 'fail' THEN 'bad'"
        " WHEN o.verdict::text = 'uncertain' OR q.outcome::text = 'inconclusive' THEN 'doubt'"
        " ELSE 'ok' END"
    )


def _filters(
    scope: Scope, year: int | None, product_ids: tuple[int, ...], params: dict[str, Any], *, grid: bool
) -> str:
    """SQL conditions for the caller's scope, a year and products, on the grid ``g`` or the samples ``s``."""
    parts = [scope.county_filter("g.county_code", params) if grid else scope.sample_filter("s", params)]
    if year is not None:
        params["year"] = year
        parts.append(
            "g.year = :year" if grid else "extract(year FROM s.collected_at AT TIME ZONE :tz)::int = :year"
        )
    if product_ids:
        params["product_ids"] = list(product_ids)
        parts.append(f"{'g' if grid else 's'}.product_id = ANY(:product_ids)")
    return " AND ".join(parts)


def _cluster_tile(
    session: Session, key: TileKey, where: str, params: dict[str, Any], *, national: bool
) -> bytes:
    """The cells of a tile with their counts, from the stored level that gives 32 cells a side (the finest
    level when the tile is finer still)."""
    level = min(max(key.z - 1, 0), GRID_LEVELS[-1])
    shift = level + CELL_SHIFT - key.z  # bits from the tile's column to a cell's column at ``level``
    if shift >= 0:
        x0, x1 = key.x << shift, ((key.x + 1) << shift) - 1
        y0, y1 = key.y << shift, ((key.y + 1) << shift) - 1
    else:  # a tile inside one cell (zoom 18 on): that cell
        x0 = x1 = key.x >> -shift
        y0 = y1 = key.y >> -shift
    params |= {"level": level, "x0": x0, "x1": x1, "y0": y0, "y1": y1}
    merge = max(0, shift - TILE_CELL_SHIFT)  # zoom 0 reads level 0 and merges 2 x 2 cells
    table = "sample_grid_national" if national else "sample_grid"
    sql = f"""
        WITH c AS (
            SELECT sum(g.n)::int AS n, sum(g.n_bad)::int AS bad, sum(g.n_doubt)::int AS doubt,
                   sum(g.sx) / sum(g.n) AS mx, sum(g.sy) / sum(g.n) AS my
            FROM {table} g
            WHERE g.level = :level AND g.cx BETWEEN :x0 AND :x1 AND g.cy BETWEEN :y0 AND :y1 AND {where}
            GROUP BY g.cx >> {merge}, g.cy >> {merge})
        SELECT ST_AsMVT(t, 'samples', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(mx, my), 3857), ST_TileEnvelope(:z, :x, :y),
                                {EXTENT}, 0, false) AS geom,
                   n, bad, doubt, true AS cluster
            FROM c) t
        WHERE t.geom IS NOT NULL"""
    return bytes(session.execute(text(sql), params).scalar_one() or b"")


def _point_tile(
    session: Session, key: TileKey, where: str, params: dict[str, Any], capped: bool
) -> bytes | None:
    """The samples of a tile with their current verdicts; None when ``capped`` and the tile holds more than
    :data:`POINT_CAP` (one query: at most one more than the cap is read before the verdicts are looked up)."""
    origin, quality = _latest_sql()
    limit = f"LIMIT {POINT_CAP + 1}" if capped else ""
    sql = f"""
        WITH s AS MATERIALIZED (
            SELECT s.id, s.product_id, s.location, s.collected_at FROM sample s
            WHERE s.location && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.02), 4326) AND {where}
            {limit}),
        n AS (SELECT count(*) AS n FROM s)
        SELECT n.n, CASE WHEN n.n > {POINT_CAP if capped else "n.n"} THEN NULL ELSE (
            SELECT ST_AsMVT(t, 'samples', {EXTENT}, 'geom') FROM (
                SELECT ST_AsMVTGeom(ST_Transform(s.location, 3857), ST_TileEnvelope(:z, :x, :y), {EXTENT}, 16,
                                    true) AS geom,
                       s.id::text AS id,
                       upper(left(replace(s.id::text, '-', ''), 8)) AS code,
                       p.code AS product, p.name_zh AS product_name,
                       coalesce(o.verdict::text, 'unchecked') AS origin,
                       coalesce(q.outcome::text, 'pending') AS quality,
                       {_class_sql()} AS class,
                       to_char(s.collected_at AT TIME ZONE :tz, 'YYYY-MM-DD') AS collected,
                       false AS cluster
                FROM s
                JOIN gi_product p ON p.id = s.product_id
                LEFT JOIN LATERAL ({origin}) o ON true
                LEFT JOIN LATERAL ({quality}) q ON true) t
            WHERE t.geom IS NOT NULL) END
        FROM n"""
    count, body = session.execute(text(sql), params).one()
    if capped and count > POINT_CAP:
        return None
    return bytes(body or b"")


def sample_tile(
    session: Session, key: TileKey, scope: Scope, year: int | None = None, product_ids: tuple[int, ...] = ()
) -> bytes:
    """The samples of the caller's scope in one tile: grid cells with counts below :data:`POINT_MIN_ZOOM`,
    single samples with their current verdicts from there on (cells of the finest level where a tile up to
    :data:`CAPPED_MAX_ZOOM` holds more than :data:`POINT_CAP`)."""
    params: dict[str, Any] = {"z": key.z, "x": key.x, "y": key.y, "tz": get_settings().timezone}
    if key.z >= POINT_MIN_ZOOM:
        points: dict[str, Any] = dict(params)
        where = _filters(scope, year, product_ids, points, grid=False)
        body = _point_tile(session, key, where, points, capped=key.z <= CAPPED_MAX_ZOOM)
        if body is not None:
            return body
    where = _filters(scope, year, product_ids, params, grid=True)
    return _cluster_tile(session, key, where, params, national=scope.everything)


def area_tile(session: Session, key: TileKey, product_ids: tuple[int, ...] = ()) -> bytes:
    """The current protected areas in one tile (simplified to the tile's resolution before clipping)."""
    params: dict[str, Any] = {"z": key.z, "x": key.x, "y": key.y, "tol": 360.0 / (EXTENT << key.z)}
    where = "a.valid_to IS NULL"
    if product_ids:
        params["product_ids"] = list(product_ids)
        where += " AND a.product_id = ANY(:product_ids)"
    sql = f"""
        SELECT ST_AsMVT(t, 'areas', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(ST_Simplify(a.geom, :tol, true), 3857), ST_TileEnvelope(:z, :x, :y),
                                {EXTENT}, 64, true) AS geom,
                   p.code AS product, p.name_zh AS name, a.version, a.area_km2::float AS area_km2
            FROM production_area a JOIN gi_product p ON p.id = a.product_id
            WHERE {where} AND a.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326)) t
        WHERE t.geom IS NOT NULL"""
    return bytes(session.execute(text(sql), params).scalar_one() or b"")


def producer_tile(session: Session, key: TileKey, product_ids: tuple[int, ...] = ()) -> bytes:
    """The producers and outlets of the directory in one tile, from :data:`PRODUCER_MIN_ZOOM` on (public
    business data: name, unified social credit code, product)."""
    if key.z < PRODUCER_MIN_ZOOM:
        return b""
    params: dict[str, Any] = {"z": key.z, "x": key.x, "y": key.y}
    where = "r.location IS NOT NULL"
    if product_ids:
        params["product_ids"] = list(product_ids)
        where += " AND r.product_id = ANY(:product_ids)"
    sql = f"""
        SELECT ST_AsMVT(t, 'producers', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(r.location, 3857), ST_TileEnvelope(:z, :x, :y), {EXTENT}, 16, true)
                       AS geom,
                   r.id, r.name, r.credit_code, r.kind, p.code AS product, p.name_zh AS product_name
            FROM producer r JOIN gi_product p ON p.id = r.product_id
            WHERE {where} AND r.location && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.02), 4326)) t
        WHERE t.geom IS NOT NULL"""
    return bytes(session.execute(text(sql), params).scalar_one() or b"")


def reference_tile(session: Session, key: TileKey) -> bytes:
    """The national reference layers (country with Taiwan and the South China Sea islands, provinces, the
    maritime line) in one tile, cut from their generalization for the tile's zoom (``map_reference``)."""
    params: dict[str, Any] = {"z": key.z, "x": key.x, "y": key.y, "level": min(key.z, REFERENCE_MAX_ZOOM)}
    sql = f"""
        SELECT ST_AsMVT(t, 'reference', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(r.geom, ST_TileEnvelope(:z, :x, :y), {EXTENT}, 64, true) AS geom,
                   r.kind, r.adcode, r.name
            FROM map_reference r
            WHERE r.level = :level AND r.geom && ST_TileEnvelope(:z, :x, :y, margin => 0.02)) t
        WHERE t.geom IS NOT NULL"""
    return bytes(session.execute(text(sql), params).scalar_one() or b"")


def layer_tile(
    session: Session,
    layer: str,
    key: TileKey,
    scope: Scope,
    year: int | None = None,
    product_ids: tuple[int, ...] = (),
) -> bytes:
    """One tile of ``layer`` (samples, areas, producers or reference) for the caller's scope."""
    if layer == "samples":
        return sample_tile(session, key, scope, year, product_ids)
    if layer == "areas":
        return area_tile(session, key, product_ids)
    if layer == "producers":
        return producer_tile(session, key, product_ids)
    if layer == REFERENCE_LAYER:
        return reference_tile(session, key)
    raise NotFoundError(f"layer: no tile layer {layer!r}; layers: {', '.join(TILE_LAYERS)}", field="layer")


# ------------------------------------------------------------------------------------ versions and cache

_VERSION_SQL = {
    # New samples and verdicts (ids and times only grow: verdict tables are append-only) and the grid build.
    "samples": """
        SELECT (SELECT max(id) FROM origin_verdict), (SELECT max(id) FROM quality_verdict),
               (SELECT max(created_at) FROM sample), (SELECT built_at FROM sample_grid_state WHERE id = 1)""",
    # A new area version adds a row and closes the old one (small tables: a count is cheap).
    "areas": """
        SELECT count(*), max(a.id), max(a.valid_from), max(a.valid_to), max(p.id)
        FROM production_area a JOIN gi_product p ON p.id = a.product_id""",
    "producers": "SELECT count(*), max(id), max(created_at), max(updated_at) FROM producer",
}


def layer_version(session: Session, layer: str) -> str:
    """The version of the data a layer's tiles are drawn from: it changes whenever a tile could."""
    if layer == REFERENCE_LAYER:
        return REFERENCE_VERSION
    if layer not in _VERSION_SQL:
        raise NotFoundError(
            f"layer: no tile layer {layer!r}; layers: {', '.join(TILE_LAYERS)}", field="layer"
        )
    row = session.execute(text(_VERSION_SQL[layer])).one()
    return "|".join("" if value is None else str(value) for value in row)


def map_version(session: Session) -> str:
    """One short version of every layer of the map (pages put it in their tile addresses, so a browser keeps
    its tiles until the data changes)."""
    versions = "/".join(layer_version(session, layer) for layer in LAYERS)
    return hashlib.sha256(versions.encode()).hexdigest()[:12]


class TileCache:
    """Built tiles kept in the process, least recently used dropped first, bounded in bytes; thread-safe (the
    service answers tiles from a thread pool)."""

    ENTRY_OVERHEAD = 256  # bytes counted per entry besides its body (the key, the dict slot)

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        """The tile under ``key``, or None."""
        with self._lock:
            body = self._items.get(key)
            if body is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        """Keep a tile, dropping the least recently used ones beyond the budget."""
        size = len(body) + self.ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped) + self.ENTRY_OVERHEAD

    def clear(self) -> None:
        """Forget every tile."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        """Bytes held (bodies and the per-entry overhead)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


TILE_CACHE = TileCache(64 * 1024 * 1024)


@dataclass(frozen=True)
class ServedTile:
    """A tile to answer with: its body (None when the caller's copy, named by ``if_none_match``, is current),
    its ETag, and whether a background rebuild of the grid is due."""

    body: bytes | None
    etag: str
    rebuild_due: bool = False


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def serve_tile(
    session: Session,
    layer: str,
    key: TileKey,
    scope: Scope,
    year: int | None = None,
    product_ids: tuple[int, ...] = (),
    if_none_match: str | None = None,
) -> ServedTile:
    """One tile of ``layer`` for the caller, from :data:`TILE_CACHE` when the data has not changed since it was
    built. A small stale grid is rebuilt first; a large one is reported due for a rebuild in the background."""
    due = False
    if layer == "samples":
        status, due = refresh_in_request(session)
        version = status.version
    elif layer == "producers" and key.z < PRODUCER_MIN_ZOOM:
        version = "none"  # empty below its zoom whatever the data
    else:
        version = layer_version(session, layer)
    samples = layer == "samples"
    cache_key = (
        layer,
        key.z,
        key.x,
        key.y,
        scope if samples else None,
        year if samples else None,
        tuple(sorted(product_ids)) if layer != REFERENCE_LAYER else (),
        version,
    )
    etag = '"' + hashlib.sha256(repr(cache_key).encode()).hexdigest()[:24] + '"'
    if _matches(if_none_match, etag):
        return ServedTile(None, etag, due)
    body = TILE_CACHE.get(cache_key)
    if body is None:
        body = layer_tile(session, layer, key, scope, year, product_ids)
        TILE_CACHE.put(cache_key, body)
    return ServedTile(body, etag, due)


# ---------------------------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class GridStatus:
    """Whether the sample grid matches the stored samples and verdicts, and what it was built from."""

    current: bool
    built_at: datetime | None
    samples: int  # samples in the grid
    seconds: float  # what its last build took
    estimated_samples: int  # samples stored now (the planner's estimate: no count of a large table)
    version: str = ""  # the samples' and the grid's marks: what the sample tiles are drawn from


_MARKS_SQL = """
    SELECT (SELECT max(id) FROM origin_verdict), (SELECT max(id) FROM quality_verdict),
           (SELECT max(created_at) FROM sample),
           (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'sample'::regclass)"""

_STATUS_SQL = f"""
    SELECT m.*, g.built_at, g.origin_mark, g.quality_mark, g.sample_mark, g.samples, g.seconds
    FROM ({_MARKS_SQL}) m LEFT JOIN sample_grid_state g ON g.id = 1"""


def grid_status(session: Session) -> GridStatus:
    """The grid's state against the newest verdict ids and sample time (one query of three index probes)."""
    row = session.execute(text(_STATUS_SQL)).one()
    origin, quality, newest, estimate = row[0], row[1], row[2], row[3]
    version = f"{origin}|{quality}|{newest}|{row.built_at}"
    if row.built_at is None:
        return GridStatus(origin is None and newest is None, None, 0, 0.0, int(estimate), version)
    current = (row.origin_mark, row.quality_mark, row.sample_mark) == (origin or 0, quality or 0, newest)
    return GridStatus(current, row.built_at, int(row.samples), float(row.seconds), int(estimate), version)


def _build_sql() -> list[str]:
    """Statements that rebuild the grid: the finest level from the samples, each coarser one from the next, then
    the national sums; rows in the order tiles read them (a served tile's cells are adjacent pages)."""
    origin, quality = _latest_sql()
    finest = GRID_LEVELS[-1]
    size = 2 * HALF_WORLD / (1 << (finest + CELL_SHIFT))
    order = f"ORDER BY cx >> {TILE_CELL_SHIFT}, cy >> {TILE_CELL_SHIFT}, cx, cy"
    statements = [
        "DELETE FROM sample_grid",
        "DELETE FROM sample_grid_national",
        f"""
        INSERT INTO sample_grid (level, cx, cy, year, product_id, county_code, n, n_bad, n_doubt, sx, sy)
        SELECT {finest}, cx, cy, year, product_id, county_code, n, n_bad, n_doubt, sx, sy FROM (
            SELECT floor((mx + {HALF_WORLD}) / {size})::int AS cx, floor(({HALF_WORLD} - my) / {size})::int AS cy,
                   year, product_id, county_code, count(*) AS n, count(*) FILTER (WHERE class = 'bad') AS n_bad,
                   count(*) FILTER (WHERE class = 'doubt') AS n_doubt, sum(mx) AS sx, sum(my) AS sy
            FROM (
                SELECT ST_X(m.p) AS mx, ST_Y(m.p) AS my, s.product_id,
                       extract(year FROM s.collected_at AT TIME ZONE :tz)::int AS year,
                       coalesce({SAMPLE_COUNTY_SQL}, '') AS county_code, {_class_sql()} AS class
                FROM sample s
                LEFT JOIN LATERAL ({origin}) o ON true
                LEFT JOIN LATERAL ({quality}) q ON true
                CROSS JOIN LATERAL (SELECT ST_Transform(s.location, 3857) AS p) m
                WHERE ST_Y(s.location) BETWEEN -85 AND 85) c
            GROUP BY 1, 2, year, product_id, county_code) f
        {order}""",
    ]
    for level in reversed(GRID_LEVELS[:-1]):
        statements.append(
            f"""
            INSERT INTO sample_grid (level, cx, cy, year, product_id, county_code, n, n_bad, n_doubt, sx, sy)
            SELECT {level}, cx, cy, year, product_id, county_code, n, n_bad, n_doubt, sx, sy FROM (
                SELECT cx >> 1 AS cx, cy >> 1 AS cy, year, product_id, county_code,
                       sum(n) AS n, sum(n_bad) AS n_bad, sum(n_doubt) AS n_doubt, sum(sx) AS sx, sum(sy) AS sy
                FROM sample_grid WHERE level = {level + 1}
                GROUP BY cx >> 1, cy >> 1, year, product_id, county_code) f
            {order}"""
        )
    statements.append(
        f"""
        INSERT INTO sample_grid_national (level, cx, cy, year, product_id, n, n_bad, n_doubt, sx, sy)
        SELECT level, cx, cy, year, product_id, sum(n), sum(n_bad), sum(n_doubt), sum(sx), sum(sy)
        FROM sample_grid GROUP BY level, cx, cy, year, product_id
        ORDER BY level, cx >> {TILE_CELL_SHIFT}, cy >> {TILE_CELL_SHIFT}, cx, cy"""
    )
    return statements


def refresh_sample_grid(session: Session, force: bool = False, wait: bool = False) -> GridStatus | None:
    """Rebuild the sample grid in one transaction (readers keep seeing the old one until it commits) and
    commit; None when another rebuild holds the lock (unless ``wait``: then wait for it to finish), or the grid
    is current and ``force`` is not set."""
    if wait:
        session.commit()  # a fresh snapshot once the lock is ours: another rebuild's grid is then visible
        session.execute(text(f"SELECT pg_advisory_xact_lock({GRID_LOCK})"))
    elif not session.execute(text(f"SELECT pg_try_advisory_xact_lock({GRID_LOCK})")).scalar_one():
        session.rollback()
        return None
    if not force and grid_status(session).current:
        session.rollback()
        return None
    started = time.perf_counter()
    origin, quality, newest, _ = session.execute(
        text(_MARKS_SQL)
    ).one()  # read before the samples: never newer
    for statement in _build_sql():
        session.execute(text(statement), {"tz": get_settings().timezone})
    samples = session.execute(
        text("SELECT coalesce(sum(n), 0) FROM sample_grid WHERE level = 0")
    ).scalar_one()
    session.execute(
        text(
            """INSERT INTO sample_grid_state (id, built_at, origin_mark, quality_mark, sample_mark, samples, seconds)
               VALUES (1, now(), :o, :q, :s, :n, :t)
               ON CONFLICT (id) DO UPDATE SET built_at = excluded.built_at, origin_mark = excluded.origin_mark,
                   quality_mark = excluded.quality_mark, sample_mark = excluded.sample_mark,
                   samples = excluded.samples, seconds = excluded.seconds"""
        ),
        {
            "o": origin or 0,
            "q": quality or 0,
            "s": newest,
            "n": int(samples),
            "t": time.perf_counter() - started,
        },
    )
    session.commit()
    return grid_status(session)


def refresh_in_request(session: Session) -> tuple[GridStatus, bool]:
    """Bring the grid up to date before a sample tile is read when that is cheap (a small grid, rebuilt at
    once); otherwise leave it. Returns the status and whether a background rebuild is due."""
    status = grid_status(session)
    if status.current:
        return status, False
    if max(status.estimated_samples, status.samples) <= SYNC_REBUILD_LIMIT:
        # Tiles of one view arrive together: the first rebuilds, the others wait for it rather than read the
        # stale grid.
        rebuilt = refresh_sample_grid(session, wait=True)
        return (rebuilt or grid_status(session)), False
    recent = status.built_at is not None and (
        time.time() - status.built_at.timestamp() < MIN_REBUILD_INTERVAL_S + status.seconds
    )
    return status, not recent


def refresh_in_background(engine: Engine) -> None:
    """Rebuild a stale grid on a connection of its own (for a background task after a tile is answered)."""
    with Session(bind=engine) as session:
        refresh_sample_grid(session)
