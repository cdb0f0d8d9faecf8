"""Where PostgreSQL's time goes when benchmark (c) stores 100,000 samples with their verdicts: statement by
statement and trigger by trigger, beside the same rows written into copies of the tables without triggers and
keys (indexes kept) and into bare copies (no index either: the baseline).

    .venv/bin/python benchmarks/store_parts.py [--batch 100000] [--runs 3]

Same database and rows as ``benchmarks/origin.py --only c`` (2,875 county areas, samples within 2 km of a
boundary, a quarter in GCJ-02). The rows are validated and checked once, up front, into the chunks the batch
stores (``gi.origin.batch.CHUNK`` rows each, built by ``gi.origin.store.stage_chunk``). Each run then
replays the statements of ``gi.origin.store.store_staged`` for every chunk on one connection, alone (no Python
work runs meanwhile), in one transaction that is rolled back (the benchmark database's samples are discarded once
first). The deferred audit chain, which runs at commit, is fired with ``SET CONSTRAINTS ALL IMMEDIATE`` before
the rollback. Left out: the savepoint around a chunk's inserts and the chunk sizes' tail (every chunk here is
full). The copies are plain tables, not partitioned ones, so they also leave out the routing of rows to the
month's partition.

Printed per variant: the median over runs of each statement's wall time and of the backend's CPU time (from /proc,
when the server runs on this machine), and, for the tables as stored, the trigger functions' own time
(``pg_stat_xact_user_functions``; needs ``track_functions``, which only a superuser may set).

Why it exists: in (c) this thread and PostgreSQL's backend run side by side on two cores, and the backend's share
is the longer one. This shows what it is made of, so that a change aimed at (c)'s target can be judged by it.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.audit import _backend_cpu, _rows  # noqa: E402
from benchmarks.origin import bench_url, discard_samples  # noqa: E402

# Copies of the stored tables, made inside each run's transaction (rolled back with it): "LIKE ... INCLUDING
# DEFAULTS" keeps columns, NOT NULL and defaults; INCLUDING INDEXES adds the same indexes (the GiST included), and
# neither brings triggers or foreign keys.
TABLES = ("sample_identity", "sample", "origin_verdict")
VARIANTS = {
    "as stored": None,
    "indexes, no triggers or keys": "INCLUDING DEFAULTS INCLUDING INDEXES",
    "bare tables (baseline)": "INCLUDING DEFAULTS",
}
STEPS = ("COPY into staging", "identities", "samples", "verdicts", "audit chain (at commit)")


def build_chunks(url: str, n: int) -> list[Any]:
    """(c)'s rows, validated and checked, as the staged chunks the batch stores (``gi.origin.store.stage_chunk``)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from gi.origin.batch import CHUNK
    from gi.origin.index import area_index
    from gi.origin.references import References, claims_of
    from gi.origin.rows import prepare_rows
    from gi.origin.rule import check_claims
    from gi.origin.store import stage_chunk
    from gi.settings import get_settings

    engine = create_engine(url)
    with engine.begin() as conn:
        discard_samples(conn)  # rows an interrupted benchmark left would collide with the same content UUIDs
    chunks = []
    with Session(engine) as session:
        rows = _rows(session, n)
        refs, index = References(session), area_index(session)
        for start in range(0, n, CHUNK):
            contents = prepare_rows(refs, [data for _, data in rows[start : start + CHUNK]], "benchmark")
            assert all(c is not None for c in contents), "a (c) row was refused"
            ready = [c for c in contents if c is not None]
            verdicts = check_claims(None, claims_of(ready), get_settings(), index)
            chunks.append(stage_chunk(ready, verdicts))
    engine.dispose()
    return chunks


def _statements(like: str | None) -> tuple[str, str, str]:
    """The chunk's three inserts of ``store_staged``, into the stored tables or into their copies."""
    from gi.origin.store import INSERT_NEW_IDENTITIES, INSERT_NEW_SAMPLES, INSERT_NEW_VERDICTS

    statements = (INSERT_NEW_IDENTITIES, INSERT_NEW_SAMPLES, INSERT_NEW_VERDICTS)
    if like is None:
        return statements
    copies = [
        s.replace(f"INSERT INTO {table} ", f"INSERT INTO bench_{table} ", 1)
        for s, table in zip(statements, TABLES, strict=True)
    ]
    if "INDEXES" not in like:  # no unique index for the identities' conflict clause to name
        copies[0] = copies[0].replace(" ON CONFLICT (id) DO NOTHING", "")
    return copies[0], copies[1], copies[2]


