"""Fetch the pinned Leaflet, jQuery, Bootstrap, Font Awesome, plugin and MapLibre GL JS files into maps/assets/.

Run once by a maintainer (`.venv/bin/python -m maps.vendor_assets`), then commit maps/assets/. It uses the npm
client (`npm pack`), verifies each tarball against the integrity the registry reports, copies only the files
the maps load (keeping each package's dist layout so relative font and image URLs keep working), and writes
maps/assets/SOURCES.md. Maps never touch the network: they load these committed files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"


@dataclass(frozen=True)
class VendoredPackage:
    """One npm package at a pinned version and the files of it that the maps load."""

    name: str
    version: str
    licence: str
    files: tuple[str, ...]  # paths inside the package; a trailing '/' takes a whole directory
    role: str

    @property
    def spec(self) -> str:
        """The npm spec, e.g. ``leaflet@1.9.3``."""
        return f"{self.name}@{self.version}"

    @property
    def directory(self) -> str:
        """Folder under maps/assets/ (the scope of scoped packages dropped)."""
        return f"{self.name.split('/')[-1]}-{self.version}"


PACKAGES: tuple[VendoredPackage, ...] = (
    VendoredPackage(
        "leaflet",
        "1.9.3",
        "BSD-2-Clause",
        ("LICENSE", "dist/leaflet.js", "dist/leaflet.css", "dist/images/"),
        "the map library (the version folium 0.20 references)",
    ),
    VendoredPackage(
        "jquery",
        "3.7.1",
        "MIT",
        ("LICENSE.txt", "dist/jquery.min.js"),
        "folium's default script (Bootstrap popups)",
    ),
    VendoredPackage(
        "bootstrap",
        "5.2.2",
        "MIT",
        ("LICENSE", "dist/css/bootstrap.min.css", "dist/js/bootstrap.bundle.min.js"),
        "folium's default styles",
    ),
    VendoredPackage(
        "@fortawesome/fontawesome-free",
        "6.2.0",
        "CC-BY-4.0 (icons), OFL-1.1 (fonts), MIT (code)",
        ("LICENSE.txt", "css/all.min.css", "webfonts/"),
        "icons of awesome-markers and of the legend",
    ),
    VendoredPackage(
        "leaflet.awesome-markers",
        "2.0.5",
        "MIT",
        ("LICENSE", "dist/leaflet.awesome-markers.js", "dist/leaflet.awesome-markers.css", "dist/images/"),
        "coloured marker icons (folium references 2.0.2 on cdnjs; 2.0.5 is the same API on npm)",
    ),
    VendoredPackage(
        "leaflet.markercluster",
        "1.5.3",
        "MIT",
        (
            "MIT-LICENCE.txt",
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
        ),
        "sample clusters (folium references 1.1.0; 1.5.3 is the release made for Leaflet 1.9)",
    ),
    VendoredPackage(
        "leaflet.heat",
        "0.2.0",
        "BSD-2-Clause",
        ("LICENSE", "dist/leaflet-heat.js"),
        "density layer of non-conformities",
    ),
    VendoredPackage(
        "supercluster",
        "8.0.1",
        "ISC (bundles kdbush, ISC)",
        ("LICENSE", "dist/supercluster.min.js"),
        "clusters of up to 100,000+ samples (a k-d tree, all zoom levels in well under a second)",
    ),
    VendoredPackage(
        "maplibre-gl",
        "5.24.1",
        "BSD-3-Clause",
        ("LICENSE.txt", "dist/maplibre-gl.js", "dist/maplibre-gl.css"),
        "the national map of the dashboard: vector tiles from PostGIS (5.x ships a UMD build;"
        " 6.x ships ES modules only)",
    ),
)


def _npm_pack(spec: str, workdir: Path) -> tuple[Path, str]:
    """Download ``spec`` with `npm pack`; return the tarball and the integrity the registry reported."""
    out = subprocess.run(
        ["npm", "pack", "--json", spec], cwd=workdir, check=True, capture_output=True, text=True
    )
    info = json.loads(out.stdout)[0]
    return workdir / info["filename"], info["integrity"]


def _verify(tarball: Path, integrity: str) -> None:
    algorithm, expected = integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"{tarball.name}: integrity mismatch ({digest} != {expected})")


def _extract(package: VendoredPackage, tarball: Path, target: Path) -> list[str]:
    copied: list[str] = []
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            relative = member.name.removeprefix("package/")
            wanted = any(relative == f or (f.endswith("/") and relative.startswith(f)) for f in package.files)
            if not wanted:
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            destination.write_bytes(source.read())
            copied.append(relative)
    missing = [f for f in package.files if not f.endswith("/") and f not in copied]
    if missing:
        raise RuntimeError(f"{package.spec}: files not in the tarball: {missing}")
    return sorted(copied)


def _sources_markdown(rows: list[tuple[VendoredPackage, str, list[str]]]) -> str:
    lines = [
        "# Vendored map assets",
        "",
        "Written by `python -m maps.vendor_assets` (npm pack of each pinned version, integrity verified).",
        "Maps load these files instead of folium's CDN defaults, so they work without a network.",
        "Each folder keeps the package's own layout, so relative font and image URLs in the CSS resolve.",
        "",
        "| package | version | licence | role | npm integrity |",
        "|---|---|---|---|---|",
    ]
    for package, integrity, _ in rows:
        lines.append(
            f"| {package.name} | {package.version} | {package.licence} | {package.role} | `{integrity}` |"
        )
    lines += [
        "",
        "Not vendored: folium's `bootstrap-glyphicons.css` (Bootstrap 3.0.0 RC, our maps use Font",
        "Awesome icons only) and `leaflet.awesome.rotate.min.css` (no rotated markers).",
        "",
        "## Files",
        "",
    ]
    for package, _, files in rows:
        lines.append(f"- `{package.directory}/`: " + ", ".join(f"`{f}`" for f in files))
    return "\n".join(lines) + "\n"


def vendor(target_dir: Path = ASSETS_DIR) -> Path:
    """Fetch every pinned package into ``target_dir`` (replacing it) and write SOURCES.md there."""
    rows: list[tuple[VendoredPackage, str, list[str]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "assets"
        for package in PACKAGES:
            tarball, integrity = _npm_pack(package.spec, Path(tmp))
            _verify(tarball, integrity)
            files = _extract(package, tarball, staging / package.directory)
            rows.append((package, integrity, files))
            print(f"{package.spec}: {len(files)} files")
        (staging / "SOURCES.md").write_text(_sources_markdown(rows), encoding="utf-8")
        if target_dir.exists():
            shutil.rmtree(target_dir)
        shutil.copytree(staging, target_dir)
    return target_dir


if __name__ == "__main__":
    print(vendor())
