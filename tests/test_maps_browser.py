"""The offline maps in real headless Chromium (Debian's chromium driven by Playwright), with every non-local
request blocked: no console or page error, the expected area polygons, sample clusters and producer markers, a
working quality layer and sample popups. Screenshots go to test-artifacts/maps/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from demo.season_map import synthetic_summary
from maps.browser import MapPage, chromium, chromium_path
from maps.folium_maps import GEOGRAPHY_NAME, NATIONAL_EXTENT, MapOptions, areas_map, season_map, write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "maps"
N_SAMPLES = 4_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def summary():  # type: ignore[no-untyped-def]
    """A constructed season around real county outlines."""
    return synthetic_summary(N_SAMPLES, seed=21)


def _clean(view: MapPage) -> None:
    report = view.report
    assert report.page_errors == [], report.page_errors
    assert report.console_errors == [], report.console_errors
    assert report.blocked_requests == [], f"the map tried the network: {report.blocked_requests[:5]}"
    assert report.failed_requests == [], report.failed_requests


def test_areas_map_in_chromium(browser, summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_map(
        areas_map(summary.areas, MapOptions(review_number="审图号：测试")), tmp_path / "areas.html"
    )
    view = MapPage(browser, path)
    try:
        view.page.wait_for_timeout(500)
        state = view.state()
        view.screenshot(ARTIFACTS / "areas.png")
        _clean(view)
        assert state["areaPaths"] == len(summary.areas) == state["layers"]["areas"]
        assert state["maxZoom"] == 18
        # National scale: the view opens on the whole territory, the South China Sea islands included.
        bounds = view.page.evaluate("() => window.giMap.map.getBounds().toBBoxString()")
        west, south, east, north = (float(v) for v in bounds.split(","))
        assert south < 4.0 and north > 53.0 and west < 74.0 and east > 134.0
        # The legend names every product; the review number is printed.
        legend = view.page.inner_text(".gi-legend")
        assert all(a.name_zh in legend for a in summary.areas) and "审图号：测试" in legend
        # A click on an area opens its popup with the version and the size.
        view.page.evaluate("""() => { const l = window.giMap.layers.areas.getLayers()[0];
                                      window.giMap.map.fitBounds(l.getBounds(), {animate: false});
                                      l.openPopup(); }""")
        popup = view.page.inner_text(".leaflet-popup-content")
        assert "保护范围版本" in popup and "平方千米" in popup
    finally:
        view.close()


def test_season_map_in_chromium(browser, summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = summary.samples.copy()
    frame.at[frame.index[0], "lot_number"] = "L20250402"
    frame.at[frame.index[0], "failed_items"] = (("水分", "≤ 6.5%", "7.4%"),)
    season = replace(summary, samples=frame)
    path = write_map(season_map(season, MapOptions()), tmp_path / "season.html")
    view = MapPage(browser, path, viewport=(1366, 768))
    try:
        view.page.wait_for_timeout(600)
        state = view.state()
        view.screenshot(ARTIFACTS / "season.png")
        _clean(view)
        assert state["areaPaths"] == len(summary.areas)
        assert state["layers"]["origin"] == N_SAMPLES
        assert state["visibleClusteredSamples"] + state["visibleSingleSamples"] == N_SAMPLES
        assert 0 < state["clusterIcons"] < 200
        assert state["heatCanvases"] == 1
        assert state["layers"]["quality"] == 0  # hidden layers are built on first display
        # Producer markers are a layer of their own, off at opening, and drawn below the clusters' counts.
        assert state["producerMarkers"] == 0
        legend = view.page.locator(".gi-legend")
        assert "样品 · 产地核验" in legend.inner_text() and "样品 · 品质检验" not in legend.inner_text()
        assert "位于保护范围外的授权生产者" not in legend.inner_text()  # the legend shows the active layers
        view.page.locator(".leaflet-control-layers label", has_text="授权生产者").locator("input").check()
        view.wait_ready()
        assert view.state()["producerMarkers"] == len(summary.producers_outside) > 0
        assert "位于保护范围外的授权生产者" in legend.inner_text()
        z = view.page.evaluate(
            """() => [window.giMap.map.getPane("giProducers").style.zIndex,
                      window.giMap.map.getPane("markerPane").style.zIndex || "600"]"""
        )
        assert int(z[0]) < int(z[1])

        # The verdict layers are exclusive: radio buttons, as a user would switch them.
        radios = view.page.locator(".gi-switch input[type=radio]")
        assert radios.count() == 3
        view.page.locator('.gi-switch input[value="quality"]').check()
        view.wait_ready()
        assert view.state()["layers"]["quality"] == N_SAMPLES
        assert view.page.evaluate("() => !window.giMap.map.hasLayer(window.giMap.samples.origin.layer)")
        assert view.state()["shownSamples"] == "quality"
        assert not view.page.locator('.gi-switch input[value="origin"]').is_checked()
        assert "样品 · 品质检验" in legend.inner_text() and "样品 · 产地核验" not in legend.inner_text()
        view.screenshot(ARTIFACTS / "season_quality.png")
        # The legend fits the window and can be collapsed.
        box = legend.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 768
        view.page.locator(".gi-legend summary").click()
        folded = legend.bounding_box()
        assert folded and folded["height"] < 40 < box["height"]
        view.page.locator(".gi-legend summary").click()

        # At the maximum zoom samples are drawn one by one; clicking one opens its popup, which names the lot
        # and the failed indicators.
        view.page.locator('.gi-switch input[value="origin"]').check()
        sample = frame.iloc[0]
        point = view.page.evaluate(
            """([lat, lon]) => { const m = window.giMap.map;
                                 m.setView([lat, lon], m.getMaxZoom(), {animate: false});
                                 const p = m.latLngToContainerPoint([lat, lon]);
                                 const r = m.getContainer().getBoundingClientRect();
                                 return [p.x + r.left, p.y + r.top]; }""",
            [float(sample["lat"]), float(sample["lon"])],
        )
        view.page.wait_for_timeout(800)
        view.page.mouse.click(point[0], point[1])
        view.page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
        popup = view.page.inner_text(".leaflet-popup-content")
        assert sample["code"] in popup and sample["product_name"] in popup and "产地核验" in popup
        assert "批号" in popup and "L20250402" in popup
        assert "不合格项目" in popup and "水分（标准 ≤ 6.5%，检出 7.4%）" in popup
        view.screenshot(ARTIFACTS / "season_popup.png")
        _clean(view)
    finally:
        view.close()


def test_initial_view_fits_the_data_at_1366x768(browser, summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_map(season_map(summary, MapOptions()), tmp_path / "fit.html")
    view = MapPage(browser, path, viewport=(1366, 768))
    try:
        # The national view: the whole territory (South China Sea islands included) in the window, and wide.
        west, south, east, north = NATIONAL_EXTENT
        corners = view.page.evaluate(
            """([s, w, n, e]) => { const m = window.giMap.map;
                                   return [m.latLngToContainerPoint([n, w]), m.latLngToContainerPoint([s, e])]; }""",
            [south, west, north, east],
        )
        (x0, y0), (x1, y1) = (corners[0]["x"], corners[0]["y"]), (corners[1]["x"], corners[1]["y"])
        assert 0 <= x0 and x1 <= 1366 and 0 <= y0 and y1 <= 768
        assert x1 - x0 > 500, f"China is {x1 - x0:.0f} px wide at 1366x768"
    finally:
        view.close()


def test_base_layers_tianditu_and_xyz(browser, summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    options = MapOptions(tianditu_key="0123abcd", tile_url="http://tiles.example.internal/{z}/{x}/{y}.png")
    path = write_map(areas_map(summary.areas, options), tmp_path / "tiles.html")
    text = path.read_text(encoding="utf-8")
    assert "vec_w/wmts" in text and "LAYER=cva" in text and "img_w/wmts" in text and "tk=0123abcd" in text
    view = MapPage(browser, path, viewport=(1366, 768))
    try:
        labels = view.page.locator(".leaflet-control-layers-base label").all_inner_texts()
        assert [label.strip() for label in labels] == [
            "天地图 · 矢量",
            "天地图 · 影像",
            "自定义底图",
            "无底图（离线）",
        ]
        assert view.page.locator(".leaflet-control-layers-base input").first.is_checked()
        # Tiles are asked of 天地图's servers only (blocked here: the test machine is offline).
        hosts = {url.split("/")[2] for url in view.report.blocked_requests}
        assert hosts and all(h.endswith(".tianditu.gov.cn") for h in hosts), hosts
        view.page.locator(".leaflet-control-layers-base label", has_text="无底图").locator("input").check()
        assert view.page.evaluate("() => document.querySelectorAll('.leaflet-tile-pane img').length") == 0
    finally:
        view.close()


def test_map_with_no_samples_still_signals_ready(browser, summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = type(summary)(
        title="空",
        start=summary.start,
        end=summary.end,
        generated_at=summary.generated_at,
        areas=summary.areas[:1],
        samples=summary.samples.iloc[0:0],
    )
    view = MapPage(browser, write_map(season_map(empty, MapOptions()), tmp_path / "empty.html"))
    try:
        state = view.state()
        _clean(view)
        assert state["ready"] and state["areaPaths"] == 1 and "origin" not in state["layers"]
    finally:
        view.close()


def test_offline_geography_layer_of_rivers_lakes_and_cities(browser, summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The bundled geography layer (geo_data.reference_layer) is in the layer control, on when no base map is
    configured, draws rivers, lakes and named cities, and the map still asks nothing of the network."""
    path = write_map(season_map(summary, MapOptions()), tmp_path / "geography.html")
    view = MapPage(browser, path, viewport=(1366, 768))
    try:
        toggle = view.page.locator(".leaflet-control-layers label", has_text=GEOGRAPHY_NAME).locator("input")
        assert toggle.is_checked()  # offline: the only orientation there is
        drawn = view.page.evaluate("() => document.querySelectorAll('.leaflet-giGeography-pane path').length")
        assert drawn > 200, drawn  # rivers, lakes and city dots
        # City names appear from zoom 6 on, their dots from zoom 5 (at national scale they would crowd the east):
        # around 杭州 (西湖龙井's city), its name is on the map. The national view is set explicitly, since the
        # initial fit follows the season's data.
        view.page.evaluate("() => window.giMap.map.setView([35.0, 105.0], 4, {animate: false})")
        view.page.wait_for_timeout(400)
        assert not view.page.locator(".gi-city-label", has_text="杭州").is_visible()
        assert view.page.evaluate(
            "() => [...document.querySelectorAll('path.gi-city')].every(p => getComputedStyle(p).display === 'none')"
        )
        view.page.evaluate("() => window.giMap.map.setView([30.25, 120.15], 8, {animate: false})")
        view.page.wait_for_timeout(400)
        assert view.page.locator(".gi-city-label", has_text="杭州").is_visible()
        shown = view.page.evaluate(
            "() => [...document.querySelectorAll('path.gi-city')].filter(p => getComputedStyle(p).display !== 'none').length"
        )
        assert shown > 100, shown
        view.page.evaluate("() => window.giMap.map.setView([31.0, 113.5], 6, {animate: false})")
        view.page.wait_for_timeout(400)
        view.screenshot(ARTIFACTS / "season_geography.png")
        toggle.uncheck()
        assert (
            view.page.evaluate("() => document.querySelectorAll('.leaflet-giGeography-pane path').length")
            == 0
        )
        _clean(view)
    finally:
        view.close()
    # With a base map configured, the layer is offered but off.
    options = MapOptions(tile_url="http://tiles.example.internal/{z}/{x}/{y}.png")
    view = MapPage(
        browser, write_map(season_map(summary, options), tmp_path / "tiled.html"), viewport=(1366, 768)
    )
    try:
        toggle = view.page.locator(".leaflet-control-layers label", has_text=GEOGRAPHY_NAME).locator("input")
        assert not toggle.is_checked()
    finally:
        view.close()
