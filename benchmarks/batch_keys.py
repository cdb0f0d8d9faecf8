"""Benchmark of the batch's key checks to products and areas (migration 0026_productfk): foreign keys against
statement triggers.

    .venv/bin/python benchmarks/batch_keys.py [--rows 20000] [--runs 7]

The database is benchmarks/origin.py's (its 2,875 county products, one area each; created, migrated and loaded
when needed; a configured database named gi_bench* is used instead). One process stores ``--rows`` new samples
with their verdicts (each of a random product, in that product's area, as benchmarks/origin.py (c) writes them)
through ``gi.origin.store.store_staged``
(COPY into the staging table, then the chunk's plain inserts: the path of ``gi check``), once per variant and run,
each in a transaction rolled back (the tables vacuumed after each round), variants alternating:

- ``foreign keys``: the three keys' triggers disabled and their foreign keys added back (as at 0025_collectedid);
- ``triggers``: the schema as it is (0026);
- ``area as a key``: the products by triggers, the area by its foreign key (is the third key worth converting?);
- ``no check``: the three keys' triggers disabled, no foreign key (the floor).

Printed: the median wall time of COPY + move per variant and the database backend's CPU time (from /proc, when the
server runs on this machine), side by side.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gi.origin.store import SAMPLE_COLUMNS, VERDICT_COLUMNS  # noqa: E402

# (constraint, table, the foreign key's definition) of migration 0026_productfk.
KEYS = (
    (
        "fk_sample_product_id_gi_product",
        "sample",
        "FOREIGN KEY (product_id) REFERENCES gi_product (id) ON DELETE RESTRICT",
    ),
    (
        "fk_origin_verdict_product_id_gi_product",
        "origin_verdict",
        "FOREIGN KEY (product_id) REFERENCES gi_product (id) ON DELETE RESTRICT",
    ),
    (
        "fk_origin_verdict_area_id_production_area",
        "origin_verdict",
        "FOREIGN KEY (area_id) REFERENCES production_area (id) ON DELETE RESTRICT",
    ),
)
AREA = KEYS[2][0]
# Variant -> (keys checked by their foreign key instead of their trigger, keys not checked at all).
VARIANTS: dict[str, tuple[set[str], set[str]]] = {
    "foreign keys": ({k[0] for k in KEYS}, set()),
    "triggers": (set(), set()),
    "area as a key": ({AREA}, set()),
    "no check": (set(), {k[0] for k in KEYS}),
}
# The staged columns this benchmark writes: the samples' required ones and a lot number, then every verdict column.
COLUMNS = (
    tuple(
        c
        for c in SAMPLE_COLUMNS
        if c
        in {
            "id",
            "product_id",
            "collected_at",
            "submitted_x",
            "submitted_y",
            "declared_crs",
            "gps_accuracy_m",
            "location_source",
            "location",
            "lot_number",
        }
    )
    + VERDICT_COLUMNS
)


def chunk_text(areas: list[tuple[int, int, int]], n: int) -> str:
    """COPY text of ``n`` new samples and verdicts in :data:`COLUMNS`, each of a random product in its area."""
    import numpy as np

    from gi.origin.store import hex_ewkb_points

    rng = random.Random(2024)
    lines = []
    for i in range(n):
        product, area, version = rng.choice(areas)
        x, y = 100 + rng.random() * 20, 25 + rng.random() * 15
        location = hex_ewkb_points(np.array([x]), np.array([y]))[0]
        verdict = rng.choice(("inside", "outside", "uncertain"))
        lines.append(
            "\t".join(
                (
                    str(uuid.uuid4()),
                    str(product),
                    "2026-06-01 00:00:00+08",
                    repr(x),
                    repr(y),
                    "EPSG:4326",
                    "4.0",
                    "device_gps",
                    location,
                    f"LOT-{i}",
                    str(area),
                    str(version),
                    verdict,
                    repr(rng.uniform(-2000, 2000)),
                    "30.0",
                    "{}",
                    "[]",
                    "origin-v1",
                    f'{{"x": {x!r}, "y": {y!r}, "crs": "EPSG:4326"}}',
                )
            )
        )
    return "\n".join(lines) + "\n"


def fresh_ids(text: str) -> str:
    """The same rows under new UUIDs (each run stores new samples)."""
    return "".join(str(uuid.uuid4()) + line[36:] + "\n" for line in text.splitlines())


def backend_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of the server backend ``pid`` so far, when /proc shows it."""
    from benchmarks.audit import _backend_cpu

    cpu = _backend_cpu(pid)
    return None if math.isnan(cpu) else cpu


