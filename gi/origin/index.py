"""Prepared in-memory index of the production-area versions, kept consistent with PostGIS.

PostGIS stays the source of truth. Every area version is read back from it as WKB, so the in-memory geometry has
exactly the stored coordinates, and is cached under its row version (``xmin:ctid``, which changes on every update
of the row). A single check asks the database, in one indexed query, which versions apply to its point and moment
with their row versions, so it can never use a stale geometry; a batch compares the row versions of the whole
table once and rebuilds only what changed.

Three structures serve the checks:

* :class:`IndexedArea` — one version: the prepared GEOS geometry, and PostGIS's own point-in-polygon rule for
  points within centimetres (1e-7°) of the boundary, where GEOS's robust orientation test and PostGIS's plain
  floating-point side test may disagree (PostGIS's ``ST_Covers(polygon, point)`` does not call GEOS).
* :class:`BoundaryDistance` — signed geodesic distance to an area's boundary: a planar search in a local frame
  centred on the area finds every boundary segment that can be nearest (the frame's scale is bounded over the
  latitudes involved, so no candidate is missed), then the distance to those candidates is measured in an
  azimuthal equidistant frame centred on the point itself (geodesics from pyproj ``Geod``), to millimetres.
* :class:`CellGrid` — a regular lon/lat grid over all areas: a cell crossed by no boundary is answered from the
  grid alone; only points in cells crossed by a boundary are tested against their candidate polygons. This is what
  makes a million points a fraction of a second.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

WGS84_GEOD = Geod(ellps="WGS84")

# Points nearer than this (degrees, planar) to a boundary are decided by PostGIS's own rule.
TIE_ZONE_DEG = 1e-7
TIE_ZONE_M = 0.05
# Boundary segments are split to at most this length (degrees) for distance measurement only; covers always uses
# the stored geometry. A lon/lat-straight edge bends by at most millimetres over such a piece in a local frame.
DISTANCE_SEGMENT_DEG = 0.005
# Slack (metres) for the chord-versus-curve error of those pieces when selecting candidate segments.
CANDIDATE_SLACK_M = 0.5
_CHUNK_SEGMENTS = 16
# Candidate chunks gathered before they are filtered (each brings _CHUNK_SEGMENTS padded rows of 8 doubles).
_SIFT_CHUNKS = 16_384


def _row_token(xmin: str, ctid: str) -> str:
    return f"{xmin}:{ctid}"


# --------------------------------------------------------------------------------------------- PostGIS rule


def _postgis_ring_side(ring: NDArray[np.float64], x: float, y: float) -> int:
    """PostGIS ``point_in_ring``: -1 outside, 0 on the ring, 1 inside (plain double arithmetic, as in C)."""
    x1, y1 = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    real = ~((x1 == x2) & (y1 == y2))
    x1, y1, x2, y2 = x1[real], y1[real], x2[real], y2[real]
    side = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
    on_seg = (
        (side == 0.0)
        & ~((np.maximum(x1, x2) < x) | (np.minimum(x1, x2) > x))
        & ~((np.maximum(y1, y2) < y) | (np.minimum(y1, y2) > y))
    )
    if on_seg.any():
        # PostGIS returns at the first segment in ring order; a boundary hit is 0 wherever it is.
        return 0
    up = (y1 <= y) & (y < y2) & (side > 0)
    down = (y2 <= y) & (y < y1) & (side < 0) & ~up
    winding = int(up.sum()) - int(down.sum())
    return -1 if winding == 0 else 1


def postgis_point_in_polygonal(geom: BaseGeometry, x: float, y: float) -> int:
    """PostGIS's point-in-(multi)polygon decision for one point: -1 outside, 0 boundary, 1 inside."""
    polygons = list(getattr(geom, "geoms", [geom]))
    result = -1
    for polygon in polygons:
        if polygon.is_empty:
            continue
        exterior = shapely.get_coordinates(polygon.exterior)
        in_ring = _postgis_ring_side(exterior, x, y)
        if in_ring == -1:
            continue
        if in_ring == 0:
            return 0
        result = in_ring
        for hole in polygon.interiors:
            in_hole = _postgis_ring_side(shapely.get_coordinates(hole), x, y)
            if in_hole == 1:
                result = -1
                break
            if in_hole == 0:
                return 0
        if result != -1:
            return result
    return result


# --------------------------------------------------------------------------------------------- distance


_WGS84_A = 6378137.0
_WGS84_E2 = 0.00669437999014
_DEG = np.pi / 180.0
_METRES_PER_DEGREE = 111_320.0


