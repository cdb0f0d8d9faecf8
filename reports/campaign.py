"""The season campaign report (监督抽查工作报告): coverage planned vs done per product and county, origin and
quality verdict tables, non-conformities with reasons, the maps and charts of results."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
from reportlab.platypus import CondPageBreak, Flowable, PageBreak

from gi.reads.season import CoverageRow, SeasonSummary, non_conformities, origin_counts, quality_counts
from maps import static
from maps.style import ORIGIN_CATEGORIES, QUALITY_CATEGORIES
from reports import charts
from reports.layout import (
    ReportFiles,
    ReportMeta,
    ReportOptions,
    Styles,
    build_pdf,
    data_table,
    image,
    key_value_table,
    para,
    report_id,
    spacer,
)
from reports.market import market_section

_CHINESE_NUMBERS = "一二三四五六七八九十"


class _Headings:
    """Numbers the report's sections 一、二、… in the order they are written."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, text: str, s: Styles) -> Flowable:
        self.count += 1
        return para(f"{_CHINESE_NUMBERS[self.count - 1]}、{text}", s.h1)


heading = _Headings()


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def _counts_rows(table: pd.DataFrame, codes: list[str], bad: str) -> list[list[object]]:
    rows = []
    for _, row in table.iterrows():
        rows.append(
            [row["product_name"], f"{int(row['samples']):,}"]
            + [f"{int(row[c]):,}" for c in codes]
            + [_pct(row[bad], row["samples"])]
        )
    if len(table) > 1:
        total = table[["samples", *codes]].sum()
        rows.append(
            ["合计", f"{int(total['samples']):,}"]
            + [f"{int(total[c]):,}" for c in codes]
            + [_pct(total[bad], total["samples"])]
        )
    return rows


def _overview(summary: SeasonSummary, s: Styles) -> list[Flowable]:
    samples = summary.samples
    n = len(samples)
    origin = samples["origin"].value_counts() if n else pd.Series(dtype=int)
    quality = samples["quality"].value_counts() if n else pd.Series(dtype=int)
    tested = n - int(quality.get("pending", 0))
    products = samples["product_code"].nunique() if n else 0
    counties = samples.loc[samples["county_code"] != "", "county_code"].nunique() if n else 0
    producers = samples.loc[samples["producer_name"] != "", "producer_name"].nunique() if n else 0
    text = (
        f"{summary.period}，对 {len(summary.areas)} 个地理标志产品开展监督抽查，"
        f"在 {counties} 个县（市、区）抽取样品 {n:,} 批次"
        f"（涉及 {products} 个产品、{producers} 家生产经营者）。"
        f"产地核验：产地相符 {int(origin.get('inside', 0)):,} 批次，"
        f"边界存疑 {int(origin.get('uncertain', 0)):,} 批次，"
        f"产地不符 {int(origin.get('outside', 0)):,} 批次（{_pct(origin.get('outside', 0), n)}），"
        f"未核验 {int(origin.get('unchecked', 0)):,} 批次。"
    )
    if tested:
        text += (
            f"特色品质检验已出结果 {tested:,} 批次，其中合格 {int(quality.get('pass', 0)):,} 批次，"
            f"不合格 {int(quality.get('fail', 0)):,} 批次（{_pct(quality.get('fail', 0), tested)}），"
            f"结果存疑 {int(quality.get('inconclusive', 0)):,} 批次。"
        )
    else:
        text += "本期尚无特色品质检验结果。"
    if summary.producers_outside:
        text += f"另发现 {len(summary.producers_outside)} 家授权生产者的登记位置位于其授权产品保护范围之外。"
    figures = [
        ("抽样期间", summary.period),
        ("涉及产品", f"{len(summary.areas)} 个"),
        ("样品批次", f"{n:,}"),
        ("产地不符", f"{int(origin.get('outside', 0)):,}（{_pct(origin.get('outside', 0), n)}）"),
        ("边界存疑", f"{int(origin.get('uncertain', 0)):,}"),
        ("品质不合格", f"{int(quality.get('fail', 0)):,}（{_pct(quality.get('fail', 0), tested)}）"),
        ("待检验", f"{int(quality.get('pending', 0)):,}"),
        ("区域外授权生产者", f"{len(summary.producers_outside)} 家"),
    ]
    return [
        heading("总体情况", s),
        para(text, s.body),
        spacer(1),
        key_value_table(figures, s, widths=(30, 57), columns=2),
    ]


