"""Static map images and the reference layers behind them: the national overview shows the whole territory
(Taiwan, the South China Sea islands and line in an inset), scale bars are round numbers, images are written
with the CJK font."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image

from demo.season_map import synthetic_summary
from geo_data import admin
from maps import static
from maps.style import MARITIME_LINE

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "maps"


@pytest.fixture(scope="module")
def summary():  # type: ignore[no-untyped-def]
    """A constructed season of 1,200 samples."""
    return synthetic_summary(1_200, seed=9)


def test_reference_layers_cover_the_whole_territory() -> None:
    provinces = admin.provinces()
    assert len(provinces) == 34
    assert {"710000", "810000", "820000"} <= set(provinces["adcode"].astype(str))
    assert provinces.loc[provinces["adcode"].astype(str) == "710000", "name"].iloc[0] == "台湾省"
    country = admin.country().geometry.iloc[0]
    for lon, lat in [
        (121.0, 23.7),
        (112.336, 16.834),
        (109.5, 18.25),
        (87.6, 43.8),
    ]:  # Taiwan, 永兴岛, 三亚, 乌鲁木齐
        assert country.buffer(0.02).covers(shapely.Point(lon, lat)), (lon, lat)
    assert country.bounds[1] < 4.5  # the southernmost islands and shoals
    west, south, east, north = admin.maritime_line().total_bounds
    assert south < 4.0 and north > 20.0 and west < 110.0 and east > 121.0
    assert len(admin.counties()) > 2800
    hit = admin.county_of(np.array([120.13, 0.0]), np.array([30.25, 0.0]))
    assert hit.loc[0, "county_code"] == "330106" and hit.loc[0, "county_name"] == "西湖区"
    assert hit.loc[1, "county_code"] == ""


@pytest.mark.parametrize(("span_m", "bar_m"), [(100_000, 20_000), (7_000, 1_000), (2_600_000, 500_000)])
def test_scale_bar_is_a_round_length(span_m: float, bar_m: float) -> None:
    assert static._nice_length(span_m) == bar_m


def _colour_share(path: Path, colour: str, box: tuple[float, float, float, float]) -> float:
    """Share of pixels in the relative ``box`` (left, top, right, bottom) within 30 of ``colour``."""
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    h, w, _ = image.shape
    crop = image[int(box[1] * h) : int(box[3] * h), int(box[0] * w) : int(box[2] * w)]
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(crop - target).max(axis=2) < 30).mean())


def test_national_overview_has_the_south_china_sea_inset(summary) -> None:  # type: ignore[no-untyped-def]
    path = static.season_png(summary, ARTIFACTS / "national_overview.png")
    with Image.open(path) as image:
        assert image.size == (1600, 1280)
    # The maritime line is drawn in the inset at the lower right, and nowhere near the upper left.
    assert _colour_share(path, MARITIME_LINE, (0.80, 0.66, 0.99, 0.97)) > 0.001
    assert _colour_share(path, MARITIME_LINE, (0.0, 0.0, 0.5, 0.5)) < 0.0005


def test_regional_and_location_images(summary) -> None:  # type: ignore[no-untyped-def]
    area = next(a for a in summary.areas if a.name_zh == "赣南脐橙")
    samples = summary.samples[summary.samples["product_code"] == area.product_code]
    regional = static.regional_png(
        ARTIFACTS / "regional.png",
        [area],
        samples,
        summary.producers_outside,
        title="赣南脐橙 样品产地核验结果",
    )
    assert not static.is_national([area], samples) and static.is_national(summary.areas, summary.samples)
    outside = samples[samples["origin"] == "outside"].iloc[0]
    location = static.sample_location_png(
        ARTIFACTS / "location.png",
        area,
        outside["lon"],
        outside["lat"],
        "outside",
        title=f"样品 {outside['code']} 采样位置",
    )
    for path in (regional, location):
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"))
        assert pixels.std() > 20  # a drawn map, not a blank page