def run(
    raw: Any, chunks: list[Any], like: str | None, superuser: bool
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Store every chunk once in a transaction rolled back: {step: (wall s, backend CPU s)}, {trigger: self s}."""
    from gi.origin.store import _IDENTITIES_WRITTEN, STAGE, STAGE_DDL, _stage_copy

    steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    functions: dict[str, float] = {}
    with raw.transaction(force_rollback=True), raw.cursor() as cur:
        pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        if superuser:
            cur.execute("SET LOCAL track_functions = 'pl'")
        cur.execute("SET LOCAL jit = off")  # as store_staged does
        if like is not None:
            for table in TABLES:
                cur.execute(f"CREATE TABLE bench_{table} (LIKE {table} {like})")
        identities, samples, verdicts = _statements(like)

        def timed(step: str, sql: str, chunk: Any = None) -> None:
            t, cpu = time.perf_counter(), _backend_cpu(pid)
            if chunk is None:
                cur.execute(sql)
            else:
                with cur.copy(sql) as copy:
                    for block in chunk.blocks:
                        copy.write(block)
            steps[step][0] += time.perf_counter() - t
            steps[step][1] += _backend_cpu(pid) - cpu

        for chunk in chunks:
            cur.execute(STAGE_DDL)
            cur.execute(f"TRUNCATE {STAGE}")
            timed("COPY into staging", _stage_copy(chunk.columns), chunk)
            cur.execute(_IDENTITIES_WRITTEN)
            timed("identities", identities)
            timed("samples", samples)
            timed("verdicts", verdicts)
        timed("audit chain (at commit)", "SET CONSTRAINTS ALL IMMEDIATE")
        if superuser and like is None:
            for name, own in cur.execute(
                "SELECT funcname, self_time FROM pg_stat_xact_user_functions WHERE self_time > 0"
            ):
                functions[name] = own / 1000.0
    return {k: (v[0], v[1]) for k, v in steps.items()}, functions


def main(argv: list[str] | None = None) -> int:
    """Run the variants in alternating order and print the medians."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    import psycopg

    from gi.db.local import libpq_dsn

    url = bench_url(
        False
    )  # benchmarks/origin.py's database: created and loaded with the counties when needed
    t = time.perf_counter()
    chunks = build_chunks(url, args.batch)
    print(
        f"PostgreSQL's share of benchmark (c): {args.batch:,} samples in {len(chunks)} chunks, validated and "
        f"checked in {time.perf_counter() - t:.1f} s; {args.runs} runs, load {os.getloadavg()[0]:.2f}"
    )
    results: dict[str, list[dict[str, tuple[float, float]]]] = defaultdict(list)
    functions: list[dict[str, float]] = []
    with psycopg.connect(libpq_dsn(url)) as raw:
        role: Any = raw.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        superuser = bool(role[0])
        raw.rollback()
        names = list(VARIANTS)
        for r in range(args.runs):
            for name in names if r % 2 == 0 else reversed(names):
                steps, own = run(raw, chunks, VARIANTS[name], superuser)
                results[name].append(steps)
                if own:
                    functions.append(own)
                raw.autocommit = (
                    True  # the rolled-back rows' dead tuples go, as autovacuum would between uploads
                )
                raw.execute("VACUUM sample_identity, sample, origin_verdict")
                raw.autocommit = False
    width = 30
    print(f"\n  {'median seconds (wall / backend CPU)':<{width}}" + "".join(f"{n:>32}" for n in names))
    for step in STEPS:
        cells = []
        for name in names:
            wall = statistics.median(run_[step][0] for run_ in results[name])
            cpu = statistics.median(run_[step][1] for run_ in results[name])
            cells.append(f"{wall:>22.2f} / {cpu:>5.2f}" if not math.isnan(cpu) else f"{wall:>30.2f}  ")
        print(f"  {step:<{width}}" + "".join(f"{c:>32}" for c in cells))
    totals = []
    for name in names:
        wall = statistics.median(sum(v[0] for v in run_.values()) for run_ in results[name])
        cpu = statistics.median(sum(v[1] for v in run_.values()) for run_ in results[name])
        totals.append(f"{wall:>22.2f} / {cpu:>5.2f}")
    print(f"  {'total':<{width}}" + "".join(f"{c:>32}" for c in totals))
    if functions:
        print("\n  trigger functions of the stored tables, own time (median seconds over runs):")
        for fn in sorted(functions[0], key=lambda f: -statistics.median(o.get(f, 0.0) for o in functions)):
            seconds = statistics.median(o.get(fn, 0.0) for o in functions)
            if seconds >= 0.005:
                print(f"    {fn:<52}{seconds:>6.2f}")
    elif not superuser:
        print("\n  (trigger functions' own time: needs a superuser, to set track_functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
