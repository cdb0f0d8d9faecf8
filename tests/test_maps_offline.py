"""Offline maps: every script and style sheet is vendored, folium's CDN defaults are rewritten, and the
written HTML contains no external URL (no database, no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import pytest
from folium.plugins import Fullscreen

from demo.season_map import synthetic_summary
from geo_data.reference_layer import REFERENCE
from maps.folium_maps import MapOptions, areas_map, season_map, write_map
from maps.offline import ASSET_FOLDER, LOCAL_ASSETS, OfflineAssetError, external_urls, render_offline
from maps.vendor_assets import ASSETS_DIR, PACKAGES

LINK = re.compile(r"""<(?:script|link)[^>]+(?:src|href)="([^"]+)\"""")


@pytest.fixture(scope="module")
def summary():  # type: ignore[no-untyped-def]
    """A constructed season of 1,500 samples around real county outlines."""
    return synthetic_summary(1_500, seed=3)


def test_every_vendored_file_exists_and_is_documented() -> None:
    for relative in set(LOCAL_ASSETS.values()):
        assert (ASSETS_DIR / relative).is_file(), relative
    sources = (ASSETS_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for package in PACKAGES:
        assert f"| {package.name} | {package.version} | {package.licence} |" in sources
        assert any((ASSETS_DIR / package.directory).glob("*LICEN*")), (
            f"{package.directory} has no licence file"
        )
    # Relative font and image URLs of the CSS resolve inside the vendored layout.
    for css in ASSETS_DIR.rglob("*.css"):
        for url in re.findall(r"url\(['\"]?([^'\")]+)['\"]?\)", css.read_text(encoding="utf-8")):
            if url.startswith("data:") or url.startswith("#"):
                continue
            target = (css.parent / url.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{css.name}: {url}"


def test_season_map_html_has_no_external_url(summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_map(season_map(summary, MapOptions()), tmp_path / "season.html")
    html = path.read_text(encoding="utf-8")
    assert external_urls(html) == []
    assert "http://" not in html and "https://" not in html
    links = LINK.findall(html)
    assert links, "the map links its scripts"
    for link in links:
        assert link.startswith(f"{ASSET_FOLDER}/"), link
        assert (tmp_path / link).is_file(), link
    # Folium's CDN names are gone, the clustering and heat plugins are vendored.
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "unpkg" not in html
    assert f"{ASSET_FOLDER}/supercluster-8.0.1/dist/supercluster.min.js" in html
    assert f"{ASSET_FOLDER}/leaflet.heat-0.2.0/dist/leaflet-heat.js" in html
    # Without tiles a maxZoom is set (marker clustering fails without one).
    assert '"maxZoom": 18' in html
    assert (tmp_path / ASSET_FOLDER / "SOURCES.md").is_file()


def test_areas_map_file_links_and_tile_url(summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = write_map(areas_map(summary.areas, MapOptions(asset_base="file")), tmp_path / "a.html").read_text(
        "utf-8"
    )
    links = LINK.findall(html)
    assert links and all(link.startswith(ASSETS_DIR.as_uri()) for link in links)
    assert not (tmp_path / ASSET_FOLDER).exists()
    tiles = "http://tiles.example.internal/{z}/{x}/{y}.png"
    html = write_map(areas_map(summary.areas, MapOptions(tile_url=tiles)), tmp_path / "b.html").read_text(
        "utf-8"
    )
    assert external_urls(html) == ["http://tiles.example.internal/{z}/{x}/{y}.png"]
    assert external_urls(html, ("http://tiles.example.internal/",)) == []


def test_unvendored_plugin_is_refused() -> None:
    fmap = folium.Map(tiles=None)
    Fullscreen().add_to(fmap)
    with pytest.raises(OfflineAssetError, match="no vendored copy"):
        render_offline(fmap, f"{ASSET_FOLDER}/")


def test_large_season_stays_compact(tmp_path: Path) -> None:
    # 20,000 samples: the samples are embedded once as compact columns (~45 bytes each), not as markers.
    big = synthetic_summary(20_000, seed=11)
    html = write_map(season_map(big, MapOptions()), tmp_path / "big.html").read_text("utf-8")
    # The fixed part: the page, the areas and the bundled geography layer (geo_data/reference, ~150 KB).
    fixed = 1_500_000 + REFERENCE.stat().st_size
    per_sample = (len(html.encode("utf-8")) - fixed) / 20_000
    assert per_sample < 60, f"{per_sample:.0f} bytes per sample"
    # Marker factories in JS (area anchors, sample dots, the geography layer's city dots), not one call per sample.
    assert html.count("L.circleMarker(") <= 4
