"""Origin control (产地控制): is a claimed place inside the product's protected area, and how sure can we be?

One rule, :data:`RULE`, decides every verdict, whether it comes from :func:`check_origin` (one sample, the API and
the CLI) or :func:`check_origins` (a batch): both build the same :class:`OriginVerdict` through :func:`_judge`.

* ``inside`` / ``outside`` follow PostGIS ``ST_Covers(area, point)`` on the area version valid at the collection
  moment (a point on the boundary is inside, so a point on a border shared by two areas is inside both);
* ``uncertain`` when the signed geodesic distance to the boundary is within the band max(GPS accuracy, tolerance);
* a fix that cannot be trusted (accuracy 0 — how mock locations are recorded —, worse than the limit, missing,
  or not from a GPS device) never yields ``inside``: at best ``uncertain``, and it is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from geo_data.china import china_outline
from geo_data.crs import CoordinateSystem, UnknownCRSError, parse_crs, to_wgs84
# The constants of the published GCJ-02/BD-09 formulas, shared so that the plain-float path stays identical.
from gi.areas import as_aware
from gi.errors import InputError
from gi.models import LocationSource, OriginOutcome
from gi.origin_index import AreaIndex, IndexedArea, area_index, areas_for_point
from gi.settings import Settings, get_settings

RULE_VERSION = 1
RULE = (
    "origin/1: d = signed geodesic distance to the boundary of the area version valid at collected_at (+ inside, "
    "ST_Covers); |d| <= max(accuracy, tolerance) -> uncertain; covered -> inside (untrusted fix -> uncertain); "
    "else outside"
)

# Flags, as stored in origin_verdict.flags.
FLAG_SWAPPED = "swapped_lat_lon"
FLAG_OUTSIDE_CHINA = "outside_china"
FLAG_NULL_ISLAND = "null_island"
FLAG_COARSE = "coarse_precision"
FLAG_CRS = "crs_implausible"
FLAG_ACCURACY_ZERO = "accuracy_zero"
FLAG_ACCURACY_POOR = "accuracy_poor"
FLAG_ACCURACY_MISSING = "accuracy_missing"
FLAG_NOT_GPS = "not_gps_fix"
FLAG_NO_AREA = "no_area_version"
FLAG_OTHER_AREA = "in_other_gi_area"

FLAG_LABELS = {
    FLAG_SWAPPED: "latitude and longitude look swapped",
    FLAG_OUTSIDE_CHINA: "outside China",
    FLAG_NULL_ISLAND: "zero coordinates (null island)",
    FLAG_COARSE: "coordinates coarser than 4 decimals",
    FLAG_CRS: "declared coordinate system implausible",
    FLAG_ACCURACY_ZERO: "GPS accuracy 0 (mock location?)",
    FLAG_ACCURACY_POOR: "GPS accuracy worse than the limit",
    FLAG_ACCURACY_MISSING: "GPS accuracy missing",
    FLAG_NOT_GPS: "not a GPS fix (map pick or geocoded address)",
    FLAG_NO_AREA: "no area version valid at the collection date",
    FLAG_OTHER_AREA: "inside another GI product's area",
}

_GEOGRAPHIC = (CoordinateSystem.WGS84, CoordinateSystem.CGCS2000, CoordinateSystem.GCJ02, CoordinateSystem.BD09)
# The systems a location may really be in when the declared one puts it outside (CGCS2000 is WGS84 to centimetres).
_ALTERNATIVES = (CoordinateSystem.WGS84, CoordinateSystem.GCJ02, CoordinateSystem.BD09)
_ALTERNATIVE_REACH_M = 3000.0


@dataclass(frozen=True)
class LocationClaim:
    """A claimed place of production: what :func:`check_origin` decides on.

    ``location_source`` None means a registered producer location (a register entry, not a field fix).
    ``x_text``/``y_text`` keep coordinates as typed, so that their precision can be judged.
    """

    product_id: int
    x: float
    y: float
    collected_at: datetime
    crs: str = "WGS84"
    gps_accuracy_m: float | None = None
    location_source: LocationSource | None = LocationSource.DEVICE_GPS
    x_text: str | None = None
    y_text: str | None = None


@dataclass(frozen=True)
class OriginVerdict:
    """The outcome of an origin check, with everything needed to reproduce it."""

    verdict: OriginOutcome
    product_id: int
    lon: float
    lat: float
    distance_m: float | None
    band_m: float
    area_id: int | None
    area_version: int | None
    flags: tuple[str, ...]
    other_areas: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]
    rule: str
    inputs: dict[str, Any] = field(compare=False)

    def record_fields(self) -> dict[str, Any]:
        """Column values of an ``OriginVerdictRecord`` (without its subject)."""
        return {
            "product_id": self.product_id, "area_id": self.area_id, "area_version": self.area_version,
            "verdict": self.verdict, "distance_m": self.distance_m, "band_m": self.band_m,
            "flags": list(self.flags), "other_areas": list(self.other_areas), "rule": self.rule,
            "inputs": self.inputs,
        }


def decimals(value: float, typed: str | None = None) -> int:
    """Number of decimals a coordinate was given with (from its text when known, else its shortest repr)."""
    text = (typed or "").strip() or repr(float(value))
    mantissa, _, exponent = text.lower().partition("e")
    dot = mantissa.find(".")
    places = 0 if dot < 0 else len(mantissa) - dot - 1
    try:
        return max(0, places - int(exponent or 0))
    except ValueError:
        return places


def normalize(
    x: Sequence[float] | NDArray[np.float64],
    y: Sequence[float] | NDArray[np.float64],
    system: CoordinateSystem | str,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Submitted coordinates in ``system`` -> WGS84 lon/lat, the same to the last bit whatever else is converted."""
    return to_wgs84(np.asarray(x, dtype=float), np.asarray(y, dtype=float), system)


