"""The origin check on constructed cases: verdicts, bands, area versions, each flag, and the index cache."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_data.crs import from_wgs84, wgs84_to_gcj02
from geo_data.io import as_multipolygon
from gi.errors import InputError
from gi.models import GIKind, GIProduct, LocationSource, OriginOutcome, ProductCategory
from gi.origin.rule import (
    FLAG_ACCURACY_POOR,
    FLAG_ACCURACY_ZERO,
    FLAG_COARSE,
    FLAG_CRS,
    FLAG_NO_AREA,
    FLAG_NOT_GPS,
    FLAG_NULL_ISLAND,
    FLAG_OTHER_AREA,
    FLAG_OUTSIDE_CHINA,
    FLAG_SWAPPED,
    LocationClaim,
    check_origin,
    check_origins,
)
from gi.register.areas import AreaImport, add_area_version
from gi.settings import Settings

SH = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2024, 5, 1, 10, 0, tzinfo=SH)
MAP_PICK = LocationSource.MAP_PICK


def _product(session: Session, code: str, *areas: tuple[object, datetime]) -> GIProduct:
    p = GIProduct(
        code=code,
        name_zh=f"测试{code[-4:]}",
        name_pinyin=code,
        name_en=code,
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(p)
    session.flush()
    for geom, start in areas:
        add_area_version(
            session,
            p,
            AreaImport(
                geometry=as_multipolygon(geom),
                legal_basis="test",
                source="test",
                source_crs="WGS84",
                valid_from=start,
                admin_units=[],
            ),
            replace=True,  # the test areas move far on purpose
        )
    return p


@pytest.fixture
def pair(session: Session) -> tuple[GIProduct, GIProduct]:
    """Two products whose areas share the meridian 120.1°E (about 10 x 11 km each)."""
    a = _product(session, "test-area-west", (box(120.0, 30.0, 120.1, 30.1), datetime(2010, 1, 1, tzinfo=SH)))
    b = _product(session, "test-area-east", (box(120.1, 30.0, 120.2, 30.1), datetime(2010, 1, 1, tzinfo=SH)))
    return a, b


def _claim(product: GIProduct, x: float, y: float, **kw: object) -> LocationClaim:
    kw.setdefault("gps_accuracy_m", 5.0)
    return LocationClaim(product_id=product.id, x=x, y=y, collected_at=WHEN, **kw)  # type: ignore[arg-type]


@pytest.mark.postgis
def test_inside_outside_and_signed_distance(session: Session, pair: tuple[GIProduct, GIProduct]) -> None:
    west, _ = pair
    inside = check_origin(session, _claim(west, 120.05, 30.05, x_text="120.05000", y_text="30.05000"))
    assert inside.verdict is OriginOutcome.INSIDE and inside.flags == ()
    # Nearest boundary: 0.05° of longitude at 30.05°N, about 4.82 km, positive inside.
    assert inside.distance_m == pytest.approx(4823.0, abs=5.0)
    outside = check_origin(session, _claim(west, 119.99, 30.05))
    assert outside.verdict is OriginOutcome.OUTSIDE and outside.distance_m < -900
    assert inside.area_version == 1 and inside.inputs["area"]["id"] == inside.area_id


@pytest.mark.postgis
def test_point_on_shared_border_is_inside_both(session: Session, pair: tuple[GIProduct, GIProduct]) -> None:
    west, east = pair
    verdict = check_origin(session, _claim(west, 120.1, 30.05))
    assert verdict.inputs["covered"] is True and verdict.distance_m == pytest.approx(0.0, abs=1e-6)
    assert verdict.verdict is OriginOutcome.UNCERTAIN  # on the line, inside the band
    assert [o["product_code"] for o in verdict.other_areas] == ["test-area-east"]
    assert FLAG_OTHER_AREA in verdict.flags
    assert session.execute(
        text(
            "SELECT bool_and(ST_Covers(geom, ST_SetSRID(ST_MakePoint(120.1, 30.05), 4326))) FROM production_area "
            "WHERE product_id IN (:a, :b)"
        ),
        {"a": west.id, "b": east.id},
    ).scalar_one()


@pytest.mark.postgis
def test_band_is_the_larger_of_accuracy_and_tolerance(
    session: Session, pair: tuple[GIProduct, GIProduct]
) -> None:
    west, _ = pair
    # About 48 m inside the western edge.
    x = 120.0 + 0.0005
    assert check_origin(session, _claim(west, x, 30.05, gps_accuracy_m=10.0)).verdict is OriginOutcome.INSIDE
    uncertain = check_origin(session, _claim(west, x, 30.05, gps_accuracy_m=60.0))
    assert uncertain.verdict is OriginOutcome.UNCERTAIN and uncertain.band_m == 60.0
    strict = Settings(boundary_tolerance_m=100.0)
    assert check_origin(session, _claim(west, x, 30.05, gps_accuracy_m=10.0), strict).band_m == 100.0


@pytest.mark.postgis
def test_untrusted_fixes_are_flagged_and_never_inside(
    session: Session, pair: tuple[GIProduct, GIProduct]
) -> None:
    west, _ = pair
    zero = check_origin(session, _claim(west, 120.05, 30.05, gps_accuracy_m=0.0))
    assert zero.verdict is OriginOutcome.UNCERTAIN and FLAG_ACCURACY_ZERO in zero.flags
    poor = check_origin(session, _claim(west, 120.05, 30.05, gps_accuracy_m=500.0))
    assert poor.verdict is OriginOutcome.UNCERTAIN and FLAG_ACCURACY_POOR in poor.flags and poor.band_m == 500
    picked = check_origin(session, _claim(west, 120.05, 30.05, location_source=LocationSource.MAP_PICK))
    assert picked.verdict is OriginOutcome.UNCERTAIN and FLAG_NOT_GPS in picked.flags
    # Outside stays outside: an untrusted fix outside is still evidence against the claim.
    far = check_origin(session, _claim(west, 119.5, 30.05, gps_accuracy_m=0.0))
    assert far.verdict is OriginOutcome.OUTSIDE
    # A registered producer location (no source) is trusted with the tolerance band.
    register = check_origin(session, _claim(west, 120.05, 30.05, gps_accuracy_m=None, location_source=None))
    assert register.verdict is OriginOutcome.INSIDE and register.band_m == 30.0


@pytest.mark.postgis
def test_swapped_coordinates_flag(session: Session, pair: tuple[GIProduct, GIProduct]) -> None:
    west, _ = pair
    verdict = check_origin(session, _claim(west, 30.05123, 120.05321))
    assert verdict.verdict is OriginOutcome.OUTSIDE
    assert FLAG_SWAPPED in verdict.flags and FLAG_OUTSIDE_CHINA in verdict.flags


@pytest.mark.postgis
def test_null_island_outside_china_and_coarse_precision(
    session: Session, pair: tuple[GIProduct, GIProduct]
) -> None:
    west, _ = pair
    null = check_origin(session, _claim(west, 0.0, 0.0))
    assert {FLAG_NULL_ISLAND, FLAG_OUTSIDE_CHINA} <= set(null.flags) and null.verdict is OriginOutcome.OUTSIDE
    paris = check_origin(session, _claim(west, 2.35222, 48.85661))
    assert FLAG_OUTSIDE_CHINA in paris.flags and FLAG_NULL_ISLAND not in paris.flags
    coarse = check_origin(session, _claim(west, 120.05, 30.05))
    assert FLAG_COARSE in coarse.flags
    typed = check_origin(session, _claim(west, 120.05, 30.05, x_text="120.0500", y_text="30.0500"))
    assert FLAG_COARSE not in typed.flags
    fine = check_origin(session, _claim(west, 120.05123, 30.05321))
    assert FLAG_COARSE not in fine.flags and FLAG_OUTSIDE_CHINA not in fine.flags


@pytest.mark.postgis
def test_internal_waters_and_the_territorial_sea_are_not_abroad(
    session: Session, pair: tuple[GIProduct, GIProduct]
) -> None:
    """Issue 11: 46 points in Liaodong Bay were flagged "located abroad"; the open sea beyond 12 nm still is."""
    west, _ = pair
    for lon, lat in ((121.2, 40.2), (120.0, 38.7), (122.3, 31.0)):  # Liaodong Bay, the Bohai, off Shanghai
        verdict = check_origin(session, _claim(west, lon, lat))
        assert FLAG_OUTSIDE_CHINA not in verdict.flags, (lon, lat)
        assert verdict.verdict is OriginOutcome.OUTSIDE  # outside the product's area all the same
    for lon, lat in ((125.0, 30.0), (123.5, 35.5)):  # the East China Sea and the Yellow Sea, far offshore
        assert FLAG_OUTSIDE_CHINA in check_origin(session, _claim(west, lon, lat)).flags, (lon, lat)


@pytest.mark.postgis
def test_declared_crs_implausible_only_where_the_source_suggests_it(session: Session) -> None:
    small = _product(
        session, "test-area-small", (box(120.0, 30.0, 120.006, 30.006), datetime(2010, 1, 1, tzinfo=SH))
    )
    gx, gy = wgs84_to_gcj02(120.003, 30.003)  # GCJ-02 shifts about 450 m here: out of a 580 m box
    # A map pick declared WGS84: maps in China show GCJ-02, so the declaration may well be wrong.
    picked = check_origin(session, _claim(small, float(gx), float(gy), crs="WGS84", location_source=MAP_PICK))
    assert picked.verdict is OriginOutcome.OUTSIDE and FLAG_CRS in picked.flags
    assert any("GCJ02" in note for note in picked.notes)
    # A device GPS fix declared WGS84 that is just outside is simply outside (issue 11: 44 % were excused).
    fix = check_origin(session, _claim(small, float(gx), float(gy), crs="WGS84"))
    assert fix.verdict is OriginOutcome.OUTSIDE and FLAG_CRS not in fix.flags
    # A device fix declared GCJ-02 contradicts the device (GPS is WGS84): reading it as WGS84 is plausible.
    contradicted = check_origin(session, _claim(small, 120.003, 30.003, crs="GCJ02"))
    assert contradicted.verdict is OriginOutcome.OUTSIDE and FLAG_CRS in contradicted.flags
    right = check_origin(session, _claim(small, float(gx), float(gy), crs="GCJ02"))
    assert right.verdict is OriginOutcome.INSIDE and FLAG_CRS not in right.flags
    assert (right.lon, right.lat) == pytest.approx((120.003, 30.003), abs=1e-9)


@pytest.mark.postgis
def test_device_fixes_just_outside_are_never_excused(
    session: Session, pair: tuple[GIProduct, GIProduct]
) -> None:
    """WGS84 device fixes 30-700 m outside a real-sized area: none flagged, all outside (issue 11)."""
    west, _ = pair
    rng = np.random.default_rng(4)
    claims = [
        _claim(west, 120.1 + float(d) / 96_000, 30.02 + 0.06 * float(rng.random()))
        for d in rng.uniform(30 + 5, 700, 300)  # east of the 120.1 edge (the east product's side)
    ]
    verdicts = check_origins(session, claims)
    assert all(v.verdict is OriginOutcome.OUTSIDE for v in verdicts if v.distance_m < -30)
    assert not any(FLAG_CRS in v.flags for v in verdicts)


def test_the_crs_flag_never_softens_an_outside_grade_on_its_own() -> None:
    from types import SimpleNamespace

    from gi.quality.evidence import Effect, gps_items

    flagged = SimpleNamespace(
        verdict=OriginOutcome.OUTSIDE, flags=[FLAG_CRS], area_version=1, distance_m=-800.0, band_m=30.0
    )
    swapped = SimpleNamespace(
        verdict=OriginOutcome.OUTSIDE, flags=[FLAG_SWAPPED], area_version=1, distance_m=-8e5, band_m=30.0
    )
    assert gps_items(flagged)[0].effect is Effect.CONTRADICTS  # type: ignore[arg-type]
    assert gps_items(swapped)[0].effect is Effect.DOUBT  # type: ignore[arg-type]


@pytest.mark.postgis
@pytest.mark.parametrize("crs", ["WGS84", "CGCS2000", "GCJ02", "BD09", "EPSG:4549"])
def test_every_crs_normalizes_to_the_same_point(
    session: Session, pair: tuple[GIProduct, GIProduct], crs: str
) -> None:
    west, _ = pair
    x, y = from_wgs84(np.array([120.0321]), np.array([30.0456]), crs)
    verdict = check_origin(session, _claim(west, float(x[0]), float(y[0]), crs=crs))
    assert (verdict.lon, verdict.lat) == pytest.approx((120.0321, 30.0456), abs=1e-8)
    assert verdict.verdict is OriginOutcome.INSIDE and FLAG_CRS not in verdict.flags


@pytest.mark.postgis
def test_area_version_valid_at_collection_time(session: Session) -> None:
    old, new = box(120.0, 30.0, 120.1, 30.1), box(120.2, 30.0, 120.3, 30.1)
    p = _product(
        session,
        "test-area-moved",
        (old, datetime(2010, 1, 1, tzinfo=SH)),
        (new, datetime(2020, 1, 1, tzinfo=SH)),
    )
    in_old = replace(_claim(p, 120.05, 30.05), collected_at=datetime(2015, 6, 1, tzinfo=SH))
    assert check_origin(session, in_old).verdict is OriginOutcome.INSIDE
    assert check_origin(session, in_old).area_version == 1
    later = replace(in_old, collected_at=datetime(2021, 6, 1, tzinfo=SH))
    verdict = check_origin(session, later)
    assert verdict.verdict is OriginOutcome.OUTSIDE and verdict.area_version == 2
    before = replace(in_old, collected_at=datetime(2005, 6, 1, tzinfo=SH))
    none = check_origin(session, before)
    assert none.verdict is OriginOutcome.UNCERTAIN and FLAG_NO_AREA in none.flags and none.distance_m is None
    # Naive datetimes are Asia/Shanghai: 2020-01-01 00:30 local is already version 2.
    assert check_origin(session, replace(in_old, collected_at=datetime(2020, 1, 1, 0, 30))).area_version == 2


@pytest.mark.postgis
def test_index_follows_database_changes(session: Session) -> None:
    p = _product(
        session, "test-area-edited", (box(120.0, 30.0, 120.1, 30.1), datetime(2010, 1, 1, tzinfo=SH))
    )
    claim = _claim(p, 120.15, 30.05)
    assert check_origin(session, claim).verdict is OriginOutcome.OUTSIDE
    assert check_origins(session, [claim])[0].verdict is OriginOutcome.OUTSIDE
    # An in-place edit of the stored geometry (never done by the system, but possible in SQL) is seen at once.
    session.execute(
        text(
            "UPDATE production_area SET geom = ST_Multi(ST_MakeEnvelope(120, 30, 120.2, 30.1, 4326)) "
            "WHERE product_id = :p"
        ),
        {"p": p.id},
    )
    assert check_origin(session, claim).verdict is OriginOutcome.INSIDE
    assert check_origins(session, [claim])[0].verdict is OriginOutcome.INSIDE
    # So is a new version.
    add_area_version(
        session,
        p,
        AreaImport(
            geometry=as_multipolygon(box(121.0, 30.0, 121.1, 30.1)),
            legal_basis="moved",
            source="test",
            source_crs="WGS84",
            valid_from=datetime(2024, 1, 1, tzinfo=SH),
            admin_units=[],
        ),
        replace=True,
    )
    assert check_origin(session, claim).area_version == 2
    assert check_origins(session, [claim])[0].verdict is OriginOutcome.OUTSIDE


@pytest.mark.postgis
def test_unknown_crs_names_the_field(session: Session, pair: tuple[GIProduct, GIProduct]) -> None:
    west, _ = pair
    with pytest.raises(InputError) as err:
        check_origin(session, _claim(west, 120.05, 30.05, crs="MARS-2"))
    assert err.value.field == "crs"


@pytest.mark.postgis
def test_batch_equals_single_checks(session: Session, pair: tuple[GIProduct, GIProduct]) -> None:
    west, east = pair
    rng = np.random.default_rng(7)
    claims = []
    for _ in range(60):
        product = west if rng.random() < 0.5 else east
        x, y = 119.98 + rng.random() * 0.24, 29.98 + rng.random() * 0.14
        crs = str(rng.choice(["WGS84", "GCJ02", "BD09"]))
        sx, sy = from_wgs84(np.array([x]), np.array([y]), crs)
        claims.append(
            _claim(
                product,
                float(sx[0]),
                float(sy[0]),
                crs=crs,
                gps_accuracy_m=float(rng.choice([0.0, 4.0, 40.0, 300.0])),
            )
        )
    batch = check_origins(session, claims)
    single = [check_origin(session, c) for c in claims]
    assert batch == single


@pytest.mark.postgis
def test_distance_matches_a_geodesic_reference_on_a_real_boundary(session: Session) -> None:
    from pathlib import Path

    from geo_data.io import read_area_file

    xihu = read_area_file(Path(__file__).parent / "data" / "xihu_gcj02.geojson", crs="GCJ02").union()
    p = _product(session, "test-area-xihu", (xihu, datetime(2010, 1, 1, tzinfo=SH)))
    stored = shapely.from_wkb(
        session.execute(
            text("SELECT ST_AsBinary(geom) FROM production_area WHERE product_id = :p"), {"p": p.id}
        ).scalar_one()
    )
    rng = np.random.default_rng(11)
    ring = shapely.get_coordinates(stored.boundary)
    k = rng.integers(0, len(ring), 25)
    xs = ring[k, 0] + rng.uniform(-0.003, 0.003, 25)
    ys = ring[k, 1] + rng.uniform(-0.003, 0.003, 25)
    dense = shapely.segmentize(stored.boundary, 2e-5)
    for x, y in zip(xs, ys, strict=True):
        verdict = check_origin(session, _claim(p, float(x), float(y)))
        frame = Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={y} +lon_0={x} +ellps=WGS84", always_xy=True
        )
        local = shapely.transform(dense, lambda c, f=frame: np.column_stack(f.transform(c[:, 0], c[:, 1])))
        reference = shapely.distance(local, shapely.Point(0, 0))
        assert abs(abs(verdict.distance_m) - reference) < 0.02  # the 1e-5° reference itself is good to ~1 cm
        assert (verdict.distance_m > 0) == stored.covers(shapely.Point(x, y))


def test_plain_float_and_vectorized_conversions_agree_bit_for_bit() -> None:
    from geo_data.crs import from_wgs84
    from gi.origin.rule import CoordinateSystem, normalize

    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(73, 135, 3000), rng.uniform(3, 54, 3000)
    for system in (CoordinateSystem.GCJ02, CoordinateSystem.BD09):
        x, y = from_wgs84(lon, lat, system)
        vx, vy = normalize(x, y, system)
        for i in range(0, 3000, 7):
            sx, sy = normalize(x[i : i + 1], y[i : i + 1], system)
            assert (sx[0], sy[0]) == (vx[i], vy[i])
        assert np.abs(vx - lon).max() < 1e-9 and np.abs(vy - lat).max() < 1e-9
