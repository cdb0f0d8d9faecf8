"""`gi areas`: import a new area version from a file or a coordinate box, re-judge samples, show the history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.console import console, err_console, progress_callback, table, working
from api.options import check_angle, parse_day
from gi.db import session_scope
from gi.errors import InputError
from gi.register.areas import (
    AreaImportResult,
    area_history,
    as_aware,
    find_product,
    import_area_box,
    import_area_file,
)

if TYPE_CHECKING:
    from gi.origin.distributed import RejudgeInterrupted

app = typer.Typer(help="Protected production areas (保护范围) and their versions.", no_args_is_help=True)


def _describe_import(result: AreaImportResult) -> list[str]:
    """What an import did: the version stored (or why nothing was), its change, the samples judged again.
    Built inside the session and printed after its commit, so that "stored" is never said of a rolled-back row."""
    area = result.area
    if not result.stored:
        return [f"{area.product.name_zh}: {result.change.describe()}, version {area.version}; nothing stored"]
    lines = [
        f"{area.product.name_zh}: area version {area.version} stored, valid from {area.valid_from:%Y-%m-%d} "
        f"({float(area.area_km2):,.1f} km², {area.vertex_count:,} vertices, from {area.source_crs})",
        f"change: {result.change.describe()}",
    ]
    units = [f"{u.get('name') or ''}{u.get('code') or ''}" for u in area.admin_units]
    lines.append(
        f"counties: {'、'.join(units)}"
        if units
        else "[yellow]counties: none[/] (reference planning needs them)"
    )
    lines += [f"[yellow]repaired[/] {note}" for note in area.repair_notes]
    if result.rejudged is not None:
        lines.append(f"re-judged: {result.rejudged.describe()}")
    return lines


REPLACE_HELP = "Replace the current area even when the new one differs a lot from it (a legal change)."


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
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
) -> None:
    """Import FILE as the product's next area version; the previous version's validity is closed and the stored
    samples collected since VALID_FROM are judged again."""
    with working(f"reading {file.name}, checking and storing the area"), session_scope() as session:
        result = import_area_file(
            session,
            product,
            file,
            crs=crs,
            legal_basis=legal_basis,
            valid_from=parse_day(valid_from, "--valid-from"),
            layer=layer,
            replace=replace,
        )
        lines = _describe_import(result)
    for line in lines:
        console.print(line)


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
    replace: bool = typer.Option(False, "--replace", help=REPLACE_HELP),
) -> None:
    """Store an area defined by a coordinate box (as some announcements define it) as the next version."""
    with working("storing the area and judging the samples again"), session_scope() as session:
        result = import_area_box(
            session,
            product,
            check_angle(west, "--west"),
            check_angle(south, "--south"),
            check_angle(east, "--east"),
            check_angle(north, "--north"),
            legal_basis=legal_basis,
            crs=crs,
            valid_from=parse_day(valid_from, "--valid-from"),
            replace=replace,
        )
        lines = _describe_import(result)
    for line in lines:
        console.print(line)


@app.command("rejudge")
def rejudge(
    product: str = typer.Argument(None, help="Product code or Chinese name (default: every product)."),
    since: str = typer.Option(
        None, "--since", metavar="DATE", help="Only samples collected from YYYY-MM-DD on."
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        help="Judge on Dask: a LocalCluster of this many worker processes (0 = in this process).",
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", metavar="ADDRESS", help="Judge on the Dask cluster at ADDRESS (tcp://host:8786)."
    ),
    state: Path = typer.Option(
        None,
        "--state",
        metavar="FILE",
        help="Dask only: record committed months in FILE and skip them when run again.",
    ),
    only_stale: bool = typer.Option(
        False,
        "--only-stale",
        help="Only samples whose verdict names another area version than the one valid at collection, or none "
        "(what an area change alters; selected in the database, so years of samples take seconds).",
    ),
) -> None:
    """Judge stored samples again against the area versions valid when they were collected; a new verdict is
    stored where it differs (the earlier one stays as history). With --workers or --scheduler the samples are
    judged month by month on Dask, each month in a transaction of its own."""
    from gi.origin.rejudge import rejudge_samples

    if workers < 0:
        raise InputError("--workers", f"must be 0 or more, not {workers}")
    if state is not None and not (workers or scheduler):
        raise InputError("--state", "needs --workers or --scheduler (the serial run is one transaction)")
    start = parse_day(since, "--since")
    moment = as_aware(start) if start else None
    if workers or scheduler:
        from gi.db import database_url
        from gi.origin.distributed import RejudgeInterrupted, run_rejudge_job
        from gi.settings import get_settings

        with session_scope() as session:
            product_id = find_product(session, product).id if product else None
        try:
            with progress_callback("re-judging on Dask") as update:
                job = run_rejudge_job(
                    database_url(),
                    get_settings(),
                    product_id,
                    since=moment,
                    scheduler=scheduler,
                    workers=workers or 2,
                    state_path=state,
                    progress=update,
                    only_stale=only_stale,
                )
        except RejudgeInterrupted as stop:
            err_console.print(_interrupted(stop, state), highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        console.print(job.describe())
        return
    with working("judging the stored samples again"), session_scope() as session:
        product_id = find_product(session, product).id if product else None
        report = rejudge_samples(session, product_id, since=moment, only_stale=only_stale)
    console.print(report.describe())


def _interrupted(stop: RejudgeInterrupted, state: Path | None) -> str:
    """The one line a Ctrl-C of a Dask re-judgement prints: what was committed, and how to go on."""
    done = stop.report
    of = f" of {stop.planned:,}" if stop.planned is not None else ""
    what = (
        f"{done.partitions:,}{of} partitions committed ({done.examined:,} samples judged again, "
        f"{done.rejudged:,} new verdicts)"
        if done.partitions
        else "no partition committed"
    )
    again = (
        f"run it again with --state {state} to resume (committed months are skipped)"
        if state is not None
        else "running it again stores nothing twice (add --state FILE to skip what is done)"
    )
    return f"interrupted: {what}; {again}"


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
