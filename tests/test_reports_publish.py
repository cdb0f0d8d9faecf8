"""Documents an office can sign and publish (issue 15): the public notice lists a suspected coordinate error as
待核实, never 不合格; titles and PDF metadata follow the requested period; the notice has every column of a
抽检结果公告; the notice and the campaign report print the same 不合格率; no line breaks inside a date or a
unit; no English word in a Chinese document."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from demo.season_map import synthetic_summary
from gi.errors import InputError
from gi.reads.notice import build_notice
from gi.reads.season import (
    FAILURE_RATE_DEFINITION,
    SeasonSummary,
    default_title,
    failure_rate,
    sample_result,
    with_derived_columns,
)
from reports.campaign import campaign_report
from reports.layout import ReportOptions, printed_lines
from reports.linebreak import keep_spans
from reports.notice import notice_story, public_notice

OPTIONS = ReportOptions(issuer="杭州市西湖区市场监督管理局", product_maps=False, max_detail_rows=60)
NOTICE_COLUMNS = [
    "序号", "样品编号", "标称生产企业名称", "标称生产企业地址", "被抽样单位名称", "被抽样单位地址", "产品名称",
    "规格型号", "生产日期／批号", "不合格项目", "标准值", "检验结果", "检验机构", "备注",
]  # fmt: skip
# Acronyms, unit and element symbols a Chinese document may carry; anything else in Latin letters is English.
ALLOWED_LATIN = {
    "GB", "GPS", "CGCS", "WGS", "GCJ", "BD", "EXIF", "SHA", "ILAC", "JCGM", "ISO", "km", "mg", "kg", "mL", "g",
    "L", "m", "U", "k", "w", "d", "p", "z", "C", "N", "H", "O", "S", "Rb", "Mg", "Mn", "Sr", "Ca", "Na", "Fe",
    "Zn", "Cu", "Ba", "Pb", "Cd", "As", "Hg", "Cr", "Se", "Al", "Ti", "Li", "Cs", "Rg", "Vc", "pH", "JL",
    "GI", "PN", "CR", "SR", "PDF", "DB", "NY", "T", "Q", "GB/T",
}  # fmt: skip


@pytest.fixture(scope="module")
def season() -> SeasonSummary:
    """A constructed season whose first sample has swapped coordinates and an "outside" verdict, whose second
    failed an indicator, and whose third is a market sample at an unregistered stall."""
    summary = synthetic_summary(400, seed=11)
    frame = summary.samples.copy()
    frame.loc[frame.index[0], ["origin", "quality"]] = ["outside", "pass"]
    frame.at[frame.index[0], "flags"] = ("swapped_lat_lon",)
    frame.loc[frame.index[1], ["origin", "quality"]] = ["inside", "fail"]
    frame.loc[frame.index[2], ["producer_name", "producer_code"]] = ["", ""]
    drop = [c for c in ("number", "result", "result_note", "sampled_unit", "sampled_address") if c in frame]
    frame = with_derived_columns(frame.drop(columns=drop + ["producer_kind"]))
    frame.at[frame.index[1], "failed_items"] = (("水分", "≤ 6.5%", "7.4%"),)
    frame.at[frame.index[1], "lot_number"] = "20250402A"
    frame.at[frame.index[1], "laboratories"] = "浙江省农产品质量检测中心"
    frame.at[frame.index[1], "specification"] = "500 g/袋"  # a package size is one unit: never "500 g/ / 袋"
    return replace(summary, samples=frame, title=default_title(summary.start, summary.end))


def pdf_text(path: Path) -> str:
    """The text of a PDF as pdftotext reads it (raw order)."""
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_info(path: Path) -> dict[str, str]:
    """pdfinfo's fields."""
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def english_words(text: str) -> list[str]:
    """Latin-letter words of ``text`` that are not an allowed acronym or symbol."""
    words = re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z/]*(?![A-Za-z0-9])", text)
    return sorted({w for w in words if any(part not in ALLOWED_LATIN for part in w.strip("/").split("/"))})


def test_only_final_findings_are_failures() -> None:
    assert sample_result("outside", "pass", ("swapped_lat_lon",))[0] == "待核实"
    assert sample_result("outside", "pass", ("outside_china",))[0] == "待核实"
    assert sample_result("outside", "pass")[0] == "不合格"
    assert sample_result("uncertain", "pass")[0] == "待核实"
    assert sample_result("inside", "inconclusive")[0] == "待核实"
    assert sample_result("inside", "pending")[0] == "待核实"
    assert sample_result("inside", "fail")[0] == "不合格"
    assert sample_result("inside", "pass")[0] == "合格"
    assert sample_result("inside", "pending", (), "nonconforming", "冒用专用标志")[0] == "不合格"
    assert failure_rate(1, 6) == "16.7%" and failure_rate(0, 0) == "—"