def _coverage(summary: SeasonSummary, s: Styles, work: Path) -> list[Flowable]:
    out: list[Flowable] = [heading("抽样计划完成情况", s)]
    rows = summary.coverage
    if summary.planning_available:
        out.append(
            para(
                "按产品和县（市、区）统计抽查计划任务的完成情况（任务已抽样或已完成即计为完成）及实际抽取样品数。"
                "计划外样品（如市场抽样、跨区域抽样）只计入样品数，按产品合并列示。",
                s.body,
            )
        )
        table_rows, low, sub = _coverage_rows(rows)
        out.append(
            data_table(
                ["产品", "县（市、区）", "计划任务", "已完成", "完成率", "样品数"],
                table_rows,
                [38, 52, 21, 21, 21, 21],
                s,
                align=["left", "left", "right", "right", "right", "right"],
                highlight=low,
                shaded=sub,
                zebra=False,
            )
        )
        if low:
            out.append(para("红色为计划任务完成率低于 80% 的县（市、区）。", s.note))
    else:
        out.append(para("本期未关联抽查计划，以下仅统计实际抽取的样品数。", s.body))
        out.append(
            data_table(
                ["产品", "县（市、区）", "样品数"],
                [[r.product_name, r.county_name, r.samples] for r in rows],
                [60, 70, 44],
                s,
                align=["left", "left", "right"],
            )
        )
    if rows:
        chart = charts.coverage_bars(
            rows,
            "各产品计划任务与完成情况" if summary.planning_available else "各产品样品数",
            work / "coverage.png",
        )
        out.append(image(chart, 160, None, s))
    return out


def _coverage_rows(rows: list[CoverageRow]) -> tuple[list[list[object]], list[int], list[int]]:
    """Table rows: planned counties one by one, unplanned ones merged, a subtotal per product and a total."""
    out: list[list[object]] = []
    low: list[int] = []
    subtotals: list[int] = []
    by_product: dict[str, list[CoverageRow]] = {}
    for r in rows:
        by_product.setdefault(r.product_name, []).append(r)
    grand = [0, 0, 0]
    for product, items in by_product.items():
        planned = [r for r in items if r.planned]
        unplanned = [r for r in items if not r.planned]
        for r in sorted(planned, key=lambda r: -(r.planned or 0)):
            if (r.done or 0) / (r.planned or 1) < 0.8:
                low.append(len(out))
            out.append(
                [product, r.county_name, r.planned, r.done, _pct(r.done or 0, r.planned or 0), r.samples]
            )
        if unplanned:
            out.append(
                [
                    product,
                    f"计划外（{len(unplanned)} 个县市区）",
                    0,
                    0,
                    "—",
                    sum(r.samples for r in unplanned),
                ]
            )
        totals = [
            sum(r.planned or 0 for r in items),
            sum(r.done or 0 for r in items),
            sum(r.samples for r in items),
        ]
        subtotals.append(len(out))
        out.append(
            [f"{product} 小计", "", totals[0], totals[1], _pct(totals[1], totals[0]), f"{totals[2]:,}"]
        )
        grand = [g + t for g, t in zip(grand, totals, strict=True)]
    if len(by_product) > 1:
        subtotals.append(len(out))
        out.append(["合计", "", f"{grand[0]:,}", f"{grand[1]:,}", _pct(grand[1], grand[0]), f"{grand[2]:,}"])
    return out, low, subtotals


def _origin(summary: SeasonSummary, s: Styles, work: Path) -> list[Flowable]:
    table = origin_counts(summary)
    codes = [c.code for c in ORIGIN_CATEGORIES]
    out: list[Flowable] = [
        CondPageBreak(60 * 2.83),
        heading("产地核验结果", s),
        para(
            f"以采样时有效的保护范围版本判定采样点是否位于保护范围内；距边界 {summary.tolerance_m:g} 米"
            "（或 GPS 精度，取大者）以内判为“边界存疑”，需现场复核；"
            "不可信的定位（精度为 0、精度超限、非 GPS 定位）"
            "不判为“区域内”。",
            s.body,
        ),
    ]
    out.append(
        data_table(
            ["产品", "样品数"] + [c.label for c in ORIGIN_CATEGORIES] + ["不符率"],
            _counts_rows(table, codes, "outside"),
            [34, 20, 26, 26, 26, 20, 22],
            s,
            align=["left"] + ["right"] * 6,
            long=False,
        )
    )
    if len(table):
        chart = charts.verdict_bars(
            table, ORIGIN_CATEGORIES, "各产品产地核验结论构成", work / "origin_bars.png"
        )
        out.append(image(chart, 160, None, s))
        weekly = charts.weekly_results(
            summary.samples, "origin", ORIGIN_CATEGORIES, "按周统计的样品及产地核验结论", work / "weekly.png"
        )
        out.append(image(weekly, 160, None, s))
    overview = static.season_png(summary, work / "season_origin.png", colour_by="origin", title=None)
    out.append(image(overview, 165, "图 1  样品产地核验结果分布", s))
    return out


