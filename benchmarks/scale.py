"""Benchmark at scale: N stored samples over the real register's areas and 3 years, and the queries that grow.

    .venv/bin/python benchmarks/scale.py [--samples 200000] [--window 200000] [--fresh] [--only a|b|c|d|e ...]
    .venv/bin/python benchmarks/scale.py --samples 10000000          # the national-scale run (hours, ~30 GB)

The samples are stored in a database of their own (``gi_bench_scale`` on the configured server, kept between runs
and topped up to N; ``--fresh`` rebuilds it) through the intake's own batch path (``record_samples``: validation,
the origin check against the area version valid at collection, COPY of samples and verdicts), spread evenly over
the bundled real register's products, with points in each current area's bounding box (so some are outside) and
collection moments uniform over the 3 years before 2026-12-01. Each figure is printed with its target and a
baseline measured in the same run:

(a) re-judgement throughput of the samples collected in the newest months (about ``--window`` samples): the serial
    path (``rejudge_samples`` in one process, every sample judged) against the Dask job (``gi.origin.distributed``)
    on a LocalCluster of 1 and of 2 worker processes, judging every sample and judging only the stale ones (after an
    area change: none are stale here, so the figure is the cost of finding them); target >= 100,000 samples/s with
    2 workers;
(b) a season map's vector tile (ST_AsMVT of the season's samples with their current verdicts), p95 over tiles
    around the busiest areas at zoom 10; target p95 <= 50 ms; baseline the same tile without the verdicts;
(c) a campaign report's aggregation (current verdicts of a season by product and outcome); target <= 2 s; baseline
    counting the season's samples;
(d) an OGC API items page of the samples collection (``gi.features.query.items``, 100 features) at a deep offset
    and by bbox; target <= 50 ms; baseline the first page;
(e) the supervisor dashboard page's domain read (``sampling.dashboard.supervisor_dashboard``: task coverage, the
    season's current verdicts by product and outcome, the newest findings) for a national supervisor (every
    region) over the season; target <= 2 s (ours: a page a supervisor opens many times a day); baseline counting
    the season's samples.

``--only`` with no letters only generates (a 10 M run takes hours: start it in the background, it is resumable:
each 100,000-sample chunk is committed and a new run tops up from the stored count). Figures are wall-clock on the
shared 2-core development machine: other sessions' work makes them noisy.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "gi_bench_scale"
SH = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 12, 1, tzinfo=SH)
START = datetime(2023, 12, 1, tzinfo=SH)
CHUNK = 100_000
SEASON = (datetime(2026, 6, 1, tzinfo=SH), datetime(2026, 9, 1, tzinfo=SH))


def median_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def row(name: str, target: str, measured: str, baseline: str) -> None:
    """One line of the results table."""
    print(f"| {name} | {target} | {measured} | {baseline} |", flush=True)


def bench_url(fresh: bool, name: str = BENCH_DB) -> str:
    """URL of the benchmark database: created, migrated and loaded with the bundled register when needed."""
    from sqlalchemy.engine import make_url

    from gi import db as gi_db
    from gi.db.local import create_database, drop_database
    from gi.register.loader import load_register_into_db

    server = make_url(gi_db.database_url()).set(database="postgres").render_as_string(hide_password=False)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    if fresh:
        drop_database(server, name)
    create_database(server, name)
    gi_db.upgrade(url)
    # The 3 years of samples get their month partitions (not the DEFAULT one), as `gi db partitions --since` does.
    from gi.db.partitions import maintain_partitions

    maintain_partitions(gi_db.get_engine(url), since=date(END.year - 3, END.month, 1))
    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        load_register_into_db(session)
    return url


def _areas(url: str) -> list[tuple[str, float, float, float, float]]:
    """(product code, bounding box of its current area) of every product with an area."""
    from sqlalchemy import text

    from gi import db as gi_db

    with gi_db.get_engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT p.code, ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom) "
                    "FROM production_area a JOIN gi_product p ON p.id = a.product_id "
                    "WHERE a.valid_to IS NULL ORDER BY p.code"
                )
            )
        ]


def generate(url: str, total: int) -> None:
    """Top the database up to ``total`` samples through the intake's batch path, committed chunk by chunk."""
    from sqlalchemy import text

    from gi import db as gi_db
    from gi.origin.batch import record_samples

    engine = gi_db.get_engine(url)
    with engine.connect() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM sample")).scalar_one())
    if have >= total:
        print(f"{have:,} samples already stored")
        return
    areas = _areas(url)
    span = (END - START).total_seconds()
    started = time.perf_counter()
    for lo in range(have, total, CHUNK):
        n = min(CHUNK, total - lo)
        rng = np.random.default_rng(lo)  # the k-th chunk is the same in every run
        which = rng.integers(0, len(areas), n)
        u, v = rng.random(n), rng.random(n)
        moments = rng.random(n) * span
        rows = []
        for i in range(n):
            code, x0, y0, x1, y1 = areas[which[i]]
            dx, dy = (x1 - x0) * 0.05, (y1 - y0) * 0.05  # 5 % beyond the box: some samples fall outside
            when = START + timedelta(seconds=float(moments[i]))
            rows.append(
                (
                    lo + i + 1,
                    {
                        "product": code,
                        "collected_at": when.strftime("%Y-%m-%d %H:%M"),
                        "x": f"{x0 - dx + (x1 - x0 + 2 * dx) * u[i]:.6f}",
                        "y": f"{y0 - dy + (y1 - y0 + 2 * dy) * v[i]:.6f}",
                        "gps_accuracy_m": "5",
                        "lot_number": f"S{lo + i + 1:09d}",
                    },
                )
            )
        with gi_db.session_scope(engine) as session:
            result = record_samples(session, rows, source="benchmarks/scale.py")
        bad = sum(1 for r in result.rows if r.verdict is None)
        done = lo + n
        rate = (done - have) / (time.perf_counter() - started)
        eta = (total - done) / rate if rate else 0
        print(
            f"  stored {done:,} / {total:,} samples ({rate:,.0f}/s, {bad} refused, ~{eta / 60:.0f} min left)",
            flush=True,  # a long run logs to a file: each chunk's line shows as it commits
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE sample"))
        conn.execute(text("VACUUM ANALYZE origin_verdict"))
    print(f"generated {total - have:,} samples in {time.perf_counter() - started:.0f} s")


def _window(url: str, target: int) -> tuple[datetime, int]:
    """The start of the newest months that hold about ``target`` samples, and how many they hold."""
    from sqlalchemy import text

    from gi import db as gi_db

    with gi_db.get_engine(url).connect() as conn:
        months = conn.execute(
            text(
                "SELECT date_trunc('month', collected_at AT TIME ZONE 'Asia/Shanghai') AS m, count(*) "
                "FROM sample GROUP BY 1 ORDER BY 1 DESC"
            )
        ).all()
    held = 0
    start = END
    for month, n in months:
        start = month.replace(tzinfo=SH)
        held += int(n)
        if held >= target:
            break
    return start, held


def bench_rejudge(url: str, window: int) -> None:
    """(a) serial against Dask with 1 and 2 workers, on the newest months' samples: all judged, then only the stale."""
    from sqlalchemy.orm import Session

    from gi import db as gi_db
    from gi.origin.distributed import dask_client, rejudge_distributed
    from gi.origin.rejudge import rejudge_samples
    from gi.settings import get_settings

    since, held = _window(url, window)
    settings = get_settings()
    engine = gi_db.get_engine(url)

    def serial() -> int:
        with Session(engine) as session:
            report = rejudge_samples(session, since=since, settings=settings)
            session.rollback()
        return report.examined

    serial()  # warm: the area index and the pages
    t_serial, examined = median_of(3, serial)
    base = f"serial path, 1 process: {examined / t_serial:,.0f}/s ({t_serial:.2f} s)"
    for workers in (1, 2):
        with dask_client(workers=workers) as client:
            rejudge_distributed(client, url, settings, since=since)  # warm the workers (imports, area index)
            t, report = median_of(3, partial(rejudge_distributed, client, url, settings, since=since))
            t_stale, stale = median_of(
                3, partial(rejudge_distributed, client, url, settings, since=since, only_stale=True)
            )
        target = ">= 100,000/s" if workers == 2 else "-"
        row(
            f"re-judgement, Dask, {workers} worker(s), every sample judged, {report.examined:,} samples "
            f"({report.partitions} partitions)",
            target,
            f"{report.examined / t:,.0f} samples/s ({t:.2f} s)",
            base,
        )
        row(
            f"re-judgement, Dask, {workers} worker(s), only stale samples judged ({stale.examined:,} of "
            f"{held:,} stale after no area change)",
            target,
            f"{held / t_stale:,.0f} samples/s ({t_stale:.2f} s)",
            base,
        )
    assert held >= examined


def _tiles(url: str, count: int = 40) -> list[tuple[int, int, int]]:
    """Zoom-10 tiles over the season's densest places (the centres of the most sampled areas)."""
    import math

    from sqlalchemy import text

    from gi import db as gi_db

    with gi_db.get_engine(url).connect() as conn:
        centres = conn.execute(
            text(
                "SELECT ST_X(ST_Centroid(a.geom)), ST_Y(ST_Centroid(a.geom)) FROM production_area a "
                "WHERE a.valid_to IS NULL ORDER BY ST_Area(a.geom) LIMIT :n"
            ),
            {"n": count},
        ).all()
    tiles = []
    z = 10
    for lon, lat in centres:
        x = int((lon + 180) / 360 * 2**z)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
        tiles.append((z, x, y))
    return tiles


_TILE = """
WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
pts AS (
  SELECT ST_AsMVTGeom(ST_Transform(s.location, 3857), env.e) AS geom, {columns}
  FROM env, sample s {join}
  WHERE s.location && ST_Transform(env.e, 4326) AND s.collected_at >= :since AND s.collected_at < :until
)
SELECT ST_AsMVT(pts.*, 'samples') FROM pts
"""
_CURRENT = (
    "JOIN LATERAL (SELECT o.verdict FROM origin_verdict o WHERE o.sample_id = s.id AND o.collected_at = s.collected_at "
    "ORDER BY o.id DESC LIMIT 1) v "
    "ON true"
)


def bench_tiles(url: str) -> None:
    """(b) p95 of a season map's tiles with the current verdicts, beside the same tiles without them."""
    from sqlalchemy import text

    from gi import db as gi_db

    tiles = _tiles(url)
    with_verdicts = text(_TILE.format(columns="v.verdict::text AS verdict", join=_CURRENT))
    bare = text(_TILE.format(columns="s.product_id", join=""))
    times: dict[str, list[float]] = {"verdicts": [], "bare": []}
    sizes = []
    with gi_db.get_engine(url).connect() as conn:
        for _ in range(2):  # the first pass warms the cache
            for key, sql in (("verdicts", with_verdicts), ("bare", bare)):
                times[key].clear()
                for z, x, y in tiles:
                    t = time.perf_counter()
                    tile = conn.execute(
                        sql, {"z": z, "x": x, "y": y, "since": SEASON[0], "until": SEASON[1]}
                    ).scalar_one()
                    times[key].append(time.perf_counter() - t)
                    if key == "verdicts":
                        sizes.append(len(tile or b""))

    def p95(values: list[float]) -> float:
        return float(np.percentile(values, 95)) * 1000

    row(
        f"season map tile (z10, {len(tiles)} tiles, median {statistics.median(sizes) / 1024:.0f} KiB)",
        "p95 <= 50 ms",
        f"p95 {p95(times['verdicts']):.1f} ms (median {statistics.median(times['verdicts']) * 1000:.1f} ms)",
        f"without verdicts p95 {p95(times['bare']):.1f} ms",
    )


def bench_aggregation(url: str) -> None:
    """(c) a season's current verdicts by product and outcome, beside counting the season's samples."""
    from sqlalchemy import text

    from gi import db as gi_db

    report = text(
        "SELECT s.product_id, v.verdict::text, count(*) FROM sample s "
        f"{_CURRENT} WHERE s.collected_at >= :since AND s.collected_at < :until GROUP BY 1, 2"
    )
    count = text("SELECT count(*) FROM sample s WHERE s.collected_at >= :since AND s.collected_at < :until")
    params = {"since": SEASON[0], "until": SEASON[1]}
    with gi_db.get_engine(url).connect() as conn:
        conn.execute(report, params).all()
        t_report, rows = median_of(3, lambda: conn.execute(report, params).all())
        t_count, n = median_of(3, lambda: conn.execute(count, params).scalar_one())
    row(
        f"campaign aggregation, one season ({n:,} samples, {len(rows)} product x outcome rows)",
        "<= 2 s",
        f"{t_report:.2f} s",
        f"count of the season's samples {t_count:.2f} s",
    )


def bench_items(url: str) -> None:
    """(d) OGC API items pages of the samples collection: deep offset and bbox, beside the first page."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from gi import db as gi_db
    from gi.accounts.scope import Scope
    from gi.features.catalog import SAMPLES
    from gi.features.query import FeatureQuery, items

    engine = gi_db.get_engine(url)
    everything = Scope(everything=True)
    with engine.connect() as conn:
        total = int(conn.execute(text("SELECT count(*) FROM sample")).scalar_one())
        busiest = conn.execute(
            text("SELECT ST_X(location), ST_Y(location) FROM sample ORDER BY collected_at DESC LIMIT 1")
        ).one()
    x, y = float(busiest[0]), float(busiest[1])

    def page(**kw: Any) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine) as session:
                return items(session, SAMPLES, everything, FeatureQuery(limit=100, **kw))

        return run

    page()()
    first, _ = median_of(3, page())
    deep_offset = max(0, min(total - 100, 1_000_000))
    deep, _ = median_of(3, page(offset=deep_offset))
    boxed, result = median_of(3, page(bbox=(x - 0.05, y - 0.05, x + 0.05, y + 0.05)))
    row(
        f"OGC items, 100 samples at offset {deep_offset:,}",
        "<= 50 ms",
        f"{deep * 1000:.0f} ms",
        f"first page {first * 1000:.0f} ms",
    )
    matched = "over 10,000" if result.number_matched is None else f"{result.number_matched:,}"
    row(
        f"OGC items, 100 samples by a 0.1° bbox ({matched} matched)",
        "<= 50 ms",
        f"{boxed * 1000:.0f} ms",
        f"first page {first * 1000:.0f} ms",
    )


def bench_dashboard(url: str) -> None:
    """(e) the supervisor dashboard's read of a season for every region, beside counting the season's samples."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from gi import db as gi_db
    from gi.accounts.scope import Scope
    from sampling.dashboard import supervisor_dashboard

    engine = gi_db.get_engine(url)
    first, last = SEASON[0].date(), (SEASON[1] - timedelta(days=1)).date()

    def page() -> Any:
        with Session(engine) as session:
            board = supervisor_dashboard(session, Scope(everything=True), start=first, end=last)
            session.rollback()
        return board

    def count() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM sample WHERE collected_at >= :since AND collected_at < :until"
                    ),
                    {"since": SEASON[0], "until": SEASON[1]},
                ).scalar_one()
            )

    page()
    t_page, board = median_of(3, page)
    t_count, n = median_of(3, count)
    row(
        f"supervisor dashboard, every region, one season ({n:,} samples, {len(board.verdicts)} verdict lines, "
        f"{board.findings_total:,} findings)",
        "<= 2 s",
        f"{t_page:.2f} s",
        f"count of the season's samples {t_count:.2f} s",
    )


