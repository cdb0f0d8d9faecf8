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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from geo_data.china import china_waters
from geo_data.crs import (
    WGS84_EQUIVALENT,
    CoordinateSystem,
    is_geographic,
    to_wgs84,
)
from geo_data.values import angle_decimals
from gi import clock
from gi.errors import InputError
from gi.models import LocationSource, OriginOutcome
from gi.origin.fields import parse_system
from gi.origin.index import (
    TIE_ZONE_M,
    WGS84_GEOD,
    AreaIndex,
    IndexedArea,
    area_index,
    areas_for_point,
    covers_and_distances,
    group_indices,
    intersects_each,
    near_boundaries,
)
from gi.register.areas import as_aware
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
    FLAG_OUTSIDE_CHINA: "outside China (its land, internal waters and territorial sea)",
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

    @classmethod
    def from_record(cls, row: Mapping[str, Any]) -> OriginVerdict:
        """The verdict a stored ``origin_verdict`` row (a mapping of its columns) records."""
        inputs = dict(row["inputs"])
        lon, lat = inputs["wgs84"]
        return cls(
            verdict=OriginOutcome(row["verdict"]),
            product_id=row["product_id"],
            lon=lon,
            lat=lat,
            distance_m=row["distance_m"],
            band_m=row["band_m"],
            area_id=row["area_id"],
            area_version=row["area_version"],
            flags=tuple(row["flags"] or ()),
            other_areas=tuple(row["other_areas"] or ()),
            notes=tuple(inputs.get("notes") or ()),
            rule=row["rule"],
            inputs=inputs,
        )

    def record_fields(self) -> dict[str, Any]:
        """Column values of an ``OriginVerdictRecord`` (without its subject)."""
        return {
            "product_id": self.product_id,
            "area_id": self.area_id,
            "area_version": self.area_version,
            "verdict": self.verdict,
            "distance_m": self.distance_m,
            "band_m": self.band_m,
            "flags": list(self.flags),
            "other_areas": list(self.other_areas),
            "rule": self.rule,
            "inputs": self.inputs,
        }


def decimals(value: float, typed: str | None = None) -> int:
    """Number of decimals a coordinate was given with (from its text when known, else its shortest repr); for
    degrees-minutes-seconds text, the decimals of a degree its last part is precise to."""
    text = (typed or "").strip() or repr(float(value))
    dms = angle_decimals(text)
    if dms is not None:
        return dms  # typed as degrees-minutes-seconds
    mantissa, _, exponent = text.lower().partition("e")
    dot = mantissa.find(".")
    places = 0 if dot < 0 else len(mantissa) - dot - 1
    try:
        return max(0, places - int(exponent or 0))
    except ValueError:
        return places


def _decimals(value: float, typed: str | None) -> int:
    """:func:`decimals`, with a shortcut for plain ASCII decimals (the usual case)."""
    text = typed.strip() if typed else ""
    if not text:
        text = repr(float(value))
    if text.lstrip("+-").replace(".", "", 1).isdigit():
        dot = text.find(".")
        return 0 if dot < 0 else len(text) - dot - 1
    return decimals(value, typed)


