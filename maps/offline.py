"""Offline Folium: folium's CDN defaults rewritten to the vendored files in maps/assets/, and maps saved so.

Every JavaScript and CSS link folium (or a plugin) would add is looked up in ``LOCAL_ASSETS``; an external URL
with no vendored copy is an error, so a map can never silently depend on the network. The links point to
``asset_base``: ``"copy"`` (default) copies the vendored folders next to the HTML file and links them by
relative path, so the folder can be zipped and opened anywhere; ``"file"`` links the installed package's files
by file:// URL; any other string is used as a URL prefix (for example ``/static/map-assets/`` behind the web
app).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import folium
from branca.element import Element, Figure

from maps.vendor_assets import ASSETS_DIR, PACKAGES

ASSET_FOLDER = "map-assets"

# CDN URL folium 0.20 (or its plugins) references -> vendored file, relative to maps/assets/.
_JSDELIVR = "https://cdn.jsdelivr.net/"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"
_AWESOME = "leaflet.awesome-markers-2.0.5/dist/leaflet.awesome-markers"
_BOOTSTRAP = "bootstrap-5.2.2/dist/"
_CLUSTER = "leaflet.markercluster-1.5.3/dist/"
LOCAL_ASSETS: dict[str, str] = {
    _JSDELIVR + "npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/dist/leaflet.js",
    _JSDELIVR + "npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    _CDNJS + "jquery/3.7.1/jquery.min.js": "jquery-3.7.1/dist/jquery.min.js",
    _JSDELIVR + "npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": _BOOTSTRAP
    + "js/bootstrap.bundle.min.js",
    _JSDELIVR + "npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": _BOOTSTRAP + "css/bootstrap.min.css",
    _JSDELIVR
    + "npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": "fontawesome-free-6.2.0/css/all.min.css",
    _CDNJS + "Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": _AWESOME + ".js",
    _CDNJS + "Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": _AWESOME + ".css",
    _CDNJS + "leaflet.markercluster/1.1.0/leaflet.markercluster.js": _CLUSTER + "leaflet.markercluster.js",
    _CDNJS + "leaflet.markercluster/1.1.0/MarkerCluster.css": _CLUSTER + "MarkerCluster.css",
    _CDNJS + "leaflet.markercluster/1.1.0/MarkerCluster.Default.css": _CLUSTER + "MarkerCluster.Default.css",
    _JSDELIVR
    + "gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": "leaflet.heat-0.2.0/dist/leaflet-heat.js",
}

# Links folium adds that our maps do not need: Bootstrap 3 glyphicons (we use Font Awesome icons only) and
# folium's marker-rotation CSS (no rotated markers).
DROPPED_ASSETS = frozenset(
    {
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
    }
)

# An absolute URL, or a protocol-relative one in an attribute or a CSS url().
EXTERNAL_URL = re.compile(r"""https?://[^\s"'<>)]+|(?<=["'(])//[a-z0-9-]+\.[^\s"'<>)]+""", re.IGNORECASE)


def external_urls(html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every external URL in ``html`` that does not start with one of ``allowed``."""
    return sorted({u for u in EXTERNAL_URL.findall(html) if not any(u.startswith(a) for a in allowed if a)})


class OfflineAssetError(ValueError):
    """A map element references an external resource that has no vendored copy."""


# Elements of our own name a vendored file directly: "vendored:<folder>/<path>".
VENDORED_PREFIX = "vendored:"


def _local(url: str, base: str) -> str | None:
    if url in DROPPED_ASSETS:
        return None
    if url.startswith(VENDORED_PREFIX):
        return base + url.removeprefix(VENDORED_PREFIX)
    if url in LOCAL_ASSETS:
        return base + LOCAL_ASSETS[url]
    if EXTERNAL_URL.fullmatch(url) or url.startswith("//"):
        raise OfflineAssetError(f"{url}: no vendored copy in maps/assets (add it to maps/vendor_assets.py)")
    return url


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def localize(figure_or_map: Element, base: str) -> None:
    """Point every JS/CSS link of the map's elements at ``base`` + the vendored file (in place)."""
    root = figure_or_map.get_root()
    for element in _walk(root):
        for attribute in ("default_js", "default_css"):
            links = getattr(element, attribute, None)
            if not links:
                continue
            rewritten = []
            for name, url in links:
                local = _local(url, base)
                if local is not None:
                    rewritten.append((name, local))
            # An instance attribute, so folium's class defaults stay untouched for other code.
            setattr(element, attribute, rewritten)


def asset_base_for(html_path: Path, mode: str) -> str:
    """The URL prefix of the vendored files for a map written to ``html_path``."""
    if mode == "copy":
        return f"{ASSET_FOLDER}/"
    if mode == "file":
        return ASSETS_DIR.as_uri() + "/"
    return mode if mode.endswith("/") else mode + "/"


def copy_assets(target_dir: Path) -> Path:
    """Copy the vendored package folders (with their licences) into ``target_dir``/map-assets."""
    destination = target_dir / ASSET_FOLDER
    for package in PACKAGES:
        source = ASSETS_DIR / package.directory
        if not source.is_dir():
            raise FileNotFoundError(
                f"{source}: vendored map assets missing; run `python -m maps.vendor_assets`"
            )
        shutil.copytree(source, destination / package.directory, dirs_exist_ok=True)
    shutil.copy2(ASSETS_DIR / "SOURCES.md", destination / "SOURCES.md")
    return destination


def render_offline(fmap: folium.Map, base: str, allowed: tuple[str, ...] = ()) -> str:
    """The complete HTML of ``fmap`` with every asset link pointing at ``base``; no external URL is left
    except those starting with an ``allowed`` prefix (a configured tile server)."""
    localize(fmap, base)
    html = fmap.get_root().render()
    leftover = external_urls(html, allowed + ((base,) if "://" in base else ()))
    if leftover:
        raise OfflineAssetError(f"map HTML still references {leftover[:5]}")
    return html


def save_offline(
    fmap: folium.Map, path: str | Path, asset_base: str = "copy", allowed: tuple[str, ...] = ()
) -> Path:
    """Write ``fmap`` to ``path`` as a map that opens without a network connection."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_offline(fmap, asset_base_for(path, asset_base), allowed)
    if asset_base == "copy":
        copy_assets(path.parent)
    path.write_text(html, encoding="utf-8")
    return path


def figure_title(fmap: folium.Map, title: str) -> None:
    """Set the HTML page title of the map's figure."""
    figure = fmap.get_root()
    if isinstance(figure, Figure):
        figure.title = title
