"""The offline maps in real headless Chromium (Debian's chromium driven by Playwright), with every non-local
request blocked: no console or page error, the expected area polygons, sample clusters and producer markers, a
working quality layer and sample popups. Screenshots go to test-artifacts/maps/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.season_map import synthetic_summary
from maps.browser import MapPage, chromium, chromium_path
from maps.folium_maps import MapOptions, areas_map, season_map, write_map

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
    path = write_map(season_map(summary, MapOptions()), tmp_path / "season.html")
    view = MapPage(browser, path)
    try:
        view.page.wait_for_timeout(600)
        state = view.state()
        view.screenshot(ARTIFACTS / "season.png")
        _clean(view)
        assert state["areaPaths"] == len(summary.areas)
        assert state["layers"]["origin"] == N_SAMPLES
        assert state["visibleClusteredSamples"] + state["visibleSingleSamples"] == N_SAMPLES
        assert 0 < state["clusterIcons"] < 200
        assert state["producerMarkers"] == len(summary.producers_outside) > 0
        assert state["heatCanvases"] == 1
        assert state["layers"]["quality"] == 0  # hidden layers are built on first display

        # Switch the quality layer on through the layer control, as a user would.
        view.page.locator(".leaflet-control-layers label", has_text="品质检验").locator("input").check()
        view.wait_ready()
        assert view.state()["layers"]["quality"] == N_SAMPLES
        # The two verdict layers draw the same samples, so only one is shown at a time.
        assert view.page.evaluate("() => !window.giMap.map.hasLayer(window.giMap.samples.origin.layer)")
        assert view.state()["shownSamples"] == "quality"
        assert (
            not view.page.locator(".leaflet-control-layers label", has_text="产地核验")
            .locator("input")
            .is_checked()
        )
        view.screenshot(ARTIFACTS / "season_quality.png")

        # At the maximum zoom samples are drawn one by one; clicking one opens its popup.
        sample = summary.samples.iloc[0]
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
        view.screenshot(ARTIFACTS / "season_popup.png")
        _clean(view)
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
