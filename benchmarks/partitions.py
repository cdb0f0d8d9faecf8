"""What partitioned history (migration 0015) costs one upload: the intake's single-sample statement, committed
(with its audit entry), on a database at 0014 (baseline: the statement as it was) and one at 0015 (the identity
row, the trigger's no-op, the composite foreign keys), alternating, in one run.

    .venv/bin/python benchmarks/partitions.py [--uploads 400] [--stored 20000]

Each database first gets ``--stored`` samples spread over 24 months, so the partitioned one has 29 months of
partitions to route into and check keys against. Prints medians and 90th percentiles side by side. Wall-clock
on a shared 2-core machine: quote the load average beside the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SH = ZoneInfo("Asia/Shanghai")

# The single-upload statement as 0014 ran it (gi.origin.store._INSERT_ONE before partitioning).
_SAMPLE = (
    "id, product_id, producer_id, task_id, collected_at, submitted_x, submitted_y, declared_crs, gps_accuracy_m, "
    "location_source, location, lot_number, lot_size, seal_code, collector_id, source, notes"
)
_VALUES = (
    ":id, :product_id, :producer_id, :task_id, :collected_at, :submitted_x, :submitted_y, :declared_crs, "
    ":gps_accuracy_m, CAST(:location_source AS location_source), CAST(:location AS geometry), :lot_number, "
    ":lot_size, :seal_code, :collector_id, :source, :notes"
)
_VERDICT = (
    ":area_id, :area_version, CAST(:verdict AS origin_outcome), :distance_m, :band_m, CAST(:flags AS varchar(40)[]), "
    "CAST(:other_areas AS jsonb), :rule, CAST(:inputs AS jsonb)"
)
OLD = (
    f"WITH stored AS (INSERT INTO sample ({_SAMPLE}) VALUES ({_VALUES}) ON CONFLICT (id) DO NOTHING "
    "RETURNING id, product_id) INSERT INTO origin_verdict (sample_id, product_id, area_id, area_version, verdict, "
    f"distance_m, band_m, flags, other_areas, rule, inputs) SELECT stored.id, stored.product_id, {_VERDICT} "
    "FROM stored RETURNING id"
)


def _params(product: int, at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "product_id": product,
        "producer_id": None,
        "task_id": None,
        "collected_at": at,
        "submitted_x": 120.1,
        "submitted_y": 30.2,
        "declared_crs": "EPSG:4326",
        "gps_accuracy_m": 5.0,
        "location_source": "device_gps",
        "location": "SRID=4326;POINT(120.1 30.2)",
        "lot_number": "L1",
        "lot_size": None,
        "seal_code": None,
        "collector_id": None,
        "source": "benchmark",
        "notes": None,
        "area_id": None,
        "area_version": None,
        "verdict": "uncertain",
        "distance_m": None,
        "band_m": 30.0,
        "flags": "{}",
        "other_areas": "[]",
        "rule": "benchmark",
        "inputs": "{}",
    }


def _prepare(url: str, stored: int, statement: Any) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        product = conn.execute(
            text(
                "INSERT INTO gi_product (code, name_zh, name_pinyin, name_en, gi_kind, category) VALUES "
                "('bench', '基准', 'jizhun', 'bench', 'protected_product', 'farm_product') RETURNING id"
            )
        ).scalar_one()
        start = datetime.now(SH) - timedelta(days=730)
        for i in range(stored):
            conn.execute(statement, _params(product, start + timedelta(minutes=53 * i)))
    engine.dispose()
    return int(product)


def main() -> None:
    """Time the single-upload statement before and after partitioning."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from gi import db as gi_db
    from gi.db.local import create_database, drop_database
    from gi.db.partitions import add_months, maintain_partitions, month_start
    from gi.origin.store import _INSERT_ONE

    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=400)
    parser.add_argument("--stored", type=int, default=20_000)
    args = parser.parse_args()
    base = gi_db.database_url()
    server = make_url(base).set(database="postgres").render_as_string(hide_password=False)
    names = {"0014": f"gi_bench_p14_{os.getpid()}", "0015": f"gi_bench_p15_{os.getpid()}"}
    urls = {k: make_url(base).set(database=n).render_as_string(hide_password=False) for k, n in names.items()}
    statements = {"0014": text(OLD), "0015": _INSERT_ONE}
    try:
        for rev, url in urls.items():
            create_database(server, names[rev])
            gi_db.upgrade(url, rev)
            if rev == "0015":
                now = datetime.now(SH)
                maintain_partitions(gi_db.get_engine(url), since=add_months(month_start(now), -25))
        products = {rev: _prepare(urls[rev], args.stored, statements[rev]) for rev in urls}
        engines = {rev: create_engine(urls[rev]) for rev in urls}
        times: dict[str, list[float]] = {rev: [] for rev in urls}
        now = datetime.now(SH)
        for i in range(args.uploads):
            order = ("0014", "0015") if i % 2 == 0 else ("0015", "0014")
            for rev in order:
                params = _params(products[rev], now - timedelta(days=i % 700))
                t0 = time.perf_counter()
                with engines[rev].begin() as conn:
                    assert conn.execute(statements[rev], params).scalar() is not None
                times[rev].append(time.perf_counter() - t0)
        for engine in engines.values():
            engine.dispose()
        print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        print(
            f"one upload's statement + commit (audit entry), {args.uploads} each, {args.stored:,} stored samples"
        )
        for rev, label in (
            ("0014", "baseline 0014 (plain tables)"),
            ("0015", "0015 (partitioned, identity)"),
        ):
            ms = sorted(t * 1000 for t in times[rev])
            p90 = ms[int(0.9 * len(ms)) - 1]
            print(f"  {label:32s} median {statistics.median(ms):6.2f} ms   p90 {p90:6.2f} ms")
    finally:
        gi_db.dispose_engines()
        for name in names.values():
            drop_database(server, name)


if __name__ == "__main__":
    main()
