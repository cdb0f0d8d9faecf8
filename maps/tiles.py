"""Vector tiles (Mapbox Vector Tile, built by PostGIS ``ST_AsMVT``) of samples, protected areas and producers,
and the national reference layers the map draws under them.

Samples are aggregated server-side below :data:`POINT_MIN_ZOOM`: a tile is a 64 x 64 grid of cells, each with its
sample count, the non-conforming and doubtful counts and the cells' centre of mass. The counts come from the
sample grid (``sample_grid``, :mod:`gi.models.maps`), which holds every zoom level's cells per year, product and
county, so a national tile of a million samples reads a few thousand grid rows instead of the samples. The grid
is derived data: :func:`refresh_sample_grid` rebuilds it from the samples and their current verdicts (the read
model's ``latest_query``), and :func:`grid_status` tells whether it still matches them. From
:data:`POINT_MIN_ZOOM` on, tiles carry the samples themselves, read live.

Who sees what is decided by the caller's :class:`~gi.accounts.scope.Scope`: samples are filtered to his region
(the same rule as the OGC samples collection); areas and producers are public.
"""

from __future__ import annotations

import gzip
import json
import time
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
CELL_SHIFT = 6  # 2**6 = 64 cells per tile side in the aggregated sample layer
POINT_MIN_ZOOM = 12  # from this zoom on, sample tiles carry single samples
GRID_LEVELS = range(POINT_MIN_ZOOM)  # grid levels 0..11: one per zoom that shows clusters
PRODUCER_MIN_ZOOM = 7  # producers are shown from the scale of a prefecture on
MAX_ZOOM = 22
HALF_WORLD = 20037508.342789244  # Web Mercator half extent (metres)
GRID_LOCK = 0x6769_6D61_7067  # pg advisory lock key of the grid rebuild ("gimapg")
SYNC_REBUILD_LIMIT = (
    50_000  # grids of up to this many samples are rebuilt in the request that finds them stale
)
MIN_REBUILD_INTERVAL_S = 30.0  # a larger grid is rebuilt in the background, at most this often

LAYERS = ("samples", "areas", "producers")


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


def _cluster_tile(session: Session, key: TileKey, where: str, params: dict[str, Any]) -> bytes:
    side = 1 << CELL_SHIFT
    params |= {
        "level": key.z,
        "x0": key.x * side,
        "x1": key.x * side + side - 1,
        "y0": key.y * side,
        "y1": key.y * side + side - 1,
    }
    sql = f"""
        WITH c AS (
            SELECT sum(g.n)::int AS n, sum(g.n_bad)::int AS bad, sum(g.n_doubt)::int AS doubt,
                   sum(g.sx) / sum(g.n) AS mx, sum(g.sy) / sum(g.n) AS my
            FROM sample_grid g
            WHERE g.level = :level AND g.cx BETWEEN :x0 AND :x1 AND g.cy BETWEEN :y0 AND :y1 AND {where}
            GROUP BY g.cx, g.cy)
        SELECT ST_AsMVT(t, 'samples', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(mx, my), 3857), ST_TileEnvelope(:z, :x, :y),
                                {EXTENT}, 0, false) AS geom,
                   n, bad, doubt, true AS cluster
            FROM c) t"""
    return bytes(session.execute(text(sql), params).scalar_one() or b"")


def _point_tile(session: Session, key: TileKey, where: str, params: dict[str, Any]) -> bytes:
    origin, quality = _latest_sql()
    sql = f"""
        SELECT ST_AsMVT(t, 'samples', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(s.location, 3857), ST_TileEnvelope(:z, :x, :y), {EXTENT}, 16, true)
                       AS geom,
                   s.id::text AS id,
                   upper(left(replace(s.id::text, '-', ''), 8)) AS code,
                   p.code AS product, p.name_zh AS product_name,
                   coalesce(o.verdict::text, 'unchecked') AS origin,
                   coalesce(q.outcome::text, 'pending') AS quality,
                   {_class_sql()} AS class,
                   to_char(s.collected_at AT TIME ZONE :tz, 'YYYY-MM-DD') AS collected,
                   false AS cluster
            FROM sample s
            JOIN gi_product p ON p.id = s.product_id
            LEFT JOIN LATERAL ({origin}) o ON true
            LEFT JOIN LATERAL ({quality}) q ON true
            WHERE s.location && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.02), 4326) AND {where}) t
        WHERE t.geom IS NOT NULL"""
    return bytes(session.execute(text(sql), params).scalar_one() or b"")


def sample_tile(
    session: Session, key: TileKey, scope: Scope, year: int | None = None, product_ids: tuple[int, ...] = ()
) -> bytes:
    """The samples of the caller's scope in one tile: grid cells with counts below :data:`POINT_MIN_ZOOM`,
    single samples with their current verdicts from there on."""
    params: dict[str, Any] = {"z": key.z, "x": key.x, "y": key.y, "tz": get_settings().timezone}
    if key.z < POINT_MIN_ZOOM:
        return _cluster_tile(session, key, _filters(scope, year, product_ids, params, grid=True), params)
    return _point_tile(session, key, _filters(scope, year, product_ids, params, grid=False), params)


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


def layer_tile(
    session: Session,
    layer: str,
    key: TileKey,
    scope: Scope,
    year: int | None = None,
    product_ids: tuple[int, ...] = (),
) -> bytes:
    """One tile of ``layer`` (samples, areas or producers) for the caller's scope."""
    if layer == "samples":
        return sample_tile(session, key, scope, year, product_ids)
    if layer == "areas":
        return area_tile(session, key, product_ids)
    if layer == "producers":
        return producer_tile(session, key, product_ids)
    raise NotFoundError(f"layer: no tile layer {layer!r}; layers: {', '.join(LAYERS)}", field="layer")


