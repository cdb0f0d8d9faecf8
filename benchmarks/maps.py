"""Benchmark: the national map of 1,000,000 stored samples (vector tiles from PostGIS, MapLibre GL in Chromium)
beside the baseline of the same run: the Folium season map of 100,000 samples (HTML size, opening time).

Run: ``.venv/bin/python benchmarks/maps.py [--samples 100000] [--runs 3] [--stored 1000000] [--no-tiles]
[--keep NAME] [--no-folium]``

``--keep NAME`` keeps the seeded database under that name on the server and reuses it next time (seeding a
million samples takes minutes; a kept database that already holds ``--stored`` samples is only upgraded and its
grid rebuilt). Without it a scratch database is created and dropped.

Vector tiles (``--stored``): a scratch database on the project's PostGIS (or GI_DATABASE_URL's server) gets the
register, a synthetic directory and ``--stored`` samples with origin verdicts (bulk SQL, audit triggers off for
the seeding only; not timed), the sample grid is built (timed), and the service runs in uvicorn. Timed:
- tiles: every sample tile with data at zooms 3-11 in a sample of addresses, plus point tiles at zoom 12-14,
  fetched over HTTP from the service (p50 and p95), each built once per pass (the service is restarted between
  the passes, so its tile cache is empty). Two passes over the same addresses: the first reads the database's
  pages as it finds them (on this VM the host reclaims idle page cache, so a point tile may wait for the disk:
  p95 52-119 ms in such runs against 13-19 ms otherwise), the second finds them in memory, as the database of a
  running service does; the target (p95 <= 50 ms) is judged on the second and both are printed. Beside them the
  tile's time inside the service (its ``Server-Timing``) and, between tiles, ``GET /health`` as the floor of any
  signed-in request under the machine's load;
- first render: a fresh Chromium context (empty cache: a first visit), signed in, from navigation to the map's
  ready signal (MapLibre idle with every tile of the national view drawn; target <= 1 s), no request leaving the
  service (blocked by Chromium's own network settings, ``maps.browser.LOOPBACK_ONLY_ARGS``, and counted: a
  Playwright route would turn the HTTP cache off, which the page's tile prefetch relies on). The request timeline
  of the median run follows: each request of the page and of MapLibre's worker (sent, read), tiles grouped by
  layer (the page's prefetch first, then the worker's requests for the same URLs, answered by the browser's
  cache), and the page's marks (script run, DOMContentLoaded, style loaded, first view drawn).

Figures (2026-12-04, 2 shared cores). Before (main 10d1ade, 14:58, load 6.5-10): first render 1.86 s, tile p95
70.8 ms; 17:22 at load 3.4 (5 runs): first render 1.52 s, tile p95 16.2 ms (in the service 9.5 ms); timeline: page
14-207 ms, maplibre-gl.js (1,058 kB) read at 320, script run 427, DOMContentLoaded 838, the worker's tiles sent at
1058 and read at 1286, drawn at 1356. After (prefetch, gzip, immutable vendored files): 17:43 at load 4.8 (7 runs) first render 1.60 s, tile p95 51.8 ms
(in the service 40.4 ms); 17:48 at load 15.8, 4.74 s and 121 ms;
the tiles are asked for as soon as the map element is parsed (about 150-400 ms from navigation instead of
600-1700 ms), each reaches the service once (the worker's requests are cache hits), MapLibre travels as 276 kB
and a returning browser does not ask for it at all. Alternated page by page against main in one Chromium (same
database, two services): 1.65 vs 1.66 s (6 runs each, load 7.8) and 1.82 vs 1.97 s (load 5.5-14.6): under this
load the first render is bound by the browser's CPU, not by the tiles: each MapLibre frame costs 100-200 ms in
headless Chromium without a GPU (SwiftShader renders the WebGL canvas, then the software compositor reads it
back: ``readPixels`` 560 ms of GPU-process time in one traced render), and the frames before the tiles arrive
are drawn anyway (MapLibre ``render`` events at load 15: 3-4 frames a first render, the first two before any tile
is in the worker, about 250 ms each).

Quiet machine, train7 (the prefetch, gzip, immutable files and two tile passes), 2026-12-04 18:27, load average
0.6-2.0, 7 runs: first render median 0.79 s (runs 0.63-0.90 s); tiles p95 14.1 ms on the first pass and 7.9 ms
with the pages in memory (in the service 5.3 ms; /health floor 4.3 ms); the Folium baseline in the same run 7.08 MB,
opens in 1.46 s. Earlier quiet runs the same hour: first render 0.96 s and 1.00 s (load 1.5-3.3), tile p95 of the
first pass 50.4 and 52.2 ms (point tiles waiting for the disk), 13.6 ms with pages in memory. The first render
stays under 1 s only on an idle machine: at load 3-5 it was 1.5-1.6 s and at load 15, 4.7 s (above).

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
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.season_map import synthetic_summary
from maps.browser import LOOPBACK_ONLY_ARGS, MapPage, chromium
from maps.folium_maps import MapOptions, season_map, write_map

ROOT = Path(__file__).resolve().parent.parent

MAX_MB = 15.0
MAX_OPEN_S = 5.0
MAX_TILE_P95_MS = 50.0
MAX_FIRST_RENDER_S = 1.0


def main() -> int:
    """Build and open the map ``--runs`` times; print medians and whether the targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stored", type=int, default=1_000_000, help="samples stored for the vector tiles")
    parser.add_argument("--no-tiles", action="store_true", help="only the Folium baseline")
    parser.add_argument("--no-folium", action="store_true", help="skip the Folium baseline (not for quoting)")
    parser.add_argument("--keep", metavar="NAME", help="keep (and reuse) the seeded database under this name")
    args = parser.parse_args()
    folium_ok = True if args.no_folium else folium_baseline(args)
    if args.no_tiles:
        return 0 if folium_ok else 1
    tiles_ok = vector_tiles(args.stored, args.runs, args.keep)
    return 0 if folium_ok and tiles_ok else 1


