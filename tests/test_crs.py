"""Coordinate systems: GCJ-02 and BD-09 against independent implementations, EPSG codes, declared names."""

from __future__ import annotations

import eviltransform
import numpy as np
import prcoords
import pytest
from pyproj import Geod

from geo_data.crs import (
    CoordinateSystem,
    UnknownCRSError,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """2,000 random points over mainland China's extent (seeded)."""
    rng = np.random.default_rng(20261124)
    return rng.uniform(75.0, 134.0, 2000), rng.uniform(18.5, 53.0, 2000)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:  # type: ignore[no-untyped-def]
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


def test_wgs_to_gcj_matches_prcoords_and_eviltransform(china_points) -> None:  # type: ignore[no-untyped-def]
    lon, lat = china_points
    ours = wgs84_to_gcj02(lon, lat)
    ref_p = np.array(
        [(c.lon, c.lat) for c in (prcoords.wgs_gcj((la, lo)) for lo, la in zip(lon, lat, strict=False))]
    )
    ref_e = np.array([eviltransform.wgs2gcj(la, lo)[::-1] for lo, la in zip(lon, lat, strict=False)])
    assert _metres(ours[0], ours[1], ref_p[:, 0], ref_p[:, 1]).max() < 0.01
    assert _metres(ours[0], ours[1], ref_e[:, 0], ref_e[:, 1]).max() < 0.05


def test_gcj_to_wgs_within_1m_of_independent_inverses(china_points) -> None:  # type: ignore[no-untyped-def]
    lon, lat = china_points
    ours = gcj02_to_wgs84(lon, lat)
    ref_p = np.array(
        [(c.lon, c.lat) for c in (prcoords.gcj_wgs_bored((la, lo)) for lo, la in zip(lon, lat, strict=False))]
    )
    ref_e = np.array([eviltransform.gcj2wgs_exact(la, lo)[::-1] for lo, la in zip(lon, lat, strict=False)])
    assert _metres(ours[0], ours[1], ref_p[:, 0], ref_p[:, 1]).max() < 1.0
    assert _metres(ours[0], ours[1], ref_e[:, 0], ref_e[:, 1]).max() < 1.0
    # The offset itself is hundreds of metres: the test would catch a missing conversion.
    assert _metres(lon, lat, ours[0], ours[1]).min() > 20


def test_bd09_to_wgs_within_1m_of_prcoords(china_points) -> None:  # type: ignore[no-untyped-def]
    lon, lat = china_points
    ours = bd09_to_wgs84(lon, lat)
    ref = np.array(
        [(c.lon, c.lat) for c in (prcoords.bd_wgs_bored((la, lo)) for lo, la in zip(lon, lat, strict=False))]
    )
    assert _metres(ours[0], ours[1], ref[:, 0], ref[:, 1]).max() < 1.0


def test_round_trips_are_sub_millimetre(china_points) -> None:  # type: ignore[no-untyped-def]
    lon, lat = china_points
    for forward, back in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        x, y = back(*forward(lon, lat))
        assert _metres(lon, lat, x, y).max() < 0.001


def test_gcj_is_identity_outside_china() -> None:
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    x, y = to_wgs84(lon, lat, "GCJ02")
    np.testing.assert_array_equal(x, lon)
    np.testing.assert_array_equal(y, lat)


def test_cgcs2000_is_taken_as_wgs84() -> None:
    x, y = to_wgs84([120.1], [30.2], "EPSG:4490")
    assert (x[0], y[0]) == (120.1, 30.2)


def test_projected_epsg_code_goes_through_pyproj() -> None:
    # CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), as surveyed area files often are.
    east, north = from_wgs84([120.15], [30.25], "EPSG:4549")
    assert 400_000 < east[0] < 600_000
    lon, lat = to_wgs84(east, north, 4549)
    assert _metres(lon, lat, [120.15], [30.25])[0] < 0.001


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (None, CoordinateSystem.WGS84),
        ("gcj-02", CoordinateSystem.GCJ02),
        ("bd09ll", CoordinateSystem.BD09),
        ("EPSG:4490", CoordinateSystem.CGCS2000),
        ("4326", CoordinateSystem.WGS84),
        ("epsg:4547", "EPSG:4547"),
    ],
)
def test_parse_crs_accepts_common_spellings(declared, expected) -> None:  # type: ignore[no-untyped-def]
    assert parse_crs(declared) == expected


@pytest.mark.parametrize("declared", ["MARSX", "EPSG:999999", "utm"])
def test_parse_crs_rejects_unknown_systems_naming_the_field(declared: str) -> None:
    with pytest.raises(UnknownCRSError, match="crs:"):
        parse_crs(declared)