def main() -> None:
    """Generate (or top up) the samples, then print each figure beside its target and baseline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200_000, help="stored samples (default 200,000)")
    parser.add_argument("--window", type=int, default=200_000, help="samples re-judged in (a)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
    parser.add_argument("--database", default=BENCH_DB, help=f"database name (default {BENCH_DB})")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=list("abcde"),
        default=list("abcde"),
        help="figures to run (none: only generate)",
    )
    args = parser.parse_args()
    if args.samples < 1_000:
        parser.error("--samples: at least 1,000")

    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    from sqlalchemy import text

    from gi import db as gi_db

    url = bench_url(args.fresh, args.database)
    generate(url, args.samples)
    with gi_db.get_engine(url).connect() as conn:
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
        n = conn.execute(text("SELECT count(*) FROM sample")).scalar_one()
        verdicts = conn.execute(text("SELECT count(*) FROM origin_verdict")).scalar_one()
    print(f"\n{n:,} samples, {verdicts:,} verdicts; database size {size}\n")
    print("| Figure | Target | Measured | Baseline in the same run |\n|---|---|---|---|")
    if "a" in args.only:
        bench_rejudge(url, args.window)
    if "b" in args.only:
        bench_tiles(url)
    if "c" in args.only:
        bench_aggregation(url)
    if "d" in args.only:
        bench_items(url)
    if "e" in args.only:
        bench_dashboard(url)


if __name__ == "__main__":
    main()
