"""`gi report`: write the season campaign report, a sample's inspection record and the public notice (PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.commands.maps import gather
from api.console import console, working
from api.options import PERIOD_FROM, PERIOD_SEASON, PERIOD_TO

if TYPE_CHECKING:  # the domain is imported when a command runs, so `gi --help` stays quick
    from gi.reads.notice import SeasonNotice
    from gi.reads.season import SeasonSummary
    from reports.layout import ReportOptions

app = typer.Typer(
    help="PDF reports: campaign report, sample inspection record, public notice of results.",
    no_args_is_help=True,
)


def _reports_dir() -> Path:
    from gi.settings import get_settings

    return get_settings().output_dir / "reports"


def _options(issuer: str | None, max_rows: int | None = None, product_maps: bool = True) -> ReportOptions:
    from reports.layout import ReportOptions

    return ReportOptions.from_settings(issuer=issuer, max_detail_rows=max_rows, product_maps=product_maps)


def notice_from_db(summary: SeasonSummary) -> SeasonNotice:
    """The public notice of ``summary`` (gi.reads.notice.season_notice)."""
    from gi.db import session_scope
    from gi.reads.notice import season_notice

    with session_scope() as session:
        return season_notice(session, summary)


@app.command("campaign")
def campaign(
    start: str = PERIOD_FROM,
    end: str = PERIOD_TO,
    season: str = PERIOD_SEASON,
    products: list[str] = typer.Option(None, "--product", "-p", help="Only this product (repeatable)."),
    title: str = typer.Option(None, "--title", help="Title of the campaign (default: from the dates)."),
    issuer: str = typer.Option(
        None, "--issuer", help="Issuing office printed on the report (default: GI_ISSUING_OFFICE; required)."
    ),
    max_rows: int = typer.Option(
        None, "--max-rows", help="Non-conformities listed in the PDF (the rest go to CSV)."
    ),
    no_product_maps: bool = typer.Option(False, "--no-product-maps", help="Leave out the per-product maps."),
    out: Path = typer.Option(
        None, "--out", "-o", help="PDF file (default: out/reports/campaign_<from>_<to>.pdf)."
    ),
) -> None:
    """Write the season campaign report: coverage, verdicts, non-conformities, maps and charts."""
    from reports.campaign import campaign_report

    with working("reading the season") as step:
        summary = gather(start, end, products, title, season)
        path = out or _reports_dir() / f"campaign_{summary.start:%Y%m%d}_{summary.end:%Y%m%d}.pdf"
        step("writing the campaign report (maps, charts, tables)")
        files = campaign_report(summary, path, _options(issuer, max_rows, not no_product_maps))
    console.print(f"campaign report {files.report_id}: {files.pdf}")
    for attachment in files.attachments:
        console.print(f"attachment: {attachment}")


@app.command("notice")
def notice(
    start: str = PERIOD_FROM,
    end: str = PERIOD_TO,
    season: str = PERIOD_SEASON,
    products: list[str] = typer.Option(None, "--product", "-p", help="Only this product (repeatable)."),
    title: str = typer.Option(None, "--title", help="Title of the campaign (default: from the dates)."),
    issuer: str = typer.Option(
        None, "--issuer", help="Issuing office printed on the notice (default: GI_ISSUING_OFFICE; required)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="PDF file (default: out/reports/notice_<from>_<to>.pdf)."
    ),
) -> None:
    """Write the public notice of the season's results (no personal data of inspectors)."""
    from reports.notice import public_notice

    with working("reading the season") as step:
        summary = gather(start, end, products, title, season)
        path = out or _reports_dir() / f"notice_{summary.start:%Y%m%d}_{summary.end:%Y%m%d}.pdf"
        content = notice_from_db(summary)
        step("writing the public notice")
        files = public_notice(summary, path, _options(issuer), notice=content)
    console.print(f"public notice {files.report_id}: {files.pdf}")


@app.command("record")
def record(
    sample: str = typer.Argument(
        ..., help="Sample UUID or its first 8+ hex digits (the code on maps and reports)."
    ),
    photos: list[Path] = typer.Option(
        None,
        "--photo",
        help="Store a photo with the sample first (JPEG/PNG/WebP, repeatable); the record prints every stored photo.",
    ),
    issuer: str = typer.Option(None, "--issuer", help="Inspecting authority printed on the record."),
    out: Path = typer.Option(None, "--out", "-o", help="PDF file (default: out/reports/record_<code>.pdf)."),
) -> None:
    """Write the inspection record of one sample: sample, location and origin verdict, lab results against the
    limits, inspectors, photos."""
    from gi.db import session_scope
    from gi.errors import InputError
    from reports.data import gather_sample_record
    from reports.record import sample_record

    for photo in photos or []:
        if not photo.is_file():
            raise InputError("photo", f"{photo} does not exist")
    with working("reading the sample") as step:
        if photos:
            from gi.origin.photos import attach_photo
            from reports.data import find_sample

            step("storing the photos with the sample")
            with session_scope() as session:  # committed before the record that prints them
                sample_id = find_sample(session, sample).id
                for photo in photos:
                    attach_photo(session, sample_id, photo.read_bytes(), "gi report record", name=str(photo))
        with session_scope() as session:
            data = gather_sample_record(session, sample)
        path = out or _reports_dir() / f"record_{data.code}.pdf"
        step("writing the inspection record")
        files = sample_record(data, path, _options(issuer))
    console.print(f"inspection record {files.report_id}: {files.pdf}")
