"""Benchmark: draw + inspector assignment of one season for 100,000 targets, 2,000 inspectors and 12 products.

Run: ``.venv/bin/python benchmarks/planning.py [--runs 3] [--producers 100000] [--inspectors 2000]``

The frame is synthetic and in memory (the database is not timed): 12 products in 12 provinces, 8 counties
each, one season = a quarter in 3 monthly rounds, products cycling through peak / regular / off-season
windows, 10 % of targets with an inspection in the last year (and previous inspectors), 1 % declared
conflicts. The timed step is ``sampling.draw.run_draw`` — the exact function behind `gi plan draw` and `gi
plan verify` (coverage rounds, then per round the selection of every stratum and the assignment of two inspectors
per target). Target: median <= 2 s. Baseline, in the same run: the SHA-256 order keys of every target in every
round alone (docs/sampling.md § 5.7), work any implementation of the spec must do. The machine's 2 cores are shared with other sessions: figures are noisy; the load
average is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.directories import synthetic_frame
from sampling.commit import canonical_json
from sampling.design import DesignParameters
from sampling.draw import run_draw
from sampling.published import draw_documents
from sampling.rng import SeedStream
from sampling.seasons import PEAK, REGULAR, Window, split_rounds

TARGET_S = 2.0


def main(argv: list[str] | None = None) -> int:
    """Build the frame once, time the draw ``--runs`` times with different seeds, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--producers", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=2_000)
    parser.add_argument("--products", type=int, default=12)
    args = parser.parse_args(argv)

    windows = [(Window(1, 1, 3, 31, PEAK),), (Window(1, 15, 5, 31, REGULAR),), ()]
    t0 = time.perf_counter()
    frame = synthetic_frame(
        args.producers, args.inspectors, args.products, seed=2026, windows=windows, capacity=(15, 25)
    )
    build_s = time.perf_counter() - t0
    params = DesignParameters(
        "BENCH",
        date(2026, 1, 1),
        date(2026, 3, 31),
        tuple(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3)),
    )
    t0 = time.perf_counter()
    frame_bytes = canonical_json(frame.to_dict())
    snapshot_s = time.perf_counter() - t0

    draw_times, cpu_times, doc_times, base_times, tasks = [], [], [], [], 0
    ids = [p.id for p in frame.producers]
    for run in range(args.runs):
        seed = hashlib.sha256(f"bench-{run}".encode()).digest()
        t0 = time.perf_counter()
        stream = SeedStream(seed)
        for r in params.rounds:
            stream.sort_keys(f"order|{r.number}|", ids)
        base_times.append(time.perf_counter() - t0)
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_draw(frame, params, seed)
        draw_times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
        t0 = time.perf_counter()
        selection, assignment = draw_documents(params, result, "0" * 64)
        canonical_json(selection), canonical_json(assignment)
        doc_times.append(time.perf_counter() - t0)
        tasks = len(result.tasks)
        peak = sum(1 for t in result.tasks if t.season_kind == "peak")
    median = statistics.median(draw_times)
    load = os.getloadavg()
    print(
        f"planning benchmark: {len(frame.producers):,} targets, {len(frame.inspectors):,} inspectors, "
        f"{len(frame.products)} products, {len(params.rounds)} rounds (one season)"
    )
    print(
        f"  synthetic frame built in {build_s:.2f} s; canonical snapshot {len(frame_bytes) / 1e6:.1f} MB "
        f"in {snapshot_s:.2f} s (not timed below)"
    )
    print(f"  tasks drawn per run: {tasks:,} ({peak:,} in peak season), 2 inspectors each")
    print(
        f"  draw + assignment: runs {', '.join(f'{t:.2f}' for t in draw_times)} s -> median {median:.2f} s "
        f"(target <= {TARGET_S:.1f} s: {'met' if median <= TARGET_S else 'NOT met'}); CPU time median "
        f"{statistics.median(cpu_times):.2f} s"
    )
    base = statistics.median(base_times)
    print(
        f"  baseline (order keys of {len(ids):,} targets x {len(params.rounds)} rounds only): median {base:.2f} s; "
        f"draw + assignment = {median / base:.1f} x baseline"
    )
    print(f"  published selection + assignment documents: median {statistics.median(doc_times):.2f} s")
    print(
        f"  load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} cores shared with "
        f"other sessions: figures are noisy"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
