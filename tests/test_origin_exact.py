"""Exact agreement with PostGIS ST_Covers on the stored geometry of the real register, near real boundaries.

Points are drawn within 300 m of real county-level boundaries, expressed in each coordinate system, stored as
samples through the batch, and each verdict's coverage (claimed area and every other area) is compared with
``ST_Covers(production_area.geom, sample.location)`` computed by PostGIS on the stored rows. Points exactly on
vertices and on segment midpoints (where GEOS's robust predicate and PostGIS's floating-point rule can differ)
are compared too.
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_data.crs import from_wgs84
from gi.origin.batch import record_samples
from gi.origin.index import area_index
from gi.origin.rule import LocationClaim, check_origin

pytestmark = pytest.mark.postgis

SH = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2024, 6, 1, 9, 0, tzinfo=SH)
PER_CRS = 2000


def _near_boundary_points(session: Session, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` WGS84 points within 300 m of the boundaries of the areas valid at WHEN, with the area's product."""
    index = area_index(session)
    areas = [a for a in index.areas if a.valid_at(WHEN)]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(areas), n)
    lon = np.empty(n)
    lat = np.empty(n)
    codes = []
    for k, i in enumerate(pick):
        ring = shapely.get_coordinates(areas[i].geom.boundary)
        vx, vy = ring[rng.integers(0, len(ring))]
        radius = 300.0 * np.sqrt(rng.random())
        angle = rng.random() * 2 * np.pi
        lat[k] = vy + radius * np.cos(angle) / 111_320.0
        lon[k] = vx + radius * np.sin(angle) / (111_320.0 * np.cos(np.radians(vy)))
        codes.append(areas[i].product_code)
    return lon, lat, codes


@pytest.mark.parametrize("crs", ["WGS84", "CGCS2000", "GCJ02", "BD09", "EPSG:4549"])
def test_batch_verdicts_agree_with_postgis_in_every_crs(
    session: Session, loaded_register: None, crs: str
) -> None:
    # A stable seed per system (hash() of a str changes with every process): a failure can be run again.
    lon, lat, codes = _near_boundary_points(session, PER_CRS, seed=zlib.crc32(crs.encode()))
    sx, sy = from_wgs84(lon, lat, crs)
    rows = [
        (
            i + 1,
            {
                "product": codes[i],
                "collected_at": WHEN,
                "x": float(sx[i]),
                "y": float(sy[i]),
                "crs": crs,
                "gps_accuracy_m": 5.0,
                "lot_number": f"exact-{crs}-{i}",
            },
        )
        for i in range(PER_CRS)
    ]
    result = record_samples(session, rows, source=f"exactness {crs}")
    assert len(result.stored) == PER_CRS, [r.problem for r in result.refused][:5]

    ids = [r.sample_id for r in result.stored]
    postgis = {
        (row.sample_id, row.area_id): row.covers
        for row in session.execute(
            text(
                "SELECT s.id AS sample_id, a.id AS area_id, ST_Covers(a.geom, s.location) AS covers "
                "FROM sample s JOIN production_area a ON a.valid_from <= s.collected_at "
                "AND (a.valid_to IS NULL OR a.valid_to > s.collected_at) WHERE s.id = ANY(:ids)"
            ),
            {"ids": ids},
        )
    }
    claimed_in, claimed_out, others = 0, 0, 0
    for r in result.stored:
        v = r.verdict
        assert postgis[(r.sample_id, v.area_id)] == v.inputs["covered"], (r.row, v.lon, v.lat)
        claimed_in += v.inputs["covered"]
        claimed_out += not v.inputs["covered"]
        expected_others = {a for (s, a), c in postgis.items() if s == r.sample_id and c and a != v.area_id}
        # Other versions of the claimed product are not "other GI areas"; the register has one valid at WHEN.
        assert {o["area_id"] for o in v.other_areas} == expected_others
        others += len(expected_others)
    # The sample straddles boundaries: both sides are well represented.
    assert claimed_in > PER_CRS * 0.3 and claimed_out > PER_CRS * 0.3
    # The distance sign agrees with coverage, and points this close to the boundary are within 300 m of it.
    for r in result.stored:
        d = r.verdict.distance_m
        # The sign bit, not d >= 0: a point outside by less than the rounding is stored as -0.0 (outside).
        assert (math.copysign(1.0, d) > 0) == r.verdict.inputs["covered"] and abs(d) < 330


def test_vertices_and_midpoints_agree_with_postgis(session: Session, loaded_register: None) -> None:
    index = area_index(session)
    areas = [a for a in index.areas if a.valid_at(WHEN)]
    xs, ys, area_ids, is_vertex = [], [], [], []
    for area in areas:
        ring = shapely.get_coordinates(area.geom.boundary)
        step = max(1, len(ring) // 60)
        vertices = ring[::step]
        midpoints = (ring[:-1:step] + ring[1::step]) / 2.0
        for k, (x, y) in enumerate(np.vstack([vertices, midpoints])):
            xs.append(float(x))
            ys.append(float(y))
            area_ids.append(area.id)
            is_vertex.append(k < len(vertices))
    ours = np.concatenate(
        [
            index.areas[index.position[a]].covers(np.array([x]), np.array([y]))
            for x, y, a in zip(xs, ys, area_ids, strict=True)
        ]
    )
    theirs = [
        row[0]
        for row in session.execute(
            text(
                "SELECT ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(t.x, t.y), 4326)) FROM unnest(CAST(:xs AS float8[]), "
                "CAST(:ys AS float8[]), CAST(:ids AS int[])) WITH ORDINALITY AS t(x, y, area_id, n) "
                "JOIN production_area a ON a.id = t.area_id ORDER BY t.n"
            ),
            {"xs": xs, "ys": ys, "ids": area_ids},
        )
    ]
    assert len(theirs) == len(ours) > 1000
    assert list(ours) == theirs
    # Vertices are on the boundary: covered.
    assert ours[np.array(is_vertex)].all()
    # And the grid index (used for the other areas of a batch) agrees too.
    points, positions = index.covering(np.array(xs), np.array(ys))
    found = set(zip(points.tolist(), [index.areas[p].id for p in positions.tolist()], strict=True))
    for k, (a, covered) in enumerate(zip(area_ids, ours, strict=True)):
        assert ((k, a) in found) == bool(covered)


def test_single_check_agrees_with_postgis(session: Session, loaded_register: None) -> None:
    lon, lat, codes = _near_boundary_points(session, 300, seed=99)
    products = dict(session.execute(text("SELECT code, id FROM gi_product")).all())
    for crs in ("WGS84", "GCJ02", "BD09"):
        sx, sy = from_wgs84(lon, lat, crs)
        for i in range(0, 300, 3):
            v = check_origin(
                session,
                LocationClaim(
                    product_id=products[codes[i]],
                    x=float(sx[i]),
                    y=float(sy[i]),
                    collected_at=WHEN,
                    crs=crs,
                    gps_accuracy_m=5.0,
                ),
            )
            covered = session.execute(
                text(
                    "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM production_area "
                    "WHERE id = :a"
                ),
                {"x": v.lon, "y": v.lat, "a": v.area_id},
            ).scalar_one()
            assert covered == v.inputs["covered"]
