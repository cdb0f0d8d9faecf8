"""Benchmark: the season campaign report as the dashboard builds it for a region (工作报告（PDF）) and for every
region, on the demo's database (run ``gi demo`` first): median of ``--runs`` builds in one process, after one
warm-up build (fonts, boundaries and the register are loaded once per process, as in the service).

Run: ``.venv/bin/python benchmarks/campaign_report.py [--plan DEMO-202609] [--region 33] [--runs 3]``

Figures (2026-12-06, 2 shared cores, load 4.7-6 from other sessions: noisy; the demo's season, 30 samples in
Zhejiang, 136 in all). cProfile of the region's report: ASCII85 encoding of the images in pure Python (ReportLab
without its C accelerator) took 1.7 s of 8.7 s and 5.4 M of 8.4 M function calls; with binary images it is gone
(3.1 M calls). Wall-clock medians of 3 were dominated by the machine's load: region 5.08 s before, 5.02 s after
(consecutive runs); alternated in one process 17.6 s (ASCII85) vs 15.7 s (binary), runs ranging 6.8-21.4 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# The project's packages first: this folder's maps.py would shadow the maps package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab import rl_config

from gi.accounts.scope import Scope
from gi.db import session_scope
from reports.downloads import season_report_pdf
from sampling.dashboard import choose_season


def _timed(scope: Scope, plan: str) -> float:
    """Seconds to build the season's report for ``scope``."""
    with session_scope() as session:
        season = choose_season(session, plan)
        start = time.perf_counter()
        season_report_pdf(session, scope, season)
        return time.perf_counter() - start


def main() -> None:
    """Build the region's and the whole season's reports ``--runs`` times each and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default=None, help="plan code (default: the drawn plan running today)")
    parser.add_argument("--region", default="33", help="the supervisor's region (adcode prefix)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--region-only", action="store_true", help="skip the report of every region")
    args = parser.parse_args()
    scopes = [("region " + args.region, Scope(regions=(args.region,)))]
    if not args.region_only:
        scopes.append(("all", Scope(everything=True)))
    for label, scope in scopes:
        _timed(scope, args.plan)  # warm-up
        # A shared machine's figures are noisy: the old way (ASCII85 images) and the new one alternate.
        times: dict[int, list[float]] = {1: [], 0: []}
        for _ in range(args.runs):
            for a85, runs in times.items():
                rl_config.useA85 = a85
                runs.append(_timed(scope, args.plan))
        for a85, runs in times.items():
            way = "ASCII85 images (before)" if a85 else "binary images (after)"
            listed = ", ".join(f"{t:.2f}" for t in runs)
            print(f"{label}, {way}: median {statistics.median(runs):.2f} s ({listed})")


if __name__ == "__main__":
    main()