@lru_cache(maxsize=256)
def parse_system(crs: str | None) -> CoordinateSystem | str:
    """The declared coordinate system, or an :class:`InputError` on field ``crs``."""
    try:
        return parse_crs(crs)
    except UnknownCRSError as exc:
        raise InputError("crs", str(exc).removeprefix("crs: ")) from exc


def _is_geographic(system: CoordinateSystem | str) -> bool:
    return system in _GEOGRAPHIC or system in ("EPSG:4326", "EPSG:4490")


@dataclass
class _Case:
    """Working state of one claim while it is judged."""

    claim: LocationClaim
    system: CoordinateSystem | str
    lon: float
    lat: float
    moment: datetime
    area: IndexedArea | None
    others: list[IndexedArea]


def _by_area(cases: Sequence[_Case], idx: NDArray[np.int64]) -> dict[int, NDArray[np.int64]]:
    """Indices (of ``idx``) grouped by their case's area version."""
    ids = np.array([cases[i].area.id for i in idx], dtype=np.int64)  # type: ignore[union-attr]
    order = np.argsort(ids, kind="stable")
    ids, idx = ids[order], np.asarray(idx)[order]
    cuts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return {int(ids[c]): idx[c:e] for c, e in zip(cuts, np.r_[cuts[1:], len(ids)], strict=True)}


