"""Coordinate systems of Chinese location data, and vectorized conversion to WGS84.

WGS84 (EPSG:4326) is the storage system. CGCS2000 (EPSG:4490) differs from WGS84 by centimetres and is taken
as is. GCJ-02 ("Mars coordinates", used by Amap, Tencent and Google China) and BD-09 (Baidu) are obfuscated
systems with no EPSG code; they are converted with the published forward formulas, inverted by fixed-point
iteration to well under a millimetre. Any other EPSG code goes through pyproj.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Krasovsky 1940 ellipsoid, used by the GCJ-02 formulas.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# A bounding box of China used by the GCJ-02 definition: outside it GCJ-02 equals WGS84.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


class CoordinateSystem(StrEnum):
    """The coordinate systems a sample or an area file may declare."""

    WGS84 = "WGS84"
    CGCS2000 = "CGCS2000"
    GCJ02 = "GCJ02"
    BD09 = "BD09"


# Systems whose coordinates are WGS84 longitude/latitude to centimetres (no conversion needed).
WGS84_EQUIVALENT: frozenset[CoordinateSystem | str] = frozenset(
    {CoordinateSystem.WGS84, CoordinateSystem.CGCS2000, "EPSG:4326", "EPSG:4490"}
)
# Systems whose coordinates are longitude/latitude in degrees (the obfuscated ones included).
GEOGRAPHIC: frozenset[CoordinateSystem | str] = WGS84_EQUIVALENT | {
    CoordinateSystem.GCJ02,
    CoordinateSystem.BD09,
}


def is_geographic(system: CoordinateSystem | str) -> bool:
    """True when ``system``'s coordinates are longitude/latitude degrees (WGS84, CGCS2000, GCJ-02, BD-09)."""
    return system in GEOGRAPHIC


_ALIASES = {
    "WGS84": CoordinateSystem.WGS84,
    "WGS-84": CoordinateSystem.WGS84,
    "EPSG:4326": CoordinateSystem.WGS84,
    "4326": CoordinateSystem.WGS84,
    "CGCS2000": CoordinateSystem.CGCS2000,
    "EPSG:4490": CoordinateSystem.CGCS2000,
    "4490": CoordinateSystem.CGCS2000,
    "GCJ02": CoordinateSystem.GCJ02,
    "GCJ-02": CoordinateSystem.GCJ02,
    "GCJ": CoordinateSystem.GCJ02,
    "MARS": CoordinateSystem.GCJ02,
    "BD09": CoordinateSystem.BD09,
    "BD-09": CoordinateSystem.BD09,
    "BD09LL": CoordinateSystem.BD09,
    "BAIDU": CoordinateSystem.BD09,
}


class UnknownCRSError(ValueError):
    """A declared coordinate system that is neither a Chinese system we know nor a valid EPSG code."""


def parse_crs(declared: str | int | None) -> CoordinateSystem | str:
    """Normalize a declared CRS: a ``CoordinateSystem`` member, or an ``EPSG:n`` string pyproj understands.

    ``None`` or an empty string means WGS84, the default of every GPS device.
    """
    if declared is None or (isinstance(declared, str) and not declared.strip()):
        return CoordinateSystem.WGS84
    key = str(declared).strip().upper().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    code = key.removeprefix("EPSG:")
    if code.isdigit():
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_epsg(int(code))
        except CRSError as exc:
            raise UnknownCRSError(f"crs: EPSG:{code} is not a known coordinate system") from exc
        return f"EPSG:{int(code)}"
    raise UnknownCRSError(
        f"crs: {declared!r} is not one of WGS84, CGCS2000, GCJ02, BD09 or an EPSG code such as EPSG:4547"
    )


