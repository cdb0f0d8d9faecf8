"""The UUID look-up of a batch (``gi.origin.store.stored_samples``) after a connection has cached its plans.

    .venv/bin/python benchmarks/lookup.py [--rows 10000] [--runs 3]

Same database as ``benchmarks/origin.py`` (2,875 county areas). A batch looks its chunk's UUIDs up on one
connection, chunk after chunk, run after run. psycopg prepares a statement on its fifth execution, and
PostgreSQL may then keep a generic plan: one made while the tables were empty (the first chunks of a first
upload, or after the benchmark's TRUNCATE) scanned a partition once per UUID. This script reproduces that: on
one connection, 12 look-ups of random UUIDs while no sample is stored, then ``--rows`` samples stored (one
collection month, as benchmark (c)), then the look-up of those stored UUIDs on the same connection, timed
(median of ``--runs``), for the statement before (the UUIDs joined to ``sample`` as a set, JIT off, the
connection's other settings) and the statement now (:func:`gi.origin.store.run_lookup`: index probes under
fixed transaction-local settings, a custom plan each time). Both are also timed on a fresh connection. Each
answer is checked: every UUID found, with its verdict.

Figures are wall-clock on a shared 2-core machine: other sessions' work makes them noisy.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.origin import _sample_points, bench_url, discard_samples  # noqa: E402
from gi.origin.store import _STORED_SQL, run_lookup  # noqa: E402

# The look-up as it was before (main 929f5e0): the UUIDs joined to the partitioned table as a set.
# The same columns as now.
BEFORE_SQL = _STORED_SQL[: _STORED_SQL.index("FROM unnest")] + (
    "FROM unnest(CAST(%(ids)s AS uuid[])) AS u(id) JOIN sample s ON s.id = u.id "
)


def _before(raw: Any, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    from gi.reads.verdicts import CURRENT_ORIGIN_JOIN

    with raw.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT set_config('jit', 'off', true)")
        rows = cur.execute(BEFORE_SQL + CURRENT_ORIGIN_JOIN, {"ids": ids}).fetchall()
    raw.commit()  # not a rollback: psycopg forgets its prepared statements on one
    return rows


def _now(raw: Any, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = run_lookup(raw, _STORED_SQL, {"ids": ids})
    raw.commit()  # not a rollback: psycopg forgets its prepared statements on one
    return rows


def _timed(runs: int, fn: Callable[[], list[dict[str, Any]]], n: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - t)
        assert len(rows) == n and all(r["verdict_id"] is not None for r in rows), len(rows)
    return statistics.median(times), times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    import logging

    import psycopg
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from gi.origin.batch import record_samples

    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = bench_url(False)
    engine = create_engine(url)
    with engine.begin() as conn:
        discard_samples(conn)
    with Session(engine) as session:
        products, lon, lat = _sample_points(session, args.rows, seed=11, within_m=2000.0)
        codes = {i: code for i, code in session.execute(text("SELECT id, code FROM gi_product"))}
    rows = [
        (
            i + 1,
            {
                "product": codes[products[i]],
                "collected_at": "2024-06-01T09:00:00+08:00",
                "x": repr(float(lon[i])),
                "y": repr(float(lat[i])),
                "crs": "WGS84",
                "gps_accuracy_m": "5",
                "lot_number": f"L{i}",
            },
        )
        for i in range(args.rows)
    ]
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    cached = psycopg.connect(dsn)  # prepare_threshold 5, as the application's connections
    empty = [uuid.uuid4() for _ in range(args.rows)]
    for _ in range(12):  # the first chunks, while nothing is stored: plans cached
        assert _before(cached, empty) == [] and _now(cached, empty) == []
    with Session(engine) as session:
        result = record_samples(session, rows, source="benchmark")
        session.commit()
    ids = sorted(r.sample_id for r in result.stored if r.sample_id is not None)
    assert len(ids) == args.rows
    # No ANALYZE: within a batch, autovacuum has not caught up with the rows just stored (and new statistics would
    # invalidate the cached plans this reproduces).
    load = os.getloadavg()
    print(f"look-up of {args.rows:,} stored UUIDs (one collection month), median of {args.runs}")
    fresh = psycopg.connect(dsn)
    for label, raw in (("after 12 look-ups on empty tables", cached), ("on a fresh connection", fresh)):
        before, before_runs = _timed(args.runs, functools.partial(_before, raw, ids), args.rows)
        now, now_runs = _timed(args.runs, functools.partial(_now, raw, ids), args.rows)
        print(
            f"  {label}: before {before:.3f} s (runs {', '.join(f'{t:.3f}' for t in before_runs)}), "
            f"now {now:.3f} s (runs {', '.join(f'{t:.3f}' for t in now_runs)})"
        )
    print(f"  load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    cached.close()
    fresh.close()
    with engine.begin() as conn:
        discard_samples(conn)
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