def _judge(cases: Sequence[_Case], settings: Settings) -> list[OriginVerdict]:
    """Apply :data:`RULE` to prepared cases, vectorized per area version (the batch and the single check)."""
    n = len(cases)
    lon = np.array([c.lon for c in cases], dtype=float)
    lat = np.array([c.lat for c in cases], dtype=float)
    covered = np.zeros(n, bool)
    distance = np.full(n, np.nan)
    with_area = np.array([i for i, c in enumerate(cases) if c.area is not None], dtype=np.int64)
    areas = {c.area.id: c.area for c in cases if c.area is not None}
    groups = _by_area(cases, with_area) if len(with_area) else {}
    for area_id, idx in groups.items():
        covered[idx], distance[idx] = areas[area_id].covers_and_distance(lon[idx], lat[idx])

    tolerance = settings.boundary_tolerance_m
    limit = settings.max_gps_accuracy_m
    accuracy = np.array([np.nan if c.claim.gps_accuracy_m is None else c.claim.gps_accuracy_m for c in cases])
    band = np.maximum(np.nan_to_num(accuracy, nan=0.0), tolerance)
    in_china = _china_covers(lon, lat) if n else np.zeros(0, bool)
    swapped, plausible_crs = _alternatives(cases, areas, covered, distance, band)

    verdicts = []
    for i, c in enumerate(cases):
        flags: list[str] = []
        notes: list[str] = []
        claim = c.claim
        trusted = True
        if claim.location_source is not None:
            acc = claim.gps_accuracy_m
            if acc is None:
                flags.append(FLAG_ACCURACY_MISSING)
                trusted = False
            elif acc == 0:
                flags.append(FLAG_ACCURACY_ZERO)
                notes.append("accuracy 0 is how mock locations are recorded; the fix is not trusted")
                trusted = False
            elif acc > limit:
                flags.append(FLAG_ACCURACY_POOR)
                notes.append(f"accuracy {acc:g} m is worse than the {limit:g} m limit; the fix is not trusted")
                trusted = False
            if claim.location_source is not LocationSource.DEVICE_GPS:
                flags.append(FLAG_NOT_GPS)
                trusted = False
        if claim.x == 0 or claim.y == 0:
            flags.append(FLAG_NULL_ISLAND)
        if not in_china[i]:
            flags.append(FLAG_OUTSIDE_CHINA)
        if _is_geographic(c.system) and max(
            decimals(claim.x, claim.x_text), decimals(claim.y, claim.y_text),
        ) < 4:
            flags.append(FLAG_COARSE)
            notes.append("coordinates given with fewer than 4 decimals (about 10 m or worse)")
        if swapped[i]:
            flags.append(FLAG_SWAPPED)
            notes.append("with latitude and longitude exchanged the point is inside the area")
        if i in plausible_crs:
            flags.append(FLAG_CRS)
            notes.append(f"declared {c.system}, but the point is inside only when read as {plausible_crs[i]}")
        others = tuple(
            {"area_id": a.id, "product_code": a.product_code, "name_zh": a.product_name_zh, "version": a.version}
            for a in sorted(c.others, key=lambda a: a.product_code)
        )
        if others:
            flags.append(FLAG_OTHER_AREA)

        dist: float | None = None
        if c.area is None:
            flags.append(FLAG_NO_AREA)
            outcome = OriginOutcome.UNCERTAIN
        else:
            dist = round(float(distance[i]), 3) if np.isfinite(distance[i]) else None  # None: |latitude| > 90°
            if dist is not None and abs(float(distance[i])) <= band[i]:
                outcome = OriginOutcome.UNCERTAIN
            elif covered[i]:
                outcome = OriginOutcome.INSIDE if trusted else OriginOutcome.UNCERTAIN
            else:
                outcome = OriginOutcome.OUTSIDE
        inputs = {
            "rule_version": RULE_VERSION,
            "submitted": {"x": claim.x, "y": claim.y, "crs": str(c.system), "x_text": claim.x_text,
                          "y_text": claim.y_text},
            "wgs84": [c.lon, c.lat],
            "collected_at": c.moment.isoformat(),
            "gps_accuracy_m": claim.gps_accuracy_m,
            "location_source": claim.location_source.value if claim.location_source else "register",
            "tolerance_m": tolerance,
            "max_gps_accuracy_m": limit,
            "covered": bool(covered[i]) if c.area is not None else None,
            "trusted_fix": trusted,
            "area": {"id": c.area.id, "version": c.area.version, "wkb_md5": c.area.wkb_md5} if c.area else None,
        }
        if notes:
            inputs["notes"] = notes
        verdicts.append(OriginVerdict(
            verdict=outcome, product_id=claim.product_id, lon=c.lon, lat=c.lat, distance_m=dist,
            band_m=float(band[i]), area_id=c.area.id if c.area else None,
            area_version=c.area.version if c.area else None, flags=tuple(flags), other_areas=others,
            notes=tuple(notes), rule=RULE, inputs=inputs,
        ))
    return verdicts


