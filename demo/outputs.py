"""Demo step 5: the season's map (offline HTML), campaign report and public notice (PDF)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from demo.progress import StepProgress, no_progress
from gi.db import session_scope
from gi.reads.notice import season_notice
from gi.reads.season import SeasonSummary, gather_season, sample_date_range
from gi.settings import get_settings
from maps.folium_maps import MapOptions, season_map, write_map
from reports.campaign import campaign_report
from reports.layout import ReportOptions
from reports.notice import public_notice

# The demo's documents are built on synthetic data: the issuer line says so (GI_ISSUING_OFFICE overrides it).
DEMO_ISSUER = "演示单位（模拟数据，非正式发布）"


@dataclass
class OutputsStep:
    """The files written, with what each is; ``skipped`` says why nothing was written."""

    summary: SeasonSummary | None = None
    season_map: Path | None = None
    campaign_report: Path | None = None
    attachments: list[Path] = field(default_factory=list)
    public_notice: Path | None = None
    skipped: str | None = None

    @property
    def written(self) -> list[Path]:
        """Every file written, map first, then the campaign report, its attachments and the notice."""
        files = [self.season_map, self.campaign_report, *self.attachments, self.public_notice]
        return [f for f in files if f is not None]


def write_season_outputs(
    out_dir: Path | None = None,
    period: tuple[date, date] | None = None,
    on_progress: StepProgress = no_progress,
) -> OutputsStep:
    """Write the map, the campaign report and the public notice of ``period`` (default: the stored samples'
    date range) to ``out_dir`` (default: out/demo)."""
    out_dir = out_dir or get_settings().output_dir / "demo"
    with session_scope() as session:
        if period is None:
            period = sample_date_range(session)
            if period is None:
                return OutputsStep(skipped="no samples are stored yet")
        on_progress("reading the season", 0, 4)
        summary = gather_season(session, period[0], period[1])
        notice_content = season_notice(session, summary)
    stem = f"{summary.start:%Y%m%d}_{summary.end:%Y%m%d}"
    options = MapOptions.from_settings()
    on_progress("drawing the season map", 1, 4)
    map_path = write_map(season_map(summary, options), out_dir / f"season_{stem}.html", options)
    on_progress("writing the campaign report", 2, 4)
    documents = ReportOptions.from_settings()
    if not documents.issuer:  # synthetic data: say so where the issuer signs
        documents = replace(documents, issuer=DEMO_ISSUER)
    report = campaign_report(summary, out_dir / f"campaign_{stem}.pdf", documents)
    on_progress("writing the public notice", 3, 4)
    notice = public_notice(summary, out_dir / f"notice_{stem}.pdf", documents, notice_content)
    on_progress("written", 4, 4)
    return OutputsStep(summary, map_path, report.pdf, list(report.attachments), notice.pdf)
