"""`gi results`: import laboratory results (CSV or Excel) and list a sample's results."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from api.console import console, err_console, table, working
from gi.db import session_scope

app = typer.Typer(help="Laboratory results of samples (检测结果).", no_args_is_help=True)


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ...,
        help="CSV or .xlsx with sample_id, indicator, value, unit, laboratory, "
        "tested_on (and U, k, method, grade).",
    ),
    sheet: str = typer.Option(None, help="Sheet of an Excel workbook (default: the first)."),
) -> None:
    """Import FILE: every row is validated first; with any bad row nothing is stored and every problem is listed."""
    from gi.quality.lab import LabImportError, import_results

    try:
        with working(f"reading and checking {file.name}"), session_scope() as session:
            report = import_results(session, file, sheet)
            counts = Counter(r.indicator_code for r in report.results)
            samples = len(report.sample_ids)
    except LabImportError as exc:
        err_console.print(
            table(
                f"{file.name}: {len(exc.problems)} problem(s), nothing imported",
                ["row", "column", "problem"],
                [[p.row or "-", p.column, p.problem] for p in exc.problems],
            )
        )
        raise typer.Exit(1) from None
    console.print(f"{file.name}: {sum(counts.values())} results stored for {samples} sample(s)")
    console.print(table("results by indicator", ["indicator", "results"], sorted(counts.items())))


@app.command("list")
def list_(
    sample: str = typer.Option(..., "--sample", "-s", help="Sample UUID or its first 8+ hex digits."),
) -> None:
    """List a sample's results as reported and as converted to the specification's unit."""
    from gi.quality.lab import resolve_sample, results_of

    with session_scope() as session:
        s = resolve_sample(session, sample)
        rows = [
            [
                r.indicator_code,
                f"{r.censored or ''}{r.value.normalize():f} {r.unit}",
                "" if r.uncertainty is None else f"{r.uncertainty.normalize():f}",
                "" if r.coverage_factor is None else f"{r.coverage_factor.normalize():f}",
                "" if r.value_converted is None else f"{r.value_converted.normalize():f} {r.converted_unit}",
                r.laboratory,
                f"{r.tested_on:%Y-%m-%d}",
                r.declared_grade or "",
                f"{r.source_file or ''}:{r.source_row or ''}",
            ]
            for r in results_of(session, s.id)
        ]
        console.print(
            table(
                f"results of sample {s.id} ({s.product.name_zh})",
                ["indicator", "reported", "U", "k", "converted", "laboratory", "tested", "grade", "source"],
                rows,
            )
        )