def test_swapped_coordinates_are_listed_as_to_verify(season: SeasonSummary, tmp_path: Path) -> None:
    notice = build_notice(season)
    swapped = season.samples.iloc[0]["number"]
    assert swapped in {r.number for r in notice.of("待核实")}
    assert swapped not in {r.number for r in notice.of("不合格")}
    text = pdf_text(public_notice(season, tmp_path / "notice.pdf", OPTIONS, notice).pdf)
    failures, rest = text.split("二、不合格产品信息")[1].split("三、结论待核实的样品")
    assert swapped not in failures and swapped in rest.split("四、合格产品信息")[0]
    assert "坐标异常" in rest


def test_the_notice_has_every_column(season: SeasonSummary, tmp_path: Path) -> None:
    notice = build_notice(season)
    text = re.sub(r"\s+", "", pdf_text(public_notice(season, tmp_path / "notice.pdf", OPTIONS, notice).pdf))
    failures = text.split("二、不合格产品信息")[1].split("三、")[0]
    for column in NOTICE_COLUMNS:
        assert column in failures, column
    assert "≤6.5%" in failures and "7.4%" in failures and "20250402A" in failures and "500g/袋" in failures
    assert "浙江省农产品质量检测中心" in failures
    # The legal basis is cited by regulation and article, and the issuer signs.
    assert "《地理标志产品保护办法》（国家知识产权局令第80号）第五条" in text and "国发〔2019〕5号" in text
    assert text.count("杭州市西湖区市场监督管理局") >= 2
    # The unregistered stall is its own sampled unit, named by its place, not "市场抽样".
    assert "未登记经营者（" in text


def test_both_documents_print_the_same_failure_rate(season: SeasonSummary, tmp_path: Path) -> None:
    samples = season.samples
    failed = int((samples["result"] == "不合格").sum())
    rate = failure_rate(failed, len(samples))
    notice = re.sub(r"\s+", "", pdf_text(public_notice(season, tmp_path / "n.pdf", OPTIONS).pdf))
    report = re.sub(r"\s+", "", pdf_text(campaign_report(season, tmp_path / "c.pdf", OPTIONS).pdf))
    definition = re.sub(r"\s+", "", FAILURE_RATE_DEFINITION)
    for text in (notice, report):
        assert f"不合格率{rate}" in text and definition in text
    # Per product too: each product's row carries the same rate in both.
    for product, group in samples.groupby("product_name"):
        bad = int((group["result"] == "不合格").sum())
        row = f"{product}{len(group):,}{int((group['result'] == '合格').sum()):,}{bad:,}"
        assert row + f"{int((group['result'] == '待核实').sum()):,}{failure_rate(bad, len(group))}" in notice
        assert row + f"{int((group['result'] == '待核实').sum()):,}{failure_rate(bad, len(group))}" in report


def test_title_and_metadata_follow_the_requested_period(season: SeasonSummary, tmp_path: Path) -> None:
    asked = replace(
        season,
        start=date(2026, 4, 1),
        end=date(2026, 10, 31),
        title=default_title(date(2026, 4, 1), date(2026, 10, 31)),
    )
    assert asked.title == "2026年4月1日至10月31日地理标志产品监督抽检"
    notice = public_notice(asked, tmp_path / "n.pdf", OPTIONS)
    report = campaign_report(asked, tmp_path / "c.pdf", OPTIONS)
    for path, title in ((notice.pdf, f"关于{asked.title}结果的公告"), (report.pdf, f"{asked.title}工作报告")):
        info = pdf_info(path)
        assert info["Title"] == title and info["Subject"] == asked.period
        assert info["Author"] == OPTIONS.issuer
        text = re.sub(r"\s+", "", pdf_text(path))
        assert re.sub(r"\s+", "", title) in text and "2026年04月01日—2026年10月31日" in text
        assert "09-01" not in text and "11-30" not in text