def run_variant(raw: Any, name: str, text: str) -> tuple[float, float | None]:
    """Store the chunk under variant ``name`` in a transaction rolled back; (wall seconds, backend CPU seconds)."""
    from gi.origin.store import StagedChunk, store_staged

    as_keys, unchecked = VARIANTS[name]
    with raw.transaction(force_rollback=True):
        with raw.cursor() as cur:
            found: Any = cur.execute("SELECT pg_backend_pid()").fetchone()
            pid = found[0]
            for constraint, table, definition in KEYS:
                if constraint in as_keys or constraint in unchecked:
                    cur.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{constraint}_insert"')
                if constraint in as_keys:
                    cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
        cpu0 = backend_cpu(pid)
        t = time.perf_counter()
        skipped = store_staged(raw, StagedChunk(COLUMNS, [fresh_ids(text)]))
        wall = time.perf_counter() - t
        cpu1 = backend_cpu(pid)
        assert skipped == [], skipped
    return wall, (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)

    import psycopg

    from benchmarks.origin import bench_url
    from gi.db.local import libpq_dsn

    url = bench_url(
        False
    )  # benchmarks/origin.py's database: created and loaded with the counties when needed
    with psycopg.connect(libpq_dsn(url)) as raw:
        with raw.cursor() as cur:
            row: Any = cur.execute("SELECT version_num FROM alembic_version").fetchone()
            head = row[0]
            row = cur.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = ANY (%s)", ([f"{k[0]}_insert" for k in KEYS],)
            ).fetchone()
            triggers = row[0]
            areas = cur.execute(
                "SELECT product_id, id, version FROM production_area WHERE valid_to IS NULL ORDER BY id"
            ).fetchall()
        raw.rollback()
        if triggers != len(KEYS):
            print(
                f"the database is at {head}, without the triggers of 0026_productfk: run `gi db upgrade` first"
            )
            return 1
        if len(areas) < 100:
            print(
                "the database has few products: use benchmarks/origin.py's database (it loads 2,875 counties)"
            )
            return 1
        text = chunk_text([tuple(a) for a in areas], args.rows)
        run_variant(raw, "triggers", text)  # warm: caches, the staging table
        times: dict[str, list[tuple[float, float | None]]] = {name: [] for name in VARIANTS}
        load = os.getloadavg()[0]
        for _ in range(args.runs):
            for name in VARIANTS:
                times[name].append(run_variant(raw, name, text))
            # The rolled-back rows stay behind as dead tuples: cleared between rounds (as autovacuum would), so that
            # later runs do not insert into ever larger tables and indexes.
            raw.autocommit = True
            raw.execute("VACUUM sample, origin_verdict, sample_identity")
            raw.autocommit = False
    print(
        f"batch keys: {args.rows:,} new samples + verdicts of {len(areas):,} products through store_staged "
        f"(COPY + plain inserts), median of {args.runs} runs per variant, alternating, rolled back; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    base = statistics.median(w for w, _ in times["foreign keys"])
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpus = [c for _, c in runs if c is not None]
        cpu = f"backend CPU {statistics.median(cpus):.3f} s" if cpus else "backend CPU n/a"
        print(
            f"  {name:>14}: {wall:.3f} s ({wall - base:+.3f} s against foreign keys), {cpu}; "
            f"runs {', '.join(f'{w:.3f}' for w, _ in runs)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