def _china_covers(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    import shapely

    finite = np.isfinite(lon) & np.isfinite(lat)
    result = np.zeros(len(lon), bool)
    result[finite] = shapely.intersects_xy(china_outline(), lon[finite], lat[finite])
    return result


def _alternatives(
    cases: Sequence[_Case], areas: dict[int, IndexedArea], covered: NDArray[np.bool_],
    distance: NDArray[np.float64], band: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], dict[int, str]]:
    """Flag points outside as declared that are inside with swapped axes or under another coordinate system.

    Swapped: the (y, x) reading in the declared system is covered. Another system: outside beyond the band as
    declared, inside beyond the band under the other reading (a point within the band is uncertain anyway, and a
    500 m shift would flag it by chance); the GCJ-02 and BD-09 offsets are below 2 km, so points farther out than
    that cannot be inside under any of them. Vectorized over all cases: one conversion per system.
    """
    n = len(cases)
    swapped = np.zeros(n, bool)
    plausible: dict[int, str] = {}
    has_area = np.array([c.area is not None for c in cases], dtype=bool)
    x = np.array([c.claim.x for c in cases], dtype=float)
    y = np.array([c.claim.y for c in cases], dtype=float)
    systems = [c.system for c in cases]

    def covered_under(idx: NDArray[np.int64], o_lon: NDArray[np.float64], o_lat: NDArray[np.float64],
                      need_distance: bool) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        hit = np.zeros(len(idx), bool)
        inside_by = np.full(len(idx), -np.inf)
        position = {int(v): k for k, v in enumerate(idx)}
        for area_id, members in _by_area(cases, idx).items():
            k = np.array([position[int(m)] for m in members])
            hit[k] = areas[area_id].covers(o_lon[k], o_lat[k])
            if need_distance and hit[k].any():
                # "Inside beyond the band" for a flag: no boundary within the band in the area's local frame.
                kk = k[hit[k]]
                clear = ~areas[area_id].boundary_distance().near(o_lon[kk], o_lat[kk], float(band[members].max()))
                inside_by[kk] = np.where(clear, np.inf, 0.0)
        return hit, inside_by

    outside = np.flatnonzero(has_area & ~covered)
    by_system: dict[str, list[int]] = {}
    for i in outside:
        by_system.setdefault(str(systems[i]), []).append(int(i))
    for members in by_system.values():
        idx = np.array(members, dtype=np.int64)
        system = systems[members[0]]
        ok = _valid_reading(y[idx], x[idx], system)
        if ok.any():
            s_lon, s_lat = normalize(y[idx[ok]], x[idx[ok]], system)
            hit, _ = covered_under(idx[ok], s_lon, s_lat, need_distance=False)
            swapped[idx[ok][hit]] = True
        near = idx[(distance[idx] < -band[idx]) & (distance[idx] > -_ALTERNATIVE_REACH_M)]
        if len(near) == 0:
            continue
        for other in _ALTERNATIVES:
            if other == system or (other is CoordinateSystem.WGS84 and system in (
                    CoordinateSystem.CGCS2000, "EPSG:4326", "EPSG:4490")):
                continue
            ok = _valid_reading(x[near], y[near], other)
            if not ok.any():
                continue
            cand = near[ok]
            o_lon, o_lat = normalize(x[cand], y[cand], other)
            hit, inside_by = covered_under(cand, o_lon, o_lat, need_distance=True)
            for i, h, d in zip(cand.tolist(), hit.tolist(), inside_by.tolist(), strict=True):
                if h and d > band[i] and i not in plausible:
                    plausible[i] = str(other)
    return swapped, plausible


def _valid_reading(
    x: NDArray[np.float64], y: NDArray[np.float64], system: CoordinateSystem | str
) -> NDArray[np.bool_]:
    if _is_geographic(system):
        return (np.abs(x) <= 180) & (np.abs(y) <= 90)
    return np.isfinite(x) & np.isfinite(y)


def _prepare(claim: LocationClaim) -> tuple[CoordinateSystem | str, float, float, datetime]:
    system = parse_system(claim.crs)
    if not (math.isfinite(claim.x) and math.isfinite(claim.y)):
        raise InputError("x" if not math.isfinite(claim.x) else "y", "coordinate must be a finite number")
    lon, lat = normalize([claim.x], [claim.y], system)
    return system, float(lon[0]), float(lat[0]), as_aware(claim.collected_at)


