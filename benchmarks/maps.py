"""Benchmark: the season map of 100,000 samples — HTML size and opening time in Chromium.

Run: ``.venv/bin/python benchmarks/maps.py [--samples 100000] [--runs 3]``

The season is constructed (demo.season_map: five real products' county outlines, random samples with every
verdict, a few producers outside their areas; no database). The timed steps:
- build: ``maps.folium_maps.season_map`` + ``write_map`` (the functions behind `gi map samples`);
- open: a fresh page in Debian's headless Chromium (Playwright, network blocked) from navigation until the map
  reports every shown layer loaded (``window.giMapReady``: the 100,000 samples indexed by Supercluster and the
  clusters in view drawn);
- quality layer: switching the quality-verdict layer on (its index is built on first display).
Targets: HTML <= 15 MB, open <= 5 s (median of the runs). The machine's 2 cores are shared with other
sessions: figures are noisy; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.season_map import synthetic_summary
from maps.browser import MapPage, chromium
from maps.folium_maps import MapOptions, season_map, write_map

MAX_MB = 15.0
MAX_OPEN_S = 5.0


def main() -> int:
    """Build and open the map ``--runs`` times; print medians and whether the targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    summary = synthetic_summary(args.samples, seed=2025)
    print(
        f"constructed season: {len(summary.samples):,} samples, {len(summary.areas)} areas "
        f"({time.perf_counter() - started:.1f} s, not timed)"
    )
    with tempfile.TemporaryDirectory(prefix="gi-map-bench-") as tmp:
        builds, opens, quality, sizes = [], [], [], []
        with chromium() as browser:
            for run in range(1, args.runs + 1):
                t0 = time.perf_counter()
                path = write_map(season_map(summary, MapOptions()), Path(tmp) / f"season_{run}.html")
                builds.append(time.perf_counter() - t0)
                sizes.append(path.stat().st_size / 1e6)
                view = MapPage(browser, path, timeout_s=120)
                try:
                    opens.append(view.report.seconds_to_ready)
                    state = view.state()
                    if state["layers"].get("origin") != len(summary.samples):
                        raise SystemExit(
                            f"run {run}: the origin layer holds {state['layers'].get('origin')} markers"
                        )
                    if view.report.page_errors or view.report.console_errors or view.report.blocked_requests:
                        raise SystemExit(
                            f"run {run}: errors {view.report.page_errors + view.report.console_errors}"
                            f" blocked {view.report.blocked_requests[:3]}"
                        )
                    t1 = time.perf_counter()
                    # (nothing returned: Playwright would try to serialize the whole layer)
                    view.page.evaluate(
                        "() => { window.giMap.map.addLayer(window.giMap.samples.quality.layer); }"
                    )
                    view.wait_ready()
                    quality.append(time.perf_counter() - t1)
                finally:
                    view.close()
                print(
                    f"run {run}: build {builds[-1]:.2f} s, HTML {sizes[-1]:.2f} MB, open {opens[-1]:.2f} s, "
                    f"quality layer {quality[-1]:.2f} s, {state['clusterIcons']} clusters shown"
                )
    size, opened = statistics.median(sizes), statistics.median(opens)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"samples {len(summary.samples):,}: HTML {size:.2f} MB (target <= {MAX_MB:g} MB), "
        f"open {opened:.2f} s (target <= {MAX_OPEN_S:g} s), build {statistics.median(builds):.2f} s, "
        f"quality layer {statistics.median(quality):.2f} s — medians of {args.runs} runs; load average {load}"
    )
    ok = size <= MAX_MB and opened <= MAX_OPEN_S
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