def _scale_bounds(
    lat_lo: NDArray[np.float64], lat_hi: NDArray[np.float64], cos_lat0: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Smallest and largest scale of the local frame ``x = Δlon·cos(lat0)·c, y = Δlat·c`` in a latitude band.

    East-west scale ``c·cos(lat0) / (N(φ)·cos φ)``, north-south ``c / M(φ)`` (per radian); both are monotonic in
    |φ|, so their extremes over the band are at its ends or at the equator.
    """
    phi = np.stack([lat_lo, lat_hi, np.clip(np.zeros_like(lat_lo), lat_lo, lat_hi)]) * _DEG
    s2 = np.sin(phi) ** 2
    w = np.sqrt(1.0 - _WGS84_E2 * s2)
    c = _METRES_PER_DEGREE / _DEG
    k_e = (c * cos_lat0 / _WGS84_A) * w / np.maximum(np.cos(phi), 1e-12)
    k_n = (c / (_WGS84_A * (1.0 - _WGS84_E2))) * (w * w * w)
    return np.minimum(k_e, k_n).min(axis=0), np.maximum(k_e, k_n).max(axis=0)


def _segment_distance(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Planar distance from points to segments, element-wise."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0, ((px - ax) * dx + (py - ay) * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


class BoundaryDistance:
    """Geodesic distance from points to one area's boundary.

    Candidates come from a planar search in a local equirectangular frame centred on the area, whose scale lies
    between known bounds over the latitudes involved: every segment that can hold the geodesic nearest point is
    within ``k_hi / k_lo`` of the planar minimum, so none is missed. The candidates are then measured exactly in an
    azimuthal equidistant frame centred on the point itself (geodesic azimuth and length from pyproj ``Geod``).
    """

    def __init__(self, geom: BaseGeometry) -> None:
        minx, miny, maxx, maxy = geom.bounds
        self.lon0, self.lat0 = (minx + maxx) / 2.0, (miny + maxy) / 2.0
        self.cos_lat0 = float(np.cos(self.lat0 * _DEG))
        rings = shapely.segmentize(shapely.get_rings(shapely.get_parts(geom)), DISTANCE_SEGMENT_DEG)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        start = np.flatnonzero(ring_of[1:] == ring_of[:-1])
        # Chunks of up to _CHUNK_SEGMENTS consecutive segments of one ring, indexed by an STRtree in the local frame.
        seg_ring = ring_of[start]
        position = np.arange(len(start)) - np.searchsorted(seg_ring, seg_ring, side="left")
        chunk_key = seg_ring.astype(np.int64) * (1 << 32) + position // _CHUNK_SEGMENTS
        first = np.flatnonzero(np.r_[True, chunk_key[1:] != chunk_key[:-1]])
        counts = np.r_[first[1:], len(start)] - first
        # A chunk's line: its segments' consecutive vertices (the start of each, then the end of the last one).
        reps = counts + 1
        chunk_of = np.repeat(np.arange(len(counts)), reps)
        j = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        vertex = start[first][chunk_of] + j
        # Only the lon/lat vertices are kept, chunk by chunk, padded with NaN to the chunk size (16 bytes a vertex,
        # not 64 a segment: a country's county boundaries hold millions of them). A candidate chunk's vertices are
        # gathered in one step; its local-frame coordinates are recomputed then, with the same arithmetic, and a
        # segment ending in the NaN padding never passes a distance filter.
        self.chunk_vertices = np.full((len(counts), _CHUNK_SEGMENTS + 1, 2), np.nan)
        self.chunk_vertices[chunk_of, j] = coords[vertex]
        line_x, line_y = self._frame(coords[vertex, 0], coords[vertex, 1])
        self.tree = shapely.STRtree(shapely.linestrings(line_x, line_y, indices=chunk_of))
        self.tree.query(shapely.points(0.0, 0.0))  # make sure the tree is built before threads share it

    def _frame(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        return (
            (lon - self.lon0) * self.cos_lat0 * _METRES_PER_DEGREE,
            (lat - self.lat0) * _METRES_PER_DEGREE,
        )

    def segments(self, chunks: NDArray[np.int64]) -> NDArray[np.float64]:
        """The segments of ``chunks``, _CHUNK_SEGMENTS rows each (padding: NaN): ends in the local frame, then in
        lon/lat."""
        v = self.chunk_vertices[chunks]
        fx, fy = self._frame(v[..., 0], v[..., 1])
        ends = (
            fx[:, :-1],
            fy[:, :-1],
            fx[:, 1:],
            fy[:, 1:],
            v[:, :-1, 0],
            v[:, :-1, 1],
            v[:, 1:, 0],
            v[:, 1:, 1],
        )
        return np.stack(ends, axis=-1)

    def near(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        metres: float | NDArray[np.float64] = TIE_ZONE_M,
    ) -> NDArray[np.bool_]:
        """Points within ``metres`` of the boundary in the local frame (whose scale is within a few per cent of 1
        near the area). The default is the tie zone: 1e-7° is at most 1.2 cm in this frame; 5 cm is tested."""
        px, py = self._frame(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        point_of, _ = self.tree.query(
            shapely.points(np.column_stack((px, py))), predicate="dwithin", distance=metres
        )
        near = np.zeros(len(px), bool)
        near[point_of] = True
        return near

    def distances(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        """Unsigned geodesic distance (metres) from each point to the boundary (NaN for impossible latitudes)."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        return boundary_distances([self], np.zeros(len(lon), np.int64), lon, lat)


def group_indices(keys: NDArray[np.int64]) -> list[tuple[int, NDArray[np.int64]]]:
    """Positions grouped by key (ascending keys; ascending positions within each group)."""
    keys = np.asarray(keys)
    if len(keys) <= 1:
        # One check at a time is the API's usual case: no sort needed.
        return [(int(keys[0]), np.zeros(1, np.int64))] if len(keys) else []
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    cuts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[cuts[1:], len(k)]
    return [(int(k[c]), order[c:e]) for c, e in zip(cuts.tolist(), ends.tolist(), strict=True)]


def boundary_distances(
    structures: Sequence[BoundaryDistance],
    area_of: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Unsigned geodesic distance (metres) from each point to the boundary of ``structures[area_of[i]]``.

    NaN for impossible latitudes. Every point is measured exactly as alone (see :class:`BoundaryDistance`): only
    the two tree queries go area by area, the arithmetic runs once over all points.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    area_of = np.asarray(area_of, dtype=np.int64)
    n = len(lon)
    valid = (np.abs(lat) <= 90) & np.isfinite(lon)
    if not valid.all():
        result = np.full(n, np.nan)
        keep = np.flatnonzero(valid)
        result[keep] = boundary_distances(structures, area_of[keep], lon[keep], lat[keep])
        return result
    if n == 0:
        return np.empty(0)
    lon0 = np.array([s.lon0 for s in structures])[area_of]
    lat0 = np.array([s.lat0 for s in structures])[area_of]
    cos_lat0 = np.array([s.cos_lat0 for s in structures])[area_of]
    px, py = (lon - lon0) * cos_lat0 * _METRES_PER_DEGREE, (lat - lat0) * _METRES_PER_DEGREE
    points = shapely.points(np.column_stack((px, py)))  # the same points; one array is quicker than two
    groups = group_indices(area_of)
    planar_min = np.empty(n)
    for a, idx in groups:
        nearest, planar = structures[a].tree.query_nearest(
            points[idx], return_distance=True, all_matches=False
        )
        planar_min[idx[nearest[0]]] = planar
    # The planar-nearest boundary point Q0 lies within planar_min/c degrees of latitude of P (y is latitude
    # times c), so its true distance is at most s_max = planar_min / k_lo over that band. The true nearest
    # point is no farther, so within s_max / 110,574 m per degree of P's latitude (plus a pad for the bulge
    # of geodesics); a segment can hold it only if its planar distance is at most k_hi * s_max there.
    band1 = planar_min / _METRES_PER_DEGREE + 1e-6
    k_lo1, _ = _scale_bounds(np.maximum(lat - band1, -89.0), np.minimum(lat + band1, 89.0), cos_lat0)
    s_max = planar_min / k_lo1
    band2 = np.maximum(band1, s_max / 110_574.0) * 1.01 + 1e-4
    k_lo2, k_hi2 = _scale_bounds(np.maximum(lat - band2, -89.0), np.minimum(lat + band2, 89.0), cos_lat0)
    threshold = np.maximum(s_max, planar_min / k_lo2) * k_hi2 + CANDIDATE_SLACK_M
    pts: list[NDArray[np.int64]] = []
    segments: list[NDArray[np.float64]] = []
    kept_pts: list[NDArray[np.int64]] = [np.zeros(0, np.int64)]
    kept_segments: list[NDArray[np.float64]] = [np.zeros((0, 8))]

    def sift() -> None:
        # The candidates gathered so far, filtered by their planar distance: only those left are kept, so the
        # padded candidate rows (about 1 KB a chunk, tens of chunks a point) never pile up for a whole batch.
        pt = np.concatenate(pts)
        seg = np.concatenate(segments).reshape(-1, 8)
        pts.clear()
        segments.clear()
        planar_seg = _segment_distance(px[pt], py[pt], seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3])
        keep = planar_seg <= threshold[pt]
        kept_pts.append(pt[keep])
        kept_segments.append(seg[keep])

    gathered = 0
    for a, idx in groups:
        s = structures[a]
        point_of, chunk_of = s.tree.query(points[idx], predicate="dwithin", distance=threshold[idx])
        # Each candidate chunk brings its padded segments; those ending in the padding (NaN) fail the filter.
        pts.append(np.repeat(idx[point_of], _CHUNK_SEGMENTS))
        segments.append(s.segments(chunk_of))
        gathered += len(chunk_of)
        if gathered >= _SIFT_CHUNKS:
            sift()
            gathered = 0
    if pts:
        sift()
    pt = np.concatenate(kept_pts)
    seg = np.concatenate(kept_segments)
    # Exact stage: an azimuthal equidistant frame centred on each point, from geodesic azimuth and length.
    m = len(pt)
    az, _, dist = WGS84_GEOD.inv(
        np.tile(lon[pt], 2),
        np.tile(lat[pt], 2),
        np.concatenate([seg[:, 4], seg[:, 6]]),
        np.concatenate([seg[:, 5], seg[:, 7]]),
    )
    az = np.radians(az)
    az_a, az_b, s_a, s_b = az[:m], az[m:], dist[:m], dist[m:]
    zero = np.zeros(len(pt))
    exact = _segment_distance(
        zero, zero, s_a * np.sin(az_a), s_a * np.cos(az_a), s_b * np.sin(az_b), s_b * np.cos(az_b)
    )
    result = np.full(n, np.inf)
    np.minimum.at(result, pt, exact)
    return result


def near_boundaries(
    structures: Sequence[BoundaryDistance],
    area_of: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    metres: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """:meth:`BoundaryDistance.near` of each point to ``structures[area_of[i]]`` within ``metres[i]``, in one pass."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    area_of = np.asarray(area_of, dtype=np.int64)
    lon0 = np.array([s.lon0 for s in structures])[area_of]
    lat0 = np.array([s.lat0 for s in structures])[area_of]
    cos_lat0 = np.array([s.cos_lat0 for s in structures])[area_of]
    points = shapely.points(
        np.column_stack(((lon - lon0) * cos_lat0 * _METRES_PER_DEGREE, (lat - lat0) * _METRES_PER_DEGREE))
    )
    near = np.zeros(len(lon), bool)
    for a, idx in group_indices(area_of):
        point_of, _ = structures[a].tree.query(points[idx], predicate="dwithin", distance=metres[idx])
        near[idx[point_of]] = True
    return near


def intersects_each(
    areas: Sequence[IndexedArea],
    area_of: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    index: AreaIndex | None = None,
) -> NDArray[np.bool_]:
    """GEOS ``intersects`` of point i with ``areas[area_of[i]]``, through the index's grid when they are its areas."""
    area_of = np.asarray(area_of, dtype=np.int64)
    if index is not None and all(index.areas[index.position.get(a.id, 0)] is a for a in areas):
        return index.intersects_each(lon, lat, np.array([index.position[a.id] for a in areas])[area_of])
    result = np.zeros(len(lon), bool)
    for a, idx in group_indices(area_of):
        result[idx] = shapely.intersects_xy(areas[a].geom, lon[idx], lat[idx])
    return result


def covers_and_distances(
    areas: Sequence[IndexedArea],
    area_of: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    index: AreaIndex | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """``ST_Covers(areas[area_of[i]], point i)`` and the signed geodesic distance to that boundary (+ inside)."""
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    area_of = np.asarray(area_of, dtype=np.int64)
    result = intersects_each(areas, area_of, lon, lat, index)  # for a point, intersects == covered by
    distance = boundary_distances([a.boundary_distance() for a in areas], area_of, lon, lat)
    # Within 5 cm (more than 1e-7° in any direction) PostGIS's own rule decides.
    for i in np.flatnonzero(distance < TIE_ZONE_M).tolist():  # NaN (impossible latitude) compares False
        result[i] = postgis_point_in_polygonal(areas[area_of[i]].geom, float(lon[i]), float(lat[i])) != -1
    return result, np.where(result, distance, -distance)


# --------------------------------------------------------------------------------------------- one area


@dataclass(eq=False)
class IndexedArea:
    """One stored area version, its exact geometry prepared for point tests and boundary distances."""

    id: int
    product_id: int
    product_code: str
    product_name_zh: str
    version: int
    valid_from: datetime
    valid_to: datetime | None
    geom: BaseGeometry
    wkb_md5: str
    token: str
    bounds: tuple[float, float, float, float] = field(init=False, repr=False)
    _distance: BoundaryDistance | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.bounds = tuple(float(b) for b in shapely.bounds(self.geom))  # type: ignore[assignment]

    def valid_at(self, moment: datetime) -> bool:
        """True when this version was legally valid at ``moment``."""
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)

    def covers(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
        """``ST_Covers(area, point)`` for each point, exactly as PostGIS decides it."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        result = shapely.intersects_xy(self.geom, lon, lat)  # for a point, intersects == covered by
        near = self.boundary_distance().near(lon, lat)
        for i in np.flatnonzero(near):
            result[i] = postgis_point_in_polygonal(self.geom, float(lon[i]), float(lat[i])) != -1
        return result

    def covers_and_distance(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """``ST_Covers`` for each point and its signed geodesic distance to the boundary (metres, + inside)."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        return covers_and_distances([self], np.zeros(len(lon), np.int64), lon, lat)

    def boundary_distance(self) -> BoundaryDistance:
        """The (lazily built) boundary distance structure of this area."""
        if self._distance is None:
            with self._lock:
                if self._distance is None:
                    self._distance = BoundaryDistance(self.geom)
        return self._distance

    def signed_distance_m(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        """Geodesic distance to the boundary in metres, positive where the area covers the point."""
        return self.covers_and_distance(lon, lat)[1]

    def describe(self) -> dict[str, Any]:
        """What a verdict records about this area version."""
        return {
            "area_id": self.id,
            "product_id": self.product_id,
            "product_code": self.product_code,
            "name_zh": self.product_name_zh,
            "version": self.version,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "wkb_md5": self.wkb_md5,
        }


def warm_prepared(geoms: Any) -> None:
    """Build GEOS's lazily built point-in-area indexes now, in one thread.

    GEOS builds a prepared geometry's point locator on first use without a lock: two threads (API workers, or the
    threaded batch) using a fresh prepared geometry at once corrupt the heap. A test point inside each envelope
    makes GEOS build it here.
    """
    geoms = np.atleast_1d(np.asarray(geoms, dtype=object))
    bounds = shapely.bounds(geoms)
    shapely.intersects_xy(geoms, (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)


def _area_from_row(row: Any) -> IndexedArea:
    geom = shapely.from_wkb(bytes(row.wkb))
    shapely.prepare(geom)
    warm_prepared(geom)
    return IndexedArea(
        id=row.id,
        product_id=row.product_id,
        product_code=row.code,
        product_name_zh=row.name_zh,
        version=row.version,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        geom=geom,
        wkb_md5=hashlib.md5(bytes(row.wkb)).hexdigest(),
        token=_row_token(row.xmin, row.ctid),
    )


_LOAD_SQL = text(
    "SELECT a.id, a.product_id, a.version, a.valid_from, a.valid_to, ST_AsBinary(a.geom) AS wkb, "
    "a.xmin::text AS xmin, a.ctid::text AS ctid, p.code, p.name_zh "
    "FROM production_area a JOIN gi_product p ON p.id = a.product_id WHERE a.id = ANY(:ids)"
)
# The versions a single check needs: the claimed product's version valid at the moment, and every version valid
# then whose bounding box holds the point (both through indexes).
_CANDIDATES_SQL = text(
    "SELECT a.id, a.product_id, a.xmin::text AS xmin, a.ctid::text AS ctid FROM production_area a "
    "WHERE a.valid_from <= :moment AND (a.valid_to IS NULL OR a.valid_to > :moment) "
    "AND (a.product_id = :product_id OR a.geom && ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
)
_CANDIDATES_PG = (
    "SELECT a.id, a.product_id, a.xmin::text AS xmin, a.ctid::text AS ctid FROM production_area a "
    "WHERE a.valid_from <= %(moment)s AND (a.valid_to IS NULL OR a.valid_to > %(moment)s) "
    "AND (a.product_id = %(product_id)s OR a.geom && ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))"
)
_TOKENS_SQL = text(
    "SELECT a.id, a.xmin::text AS xmin, a.ctid::text AS ctid FROM production_area a ORDER BY a.id"
)


# --------------------------------------------------------------------------------------------- the grid


class CellGrid:
    """A lon/lat grid over many areas: each cell is empty, wholly inside exactly one area, or a list of candidates.

    Classification is conservative: a cell counts as crossed by a boundary when any boundary piece's bounding box
    comes within 1e-9° of it, so a point assigned to a cell by floating-point division always lies in the region
    that was classified, and the grid's answer equals testing every polygon.
    """

    EPS = 1e-9

    def __init__(
        self, geoms: Sequence[BaseGeometry] | NDArray[np.object_], max_cells: int = 6_000_000
    ) -> None:
        from scipy import ndimage

        shapes: NDArray[np.object_] = np.asarray(geoms, dtype=object)
        self.size = len(shapes)
        if self.size == 0:
            self.d, self.x0, self.y0, self.nx, self.ny = 1.0, 0.0, 0.0, 0, 0
            self.code = np.zeros(0, np.int32)
            self.ptr = np.zeros(1, np.int64)
            self.cand = np.zeros(0, np.int32)
            self.full = np.zeros(0, bool)
            self.piece_lo = self.piece_hi = np.zeros(0, np.int64)
            self.piece_of = np.zeros(0, np.int32)  # segment numbers, int32 as _touched_cells stores them
            self.coords = np.zeros((0, 2))
            return
        bounds = shapely.bounds(shapes)
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        east, north = bounds[:, 2].max(), bounds[:, 3].max()
        # Cells of about a thirtieth of a typical area, so that most points fall in cells no boundary crosses.
        typical = float(np.median(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])))
        d = min(max(typical / 30.0, 0.002), 0.05)
        if (east - west + 2 * d) * (north - south + 2 * d) / (d * d) > max_cells:
            d = float(np.sqrt((east - west + 2 * d) * (north - south + 2 * d) / max_cells)) * 1.05
        self.d = d
        self.x0, self.y0 = west - d, south - d
        self.nx = int(np.ceil((east + d - self.x0) / d)) + 1
        self.ny = int(np.ceil((north + d - self.y0) / d)) + 1

        touched_cell, touched_area, piece_ptr = self._touched_cells(shapes)
        full_cell, full_area = self._interior_cells(shapes, touched_cell, touched_area, ndimage)
        cells = np.concatenate([touched_cell, full_cell])
        areas = np.concatenate([touched_area, full_area])
        is_full = np.concatenate([np.zeros(len(touched_cell), bool), np.ones(len(full_cell), bool)])
        pair = np.concatenate([np.arange(len(touched_cell)), np.full(len(full_cell), -1)])
        order = np.lexsort((areas, cells))
        cells, areas, is_full, pair = cells[order], areas[order], is_full[order], pair[order]
        unique_cells, first, counts = np.unique(cells, return_index=True, return_counts=True)
        direct = (counts == 1) & is_full[first]
        self.code = np.zeros(self.nx * self.ny, np.int32)
        self.code[unique_cells[direct]] = (areas[first[direct]] + 1).astype(np.int32)
        mixed = ~direct
        self.code[unique_cells[mixed]] = -(np.arange(int(mixed.sum()), dtype=np.int32) + 1)
        m_first, m_count = first[mixed], counts[mixed]
        position = np.repeat(m_first, m_count) + (
            np.arange(m_count.sum()) - np.repeat(np.cumsum(m_count) - m_count, m_count)
        )
        self.cand = areas[position].astype(np.int32)
        self.full = is_full[position]
        self.ptr = np.concatenate([[0], np.cumsum(m_count)]).astype(np.int64)
        # For each candidate crossed by its area's boundary: the boundary pieces near that cell (tie zone test).
        cand_pair = pair[position]
        self.piece_lo = np.where(cand_pair >= 0, piece_ptr[np.maximum(cand_pair, 0)], 0)
        self.piece_hi = np.where(cand_pair >= 0, piece_ptr[np.maximum(cand_pair, 0) + 1], 0)

    def _touched_cells(
        self, geoms: NDArray[np.object_]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """(cell, area) pairs crossed by a boundary, and a CSR of the boundary segments of each pair."""
        parts, part_of = shapely.get_parts(geoms, return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        coords, coord_of = shapely.get_coordinates(rings, return_index=True)
        del parts, rings
        starts = np.flatnonzero(coord_of[1:] == coord_of[:-1])
        seg_area = part_of[ring_of[coord_of[starts]]]
        del coord_of
        self.coords = coords
        keys, segs = [], []
        step = 250_000  # segments per chunk, to keep the temporaries small
        for lo in range(0, len(starts), step):
            seg = starts[lo : lo + step]
            a, b = coords[seg], coords[seg + 1]
            # Split long segments so that each piece's bounding box spans at most two cells per axis.
            span = np.maximum(np.abs(a[:, 0] - b[:, 0]), np.abs(a[:, 1] - b[:, 1])) / self.d
            k = np.maximum(1, np.ceil(span).astype(np.int64))
            rep = np.repeat(np.arange(len(seg)), k)
            j = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
            kk = k[rep]
            a_r, b_r = a[rep], b[rep]
            p0 = a_r + (b_r - a_r) * (j / kk)[:, None]
            p1 = np.where((j + 1 == kk)[:, None], b_r, a_r + (b_r - a_r) * ((j + 1) / kk)[:, None])
            ix0 = np.floor((np.minimum(p0[:, 0], p1[:, 0]) - self.EPS - self.x0) / self.d).astype(np.int64)
            ix1 = np.floor((np.maximum(p0[:, 0], p1[:, 0]) + self.EPS - self.x0) / self.d).astype(np.int64)
            iy0 = np.floor((np.minimum(p0[:, 1], p1[:, 1]) - self.EPS - self.y0) / self.d).astype(np.int64)
            iy1 = np.floor((np.maximum(p0[:, 1], p1[:, 1]) + self.EPS - self.y0) / self.d).astype(np.int64)
            del a_r, b_r, p0, p1
            seg_r = seg[rep]
            area_r = seg_area[lo : lo + step][rep]
            for dx in range(3):
                for dy in range(3):
                    m = np.flatnonzero((ix0 + dx <= ix1) & (iy0 + dy <= iy1))
                    keys.append(((iy0[m] + dy) * self.nx + ix0[m] + dx) * self.size + area_r[m])
                    segs.append(seg_r[m].astype(np.int32))
        key = np.concatenate(keys)
        seg_all = np.concatenate(segs)
        del keys, segs
        order = np.lexsort((seg_all, key))
        key, seg_all = key[order], seg_all[order]
        keep = np.r_[True, (key[1:] != key[:-1]) | (seg_all[1:] != seg_all[:-1])]
        key, seg_all = key[keep], seg_all[keep]
        unique, first = np.unique(key, return_index=True)
        # The tie test uses each whole original segment (a superset of its pieces: conservative).
        self.piece_of = seg_all
        piece_ptr = np.concatenate([first, [len(key)]]).astype(np.int64)
        return unique // self.size, unique % self.size, piece_ptr

    def _interior_cells(
        self,
        geoms: NDArray[np.object_],
        touched_cell: NDArray[np.int64],
        touched_area: NDArray[np.int64],
        ndimage: Any,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        order = np.argsort(touched_area, kind="stable")
        t_cell, t_area = touched_cell[order], touched_area[order]
        bounds = np.searchsorted(t_area, np.arange(self.size + 1))
        full_cells: list[NDArray[np.int64]] = []
        full_areas: list[NDArray[np.int64]] = []
        for i in range(self.size):
            cells = t_cell[bounds[i] : bounds[i + 1]]
            if len(cells) == 0:
                continue
            cy, cx = np.divmod(cells, self.nx)
            x_lo, y_lo = cx.min(), cy.min()
            mask = np.ones((cy.max() - y_lo + 1, cx.max() - x_lo + 1), bool)
            mask[cy - y_lo, cx - x_lo] = False
            labels, count = ndimage.label(mask)
            if count == 0:
                continue
            flat = labels.ravel()
            nonzero = np.flatnonzero(flat)
            first = nonzero[np.unique(flat[nonzero], return_index=True)[1]]
            ry, rx = np.divmod(first, mask.shape[1])
            # A component of cells no boundary comes near is wholly inside or wholly outside: test one centre.
            inside = shapely.intersects_xy(
                geoms[i], self.x0 + (rx + x_lo + 0.5) * self.d, self.y0 + (ry + y_lo + 0.5) * self.d
            )
            if not inside.any():
                continue
            selected = np.isin(flat, np.flatnonzero(inside) + 1)
            fy, fx = np.divmod(np.flatnonzero(selected), mask.shape[1])
            full_cells.append((fy + y_lo) * self.nx + fx + x_lo)
            full_areas.append(np.full(len(fy), i, dtype=np.int64))
        if not full_cells:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(full_cells), np.concatenate(full_areas)

    @property
    def nbytes(self) -> int:
        """Memory held by the grid arrays."""
        return sum(
            a.nbytes
            for a in (
                self.code,
                self.ptr,
                self.cand,
                self.full,
                self.piece_lo,
                self.piece_hi,
                self.coords,
                self.piece_of,
            )
        )

    def candidates(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
        """(point index, area position, certain, candidate offset or -1): certain pairs need no test."""
        n = len(x)
        if self.size == 0 or n == 0:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(0, bool), empty
        with np.errstate(invalid="ignore"):
            ix = np.floor((x - self.x0) / self.d)
            iy = np.floor((y - self.y0) / self.d)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        code = np.zeros(n, np.int32)
        code[ok] = self.code[iy[ok].astype(np.int64) * self.nx + ix[ok].astype(np.int64)]
        direct = np.flatnonzero(code > 0)
        mixed = np.flatnonzero(code < 0)
        m = -code[mixed].astype(np.int64) - 1
        count = self.ptr[m + 1] - self.ptr[m]
        pt = np.repeat(mixed, count)
        offset = np.repeat(self.ptr[m], count) + (
            np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        )
        points = np.concatenate([direct, pt])
        areas = np.concatenate([code[direct].astype(np.int64) - 1, self.cand[offset].astype(np.int64)])
        certain = np.concatenate([np.ones(len(direct), bool), self.full[offset]])
        offsets = np.concatenate([np.full(len(direct), -1, np.int64), offset])
        return points, areas, certain, offsets

    def near_boundary(
        self, x: NDArray[np.float64], y: NDArray[np.float64], offsets: NDArray[np.int64], tolerance: float
    ) -> NDArray[np.bool_]:
        """For candidate pairs (point x, y; candidate offset): is the point within ``tolerance``° of a boundary
        piece of that candidate's area in its cell? Only those can be decided differently by PostGIS and GEOS."""
        lo, hi = self.piece_lo[offsets], self.piece_hi[offsets]
        count = hi - lo
        pair = np.repeat(np.arange(len(offsets)), count)
        idx = np.repeat(lo, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        start = self.piece_of[idx].astype(np.int64)
        a, b = self.coords[start], self.coords[start + 1]
        d = _segment_distance(x[pair], y[pair], a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        near = np.zeros(len(offsets), bool)
        near[pair[d <= tolerance]] = True
        return near


# --------------------------------------------------------------------------------------------- the index


class AreaIndex:
    """Every stored area version (all products, all versions) with a grid for locating many points at once."""

    def __init__(self, areas: Sequence[IndexedArea], tokens: tuple[tuple[int, str], ...] = ()) -> None:
        self.areas = list(areas)
        self.tokens = tokens
        self.position = {a.id: i for i, a in enumerate(self.areas)}
        self.geoms = np.array([a.geom for a in self.areas], dtype=object)
        self.product_ids = np.array([a.product_id for a in self.areas], dtype=np.int64)
        self.grid = CellGrid(self.geoms)
        by_product: dict[int, list[IndexedArea]] = {}
        for area in self.areas:
            by_product.setdefault(area.product_id, []).append(area)
        self.by_product = by_product

    def area_valid_at(self, product_id: int, moment: datetime) -> IndexedArea | None:
        """The version of ``product_id``'s area valid at ``moment``."""
        for area in self.by_product.get(product_id, ()):
            if area.valid_at(moment):
                return area
        return None

    def covering(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        threads: int = 1,
        exact_ties: bool = True,
        skip_product: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(point index, area position) for every area version that covers each point (``ST_Covers``).

        ``skip_product`` (one product id per point) leaves out that product's versions, untested.
        """
        lon = np.ascontiguousarray(lon, dtype=float)
        lat = np.ascontiguousarray(lat, dtype=float)
        if threads > 1 and len(lon) >= 50_000:
            from concurrent.futures import ThreadPoolExecutor

            bounds = np.linspace(0, len(lon), threads * 4 + 1).astype(int)
            spans = list(zip(bounds[:-1], bounds[1:], strict=True))
            with ThreadPoolExecutor(threads) as pool:
                parts = list(
                    pool.map(
                        lambda s: self._covering(
                            lon[s[0] : s[1]],
                            lat[s[0] : s[1]],
                            exact_ties,
                            None if skip_product is None else skip_product[s[0] : s[1]],
                        ),
                        spans,
                    )
                )
            points = np.concatenate([p + s[0] for (p, _), s in zip(parts, spans, strict=True)])
            areas = np.concatenate([a for _, a in parts])
            return points, areas
        return self._covering(lon, lat, exact_ties, skip_product)

    def intersects_each(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], positions: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        """GEOS ``intersects`` of point i with the area at ``positions[i]``: the grid answers wherever a cell is
        wholly inside or outside that area (exactly: see :class:`CellGrid`), GEOS tests the rest in one call."""
        lon = np.ascontiguousarray(lon, dtype=float)
        lat = np.ascontiguousarray(lat, dtype=float)
        points, areas, certain, _ = self.grid.candidates(lon, lat)
        match = areas == positions[points]
        points, certain = points[match], certain[match]
        result = np.zeros(len(lon), bool)
        result[points[certain]] = True
        test = points[~certain]
        if len(test):
            result[test] = shapely.intersects_xy(self.geoms[positions[test]], lon[test], lat[test])
        return result

    def _covering(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        exact_ties: bool,
        skip_product: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        points, areas, certain, offsets = self.grid.candidates(lon, lat)
        if skip_product is not None:
            keep = self.product_ids[areas] != np.asarray(skip_product)[points]
            points, areas, certain, offsets = points[keep], areas[keep], certain[keep], offsets[keep]
        test = np.flatnonzero(~certain)
        if len(test):
            hit = shapely.intersects_xy(self.geoms[areas[test]], lon[points[test]], lat[points[test]])
            if exact_ties:
                near = self.grid.near_boundary(
                    lon[points[test]], lat[points[test]], offsets[test], TIE_ZONE_DEG
                )
                for k in np.flatnonzero(near):
                    i, a = points[test[k]], areas[test[k]]
                    hit[k] = postgis_point_in_polygonal(self.geoms[a], float(lon[i]), float(lat[i])) != -1
            keep = np.ones(len(points), bool)
            keep[test] = hit
            points, areas = points[keep], areas[keep]
        order = np.lexsort((areas, points))
        return points[order], areas[order]


@dataclass
class _DatabaseAreas:
    """The cache of one database: area versions by id and the last full index."""

    areas: dict[int, IndexedArea] = field(default_factory=dict)
    index: AreaIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHES: dict[str, _DatabaseAreas] = {}
_CACHES_LOCK = threading.Lock()


_URL_KEYS: dict[Any, str] = {}


def _cache_for(session: Session | Connection) -> _DatabaseAreas:
    bind = session.get_bind() if isinstance(session, Session) else session
    engine = bind.engine if isinstance(bind, Connection) else bind
    key = _URL_KEYS.get(engine.url)
    if key is None:
        # Rendering a URL costs more than a single check's arithmetic: once per URL.
        key = _URL_KEYS[engine.url] = engine.url.render_as_string(hide_password=False)
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = _DatabaseAreas()
        return cache


def clear_area_cache() -> None:
    """Forget every cached area (tests; never needed for correctness)."""
    with _CACHES_LOCK:
        _CACHES.clear()


def _load(
    session: Session | Connection, cache: _DatabaseAreas, wanted: Iterable[tuple[int, str]]
) -> dict[int, IndexedArea]:
    """The cached versions for (id, row token) pairs, reading changed or missing ones from PostGIS."""
    wanted = list(wanted)
    missing = [i for i, token in wanted if (a := cache.areas.get(i)) is None or a.token != token]
    for start in range(0, len(missing), 100):  # in slices: a few MB of WKB at a time
        for row in session.execute(_LOAD_SQL, {"ids": missing[start : start + 100]}):
            cache.areas[row.id] = _area_from_row(row)
    found = {}
    for i, token in wanted:
        area = cache.areas.get(i)
        if area is not None and area.token == token:
            found[i] = area
        elif area is not None:
            # Changed between our two reads (a concurrent edit): the second read is what this transaction sees.
            found[i] = area
    return found


def areas_for_point(
    session: Session, product_id: int, lon: float, lat: float, moment: datetime
) -> tuple[IndexedArea | None, list[IndexedArea]]:
    """The claimed product's area valid at ``moment``, and the other versions then valid whose box holds the point."""
    cache = _cache_for(session)
    rows = _candidate_rows(session, {"moment": moment, "product_id": product_id, "lon": lon, "lat": lat})
    with cache.lock:
        areas = _load(session, cache, [(r[0], _row_token(r[2], r[3])) for r in rows])
    claimed = None
    others = []
    for r in rows:
        area = areas[r[0]]
        if r[1] == product_id and claimed is None:
            claimed = area
        elif r[1] != product_id:
            others.append(area)
    return claimed, others


def _candidate_rows(session: Session, params: dict[str, Any]) -> Sequence[Any]:
    """Rows (id, product_id, xmin, ctid) of :data:`_CANDIDATES_SQL`, in the session's transaction."""
    raw = session.connection().connection.driver_connection
    if isinstance(raw, psycopg.Connection):
        # A server-side prepared statement on the session's own connection: SQLAlchemy's work per statement
        # costs as much as the round trip itself.
        with raw.cursor() as cursor:
            return cursor.execute(_CANDIDATES_PG, params, prepare=True).fetchall()
    return session.execute(_CANDIDATES_SQL, params).all()


def area_tokens(cursor: Any) -> tuple[tuple[int, str], ...]:
    """The row versions of every stored area version, as an index keeps them (``cursor``: a psycopg cursor)."""
    return tuple((r[0], _row_token(r[1], r[2])) for r in cursor.execute(str(_TOKENS_SQL)).fetchall())


def area_index(session: Session | Connection) -> AreaIndex:
    """The index of every stored area version, rebuilt only when a version was added, changed or removed."""
    cache = _cache_for(session)
    tokens = tuple((r.id, _row_token(r.xmin, r.ctid)) for r in session.execute(_TOKENS_SQL))
    with cache.lock:
        if cache.index is not None and cache.index.tokens == tokens:
            return cache.index
        areas = _load(session, cache, tokens)
        cache.index = AreaIndex([areas[i] for i, _ in tokens if i in areas], tokens)
        return cache.index
