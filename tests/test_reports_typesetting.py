"""The Chinese documents' wording and typesetting, rendered and read back: units and limits in Chinese forms,
column names broken where they read well, a lot number on one line, no "（" at a line's end, and an empty
period's notice that announces no results."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from fixtures import pdf_text
from reportlab.platypus import SimpleDocTemplate

from gi.quality.wording import limit_zh, quantity_zh, unit_zh
from gi.reads.notice import build_notice
from gi.reads.season import SeasonSummary, empty_samples
from reports.layout import ReportOptions, Styles, data_table
from reports.notice import public_notice


def test_units_and_limits_in_chinese_forms() -> None:
    assert unit_zh("score") == "分" and unit_zh("mg/dm2") == "mg/dm²" and unit_zh("count/50g") == "个/50 g"
    assert quantity_zh("68.2", "score") == "68.2分" and quantity_zh("1.51", "%") == "1.51%"
    assert quantity_zh("0.93", "mg/dm2") == "0.93 mg/dm²"
    assert limit_zh("≥ 15, ≤ 19 %", "%") == "15%～19%"
    assert limit_zh("≥ 90 score", "score") == "≥ 90分"
    assert limit_zh("≤ 0.8 mg/dm2", "mg/dm2") == "≤ 0.8 mg/dm²"
    assert limit_zh("> 5, < 9 %", "%") == "> 5%，< 9%"


def _build(path: Path, story: list) -> str:  # type: ignore[type-arg]
    SimpleDocTemplate(str(path)).build(story)
    return pdf_text(path)


def test_tables_break_names_and_codes_where_they_read_well(tmp_path: Path) -> None:
    s = Styles()
    table = data_table(
        ["产品", "发放/产能", "品质不合格占比", "产地相符（区域内）", "生产日期／批号", "原因"],
        [
            [
                "西湖龙井",
                "0.036",
                "12.5%",
                "4",
                "批号 SIM-2024-0002",
                "实测 0.93 mg/dm²，要求 ≤ 0.8 mg/dm²（不合格）",
            ]
        ],
        [24, 15, 22, 26, 26, 34],
        s,
    )
    text = _build(tmp_path / "table.pdf", [table])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "发放/" in lines and "产能" in lines  # never "发放/产 / 能"
    assert "品质不合格" in lines and "占比" in lines  # never "品质不合格占 / 比"
    assert "（区域内）" in lines
    assert any("SIM-2024-0002" in line for line in lines)  # the lot number on one line
    assert not [line for line in lines if line.endswith("（")]


def test_empty_period_notice_announces_no_results(tmp_path: Path) -> None:
    summary = SeasonSummary(
        title="2027年1月1日至1月31日地理标志产品监督抽检",
        start=date(2027, 1, 1),
        end=date(2027, 1, 31),
        generated_at=datetime(2027, 2, 1, tzinfo=UTC),
        areas=[],
        samples=empty_samples(),
    )
    files = public_notice(
        summary, tmp_path / "notice.pdf", ReportOptions(issuer="某某市市场监督管理局"), build_notice(summary)
    )
    text = re.sub(r"\s+", "", pdf_text(files.pdf))
    assert "未抽取样品（本期无抽检）" in text
    assert "现将抽检结果公告如下" not in text and "抽检内容包括" not in text
    assert "不合格产品信息" not in text and "本次抽检未发现不合格产品" not in text
    assert "二、有关要求" in text
