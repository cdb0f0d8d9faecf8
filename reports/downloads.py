"""The PDFs the dashboard offers for download, built in a scratch directory and answered as bytes: the season's
campaign report narrowed to the caller's region, the season's public notice, and one sample's inspection record."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from gi.accounts.scope import Scope
from gi.reads.notice import season_notice
from gi.reads.season import gather_season
from reports.campaign import campaign_report
from reports.data import gather_sample_record
from reports.notice import public_notice
from sampling.dashboard import Season, sample_in_scope, scoped_season


@dataclass(frozen=True)
class Download:
    """A built PDF: its file name and bytes, and the report id printed on it."""

    filename: str
    content: bytes
    report_id: str


def season_report_pdf(session: Session, scope: Scope, season: Season) -> Download:
    """The campaign report (工作报告) of the season for the caller's region."""
    summary = scoped_season(session, scope, season.start, season.end, title=season.plan_title)
    with tempfile.TemporaryDirectory(prefix="gi-dl-") as work:
        files = campaign_report(summary, Path(work) / "campaign.pdf")
        return Download(
            f"campaign_{season.start:%Y%m%d}_{season.end:%Y%m%d}.pdf", files.pdf.read_bytes(), files.report_id
        )


def season_notice_pdf(session: Session, season: Season) -> Download:
    """The public notice of the season's results (结果公告): a public document, the same for every caller."""
    summary = gather_season(session, season.start, season.end, title=season.plan_title)
    entries = season_notice(session, summary)
    with tempfile.TemporaryDirectory(prefix="gi-dl-") as work:
        files = public_notice(summary, Path(work) / "notice.pdf", notice=entries)
        return Download(
            f"notice_{season.start:%Y%m%d}_{season.end:%Y%m%d}.pdf", files.pdf.read_bytes(), files.report_id
        )


def sample_record_pdf(session: Session, scope: Scope, key: str) -> Download:
    """The inspection record (抽样检验记录单) of a sample the caller may see."""
    from reports.record import sample_record

    sample_id = sample_in_scope(session, scope, key)
    record = gather_sample_record(session, str(sample_id))
    with tempfile.TemporaryDirectory(prefix="gi-dl-") as work:
        files = sample_record(record, Path(work) / "record.pdf")
        return Download(f"record_{record.code}.pdf", files.pdf.read_bytes(), files.report_id)
