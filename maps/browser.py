"""Open a map HTML file in Debian's headless Chromium (Playwright, test extra) with every non-local request
blocked, and report what it shows: the real check that an offline map works (a screenshot alone can hide a
broken layer). Used by the tests and by benchmarks/maps.py."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# What the page reports once every layer has finished loading.
_STATE_JS = """() => {
    const g = window.giMap || {layers: {}, samples: {}};
    const out = {ready: window.giMapReady === true, layers: {}};
    out.areaPaths = document.querySelectorAll('path.gi-area').length;
    out.clusterIcons = document.querySelectorAll('.gi-cluster-icon').length;
    out.producerMarkers = document.querySelectorAll('.gi-producer-icon').length;
    out.heatCanvases = document.querySelectorAll('canvas.leaflet-heatmap-layer').length;
    for (const [key, layer] of Object.entries(g.layers || {})) {
        out.layers[key] = layer.getLayers ? layer.getLayers().length : null;
    }
    for (const [key, s] of Object.entries(g.samples || {})) {
        const st = s.stats();
        out.layers[key] = st.total;
        if (g.map && g.map.hasLayer(s.layer)) {
            // Every sample in view is either inside a drawn cluster or drawn on its own.
            out.shownSamples = key;
            out.visibleClusteredSamples = st.inClusters;
            out.visibleSingleSamples = st.points;
        }
    }
    out.zoom = g.map ? g.map.getZoom() : null;
    out.maxZoom = g.map ? g.map.getMaxZoom() : null;
    return out;
}"""


@dataclass
class PageReport:
    """What a map showed in the browser."""

    state: dict[str, Any]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    seconds_to_ready: float = 0.0
    screenshot: Path | None = None


def chromium_path() -> str | None:
    """Debian's chromium, if installed (GI_CHROMIUM overrides)."""
    return os.environ.get("GI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


# Nothing but loopback reaches the network: names do not resolve and every other address goes to a closed proxy
# port (Chromium never proxies loopback). Unlike a Playwright route, this keeps the browser's HTTP cache working.
LOOPBACK_ONLY_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--proxy-server=http://127.0.0.1:9",
]


@contextmanager
def chromium(extra_args: list[str] | None = None) -> Iterator[Any]:
    """A headless Chromium browser (Playwright driving the system binary; never `playwright install`), with
    ``extra_args`` (e.g. :data:`LOOPBACK_ONLY_ARGS`)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if not path:
        raise FileNotFoundError("chromium: not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS + (extra_args or [])
        )
        try:
            yield browser
        finally:
            browser.close()


class MapPage:
    """A map loaded in a browser page with every non-local request blocked and every error recorded."""

    def __init__(
        self, browser: Any, html_path: Path, viewport: tuple[int, int] = (1400, 900), timeout_s: float = 60.0
    ) -> None:
        self.timeout_ms = timeout_s * 1000
        self.context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1
        )
        self.page = self.context.new_page()
        self.report = PageReport(state={})
        self.page.route("**/*", self._route)
        self.page.on(
            "console", lambda m: self.report.console_errors.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.report.page_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.report.failed_requests.append(r.url))
        started = time.perf_counter()
        self.page.goto(Path(html_path).resolve().as_uri(), wait_until="load", timeout=self.timeout_ms)
        self.wait_ready()
        self.report.seconds_to_ready = time.perf_counter() - started

    def _route(self, r: Any) -> None:
        url = r.request.url
        if url.startswith(("file://", "data:", "blob:", "about:")):
            r.continue_()
        else:
            self.report.blocked_requests.append(url)
            r.abort()

    def wait_ready(self) -> None:
        """Wait until every shown layer has finished loading (the map's ready signal)."""
        self.page.wait_for_function("() => window.giMapReady === true", timeout=self.timeout_ms)

    def state(self) -> dict[str, Any]:
        """What the map shows now (layer sizes, polygons, clusters, markers)."""
        self.report.state = self.page.evaluate(_STATE_JS)
        return self.report.state

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the page."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        self.report.screenshot = path
        return path

    def close(self) -> None:
        """Close the page's browser context."""
        self.context.close()


def open_map(
    browser: Any,
    html_path: Path,
    screenshot: Path | None = None,
    timeout_s: float = 60.0,
    viewport: tuple[int, int] = (1400, 900),
) -> PageReport:
    """Load ``html_path`` (file://), block any request that is not a local file, wait for the map's ready
    signal, and return its state, errors and (optionally) a screenshot."""
    view = MapPage(browser, html_path, viewport, timeout_s)
    # Let the fitBounds/zoom animation settle before looking.
    view.page.wait_for_timeout(600)
    view.state()
    if screenshot is not None:
        view.screenshot(screenshot)
    view.close()
    return view.report