def check_origin(session: Session, claim: LocationClaim, settings: Settings | None = None) -> OriginVerdict:
    """Check one claimed location against the product's protected area valid at the collection moment."""
    system, lon, lat, moment = _prepare(claim)
    area, candidates = areas_for_point(session, claim.product_id, lon, lat, moment)
    others = [a for a in candidates if a.covers(np.array([lon]), np.array([lat]))[0]]
    case = _Case(claim=claim, system=system, lon=lon, lat=lat, moment=moment, area=area, others=others)
    return _judge([case], settings or get_settings())[0]


def check_origins(
    session: Session, claims: Sequence[LocationClaim], settings: Settings | None = None,
    index: AreaIndex | None = None,
) -> list[OriginVerdict]:
    """Check many claims at once with the prepared index; each verdict equals :func:`check_origin`'s."""
    index = index or area_index(session)
    n = len(claims)
    systems: list[CoordinateSystem | str] = []
    lon = np.empty(n)
    lat = np.empty(n)
    by_crs: dict[str, list[int]] = {}
    for i, claim in enumerate(claims):
        by_crs.setdefault(claim.crs or "", []).append(i)
    systems = [CoordinateSystem.WGS84] * n
    for crs, members in by_crs.items():
        idx = np.array(members)
        system = parse_system(crs)
        x = np.array([claims[i].x for i in members], dtype=float)
        y = np.array([claims[i].y for i in members], dtype=float)
        lon[idx], lat[idx] = normalize(x, y, system)
        for i in members:
            systems[i] = system
    moments = [as_aware(c.collected_at) for c in claims]
    point_of, area_of = index.covering(lon, lat) if n else (np.zeros(0, int), np.zeros(0, int))
    covering: dict[int, list[IndexedArea]] = {}
    for p, a in zip(point_of.tolist(), area_of.tolist(), strict=True):
        covering.setdefault(p, []).append(index.areas[a])
    cases = []
    for i, claim in enumerate(claims):
        area = index.area_valid_at(claim.product_id, moments[i])
        others = [a for a in covering.get(i, ()) if a.product_id != claim.product_id and a.valid_at(moments[i])]
        cases.append(_Case(claim=claim, system=systems[i], lon=float(lon[i]), lat=float(lat[i]),
                           moment=moments[i], area=area, others=others))
    return _judge(cases, settings or get_settings())


@dataclass(frozen=True)
class ProducerCheck:
    """The origin verdict of one authorized producer's registered location."""

    producer_id: int
    producer_name: str
    credit_code: str
    product_code: str
    product_name_zh: str
    verdict: OriginVerdict


def check_producers(
    session: Session, product_id: int | None = None, moment: datetime | None = None, store: bool = True,
    settings: Settings | None = None,
) -> list[ProducerCheck]:
    """Check every authorized producer's registered location against its product's area valid ``moment``."""
    from sqlalchemy import text

    from gi.models import OriginVerdictRecord

    from zoneinfo import ZoneInfo

    moment = as_aware(moment or datetime.now(ZoneInfo(get_settings().timezone)))
    rows = session.execute(text(
        "SELECT r.id, r.name, r.credit_code, r.product_id, ST_X(r.location) AS x, ST_Y(r.location) AS y, "
        "p.code, p.name_zh FROM producer r JOIN gi_product p ON p.id = r.product_id "
        "WHERE r.location IS NOT NULL AND r.kind = 'producer' "
        "AND (r.authorized_from IS NULL OR r.authorized_from <= CAST(:moment AS date)) "
        "AND (r.authorized_to IS NULL OR r.authorized_to >= CAST(:moment AS date)) "
        "AND (CAST(:product AS integer) IS NULL OR r.product_id = :product) ORDER BY p.code, r.name"
    ), {"moment": moment, "product": product_id}).all()
    claims = [LocationClaim(product_id=r.product_id, x=r.x, y=r.y, collected_at=moment, crs="WGS84",
                            gps_accuracy_m=None, location_source=None) for r in rows]
    verdicts = check_origins(session, claims, settings) if claims else []
    if store and verdicts:
        session.add_all(OriginVerdictRecord(producer_id=r.id, **v.record_fields())
                        for r, v in zip(rows, verdicts, strict=True))
        session.flush()
    return [ProducerCheck(r.id, r.name, r.credit_code, r.code, r.name_zh, v)
            for r, v in zip(rows, verdicts, strict=True)]
