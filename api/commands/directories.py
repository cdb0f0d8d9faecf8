"""`gi producers import`, `gi outlets import`, `gi inspectors import`: the directories of 双随机 from office files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from api.console import console, table, working
from gi.db import session_scope

producers_app = typer.Typer(help="Producers of GI products (检查对象名录库: 生产者).", no_args_is_help=True)
outlets_app = typer.Typer(
    help="Market outlets selling GI products (检查对象名录库: 经营者).", no_args_is_help=True
)
inspectors_app = typer.Typer(help="Law-enforcement inspectors (执法检查人员名录库).", no_args_is_help=True)

FILE_HELP = "CSV or .xlsx with English or Chinese headers; with any bad row nothing is stored."
SHEET = typer.Option(None, help="Sheet of an Excel workbook (default: the first).")


def print_import(report: Any, limit: int = 30) -> None:
    """An import's counts, then every update field by field (up to ``limit`` rows), then its notes."""
    console.print(report.summary())
    updates = [c for c in report.changes if not c.created]
    rows = [[c.key, name, old, new] for c in updates for name, (old, new) in c.fields.items()]
    if rows:
        console.print(
            table("changes (stored → imported)", ["record", "field", "stored", "imported"], rows[:limit])
        )
        if len(rows) > limit:
            console.print(f"… and {len(rows) - limit} more changed field(s)")
    for note in report.notes:
        console.print(f"note: {note}")


def _run(importer: Callable[..., Any], file: Path, sheet: str | None) -> Any:
    with working(f"reading and checking {file.name}"), session_scope() as session:
        return importer(session, file, sheet)


@producers_app.command("import")
def import_producers(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import producers: credit_code, name, product (and address, county, x, y, crs, authorization_number,
    authorized_from, authorized_to). Upserted by product and credit code; locations are origin-checked."""
    from gi.market.directories import import_producers as run

    report = _run(run, file, sheet)
    print_import(report)
    origin = report.details.get("origin")
    if origin:
        console.print(
            "origin check of new or moved locations: "
            + ", ".join(f"{k} {v}" for k, v in sorted(origin.items()))
        )
        outside = report.details.get("not_inside", [])
        if outside:
            console.print(
                table(
                    "not inside the protected area (stored; they weigh in the planner's risk)",
                    ["producer", "credit code", "verdict", "distance m"],
                    [[o["name"], o["credit_code"], o["verdict"], o["distance_m"]] for o in outside],
                )
            )


@outlets_app.command("import")
def import_outlets(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import market outlets: credit_code, name, product (several separated by ;) and suppliers (their credit
    codes), address, county, x, y, crs. Upserted by product and credit code."""
    from gi.market.directories import import_outlets as run

    print_import(_run(run, file, sheet))


@inspectors_app.command("import")
def import_inspectors(file: Path = typer.Argument(..., help=FILE_HELP), sheet: str = SHEET) -> None:
    """Import inspectors: staff_number, name, unit, home_county (and qualifications, capacity, active).
    Upserted by staff number."""
    from gi.market.directories import import_inspectors as run

    print_import(_run(run, file, sheet))