def normalize(
    x: Sequence[float] | NDArray[np.float64],
    y: Sequence[float] | NDArray[np.float64],
    system: CoordinateSystem | str,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Submitted coordinates in ``system`` -> WGS84 lon/lat, the same to the last bit whatever else is converted."""
    return to_wgs84(np.asarray(x, dtype=float), np.asarray(y, dtype=float), system)


@dataclass
class ClaimBatch:
    """Many claims column by column: row ``i`` is one :class:`LocationClaim` (what :func:`check_claims` decides on).

    ``x``/``y``/``gps_accuracy_m`` keep the values as given (they are recorded in each verdict's inputs);
    ``collected_at`` may hold the same datetime object for many rows.
    """

    product_id: list[int]
    x: list[float]
    y: list[float]
    collected_at: list[datetime]
    crs: list[str | None]
    gps_accuracy_m: list[float | None]
    location_source: list[LocationSource | None]
    x_text: list[str | None]
    y_text: list[str | None]

    @classmethod
    def of(cls, claims: Sequence[Any], names: Mapping[str, str] | None = None) -> ClaimBatch:
        """The columns of a list of claims, or of records that hold a claim's fields (``names``: the record's own
        name of each field it names differently)."""
        names = names or {}
        return cls(**{f.name: list(map(attrgetter(names.get(f.name, f.name)), claims)) for f in fields(cls)})

    def __len__(self) -> int:
        return len(self.product_id)


@dataclass
class _Cases:
    """Working state of claims while they are judged, column by column."""

    claims: ClaimBatch
    system: list[CoordinateSystem | str]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    moment: list[datetime]
    area_id: NDArray[np.int64]  # -1: no version valid at the moment
    areas: dict[int, IndexedArea]
    others: list[tuple[IndexedArea, ...]]
    index: AreaIndex | None = None  # the batch's index (its grid answers most point-in-area tests)

    def positions(self, rows: NDArray[np.int64]) -> tuple[list[IndexedArea], NDArray[np.int64]]:
        """The areas in use, and the position among them of each row's area (rows with an area)."""
        areas = list(self.areas.values())
        position = {a.id: k for k, a in enumerate(areas)}
        return areas, np.array([position[a] for a in self.area_id[rows].tolist()], dtype=np.int64)


def _groups(
    keys: NDArray[np.int64], idx: NDArray[np.int64] | None = None
) -> list[tuple[int, NDArray[np.int64]]]:
    """Indices (of ``idx``, default all) grouped by key, ascending within each group."""
    if idx is None:
        return group_indices(keys)
    idx = np.asarray(idx, dtype=np.int64)
    return [(key, idx[members]) for key, members in group_indices(keys[idx])]


# Flag bits, in the order flags are listed in a verdict.
_FLAG_ORDER = (
    FLAG_ACCURACY_MISSING,
    FLAG_ACCURACY_ZERO,
    FLAG_ACCURACY_POOR,
    FLAG_NOT_GPS,
    FLAG_NULL_ISLAND,
    FLAG_OUTSIDE_CHINA,
    FLAG_COARSE,
    FLAG_SWAPPED,
    FLAG_CRS,
    FLAG_OTHER_AREA,
    FLAG_NO_AREA,
)
_OUTCOMES = (OriginOutcome.INSIDE, OriginOutcome.OUTSIDE, OriginOutcome.UNCERTAIN)
_NOTE_ZERO = "accuracy 0 is how mock locations are recorded; the fix is not trusted"
_NOTE_COARSE = "coordinates given with fewer than 4 decimals (about 10 m or worse)"
_NOTE_SWAPPED = "with latitude and longitude exchanged the point is inside the area"


@lru_cache(maxsize=4096)
def _flag_tuple(mask: int) -> tuple[str, ...]:
    return tuple(f for k, f in enumerate(_FLAG_ORDER) if mask >> k & 1)


def _judge(cases: _Cases, settings: Settings) -> list[OriginVerdict]:
    """Apply :data:`RULE` to prepared cases, vectorized (the batch and the single check)."""
    claims = cases.claims
    n = len(cases.lon)
    lon, lat = cases.lon, cases.lat
    covered = np.zeros(n, bool)
    distance = np.full(n, np.nan)
    has_area = cases.area_id >= 0
    with_area = np.flatnonzero(has_area)
    if len(with_area):
        areas, area_of = cases.positions(with_area)
        covered[with_area], distance[with_area] = covers_and_distances(
            areas, area_of, lon[with_area], lat[with_area], cases.index
        )

    tolerance = settings.boundary_tolerance_m
    limit = settings.max_gps_accuracy_m
    accuracy = np.array([np.nan if a is None else a for a in claims.gps_accuracy_m], dtype=float)
    band = np.maximum(np.nan_to_num(accuracy, nan=0.0), tolerance)
    in_china = _china_covers(lon, lat) if n else np.zeros(0, bool)
    swapped, plausible_crs = _alternatives(cases, covered, distance, band)

    sources = claims.location_source
    from_field = np.array([s is not None for s in sources], dtype=bool)
    missing = from_field & np.isnan(accuracy)
    zero = from_field & (accuracy == 0)
    poor = from_field & (accuracy > limit)
    not_gps = from_field & np.array(
        [s is not None and s is not LocationSource.DEVICE_GPS for s in sources], dtype=bool
    )
    trusted = ~(missing | zero | poor | not_gps)
    geographic = {s: is_geographic(s) for s in set(cases.system)}
    coarse = np.array(
        [
            geographic[s] and _decimals(x, xt) < 4 and _decimals(y, yt) < 4
            for s, x, xt, y, yt in zip(
                cases.system, claims.x, claims.x_text, claims.y, claims.y_text, strict=True
            )
        ],
        dtype=bool,
    ).reshape(n)
    crs_flag = np.zeros(n, bool)
    crs_flag[list(plausible_crs)] = True
    other_flag = np.array([len(o) > 0 for o in cases.others], dtype=bool)
    bits = (
        missing,
        zero,
        poor,
        not_gps,
        (cases.x == 0) | (cases.y == 0),
        ~in_china,
        coarse,
        swapped,
        crs_flag,
        other_flag,
        ~has_area,
    )  # in the order of _FLAG_ORDER
    mask = np.zeros(n, np.int64)
    for k, bit in enumerate(bits):
        mask |= bit.astype(np.int64) << k
    with_notes = (zero | poor | coarse | swapped | crs_flag).tolist()

    finite = np.isfinite(distance)
    in_band = finite & (np.abs(distance) <= band)
    outcome = np.where(~has_area | in_band, 2, np.where(covered, np.where(trusted, 0, 2), 1))
    distances = [round(d, 3) if f else None for d, f in zip(distance.tolist(), finite.tolist(), strict=True)]

    # Per-row work below is only what differs from row to row; the rest is looked up.
    crs_text = {s: str(s) for s in set(cases.system)}
    source_text = {s: s.value if s else "register" for s in set(sources)}
    area_info = {a.id: (a.id, a.version, a.wkb_md5) for a in cases.areas.values()}
    flag_tuples: dict[int, tuple[str, ...]] = {}
    iso: dict[int, str] = {}
    described: dict[tuple[IndexedArea, ...], tuple[dict[str, Any], ...]] = {}
    verdicts = []
    for i, (
        product_id,
        x,
        y,
        crs,
        x_text,
        y_text,
        moment,
        acc,
        source,
        lon_i,
        lat_i,
        m,
        a_id,
        cov,
        ok,
        band_i,
        out,
        dist,
        others,
        noted,
    ) in enumerate(
        zip(
            claims.product_id,
            claims.x,
            claims.y,
            cases.system,
            claims.x_text,
            claims.y_text,
            cases.moment,
            claims.gps_accuracy_m,
            sources,
            lon.tolist(),
            lat.tolist(),
            mask.tolist(),
            cases.area_id.tolist(),
            covered.tolist(),
            trusted.tolist(),
            band.tolist(),
            outcome.tolist(),
            distances,
            cases.others,
            with_notes,
            strict=True,
        )
    ):
        notes: list[str] | None = None
        if noted:
            notes = []
            if zero[i]:
                notes.append(_NOTE_ZERO)
            elif poor[i]:
                notes.append(
                    f"accuracy {acc:g} m is worse than the {limit:g} m limit; the fix is not trusted"
                )
            if coarse[i]:
                notes.append(_NOTE_COARSE)
            if swapped[i]:
                notes.append(_NOTE_SWAPPED)
            if i in plausible_crs:
                notes.append(f"declared {crs}, but the point is inside only when read as {plausible_crs[i]}")
        stamp = iso.get(id(moment))
        if stamp is None:
            stamp = iso[id(moment)] = moment.isoformat()
        flags = flag_tuples.get(m)
        if flags is None:
            flags = flag_tuples[m] = _flag_tuple(m)
        area_id: int | None
        area_version: int | None
        area: dict[str, object] | None
        if a_id >= 0:
            area_id, area_version, wkb_md5 = area_info[a_id]
            area = {"id": area_id, "version": area_version, "wkb_md5": wkb_md5}
        else:
            area_id = area_version = area = dist = cov = None
        inputs = {
            "rule_version": RULE_VERSION,
            "submitted": {"x": x, "y": y, "crs": crs_text[crs], "x_text": x_text, "y_text": y_text},
            "wgs84": [lon_i, lat_i],
            "collected_at": stamp,
            "gps_accuracy_m": acc,
            "location_source": source_text[source],
            "tolerance_m": tolerance,
            "max_gps_accuracy_m": limit,
            "covered": cov,
            "trusted_fix": ok,
            "area": area,
        }
        if notes:
            inputs["notes"] = notes
        if others:
            # Rows in the same other areas share their (read-only) descriptions: built and sorted once.
            other_areas = described.get(others)
            if other_areas is None:
                other_areas = described[others] = tuple(
                    {
                        "area_id": a.id,
                        "product_code": a.product_code,
                        "name_zh": a.product_name_zh,
                        "version": a.version,
                    }
                    for a in sorted(others, key=_product_code)
                )
        else:
            other_areas = ()
        verdicts.append(
            OriginVerdict(
                _OUTCOMES[out],
                product_id,
                lon_i,
                lat_i,
                dist,
                band_i,
                area_id,
                area_version,
                flags,
                other_areas,
                tuple(notes) if notes else (),
                RULE,
                inputs,
            )
        )
    return verdicts


def _product_code(area: IndexedArea) -> str:
    return area.product_code


def _china_covers(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    import shapely

    finite = np.isfinite(lon) & np.isfinite(lat)
    result = np.zeros(len(lon), bool)
    # Land, internal waters and territorial sea: a sample in Liaodong Bay is not abroad.
    result[finite] = shapely.intersects_xy(china_waters(), lon[finite], lat[finite])
    return result


# A point farther from an area's boundary than it moves under another reading (plus this margin, metres) cannot
# change sides: the geodesic between its two readings would have to cross the boundary.
_READING_MARGIN_M = 1.0


def _alternatives(
    cases: _Cases,
    covered: NDArray[np.bool_],
    distance: NDArray[np.float64],
    band: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], dict[int, str]]:
    """Flag points outside as declared that are inside with swapped axes or under another coordinate system.

    Swapped: the (y, x) reading in the declared system is covered. Another system, only where the location's
    source suggests it (:func:`may_be_read_as`): outside beyond the band as declared, inside beyond the band under
    the other reading (a point within the band is uncertain anyway, and a
    500 m shift would flag it by chance); the GCJ-02 and BD-09 offsets are below 2 km, so points farther out than
    that cannot be inside under any of them. Vectorized over all cases: one conversion per system; a reading is
    tested against an area only where it can be covered (inside the area's bounding box, and moved farther than
    the point is from the boundary).
    """
    n = len(cases.lon)
    swapped = np.zeros(n, bool)
    plausible: dict[int, str] = {}
    x, y = cases.x, cases.y

    def covered_under(
        idx: NDArray[np.int64],
        o_lon: NDArray[np.float64],
        o_lat: NDArray[np.float64],
        need_distance: bool,
        moved: NDArray[np.float64] | None = None,
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        hit = np.zeros(len(idx), bool)
        inside_by = np.full(len(idx), -np.inf)
        if moved is not None:
            keep = np.flatnonzero(-distance[idx] <= moved + _READING_MARGIN_M)
        else:
            keep = np.arange(len(idx))
        if need_distance and len(keep) and band[idx[keep]].min() >= TIE_ZONE_M:
            # "Inside beyond the band" for a flag: inside, and no boundary within the point's band in the area's
            # local frame. Away from the boundary GEOS decides as PostGIS does; a reading near it cannot count.
            areas, area_of = cases.positions(idx[keep])
            inside = intersects_each(areas, area_of, o_lon[keep], o_lat[keep], cases.index)
            kk, area_of = keep[inside], area_of[inside]
            if len(kk):
                clear = ~near_boundaries(
                    [a.boundary_distance() for a in areas], area_of, o_lon[kk], o_lat[kk], band[idx[kk]]
                )
                hit[kk[clear]] = True
                inside_by[kk[clear]] = np.inf
            return hit, inside_by
        for area_id, k in _groups(cases.area_id[idx[keep]]):
            k = keep[k]
            area = cases.areas[area_id]
            west, south, east, north = area.bounds
            kk = k[(o_lon[k] >= west) & (o_lon[k] <= east) & (o_lat[k] >= south) & (o_lat[k] <= north)]
            if len(kk) == 0:
                continue
            hit[kk] = area.covers(o_lon[kk], o_lat[kk])
            if need_distance and hit[kk].any():
                kk = kk[hit[kk]]
                clear = ~area.boundary_distance().near(o_lon[kk], o_lat[kk], band[idx[kk]])
                inside_by[kk] = np.where(clear, np.inf, 0.0)
        return hit, inside_by

    outside = np.flatnonzero((cases.area_id >= 0) & ~covered)
    by_system: dict[str, list[int]] = {}
    systems = cases.system
    for i in outside.tolist():
        by_system.setdefault(str(systems[i]), []).append(i)
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
        sources = cases.claims.location_source
        for other in _ALTERNATIVES:
            if other == system or (other is CoordinateSystem.WGS84 and system in WGS84_EQUIVALENT):
                continue
            suggested = np.array(
                [may_be_read_as(system, sources[i], other) for i in near.tolist()], dtype=bool
            )
            ok = suggested & _valid_reading(x[near], y[near], other)
            if not ok.any():
                continue
            cand = near[ok]
            o_lon, o_lat = normalize(x[cand], y[cand], other)
            _, _, moved = WGS84_GEOD.inv(cases.lon[cand], cases.lat[cand], o_lon, o_lat)
            hit, inside_by = covered_under(
                cand,
                o_lon,
                o_lat,
                need_distance=True,
                moved=np.nan_to_num(np.asarray(moved, dtype=float), nan=np.inf),
            )
            for i, h, d in zip(cand.tolist(), hit.tolist(), inside_by.tolist(), strict=True):
                if h and d > band[i] and i not in plausible:
                    plausible[i] = str(other)
    return swapped, plausible


_MAP_SOURCES = (LocationSource.MAP_PICK, LocationSource.GEOCODED_ADDRESS)


def may_be_read_as(
    declared: CoordinateSystem | str, source: LocationSource | None, other: CoordinateSystem
) -> bool:
    """Whether a location declared in ``declared`` may plausibly be in ``other`` instead, given where it came from.

    A map pick or a geocoded address comes from a web map, which in China shows GCJ-02 (Amap, Tencent) or BD-09
    (Baidu): any declaration may be wrong. A device GPS fix is WGS84: declared GCJ-02 or BD-09 contradicts the
    device, so WGS84 is plausible; declared WGS84 (or CGCS2000) it is simply where the device was. A registered
    location (no source) is taken as declared.
    """
    if source in _MAP_SOURCES:
        return True
    if source is LocationSource.DEVICE_GPS:
        return declared in (CoordinateSystem.GCJ02, CoordinateSystem.BD09) and other is CoordinateSystem.WGS84
    return False


def _valid_reading(
    x: NDArray[np.float64], y: NDArray[np.float64], system: CoordinateSystem | str
) -> NDArray[np.bool_]:
    if is_geographic(system):
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
    others = tuple(a for a in candidates if a.covers(np.array([lon]), np.array([lat]))[0])
    case = _Cases(
        claims=ClaimBatch.of([claim]),
        system=[system],
        x=np.array([claim.x], dtype=float),
        y=np.array([claim.y], dtype=float),
        lon=np.array([lon]),
        lat=np.array([lat]),
        moment=[moment],
        area_id=np.array([area.id if area else -1], dtype=np.int64),
        areas={area.id: area} if area else {},
        others=[others],
    )
    return _judge(case, settings or get_settings())[0]


def check_origins(
    session: Session,
    claims: Sequence[LocationClaim],
    settings: Settings | None = None,
    index: AreaIndex | None = None,
) -> list[OriginVerdict]:
    """Check many claims at once with the prepared index; each verdict equals :func:`check_origin`'s."""
    return check_claims(session, ClaimBatch.of(claims), settings, index)


def check_claims(
    session: Session | None,
    claims: ClaimBatch,
    settings: Settings | None = None,
    index: AreaIndex | None = None,
) -> list[OriginVerdict]:
    """:func:`check_origins` on claims given column by column (``session`` may be None when ``index`` is given)."""
    if index is None:
        assert session is not None
        index = area_index(session)
    n = len(claims)
    x = np.array(claims.x, dtype=float)
    y = np.array(claims.y, dtype=float)
    lon = np.empty(n)
    lat = np.empty(n)
    systems: list[CoordinateSystem | str] = [CoordinateSystem.WGS84] * n
    by_system: dict[CoordinateSystem | str, list[int]] = {}
    parsed: dict[str | None, CoordinateSystem | str] = {}
    for i, crs in enumerate(claims.crs):
        system = parsed.get(crs)
        if system is None:
            system = parsed[crs] = parse_system(crs or "")
        systems[i] = system
        by_system.setdefault(system, []).append(i)
    for system, members in by_system.items():
        idx = np.array(members, dtype=np.int64)
        lon[idx], lat[idx] = normalize(x[idx], y[idx], system)

    aware: dict[int, tuple[datetime, int]] = {}
    distinct: list[datetime] = []  # the distinct moments (by object), numbered
    moments = []
    moment_no = np.empty(n, np.int64)
    for i, m in enumerate(claims.collected_at):
        a = aware.get(id(m))
        if a is None:
            a = aware[id(m)] = (as_aware(m), len(distinct))
            distinct.append(a[0])
        moments.append(a[0])
        moment_no[i] = a[1]
    product_ids = np.array(claims.product_id, dtype=np.int64)
    area_id = np.full(n, -1, dtype=np.int64)
    areas: dict[int, IndexedArea] = {}
    valid: dict[tuple[int, int], IndexedArea | None] = {}
    for i, (product_id, moment) in enumerate(zip(claims.product_id, moments, strict=True)):
        key = (product_id, id(moment))
        if key not in valid:
            valid[key] = index.area_valid_at(product_id, moment)
        area = valid[key]
        if area is not None:
            area_id[i] = area.id
            areas[area.id] = area

    others: list[tuple[IndexedArea, ...]] = [()] * n
    if n:
        point_of, area_of = index.covering(lon, lat, skip_product=product_ids)
        if len(point_of):
            # Validity once per distinct (area, moment), then each point's areas in the order found (by position).
            pair = area_of * len(distinct) + moment_no[point_of]
            unique, inverse = np.unique(pair, return_inverse=True)
            valid_pair = np.array(
                [
                    index.areas[k // len(distinct)].valid_at(distinct[k % len(distinct)])
                    for k in unique.tolist()
                ],
                dtype=bool,
            )
            ok = valid_pair[inverse.reshape(-1)]
            point_of, area_of = point_of[ok], area_of[ok]
            found = [index.areas[a] for a in area_of.tolist()]
            starts = (
                np.flatnonzero(np.concatenate(([True], point_of[1:] != point_of[:-1]))).tolist()
                if found
                else []
            )
            for start, end, p in zip(
                starts, [*starts[1:], len(found)], point_of[starts].tolist(), strict=True
            ):
                others[p] = tuple(found[start:end])
    cases = _Cases(
        claims=claims,
        system=systems,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        moment=moments,
        area_id=area_id,
        areas=areas,
        others=others,
        index=index,
    )
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
    session: Session,
    product_id: int | None = None,
    moment: datetime | None = None,
    store: bool = True,
    settings: Settings | None = None,
) -> list[ProducerCheck]:
    """Check every authorized producer's registered location against its product's area valid ``moment``."""

    from sqlalchemy import text

    from gi.models import OriginVerdictRecord

    moment = as_aware(moment or clock.now())
    rows = session.execute(
        text(
            "SELECT r.id, r.name, r.credit_code, r.product_id, ST_X(r.location) AS x, ST_Y(r.location) AS y, "
            "p.code, p.name_zh FROM producer r JOIN gi_product p ON p.id = r.product_id "
            "WHERE r.location IS NOT NULL AND r.kind = 'producer' "
            "AND (r.authorized_from IS NULL OR r.authorized_from <= CAST(:moment AS date)) "
            "AND (r.authorized_to IS NULL OR r.authorized_to >= CAST(:moment AS date)) "
            "AND (CAST(:product AS integer) IS NULL OR r.product_id = :product) ORDER BY p.code, r.name"
        ),
        {"moment": moment, "product": product_id},
    ).all()
    claims = [
        LocationClaim(
            product_id=r.product_id,
            x=r.x,
            y=r.y,
            collected_at=moment,
            crs="WGS84",
            gps_accuracy_m=None,
            location_source=None,
        )
        for r in rows
    ]
    verdicts = check_origins(session, claims, settings) if claims else []
    if store and verdicts:
        session.add_all(
            OriginVerdictRecord(producer_id=r.id, **v.record_fields())
            for r, v in zip(rows, verdicts, strict=True)
        )
        session.flush()
    return [
        ProducerCheck(r.id, r.name, r.credit_code, r.code, r.name_zh, v)
        for r, v in zip(rows, verdicts, strict=True)
    ]