def folium_baseline(args: argparse.Namespace) -> bool:
    """The Folium season map of ``args.samples`` samples: build, HTML size, open in Chromium (the baseline)."""

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
    print("folium baseline: targets met" if ok else "folium baseline: TARGETS MISSED")
    return ok


PASSWORD = "benchmark passphrase 1"
SEED_BATCH = 200_000


def _seed(url: str, stored: int, year: int) -> None:
    """``stored`` samples around the synthetic producers (jittered by up to 0.2 degrees) across ``year``, one
    origin verdict each (85 % inside, 8 % uncertain, 7 % outside), in batches with progress."""
    from sqlalchemy import text

    from gi import db as gi_db

    engine = gi_db.get_engine(url)
    done = 0
    started = time.perf_counter()
    while done < stored:
        n = min(SEED_BATCH, stored - done)
        with engine.begin() as c:
            c.execute(text("SET LOCAL session_replication_role = replica"))  # no audit triggers while seeding
            c.execute(
                text(
                    """
                    WITH prod AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, product_id,
                                         ST_X(location) AS x, ST_Y(location) AS y
                                  FROM producer WHERE location IS NOT NULL),
                         ins AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM inspector),
                         counts AS (SELECT (SELECT count(*) FROM prod) AS np, (SELECT count(*) FROM ins) AS ni),
                         g AS (SELECT g, random() AS a, random() AS b, random() AS t
                               FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) g),
                         rows AS (
                           SELECT gen_random_uuid() AS id, prod.product_id, prod.x + (g.a - 0.5) * 0.4 AS x,
                                  prod.y + (g.b - 0.5) * 0.4 AS y, ins.id AS collector,
                                  make_timestamptz(CAST(:year AS int), 1, 1, 8, 0, 0, 'Asia/Shanghai')
                                      + g.t * interval '364 days' AS at
                           FROM g CROSS JOIN counts
                           JOIN prod ON prod.k = g.g % counts.np
                           JOIN ins ON ins.k = g.g % counts.ni),
                         s AS (
                           INSERT INTO sample (id, product_id, collected_at, submitted_x, submitted_y, declared_crs,
                                               gps_accuracy_m, location_source, location, collector_id, source)
                           SELECT id, product_id, at, x, y, 'EPSG:4326', 5.0, 'device_gps',
                                  ST_SetSRID(ST_MakePoint(x, y), 4326), collector, 'benchmark'
                           FROM rows RETURNING id, product_id, collected_at)
                    INSERT INTO origin_verdict (sample_id, collected_at, product_id, verdict, distance_m, band_m,
                                                flags, other_areas, rule, inputs)
                    SELECT id, collected_at, product_id, v::origin_outcome,
                           CASE v WHEN 'inside' THEN 500.0 WHEN 'uncertain' THEN 10.0 ELSE -2000.0 END,
                           30.0, '{}', '[]', 'benchmark', '{}'
                    FROM (SELECT id, collected_at, product_id,
                                 CASE WHEN r < 0.85 THEN 'inside' WHEN r < 0.93 THEN 'uncertain'
                                      ELSE 'outside' END AS v
                          FROM (SELECT id, collected_at, product_id, random() AS r FROM s) x) y
                    """
                ),
                {"first": done, "last": done + n - 1, "year": year},
            )
        done += n
        print(f"  seeded {done:,}/{stored:,} samples ({time.perf_counter() - started:.0f} s)", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE sample"))
        c.execute(text("VACUUM ANALYZE origin_verdict"))


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    """The service on ``url`` in uvicorn (one worker), once /health answers."""
    import httpx

    env = {**os.environ, "GI_DATABASE_URL": url}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
    process = subprocess.Popen(
        command + ["--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("the service did not start")


def _tile_addresses(url: str, per_zoom: int) -> list[tuple[int, int, int]]:
    """Sample tiles that hold data: from the grid at zooms 3-11, and around stored samples at 12-14."""
    import random

    from sqlalchemy import text

    from gi import db as gi_db
    from maps.tiles import CELL_SHIFT

    rng = random.Random(7)
    found: list[tuple[int, int, int]] = []
    with gi_db.get_engine(url).connect() as c:
        for z in range(3, 12):
            tiles = c.execute(
                text(
                    f"SELECT DISTINCT cx >> {CELL_SHIFT}, cy >> {CELL_SHIFT} FROM sample_grid WHERE level = :z"
                ),
                {"z": z},
            ).all()
            found += [(z, int(x), int(y)) for x, y in rng.sample(tiles, min(per_zoom, len(tiles)))]
        points = c.execute(
            text("SELECT ST_X(location), ST_Y(location) FROM sample TABLESAMPLE SYSTEM (1) LIMIT :n"),
            {"n": per_zoom * 3},
        ).all()
    for k, (lon, lat) in enumerate(points):
        z = 12 + k % 3
        n = 1 << z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        found.append((z, x, y))
    return found


_MARKS_JS = """() => ({
    dom: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
    marks: performance.getEntriesByType("mark").map((m) => ({name: m.name, at: m.startTime})),
})"""


class RequestLog:
    """Every request of a page and its workers (MapLibre fetches tiles in a web worker, out of the page's own
    resource timing): when it was sent and when its response had been read, in ms from ``start``."""

    def __init__(self, context: Any) -> None:
        self.start = 0.0
        self.sent: dict[Any, float] = {}
        self.done: list[tuple[str, float, float, int]] = []  # url, sent, finished, bytes
        context.on("request", lambda r: self.sent.__setitem__(r, self._now()))
        context.on("requestfinished", self._finished)

    def _now(self) -> float:
        return (time.perf_counter() - self.start) * 1000

    def _finished(self, request: Any) -> None:
        sizes = request.sizes()
        self.done.append((request.url, self.sent.get(request, 0.0), self._now(), sizes["responseBodySize"]))

    def reset(self) -> None:
        """Start a new timeline now (navigation start)."""
        self.start = time.perf_counter()
        self.sent.clear()
        self.done.clear()


def _timeline(page: Any, log: RequestLog, service: str) -> list[str]:
    """Where the first render's time went: the page, each asset, the tiles of each layer (first sent to last
    read), the script's start, the style loaded and the first view drawn (the page's marks, on the same clock)."""
    # the page's clock starts at its navigation; the log's at the benchmark's goto (a few ms earlier)
    offset = log._now() - page.evaluate("() => performance.now()")
    groups: dict[str, list[tuple[float, float, int]]] = {}
    seen: set[str] = set()
    for url, sent, finished, size in sorted(log.done, key=lambda d: d[1]):
        path = url.removeprefix(service).partition("?")[0]
        label = path
        if path.startswith("/dashboard/tiles/"):
            # the page's prefetch asks first; MapLibre's worker asks for the same URLs (the HTTP cache answers)
            label = f"tiles {path.split('/')[3]}" + (" again (worker)" if url in seen else "")
            seen.add(url)
        groups.setdefault(label, []).append((sent, finished, size))
    rows = []
    for label, items in groups.items():
        start, end = min(i[0] for i in items), max(i[1] for i in items)
        count = f" x{len(items)}" if len(items) > 1 else ""
        kb = sum(i[2] for i in items) / 1000
        rows.append((start, f"{start:6.0f} - {end:5.0f}  {label}{count} ({kb:.1f} kB)"))
    marks = page.evaluate(_MARKS_JS)
    rows.append((marks["dom"] + offset, f"{marks['dom'] + offset:6.0f}          DOMContentLoaded"))
    rows += [(m["at"] + offset, f"{m['at'] + offset:6.0f}          mark {m['name']}") for m in marks["marks"]]
    return [line for _, line in sorted(rows)]


def _stored_samples(url: str) -> int:
    """Samples already in a kept database (0 when it has no schema yet)."""
    from sqlalchemy import text

    from gi import db as gi_db

    with gi_db.get_engine(url).connect() as c:
        if c.execute(text("SELECT to_regclass('sample')")).scalar() is None:
            return 0
        return int(c.execute(text("SELECT count(*) FROM sample")).scalar_one())


@dataclass
class TileTimes:
    """One pass over the tile addresses: times over HTTP by zoom group, sizes, time inside the service, and the
    floor (``GET /health`` right after each tile)."""

    timings: dict[str, list[float]] = field(
        default_factory=lambda: {"clusters (z3-11)": [], "points (z12-14)": []}
    )
    sizes: list[int] = field(default_factory=list)
    in_service: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)


def _time_tiles(
    service: str, auth: dict[str, str], addresses: list[tuple[int, int, int]], year: int
) -> TileTimes:
    """Fetch each sample tile once from a freshly started service (nothing in its tile cache)."""
    import httpx

    out = TileTimes()
    with httpx.Client(base_url=service, headers=auth) as c:
        # Warm the worker as a running service is: imports, the national view's reference tiles.
        for x, y in ((5, 2), (5, 3), (6, 2), (6, 3)):
            c.get(f"/dashboard/tiles/reference/3/{x}/{y}.mvt").raise_for_status()
        c.get("/dashboard/tiles/samples/0/0/0.mvt", params={"year": year}).raise_for_status()
        for z, x, y in addresses:
            t0 = time.perf_counter()
            r = c.get(f"/dashboard/tiles/samples/{z}/{x}/{y}.mvt", params={"year": year})
            elapsed = (time.perf_counter() - t0) * 1000
            r.raise_for_status()
            out.timings["clusters (z3-11)" if z < 12 else "points (z12-14)"].append(elapsed)
            out.sizes.append(len(r.content))
            out.in_service.append(float(r.headers["server-timing"].partition("dur=")[2]))
            # The same client's cheapest signed-in request, right after: the floor under this load.
            t0 = time.perf_counter()
            c.get("/health").raise_for_status()
            out.floor.append((time.perf_counter() - t0) * 1000)
    return out


def vector_tiles(stored: int, runs: int, keep: str | None = None) -> bool:
    """Seed ``stored`` samples, build the grid, time tiles over HTTP and the map's first render in Chromium."""
    import uuid
    from datetime import date

    import httpx
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from gi import db as gi_db
    from gi.db.local import create_database, drop_database
    from gi.db.partitions import maintain_partitions
    from gi.settings import get_settings
    from maps.tiles import grid_status, refresh_sample_grid

    base = gi_db.database_url(get_settings())
    server = make_url(base).set(database="postgres").render_as_string(hide_password=False)
    name = keep or f"gi_bench_tiles_{uuid.uuid4().hex[:8]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    year = 2025
    create_database(server, name)
    process = None
    try:
        gi_db.upgrade(url)
        have = _stored_samples(url)
        if keep and have >= stored:
            print(f"kept database {name}: {have:,} samples stored (not seeded again)")
        else:
            if have:
                raise SystemExit(
                    f"database {name} holds {have:,} samples, fewer than --stored: drop it first"
                )
            from demo.directories import create_synthetic_directory
            from gi.accounts.users import add_user
            from gi.register.loader import load_register_into_db

            with gi_db.session_scope(gi_db.get_engine(url)) as session:
                load_register_into_db(session)
                create_synthetic_directory(session, producers_per_product=40, inspectors_per_province=4)
                add_user(session, "bench", "admin", PASSWORD)
            # The seeded year gets its month partitions first, as the demo's do: rows in DEFAULT would make
            # `gi db partitions` refuse those months later, and tiles would read a partition production lacks.
            maintain_partitions(gi_db.get_engine(url), since=date(year, 1, 1))
            print(f"seeding {stored:,} samples with verdicts (not timed)")
            _seed(url, stored, year)
        with Session(gi_db.get_engine(url)) as session:
            # A kept database's grid is rebuilt only when stale (its last build time is printed either way).
            status = refresh_sample_grid(session, force=not keep) or grid_status(session)
        print(f"sample grid: {status.samples:,} samples, built in {status.seconds:.1f} s")

        port = 8890
        process = _serve(url, port)
        service = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{service}/auth/token", data={"username": "bench", "password": PASSWORD}).json()
        addresses = _tile_addresses(url, 40)
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        # Two passes over the same tiles, each tile built once per pass (the service's tile cache is emptied by
        # restarting it in between). The first reads the database pages as it finds them: on this VM the host
        # reclaims idle page cache (kdamond), so that pass measures disk reads as much as tiles. The second
        # finds the pages in memory, as a running service's database does (shared buffers, page cache): the
        # tile target is judged on it, and both are printed.
        cold = _time_tiles(service, auth, addresses, year)
        process.terminate()
        process.wait(timeout=30)
        process = _serve(url, port)
        warm = _time_tiles(service, auth, addresses, year)
        p95 = 0.0
        for label, timed in (
            ("first pass, pages read from disk", cold),
            ("second pass, pages in memory", warm),
        ):
            every = [t for values in timed.timings.values() for t in values]
            p95 = statistics.quantiles(every, n=20)[-1]
            print(f"tiles, {label}:")
            for group, values in timed.timings.items():
                if len(values) < 2:  # a small --stored may leave a zoom group without (enough) tiles
                    print(f"  {group}: {len(values)} tiles (too few for a median and p95)")
                    continue
                print(
                    f"  {group}: {len(values)} tiles, median {statistics.median(values):.1f} ms, "
                    f"p95 {statistics.quantiles(values, n=20)[-1]:.1f} ms"
                )
            print(
                f"  all: p95 {p95:.1f} ms (target <= {MAX_TILE_P95_MS:g} ms), median size "
                f"{statistics.median(timed.sizes) / 1000:.1f} kB"
            )
            print(
                f"  in the service (Server-Timing): median {statistics.median(timed.in_service):.1f} ms, p95 "
                f"{statistics.quantiles(timed.in_service, n=20)[-1]:.1f} ms; GET /health between tiles (the "
                f"floor): median {statistics.median(timed.floor):.1f} ms, p95 "
                f"{statistics.quantiles(timed.floor, n=20)[-1]:.1f} ms"
            )

        renders: list[float] = []
        timelines: list[list[str]] = []
        # Requests leaving the service are blocked by the browser's own network settings, not by a Playwright
        # route: routing turns the HTTP cache off, which a real browser (and the page's tile prefetch) relies on.
        with chromium(LOOPBACK_ONLY_ARGS) as browser:
            for run in range(1, runs + 1):
                context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
                blocked: list[str] = []

                def local_only(r: Any, blocked: list[str] = blocked) -> None:
                    if not r.url.startswith((service, "blob:", "data:")):
                        blocked.append(r.url)

                context.on("request", local_only)
                log = RequestLog(context)
                page = context.new_page()
                page.goto(f"{service}/login?next=/public")  # signed in, not timed
                page.fill("#username", "bench")
                page.fill("#password", PASSWORD)
                page.click("form.login button[type=submit]", timeout=120_000)
                page.wait_for_url(f"{service}/public", timeout=120_000)
                log.reset()
                t0 = time.perf_counter()
                page.goto(f"{service}/dashboard/map?year={year}")
                page.wait_for_function("() => window.giMapReady === true", timeout=120_000)
                renders.append(time.perf_counter() - t0)
                timelines.append(_timeline(page, log, service))
                state = page.evaluate("() => window.giMapState()")
                if blocked:
                    raise SystemExit(f"run {run}: requests left the service: {blocked[:3]}")
                print(
                    f"run {run}: first render {renders[-1]:.2f} s, {state['clusters']} clusters holding "
                    f"{state['clusteredSamples']:,} samples in view"
                )
                context.close()
        render = statistics.median(renders)
        median_run = sorted(range(len(renders)), key=renders.__getitem__)[len(renders) // 2]
        print(f"request timeline of run {median_run + 1} (ms from navigation start; tiles grouped by layer):")
        for line in timelines[median_run]:
            print("  " + line)
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(
            f"stored {stored:,}: first render {render:.2f} s (target <= {MAX_FIRST_RENDER_S:g} s), tile p95 (pages in memory) "
            f"{p95:.1f} ms (target <= {MAX_TILE_P95_MS:g} ms) — medians of {runs} runs; load average {load}"
        )
        ok = render <= MAX_FIRST_RENDER_S and p95 <= MAX_TILE_P95_MS
        print("vector tiles: targets met" if ok else "vector tiles: TARGETS MISSED")
        return ok
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        gi_db.dispose_engines()
        if not keep:
            drop_database(server, name)


if __name__ == "__main__":
    raise SystemExit(main())