def _quality(summary: SeasonSummary, s: Styles, work: Path) -> list[Flowable]:
    table = quality_counts(summary)
    codes = [c.code for c in QUALITY_CATEGORIES]
    out: list[Flowable] = [CondPageBreak(60 * 2.83), heading("特色品质检验结果", s)]
    if not summary.quality_available:
        out.append(para("本期尚无特色品质检验结果，样品均为“待检验”。", s.body))
        return out
    out.append(
        para(
            "依据各产品标准规定的特色质量指标和判定规则，以采样日期有效的指标限值判定。"
            "缺少强制性指标结果的样品判为“结果存疑”。",
            s.body,
        )
    )
    out.append(
        data_table(
            ["产品", "样品数"] + [c.label for c in QUALITY_CATEGORIES] + ["不合格率"],
            _counts_rows(table, codes, "fail"),
            [34, 20, 24, 26, 24, 24, 22],
            s,
            align=["left"] + ["right"] * 6,
            long=False,
        )
    )
    if len(table):
        chart = charts.verdict_bars(
            table, QUALITY_CATEGORIES, "各产品特色品质检验结论构成", work / "quality_bars.png"
        )
        out.append(image(chart, 160, None, s))
    quality_map = static.season_png(summary, work / "season_quality.png", colour_by="quality", title=None)
    out.append(image(quality_map, 165, "图 2  样品特色品质检验结果分布", s))
    return out


def _maps(summary: SeasonSummary, s: Styles, work: Path, options: ReportOptions) -> list[Flowable]:
    with_samples = [a for a in summary.areas if (summary.samples["product_code"] == a.product_code).any()]
    if not options.product_maps or not with_samples:
        return []
    out: list[Flowable] = [PageBreak(), heading("各产品样品分布", s)]
    figure = 3 if summary.quality_available else 2
    for area in with_samples:
        subset = summary.samples[summary.samples["product_code"] == area.product_code]
        path = static.regional_png(
            work / f"product_{area.product_code}.png",
            [area],
            subset,
            summary.producers_outside,
            size=static.ImageSize(7.0, 4.6),
        )
        out.append(
            image(
                path,
                150,
                f"图 {figure}  {area.name_zh}：样品产地核验结果（保护范围第 {area.version} 版，"
                f"{area.area_km2:,.0f} 平方千米，样品 {len(subset):,} 批次）",
                s,
            )
        )
        figure += 1
    return out


def _non_conformities(
    summary: SeasonSummary, s: Styles, pdf_path: Path, options: ReportOptions
) -> tuple[list[Flowable], list[Path]]:
    found = non_conformities(summary)
    out: list[Flowable] = [PageBreak(), heading("不合格及存疑样品明细", s)]
    attachments: list[Path] = []
    if not found:
        out.append(para("本期未发现产地不符、边界存疑或品质不合格的样品。", s.body))
        return out, attachments
    failures = sum(1 for f in found if f.severity == "不符合")
    out.append(
        para(
            f"共 {len(found):,} 条（不符合 {failures:,} 条，存疑 {len(found) - failures:,} 条），"
            "按采样时间排列。"
            "“存疑”样品需现场复核或复检后再作结论。",
            s.body,
        )
    )
    shown = found[: options.max_detail_rows]
    rows = [
        [
            i + 1,
            f.sample_code,
            f.product_name,
            f.county_name,
            f"{f.collected_at:%m-%d}",
            f.kind,
            f.severity,
            f.producer_name or "市场抽样",
            f.reason,
        ]
        for i, f in enumerate(shown)
    ]
    bad = [i for i, f in enumerate(shown) if f.severity == "不符合"]
    out.append(
        data_table(
            ["序号", "样品编号", "产品", "区县", "日期", "类别", "结论", "被抽样单位", "原因"],
            rows,
            [9, 18, 21, 15, 10, 9, 13, 28, 51],
            s,
            align=["right", "code", "left", "left", "centre", "centre", "centre", "left", "left"],
            highlight=bad,
        )
    )
    if len(found) > len(shown):
        csv_path = pdf_path.with_name(pdf_path.stem + "_不合格及存疑明细.csv")
        with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["样品编号", "产品", "区县", "采样时间", "类别", "结论", "原因", "生产者"])
            for f in found:
                writer.writerow(
                    [
                        f.sample_code,
                        f.product_name,
                        f.county_name,
                        f"{f.collected_at:%Y-%m-%d %H:%M}",
                        f.kind,
                        f.severity,
                        f.reason,
                        f.producer_name,
                    ]
                )
        attachments.append(csv_path)
        out.append(
            para(f"表中列出前 {len(shown):,} 条，全部 {len(found):,} 条见附件 {csv_path.name}。", s.note)
        )
    return out, attachments