# ---------------------------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class GridStatus:
    """Whether the sample grid matches the stored samples and verdicts, and what it was built from."""

    current: bool
    built_at: datetime | None
    samples: int  # samples in the grid
    seconds: float  # what its last build took
    estimated_samples: int  # samples stored now (the planner's estimate: no count of a large table)


_MARKS_SQL = """
    SELECT (SELECT max(id) FROM origin_verdict), (SELECT max(id) FROM quality_verdict),
           (SELECT max(created_at) FROM sample),
           (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'sample'::regclass)"""


def grid_status(session: Session) -> GridStatus:
    """The grid's state against the newest verdict ids and sample time (three index probes)."""
    origin, quality, newest, estimate = session.execute(text(_MARKS_SQL)).one()
    state = session.execute(
        text(
            "SELECT built_at, origin_mark, quality_mark, sample_mark, samples, seconds"
            " FROM sample_grid_state WHERE id = 1"
        )
    ).first()
    if state is None:
        return GridStatus(origin is None and newest is None, None, 0, 0.0, int(estimate))
    current = (state.origin_mark, state.quality_mark, state.sample_mark) == (
        origin or 0,
        quality or 0,
        newest,
    )
    return GridStatus(current, state.built_at, int(state.samples), float(state.seconds), int(estimate))


def _build_sql() -> list[str]:
    """Statements that rebuild the grid: the finest level from the samples, each coarser one from the next."""
    origin, quality = _latest_sql()
    finest = GRID_LEVELS[-1]
    size = 2 * HALF_WORLD / (1 << (finest + CELL_SHIFT))
    statements = [
        "DELETE FROM sample_grid",
        f"""
        INSERT INTO sample_grid (level, cx, cy, year, product_id, county_code, n, n_bad, n_doubt, sx, sy)
        SELECT {finest}, floor((mx + {HALF_WORLD}) / {size})::int, floor(({HALF_WORLD} - my) / {size})::int,
               year, product_id, county_code, count(*), count(*) FILTER (WHERE class = 'bad'),
               count(*) FILTER (WHERE class = 'doubt'), sum(mx), sum(my)
        FROM (
            SELECT ST_X(m.p) AS mx, ST_Y(m.p) AS my, s.product_id,
                   extract(year FROM s.collected_at AT TIME ZONE :tz)::int AS year,
                   coalesce({SAMPLE_COUNTY_SQL}, '') AS county_code, {_class_sql()} AS class
            FROM sample s
            LEFT JOIN LATERAL ({origin}) o ON true
            LEFT JOIN LATERAL ({quality}) q ON true
            CROSS JOIN LATERAL (SELECT ST_Transform(s.location, 3857) AS p) m
            WHERE ST_Y(s.location) BETWEEN -85 AND 85) c
        GROUP BY 2, 3, year, product_id, county_code""",
    ]
    for level in reversed(GRID_LEVELS[:-1]):
        statements.append(
            f"""
            INSERT INTO sample_grid (level, cx, cy, year, product_id, county_code, n, n_bad, n_doubt, sx, sy)
            SELECT {level}, cx >> 1, cy >> 1, year, product_id, county_code,
                   sum(n), sum(n_bad), sum(n_doubt), sum(sx), sum(sy)
            FROM sample_grid WHERE level = {level + 1}
            GROUP BY cx >> 1, cy >> 1, year, product_id, county_code"""
        )
    return statements


def refresh_sample_grid(session: Session, force: bool = False) -> GridStatus | None:
    """Rebuild the sample grid in one transaction (readers keep seeing the old one until it commits) and
    commit; None when another rebuild holds the lock, or the grid is current and ``force`` is not set."""
    if not session.execute(text(f"SELECT pg_try_advisory_xact_lock({GRID_LOCK})")).scalar_one():
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
        rebuilt = refresh_sample_grid(session)
        return (rebuilt or grid_status(session)), False
    recent = status.built_at is not None and (
        time.time() - status.built_at.timestamp() < MIN_REBUILD_INTERVAL_S + status.seconds
    )
    return status, not recent


def refresh_in_background(engine: Engine) -> None:
    """Rebuild a stale grid on a connection of its own (for a background task after a tile is answered)."""
    with Session(bind=engine) as session:
        refresh_sample_grid(session)


# ---------------------------------------------------------------------------------------- reference layers


@lru_cache(maxsize=1)
def reference_layers() -> tuple[bytes, bytes]:
    """The national reference layers as one GeoJSON FeatureCollection (``kind``: country, province or maritime),
    plain and gzip-compressed: the whole territory with Taiwan, the South China Sea islands and the maritime
    line, as every map of China that leaves the system must show."""
    from geo_data import admin

    features: list[dict[str, Any]] = []
    for kind, frame in (
        ("country", admin.country()),
        ("province", admin.provinces()),
        ("maritime", admin.maritime_line()),
    ):
        collection = json.loads(frame.to_json(drop_id=True))
        for feature in collection["features"]:
            source = feature["properties"]
            feature["properties"] = {"kind": kind} | (
                {"adcode": str(source.get("adcode", "")), "name": str(source.get("name", ""))}
                if kind == "province"
                else {}
            )
            features.append(feature)
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
    return body, gzip.compress(body, 6)
