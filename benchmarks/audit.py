"""What the audit log costs the origin batch: benchmark (c) with the capture trigger on and off, in one run.

    .venv/bin/python benchmarks/audit.py [--batch 100000] [--runs 3]

Same database and rows as ``benchmarks/origin.py --only c`` (2,875 county areas, 100,000 samples within 2 km of a
boundary, a quarter in GCJ-02). Each round stores the batch twice, in alternating order: once with
``origin_verdict``'s statement-level capture trigger disabled (the baseline: no leaves, no entries), once with it
(leaf hashes of every verdict row and their Merkle root per COPY statement, chained at commit). Prints the medians
side by side, the database-side cost of the capture alone, and how long `gi audit verify` takes on the result.

Figures are wall-clock on a shared 2-core machine: other sessions' work makes them noisy.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.origin import _sample_points, bench_url, discard_samples  # noqa: E402


def _rows(session: Any, n: int) -> list[tuple[int, dict[str, Any]]]:
    from sqlalchemy import text

    from geo_data.crs import from_wgs84

    products, lon, lat = _sample_points(session, n, seed=9, within_m=2000.0)
    codes = dict(session.execute(text("SELECT id, code FROM gi_product")).all())
    gx, gy = from_wgs84(lon, lat, "GCJ02")
    return [
        (
            i + 1,
            {
                "product": codes[products[i]],
                "collected_at": "2024-06-01T09:00:00+08:00",
                "x": repr(float(gx[i] if i % 4 == 0 else lon[i])),
                "y": repr(float(gy[i] if i % 4 == 0 else lat[i])),
                "crs": "GCJ02" if i % 4 == 0 else "WGS84",
                "gps_accuracy_m": "5",
                "lot_number": f"B{i}",
            },
        )
        for i in range(n)
    ]


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a local PostgreSQL backend so far; NaN when not readable (remote server)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from gi.audit import verify_log
    from gi.origin.batch import record_samples

    url = bench_url(fresh=False)
    engine = create_engine(url)
    with Session(engine) as session:
        rows = _rows(session, args.batch)
    n = args.batch
    times: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}  # this process's CPU time
    servers: dict[bool, list[float]] = {False: [], True: []}  # the batch connection's backend CPU time
    capture: list[float] = []
    print(
        f"audit log overhead on benchmark (c): {n:,} samples, {args.runs} rounds, load {os.getloadavg()[0]:.2f}"
    )
    for r in range(args.runs):
        # alternating order, the last run audited (verification below reads its log)
        for audited in (False, True) if (args.runs - 1 - r) % 2 == 0 else (True, False):
            with engine.begin() as conn:
                discard_samples(conn)
                verb = "ENABLE" if audited else "DISABLE"
                conn.execute(text(f"ALTER TABLE origin_verdict {verb} TRIGGER audit_capture_insert"))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM sample, origin_verdict"))
            gc.collect()
            t, cpu = time.perf_counter(), time.process_time()
            with Session(engine) as session:
                pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                server = _backend_cpu(pid)
                result = record_samples(session, rows, source="benchmark")
                session.commit()
                server = _backend_cpu(pid) - server
            times[audited].append(time.perf_counter() - t)
            cpus[audited].append(time.process_time() - cpu)
            servers[audited].append(server)
            assert len(result.stored) == n, len(result.refused)
            if audited:
                # The capture's own database time, measured on the rows just stored (same statement it runs).
                with engine.begin() as conn:
                    t = time.perf_counter()
                    conn.execute(
                        text(
                            "SELECT count(*), length(audit_merkle_root(string_agg(leaf, ''::bytea ORDER BY id)))"
                            " FROM (SELECT id, sha256('\\x00'::bytea || convert_to("
                            + conn.execute(
                                text(
                                    "SELECT audit_line_expression('origin_verdict', columns) FROM audit_table"
                                    " WHERE table_name = 'origin_verdict'"
                                )  # fmt: skip
                            ).scalar_one()
                            + ", 'UTF8')) AS leaf FROM origin_verdict t) s"
                        )
                    )
                    capture.append(time.perf_counter() - t)
            print(
                f"  round {r + 1}: {'with' if audited else 'without'} the audit capture {times[audited][-1]:.2f} s"
                f" (CPU: Python {cpus[audited][-1]:.2f} s, PostgreSQL backend {servers[audited][-1]:.2f} s)"
            )
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE origin_verdict ENABLE TRIGGER audit_capture_insert"))
        entries = conn.execute(
            text(
                "SELECT count(*) FROM audit_entry WHERE kind = 'origin_verdict' AND recorded_at > now() - '1 hour'::interval"
            )
        ).scalar_one()
    base, audited_med = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"  without (baseline): {base:.2f} s median (runs {', '.join(f'{t:.2f}' for t in times[False])})\n"
        f"  with the audit log: {audited_med:.2f} s median (runs {', '.join(f'{t:.2f}' for t in times[True])})\n"
        f"  CPU medians without / with: Python {statistics.median(cpus[False]):.2f} / "
        f"{statistics.median(cpus[True]):.2f} s, PostgreSQL backend {statistics.median(servers[False]):.2f} / "
        f"{statistics.median(servers[True]):.2f} s (wall time is noisy on a loaded machine; CPU time much less)\n"
        f"  overhead: {audited_med - base:+.2f} s ({(audited_med / base - 1) * 100:+.1f} %); the capture's database"
        f" work alone (leaves and Merkle root of {n:,} rows): {statistics.median(capture):.2f} s median, mostly"
        f" overlapped with the next chunk's checks; {entries} origin_verdict entries in the last hour"
    )
    t = time.perf_counter()
    verification = verify_log(engine)
    missing = sum(1 for f in verification.findings if "but missing" in f.problem)
    print(
        f"  gi audit verify: {time.perf_counter() - t:.2f} s for {verification.entries:,} entries and"
        f" {sum(verification.rows.values()):,} rows ({len(verification.findings):,} findings, {missing:,} of them rows of"
        " earlier rounds this benchmark discarded with TRUNCATE)"
    )
    with engine.begin() as conn:
        discard_samples(conn)
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
