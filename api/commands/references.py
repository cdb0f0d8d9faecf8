"""`gi references`: how thin each product's fingerprint references are, reference-collection tasks by county, and
collected references entering their set with provenance."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.orm import Session

from api.console import console, table, working
from gi.db import session_scope
from gi.models import GIProduct

app = typer.Typer(help="Authentic reference samples of origin fingerprints (参照样品).", no_args_is_help=True)


def _products(session: Session, keys: list[str] | None) -> list[GIProduct]:
    from sampling.references import products_named

    return products_named(session, keys)


@app.command("status")
def status(
    year: int = typer.Option(..., "--year", help="Harvest year."),
    product: list[str] = typer.Option(None, "--product", "-p", help="Only these products (repeatable)."),
) -> None:
    """Authentic and synthetic references of the year per product, and whether the set is thin."""
    from gi.quality.fingerprint import load_reference_sets
    from sampling.references import reference_need

    with session_scope() as session:
        sets = load_reference_sets()
        needs = [reference_need(session, p, year, sets) for p in _products(session, product)]
    rows = [
        [
            f"{n.product.name_zh} {n.product.code}",
            n.reference_set or "none",
            n.authentic,
            n.synthetic,
            n.minimum,
            f"{len(n.counties) - len(n.counties_without)}/{len(n.counties)}",
            ", ".join(n.reasons) + (f" ({n.blocked}: no task can be planned)" if n.blocked else "")
            or "sufficient",
        ]
        for n in needs
    ]
    console.print(
        table(
            f"fingerprint references of harvest year {year}",
            ["product", "set", "authentic", "synthetic", "minimum", "counties covered", "thin because"],
            rows,
        )
    )


@app.command("plan")
def plan(
    year: int = typer.Option(..., "--year", help="Harvest year to collect for."),
    product: list[str] = typer.Option(None, "--product", "-p", help="Only these products (default: all)."),
    campaign: str = typer.Option(None, help="Campaign code (default REF-<product>-<year>)."),
    plan_code: str = typer.Option(
        None, "--plan", help="Attach the tasks to this inspection plan (kept separate)."
    ),
    minimum: int = typer.Option(
        None, "--min", help="Authentic references needed per year (default: the fit's)."
    ),
) -> None:
    """Plan reference-collection tasks inside the area, by county, where the references are thin."""
    from sampling.references import REASON_ZH, plan_reference_tasks

    with working("planning reference collection"), session_scope() as session:
        planned = plan_reference_tasks(
            session, _products(session, product), year, campaign, plan_code, minimum
        )
        rows = []
        for need, tasks in planned:
            for t in tasks:
                point = ""
                if t.point is not None:
                    from geoalchemy2.shape import to_shape

                    p = to_shape(t.point)
                    point = f"{p.x:.5f}, {p.y:.5f}"
                rows.append(
                    [
                        t.campaign,
                        need.product.name_zh,
                        t.number,
                        t.county_code,
                        REASON_ZH[t.reason],
                        point,
                        f"{t.due_from}..{t.due_to}",
                    ]
                )
        sufficient = [n.product.name_zh for n, tasks in planned if not tasks and not n.thin]
        blocked = [
            f"{n.product.name_zh}: references thin ({', '.join(n.reasons)}) but {n.blocked or 'no task planned'}"
            for n, tasks in planned
            if not tasks and n.thin
        ]
    if rows:
        console.print(
            table(
                f"reference tasks, harvest year {year}",
                ["campaign", "product", "no.", "county", "reason", "suggested point (WGS84)", "due"],
                rows,
            )
        )
    if sufficient:
        console.print("references sufficient, no task: " + ", ".join(sufficient))
    for line in blocked:
        console.print(f"[yellow]no task[/] {line}")


@app.command("add")
def add(
    file: Path = typer.Argument(..., help="CSV or .xlsx of collected references (see docs/market.md)."),
    set_name: str = typer.Option(..., "--set", help="Reference set name, e.g. xihu-longjing."),
    into: Path = typer.Option(None, help="References directory (default GI_REFERENCES_DIR)."),
    sheet: str = typer.Option(None, help="Sheet of an Excel workbook."),
) -> None:
    """Add collected authentic references to their set with provenance; tasks they fulfil are closed."""
    from gi.quality.reference_intake import add_references

    with working(f"reading and checking {file.name}"), session_scope() as session:
        pending = add_references(session, file, set_name, into, sheet)
    pending.write()  # after the commit that closed the tasks
    console.print(
        f"{pending.added} reference(s) added to {pending.csv_path} ({pending.added_authentic} authentic); "
        f"{pending.synthetic_left} synthetic row(s) remain"
        + (
            " (verdicts using them stay marked synthetic until enough real ones replace them)"
            if pending.synthetic_left
            else ""
        )
    )