def in_china_box(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies in the rectangle inside which the GCJ-02 offset applies."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])


def _gcj_offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """GCJ-02 offset (degrees) to add to a WGS84 point."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Forward GCJ-02 obfuscation of WGS84 points (identity outside China's box)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    d_lon, d_lat = _gcj_offset(lon, lat)
    inside = in_china_box(lon, lat)
    return np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)


# Each fixed-point step shrinks the error by about 1e-5 (the offset's slope): the inverse reaches the last bit in
# about six steps. A fixed count, rather than "until the whole array has converged", keeps every point's result
# independent of whatever else is converted with it.
_FIXED_POINT_STEPS = 8

Forward = Callable[[Any, Any], tuple[Any, Any]]


def _invert(forward: Forward, gx: Any, gy: Any, x0: Any, y0: Any) -> tuple[Any, Any]:
    """Invert ``forward`` at (gx, gy) from the start (x0, y0) by a fixed number of fixed-point steps."""
    wx, wy = x0, y0
    for _ in range(_FIXED_POINT_STEPS):
        fx, fy = forward(wx, wy)
        wx, wy = wx - (fx - gx), wy - (fy - gy)
    return wx, wy


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert GCJ-02 by fixed-point iteration, to the last bit and identically for a point alone or in a batch."""
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    return _invert(wgs84_to_gcj02, g_lon, g_lat, g_lon.copy(), g_lat.copy())


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Baidu's BD-09 transform of GCJ-02 points."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert BD-09 to GCJ-02 by fixed-point iteration on the exact forward formula."""
    b_lon = np.asarray(lon, dtype=float)
    b_lat = np.asarray(lat, dtype=float)
    return _invert(gcj02_to_bd09, b_lon, b_lat, b_lon - 0.0065, b_lat - 0.006)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 to WGS84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS84 to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _gcj_forward_scalar(lon: float, lat: float) -> tuple[float, float]:
    """:func:`wgs84_to_gcj02` for one point in plain floats, operation for operation the same.

    A numpy call on a one-element array costs microseconds of overhead per operation and a single origin check
    converts dozens of times; the tests check this path against the vectorized one bit for bit.
    """
    if not (_CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1]):
        return lon, lat
    pi, sin = math.pi, math.sin
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = math.sqrt(abs(x))
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
        + (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
        + (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * pi
    s = sin(rad_lat)
    magic = 1.0 - _EE * (s * s)
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * pi)
    return lon + d_lon, lat + d_lat


def _bd_forward_scalar(x: float, y: float) -> tuple[float, float]:
    """:func:`gcj02_to_bd09` for one point in plain floats."""
    z = math.sqrt(x * x + y * y) + 0.00002 * math.sin(y * _X_PI)
    theta = float(np.arctan2(y, x)) + 0.000003 * math.cos(x * _X_PI)  # numpy's atan2 differs from libm's
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _small_to_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64], system: CoordinateSystem
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02/BD-09 to WGS84 for a handful of points in plain floats (same result as the vectorized path)."""
    out_lon, out_lat = [], []
    for a, b in zip(lon.tolist(), lat.tolist(), strict=True):
        if system is CoordinateSystem.BD09:
            a, b = _invert(_bd_forward_scalar, a, b, a - 0.0065, b - 0.006)
        a, b = _invert(_gcj_forward_scalar, a, b, a, b)
        out_lon.append(a)
        out_lat.append(b)
    return np.array(out_lon, dtype=float), np.array(out_lat, dtype=float)


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: CoordinateSystem | str | int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates declared in ``crs`` to WGS84 longitude/latitude arrays.

    For projected EPSG systems ``lon``/``lat`` are easting/northing in that system's axis order (x, y).
    Every point's result is the same to the last bit whether it is converted alone or in a batch.
    """
    system = crs if isinstance(crs, CoordinateSystem) else parse_crs(crs)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if system in WGS84_EQUIVALENT:
        return lon.copy(), lat.copy()
    if (system is CoordinateSystem.GCJ02 or system is CoordinateSystem.BD09) and lon.size <= 8:
        return _small_to_wgs84(lon.ravel(), lat.ravel(), system)
    if system is CoordinateSystem.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if system is CoordinateSystem.BD09:
        return bd09_to_wgs84(lon, lat)
    from pyproj import Transformer

    transformer = Transformer.from_crs(system, "EPSG:4326", always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: CoordinateSystem | str | int | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Express WGS84 coordinates in ``crs`` (the inverse of :func:`to_wgs84`)."""
    system = crs if isinstance(crs, CoordinateSystem) else parse_crs(crs)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if system in WGS84_EQUIVALENT:
        return lon.copy(), lat.copy()
    if system is CoordinateSystem.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if system is CoordinateSystem.BD09:
        return wgs84_to_bd09(lon, lat)
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", system, always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def transform_geometries_to_wgs84(geoms: ArrayLike, crs: CoordinateSystem | str | int | None) -> NDArray:
    """Convert an array of shapely geometries declared in ``crs`` to WGS84, vertex by vertex, vectorized."""
    import shapely

    system = crs if isinstance(crs, CoordinateSystem) else parse_crs(crs)
    geoms = np.asarray(geoms, dtype=object)
    if system in WGS84_EQUIVALENT:
        return geoms

    def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = to_wgs84(coords[:, 0], coords[:, 1], system)
        return np.column_stack([x, y])

    return shapely.transform(geoms, convert)