def test_notice_and_report_name_the_activity_one_way(season: SeasonSummary, tmp_path: Path) -> None:
    """A plan titled …监督抽查 is printed as 监督抽检, the word of the notice's body and the report's: title,
    metadata and text of both documents name the one activity one way."""
    planned = replace(season, title="2026年春季地理标志产品监督抽查")
    notice = public_notice(planned, tmp_path / "n.pdf", OPTIONS)
    report = campaign_report(planned, tmp_path / "c.pdf", OPTIONS)
    titles = {
        notice.pdf: "关于2026年春季地理标志产品监督抽检结果的公告",
        report.pdf: "2026年春季地理标志产品监督抽检工作报告",
    }
    for path, title in titles.items():
        text = re.sub(r"\s+", "", pdf_text(path))
        assert pdf_info(path)["Title"] == title and title in text
        assert "监督抽检" in text and "抽查" not in text, path.name
    assert "开展了监督抽检" in re.sub(r"\s+", "", pdf_text(notice.pdf))


def test_an_issuer_is_required_and_an_empty_period_refused(season: SeasonSummary, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="issuer"):
        public_notice(season, tmp_path / "n.pdf", ReportOptions())
    with pytest.raises(InputError, match="issuer"):
        campaign_report(season, tmp_path / "c.pdf", ReportOptions())
    empty = replace(season, samples=season.samples.iloc[:0])
    with pytest.raises(InputError, match="本期无抽检"):
        campaign_report(empty, tmp_path / "c.pdf", OPTIONS)
    assert not (tmp_path / "n.pdf").exists() and not (tmp_path / "c.pdf").exists()


def _broken_spans(story: list) -> list[str]:  # type: ignore[type-arg]
    """Dates, numbers with their units and product names that a laid-out paragraph broke across two lines."""
    from reportlab.platypus import Paragraph, Table

    broken: list[str] = []

    def walk(items: list) -> None:  # type: ignore[type-arg]
        for item in items:
            if isinstance(item, Paragraph):
                lines = list(printed_lines([item]))
                if len(lines) < 2:
                    continue
                joined, cuts, at = "", [], 0
                for line in lines:
                    joined += line
                    at += len(line)
                    cuts.append(at)
                for a, b in keep_spans(joined):
                    if any(a < cut < b for cut in cuts[:-1]):
                        broken.append(joined[a:b])
            elif isinstance(item, Table):
                for row in item._cellvalues:
                    walk(list(row))
            elif isinstance(item, (list, tuple)):
                walk(list(item))
            elif hasattr(item, "_content"):
                walk(list(item._content))

    walk(story)
    return broken


def test_no_line_breaks_inside_a_date_or_a_unit(season: SeasonSummary, tmp_path: Path) -> None:
    from reports.layout import ReportMeta, Styles, build_pdf
    from reports.notice import PAGE

    notice = build_notice(season)
    s = Styles()
    story = notice_story(season, notice, OPTIONS, "GI-PN-TEST", s)
    build_pdf(
        tmp_path / "n.pdf", story, ReportMeta("GI-PN-TEST", "t", "t", season.generated_at, "x", pagesize=PAGE)
    )
    assert _broken_spans(story) == []
    # And the campaign report's paragraphs and cells (captured while it is laid out).
    captured: list = []  # type: ignore[type-arg]
    import reports.campaign as campaign

    original = campaign.build_pdf

    def capture(path, story, meta):  # type: ignore[no-untyped-def]
        captured.extend(story)
        return original(path, story, meta)

    campaign.build_pdf = capture  # type: ignore[assignment]
    try:
        campaign_report(season, tmp_path / "c.pdf", OPTIONS)
    finally:
        campaign.build_pdf = original  # type: ignore[assignment]
    assert captured and _broken_spans(captured) == []
    text = pdf_text(tmp_path / "c.pdf")
    assert re.search(r"\d{4}-\d{2}-\d{2}", text)  # dates carry their year


def test_no_english_word_in_a_chinese_document(season: SeasonSummary, tmp_path: Path) -> None:
    for path in (
        public_notice(season, tmp_path / "n.pdf", OPTIONS).pdf,
        campaign_report(season, tmp_path / "c.pdf", OPTIONS).pdf,
    ):
        assert english_words(pdf_text(path)) == [], path.name


def test_the_detector_sees_english(tmp_path: Path) -> None:
    assert english_words("铅 lead 超标；水分 moisture；δ13C；GB/T 19266；5.2 mg/kg") == ["lead", "moisture"]
    assert english_words("（规则 origin/1）") == ["origin"]
