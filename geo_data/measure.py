"""Geodesic measures of WGS84 geometries (areas in km², lengths in metres) on the WGS84 ellipsoid."""

from __future__ import annotations

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

WGS84_GEOD = Geod(ellps="WGS84")


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry on the WGS84 ellipsoid, in square kilometres."""
    area_m2, _ = WGS84_GEOD.geometry_area_perimeter(shapely.orient_polygons(geom, exterior_cw=False))
    return abs(area_m2) / 1e6


def vertex_count(geom: BaseGeometry) -> int:
    """Number of coordinate pairs of a geometry."""
    return int(shapely.get_num_coordinates(geom))
