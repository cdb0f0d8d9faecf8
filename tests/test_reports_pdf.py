"""The PDF reports built from a constructed season: rendered with pdftoppm, read back with pdftotext (Chinese
product names and figures), the CJK font embedded (pdffonts), page numbers and repeated table headers, and the
font check that refuses characters the font cannot draw."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fixtures import pdf_pages, pdf_text

from demo.season_map import synthetic_summary
from gi.reads.notice import build_notice
from gi.reads.season import non_conformities, origin_counts
from reports.campaign import campaign_report
from reports.fonts import MissingGlyphsError, missing_glyphs, verify_printable
from reports.layout import ReportOptions
from reports.notice import public_notice

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports"


def pdf_fonts(path: Path) -> list[dict[str, str]]:
    """Rows of pdffonts: name, type and whether the font is embedded."""
    out = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    rows = []
    for line in out[2:]:
        parts = line.split()
        # name, type (may be two words), encoding, emb, sub, uni, object, id
        rows.append({"name": parts[0], "emb": parts[-5], "type": " ".join(parts[1:-6])})
    return rows


def render_pages(path: Path, name: str) -> list[Path]:
    """Render every page to PNG under test-artifacts/reports/ (and prove the PDF renders)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


@pytest.fixture(scope="module")
def summary():  # type: ignore[no-untyped-def]
    """A constructed season of 2,500 samples."""
    return synthetic_summary(2_500, seed=5)


@pytest.fixture(scope="module")
def campaign(summary, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The campaign report of the constructed season (at most 120 detail rows in the PDF)."""
    out = tmp_path_factory.mktemp("campaign") / "campaign.pdf"
    return campaign_report(summary, out, ReportOptions(issuer="某某市市场监督管理局", max_detail_rows=120))


def test_campaign_report_text_fonts_and_pages(summary, campaign) -> None:  # type: ignore[no-untyped-def]
    pages = pdf_pages(campaign.pdf, layout=True)
    text = "\n".join(pages)
    n = len(pages)
    assert n >= 8
    # Every page: header with the report id, footer 第 x 页 共 y 页.
    for number, page in enumerate(pages, start=1):
        assert campaign.report_id in page
        assert re.search(rf"第\s*{number}\s*页\s*共\s*{n}\s*页", page), f"page {number} footer"
    # Chinese product names and the figures of the season.
    for area in summary.areas:
        assert area.name_zh in text
    counts = origin_counts(summary)
    assert f"抽取样品{len(summary.samples):,}批次" in re.sub(r"\s+", "", text)
    for _, row in counts.iterrows():
        line = next(
            line
            for line in text.splitlines()
            if line.strip().startswith(row["product_name"])
            and f"{int(row['samples']):,}" in line
            and f"{int(row['outside']):,}" in line
        )
        assert line
    # Non-conformities: the first ones in the PDF, all of them in the CSV attachment.
    found = non_conformities(summary)
    assert found[0].sample_code in text
    assert campaign.attachments and campaign.attachments[0].suffix == ".csv"
    assert len(campaign.attachments[0].read_text(encoding="utf-8-sig").splitlines()) == len(found) + 1
    # The detail table spans pages and repeats its header on each.
    header_pages = [p for p in pages if "样品编号" in p and "被抽样单位" in p]
    assert len(header_pages) >= 2
    # CJK line breaking: no line begins with closing punctuation.
    raw = pdf_text(campaign.pdf)
    starts = [line for line in raw.splitlines() if line.strip() and line.strip()[0] in "，。；：、）"]
    assert not starts, starts[:5]
    # The CJK font is embedded (as a subset) and is the only font text is set in.
    fonts = pdf_fonts(campaign.pdf)
    cjk = [f for f in fonts if "WenQuanYiZenHei" in f["name"]]
    assert cjk and all(f["emb"] == "yes" and f["type"] == "TrueType" for f in cjk)
    assert len(render_pages(campaign.pdf, "campaign")) == n


def test_public_notice(summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    notice = build_notice(summary)
    files = public_notice(
        summary, tmp_path / "notice.pdf", ReportOptions(issuer="某某市市场监督管理局"), notice
    )
    pages = pdf_pages(files.pdf, layout=True)
    text = re.sub(r"\s+", "", "".join(pages))
    assert "结果的公告" in text and "某某市市场监督管理局" in text
    failed = notice.of("不合格")
    assert f"不合格{len(failed):,}批次" in text
    assert failed[0].number in text and failed[0].sampled_unit.replace(" ", "") in text
    assert "15日内" in text  # the right to ask for a re-test
    for area in summary.areas:
        assert area.name_zh in text
    assert [f for f in pdf_fonts(files.pdf) if "WenQuanYiZenHei" in f["name"] and f["emb"] == "yes"]
    assert render_pages(files.pdf, "notice")


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from maps.cjk_font import MissingFontError, cjk_font_path

    monkeypatch.setenv("GI_CJK_FONT", "/nonexistent/wqy.ttc")
    with pytest.raises(MissingFontError, match="fonts-wqy-zenhei"):
        cjk_font_path()


def test_font_check_refuses_characters_the_font_lacks(summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert missing_glyphs(["西湖龙井 五常大米 ≤ ≥ ± ℃ μ ² ³ 《》（）：，。"]) == {}
    missing = missing_glyphs(["合作社𫓧记", "鿍"])
    assert set(missing) == {"𫓧", "鿍"}
    with pytest.raises(MissingGlyphsError, match="U\\+2B4E7"):
        verify_printable(["钅𫓧"])
    bad = type(summary)(
        title="2025年𫓧乡抽查",
        start=summary.start,
        end=summary.end,
        generated_at=summary.generated_at,
        areas=summary.areas[:1],
        samples=summary.samples.iloc[:10],
    )
    with pytest.raises(MissingGlyphsError):
        campaign_report(bad, tmp_path / "bad.pdf", ReportOptions(issuer="某局", product_maps=False))
    assert not (tmp_path / "bad.pdf").exists()
