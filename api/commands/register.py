"""`gi register load`: load the bundled register of real GI products (or another file in its format)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.console import console, progress
from gi.db import session_scope

if (
    TYPE_CHECKING
):  # the loader reads area files with geopandas: only `gi register` loads it (not every command)
    from gi.register.loader import RegisterLoadReport

app = typer.Typer(help="The register of GI products, areas, limits and seasons.", no_args_is_help=True)


def load_with_progress(file: Path | None = None, areas: Path | None = None) -> RegisterLoadReport:
    """Load the register in one transaction, showing a progress bar per product."""
    from geo_data.register import load_register
    from gi.register.loader import load_register_into_db

    total = len(load_register(file).products)
    with progress() as bar, session_scope() as session:
        task = bar.add_task("loading register", total=total)
        report = load_register_into_db(
            session,
            file,
            areas,
            on_product=lambda name: bar.update(task, advance=1, description=f"loading {name}"),
        )
    return report


@app.command("load")
def load(
    file: Path = typer.Argument(None, help="Register JSON (default: the bundled real register)."),
    areas: Path = typer.Option(None, help="Areas GeoJSON (default: areas.geojson beside FILE)."),
) -> None:
    """Load (or refresh) the register: products, quality limits, seasons and new area versions."""
    report = load_with_progress(file, areas)
    console.print(
        f"register loaded: {report.products_added} products added, {report.products_updated} updated, "
        f"{report.area_versions_added} area versions added, {report.limits_upserted} limits, "
        f"{report.seasons_loaded} seasons"
    )
    for note in report.notes:
        console.print(f"[yellow]note[/] {note}")
