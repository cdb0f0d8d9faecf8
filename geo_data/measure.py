"""Geodesic measures of WGS84 geometries (areas in km², lengths in metres) on the WGS84 ellipsoid."""

from __future__ import annotations

import numpy as np
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


def same_area(a: BaseGeometry, b: BaseGeometry, tolerance: float = 1e-7) -> bool:
    """Equal up to vertex order, ring start and coordinate rounding (1e-7 degrees is about a centimetre)."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=tolerance))


def overlap_share(current: BaseGeometry, new: BaseGeometry) -> float:
    """Share (0..1) of ``current``'s geodesic area that ``new`` also covers."""
    before = geodesic_area_km2(current)
    if before == 0:
        return 0.0
    common = shapely.intersection(shapely.make_valid(current), shapely.make_valid(new))
    polygons = shapely.get_parts(common)
    polygons = polygons[shapely.get_type_id(polygons) >= 3]  # polygons and multipolygons only
    shared = sum(geodesic_area_km2(p) for p in polygons)
    return min(1.0, shared / before)


def largest_shift_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """How far the boundary moved: the Hausdorff distance between the two boundaries, in metres.

    Measured in an azimuthal equidistant projection centred on the pair (distances from its centre are exact;
    over one GI area, a few hundred kilometres, the others are within a fraction of a percent).
    """
    from pyproj import Transformer

    centre = shapely.union(shapely.envelope(a), shapely.envelope(b)).centroid
    transformer = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +ellps=WGS84 +units=m", always_xy=True
    )

    def project(geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(
            shapely.boundary(geom), lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )

    return float(shapely.hausdorff_distance(project(a), project(b)))
