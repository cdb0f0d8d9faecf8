"""The pages' static files: gzip to browsers that accept it, validators per representation, and the vendored
(versioned) libraries cached for good."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.pages.assets import IMMUTABLE, REVALIDATE, AssetFiles
from api.pages.templating import HERE, MAP_ASSETS, STATIC, mount_static
from maps.vendor_assets import ASSETS_DIR

MAPLIBRE = "maplibre-gl-5.24.1/dist/maplibre-gl.js"


def _client() -> TestClient:
    app = FastAPI()
    mount_static(app)
    return TestClient(app)


def test_maplibre_is_served_gzipped_immutable_and_revalidated_per_representation() -> None:
    """MapLibre GL JS comes gzip-compressed to a browser that accepts it (the same bytes once unpacked), plain
    to one that does not, each with its own ETag answering 304; its versioned folder is cached for good."""
    original = (ASSETS_DIR / MAPLIBRE).read_bytes()
    with _client() as c:
        packed = c.get(f"{MAP_ASSETS}/{MAPLIBRE}", headers={"Accept-Encoding": "gzip"})
        plain = c.get(f"{MAP_ASSETS}/{MAPLIBRE}", headers={"Accept-Encoding": "identity"})
        assert packed.status_code == plain.status_code == 200
        assert packed.headers["content-encoding"] == "gzip"
        assert "content-encoding" not in plain.headers
        assert packed.content == plain.content == original  # (httpx unpacks the gzip body)
        assert int(packed.headers["content-length"]) < len(original) / 2
        assert packed.headers["cache-control"] == plain.headers["cache-control"] == IMMUTABLE
        assert packed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
        assert packed.headers["etag"] != plain.headers["etag"]
        again = c.get(
            f"{MAP_ASSETS}/{MAPLIBRE}",
            headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]},
        )
        assert again.status_code == 304
        # a plain copy's validator does not stand for the gzip one
        other = c.get(
            f"{MAP_ASSETS}/{MAPLIBRE}",
            headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]},
        )
        assert other.status_code == 200 and other.headers["content-encoding"] == "gzip"


def test_own_scripts_are_revalidated_and_small_files_left_plain(tmp_path: Path) -> None:
    """The pages' own files (same name across deployments) are revalidated on every use; a file below the
    compression threshold is sent as it is."""
    script = HERE / "static" / "national_map.js"
    with _client() as c:
        r = c.get(f"{STATIC}/national_map.js", headers={"Accept-Encoding": "gzip, deflate"})
        assert r.status_code == 200 and r.headers["cache-control"] == REVALIDATE
        assert r.headers["content-encoding"] == "gzip" and r.content == script.read_bytes()
        assert c.get(f"{STATIC}/no-such-file.js").status_code == 404
    (tmp_path / "small.js").write_text("window.x = 1;\n")
    app = FastAPI()
    app.mount("/s", AssetFiles(directory=tmp_path))
    with TestClient(app) as c:
        small = c.get("/s/small.js", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers
    assert small.text == "window.x = 1;\n"