def _producers(summary: SeasonSummary, s: Styles) -> list[Flowable]:
    out: list[Flowable] = [CondPageBreak(50 * 2.83), heading("登记位置在保护范围外的授权生产者", s)]
    if not summary.producers_outside:
        out.append(para("未发现登记位置位于保护范围外的授权生产者。", s.body))
        return out
    out.append(
        para(
            "下列生产者已获准使用地理标志专用标志，但其登记的生产地点位于授权产品的保护范围之外，"
            "应核实其原料来源和生产地点。",
            s.body,
        )
    )
    rows = [
        [p.producer_name, p.credit_code, p.product_name, f"{p.distance_m / 1000:.1f}", p.county_name or "—"]
        for p in summary.producers_outside
    ]
    out.append(
        data_table(
            ["生产者", "统一社会信用代码", "授权产品", "距保护范围（千米）", "区县"],
            rows,
            [52, 38, 28, 24, 32],
            s,
            align=["left", "code", "left", "right", "left"],
        )
    )
    return out


def _method(summary: SeasonSummary, s: Styles) -> list[Flowable]:
    out: list[Flowable] = [CondPageBreak(60 * 2.83), heading("说明", s)]
    out.append(
        para(
            "1. 产地核验使用的保护范围版本如下；坐标统一换算为 WGS84（CGCS2000 视同 WGS84，GCJ-02、BD-09 "
            "按公开算法换算），保留样品提交时的原始坐标。",
            s.body_flush,
        )
    )
    rows = [
        [
            a.name_zh,
            a.standard or "—",
            f"第 {a.version} 版",
            f"{a.valid_from:%Y-%m-%d}",
            f"{a.area_km2:,.1f}",
            a.legal_basis,
        ]
        for a in summary.areas
    ]
    out.append(
        data_table(
            ["产品", "标准", "版本", "生效日期", "面积（km²）", "依据"],
            rows,
            [24, 34, 14, 20, 20, 62],
            s,
            align=["left", "left", "centre", "centre", "right", "left"],
        )
    )
    out.append(spacer(2))
    out.append(
        para(
            "2. 地图中的行政区划界线为示意，仅供参考；地图中国家版图包括台湾省及南海诸岛，"
            "以插图表示南海诸岛。",
            s.body_flush,
        )
    )
    for note in summary.notes:
        out.append(para(f"3. {note}", s.body_flush))
    return out


def _title_block(title: str, s: Styles) -> list[Flowable]:
    """The report's title: "…监督抽查工作报告", or the title and 工作报告 on two lines when the title
    ends in a date or a bracket (plan titles often do)."""
    if title[-1:].isdigit() or title[-1:] in "）)":
        return [para(title, s.title), para("工作报告", s.title)]
    return [para(f"{title}工作报告", s.title)]


def campaign_report(
    summary: SeasonSummary, path: str | Path, options: ReportOptions | None = None
) -> ReportFiles:
    """Write the season campaign report of ``summary`` to ``path`` (PDF)."""
    options = options or ReportOptions()
    path = Path(path)
    s = Styles()
    rid = report_id(
        f"GI-CR-{summary.end:%Y%m%d}",
        summary.title,
        summary.start,
        summary.end,
        len(summary.samples),
        summary.generated_at.isoformat(),
    )
    meta = ReportMeta(
        report_id=rid,
        title=f"{summary.title}工作报告",
        short_title="地理标志产品监督抽查工作报告",
        generated_at=summary.generated_at,
        issuer=options.issuer,
        subject=summary.period,
    )
    heading.count = 0
    with tempfile.TemporaryDirectory(prefix="gi-report-") as tmp:
        work = Path(tmp)
        story: list[Flowable] = [
            spacer(6),
            *_title_block(summary.title, s),
            para(f"抽样期间：{summary.period}", s.subtitle),
            para(f"{options.issuer}    报告编号：{rid}", s.subtitle),
            spacer(4),
        ]
        story += _overview(summary, s)
        story += _coverage(summary, s, work)
        story += _origin(summary, s, work)
        story += _quality(summary, s, work)
        story += _maps(summary, s, work, options)
        detail, attachments = _non_conformities(summary, s, path, options)
        story += detail
        if summary.market is not None and summary.market.balance:
            story += market_section(summary.market, heading("产销平衡与电商平台经营者核查", s), s)
        story += _producers(summary, s)
        story += _method(summary, s)
        build_pdf(path, story, meta)
    return ReportFiles(pdf=path, report_id=rid, attachments=attachments)
