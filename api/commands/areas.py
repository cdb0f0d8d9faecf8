"""`gi areas`: import a new area version from a file or a coordinate box, and show a product's history."""

from __future__ import annotations

from pathlib import Path

import typer

from api.console import console, table
from api.options import parse_day
from gi.db import session_scope
from gi.register.areas import (
    AreaImport,
    add_area_version,
    area_history,
    as_aware,
    find_product,
    import_area_file,
)

app = typer.Typer(help="Protected production areas (保护范围) and their versions.", no_args_is_help=True)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="GeoJSON, GeoPackage, zipped Shapefile or KML."),
    product: str = typer.Option(..., "--product", "-p", help="Product code or Chinese name."),
    crs: str = typer.Option(
        None, help="Declared CRS: WGS84, CGCS2000, GCJ02, BD09 or EPSG:n (default: the file's)."
    ),
    legal_basis: str = typer.Option(
        None, "--legal-basis", help="Announcement or clause that defines the area."
    ),
    valid_from: str = typer.Option(
        None, "--valid-from", metavar="DATE", help="In force from YYYY-MM-DD (default: now)."
    ),
    layer: str = typer.Option(None, help="Layer of a multi-layer file (GeoPackage)."),
) -> None:
    """Import FILE as the product's next area version; the previous version's validity is closed."""
    with session_scope() as session:
        area = import_area_file(
            session,
            product,
            file,
            crs=crs,
            legal_basis=legal_basis,
            valid_from=parse_day(valid_from, "valid_from"),
            layer=layer,
        )
        console.print(
            f"{area.product.name_zh}: area version {area.version} stored "
            f"({float(area.area_km2):,.1f} km², {area.vertex_count:,} vertices, from {area.source_crs})"
        )
        for note in area.repair_notes:
            console.print(f"[yellow]repaired[/] {note}")


@app.command("box")
def box_(
    product: str = typer.Option(..., "--product", "-p", help="Product code or Chinese name."),
    west: str = typer.Option(..., metavar="LON", help="Western edge, e.g. 111°42′00″E or 111.7."),
    south: str = typer.Option(..., metavar="LAT", help="Southern edge, e.g. 30°12′N or 30.2."),
    east: str = typer.Option(..., metavar="LON", help="Eastern edge."),
    north: str = typer.Option(..., metavar="LAT", help="Northern edge."),
    crs: str = typer.Option("WGS84", help="CRS of the corners: WGS84, CGCS2000, GCJ02, BD09 or EPSG:n."),
    legal_basis: str = typer.Option(
        ..., "--legal-basis", help="Announcement or clause that defines the area."
    ),
    valid_from: str = typer.Option(
        None, "--valid-from", metavar="DATE", help="In force from YYYY-MM-DD (default: now)."
    ),
) -> None:
    """Store an area defined by a coordinate box (as some announcements define it) as the next version."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from geo_data.io import area_from_box
    from gi.settings import get_settings

    geometry = area_from_box(west, south, east, north, crs=crs)
    start = parse_day(valid_from, "valid_from")
    with session_scope() as session:
        p = find_product(session, product)
        area = add_area_version(
            session,
            p,
            AreaImport(
                geometry=geometry,
                legal_basis=legal_basis,
                source=f"box {west} {south} {east} {north}",
                source_crs=crs,
                admin_units=[],
                valid_from=as_aware(start) if start else datetime.now(ZoneInfo(get_settings().timezone)),
            ),
        )
        console.print(f"{p.name_zh}: area version {area.version} stored ({float(area.area_km2):,.2f} km²)")


@app.command("history")
def history(product: str = typer.Argument(..., help="Product code or Chinese name.")) -> None:
    """List every area version of PRODUCT with its validity, size and legal basis."""
    with session_scope() as session:
        versions = area_history(session, product)
        name = find_product(session, product).name_zh
        console.print(
            table(
                f"{name}: area versions",
                ["version", "valid from", "valid to", "km²", "vertices", "source", "crs", "legal basis"],
                [
                    [
                        a.version,
                        f"{a.valid_from:%Y-%m-%d}",
                        f"{a.valid_to:%Y-%m-%d}" if a.valid_to else "current",
                        float(a.area_km2),
                        a.vertex_count,
                        a.source,
                        a.source_crs,
                        a.legal_basis[:50],
                    ]
                    for a in versions
                ],
            )
        )
