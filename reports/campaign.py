"""The season campaign report (监督抽检工作报告): coverage planned vs done per product and county, origin and
quality verdict tables, non-conformities with reasons, the maps and charts of results."""

from __future__ import annotations

import csv
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from reportlab.platypus import CondPageBreak, Flowable, PageBreak

from gi.errors import InputError
from gi.reads.season import (
    FAILURE_RATE_DEFINITION,
    RESULT_FAIL,
    RESULT_PASS,
    RESULT_VERIFY,
    CoverageRow,
    SeasonSummary,
    document_title,
    failure_rate,
    non_conformities,
    origin_counts,
    quality_counts,
    result_counts,
)
from maps import static
from maps.style import ORIGIN_CATEGORIES, QUALITY_CATEGORIES
from reports import charts
from reports.layout import (
    Numbering,
    ReportFiles,
    ReportMeta,
    ReportOptions,
    Styles,
    build_pdf,
    captioned_table,
    data_table,
    image,
    key_value_table,
    para,
    report_id,
    require_issuer,
    signoff_block,
    spacer,
)
from reports.market import market_section

_CHINESE_NUMBERS = "一二三四五六七八九十"


class _Headings(threading.local):
    """Numbers the report's sections 一、二、… in the order they are written: per thread, since the service builds
    reports in a pool of threads and two at once must not number each other's sections."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, text: str, s: Styles) -> Flowable:
        self.count += 1
        return para(f"{_CHINESE_NUMBERS[self.count - 1]}、{text}", s.h1)


heading = _Headings()


class _ThreadNumbering(threading.local, Numbering):
    """The figure and table numbers of the report being built in this thread."""


numbers = _ThreadNumbering()


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
    producers = samples["sampled_unit"].nunique() if n else 0
    results = samples["result"].value_counts()
    failed, verify = int(results.get(RESULT_FAIL, 0)), int(results.get(RESULT_VERIFY, 0))
    text = (
        f"{summary.period}，对 {products} 个地理标志产品开展监督抽检，"
        f"在 {counties} 个县（市、区）抽取样品 {n:,} 批次（涉及 {producers} 个被抽样单位）。"
        f"抽检结论：合格 {int(results.get(RESULT_PASS, 0)):,} 批次，不合格 {failed:,} 批次，"
        f"待核实 {verify:,} 批次，不合格率 {failure_rate(failed, n)}。"
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
        ("涉及产品", f"{products} 个"),
        ("样品批次", f"{n:,}"),
        ("不合格（最终结论）", f"{failed:,}"),
        ("不合格率", failure_rate(failed, n)),
        ("结论待核实", f"{verify:,}"),
        ("产地不符", f"{int(origin.get('outside', 0)):,}（{_pct(origin.get('outside', 0), n)}）"),
        ("边界存疑", f"{int(origin.get('uncertain', 0)):,}"),
        ("品质不合格", f"{int(quality.get('fail', 0)):,}（{_pct(quality.get('fail', 0), tested)}）"),
        ("待检验", f"{int(quality.get('pending', 0)):,}"),
        ("区域外授权生产者", f"{len(summary.producers_outside)} 家"),
    ]
    tally = result_counts(summary)
    rows = [
        [
            r["product_name"],
            f"{int(r['samples']):,}",
            f"{int(r[RESULT_PASS]):,}",
            f"{int(r[RESULT_FAIL]):,}",
            f"{int(r[RESULT_VERIFY]):,}",
            r["rate"],
        ]
        for _, r in tally.iterrows()
    ]
    if len(tally) > 1:
        rows.append(
            [
                "合计",
                f"{n:,}",
                f"{int(results.get(RESULT_PASS, 0)):,}",
                f"{failed:,}",
                f"{verify:,}",
                failure_rate(failed, n),
            ]
        )
    return [
        heading("总体情况", s),
        para(text, s.body),
        spacer(1),
        key_value_table(figures, s, widths=(30, 57), columns=2),
        *captioned_table(
            numbers.table("各产品抽检结论"),
            data_table(
                ["产品", "抽检批次", "合格", "不合格", "待核实", "不合格率"],
                rows,
                [44, 26, 26, 26, 26, 26],
                s,
                align=["left"] + ["right"] * 5,
                long=False,
                total_row=len(tally) > 1,
            ),
            s,
        ),
        para(
            f"注：{FAILURE_RATE_DEFINITION}。待核实指采样坐标异常、位于边界判定容差内、定位不可信，"
            "或特色品质检验尚在进行或无法判定，结论作出前不计为不合格。",
            s.note,
        ),
    ]


def _coverage(summary: SeasonSummary, s: Styles, work: Path) -> list[Flowable]:
    out: list[Flowable] = [heading("抽样计划完成情况", s)]
    rows = summary.coverage
    products, low = _coverage_rows(rows)
    if summary.planning_available:
        out.append(
            para(
                "按产品统计抽检计划任务的完成情况（任务已抽样或已完成即计为完成）及实际抽取样品数；"
                "计划外样品（如市场抽样、跨区域抽样）只计入样品数。",
                s.body,
            )
        )
        out += captioned_table(
            numbers.table("各产品抽检计划完成情况"),
            data_table(
                ["产品", "涉及县（市、区）", "计划任务", "已完成", "完成率", "样品批次"],
                products,
                [40, 32, 24, 24, 24, 26],
                s,
                align=["left"] + ["right"] * 5,
                long=False,
                total_row=len(products) > 1,
            ),
            s,
        )
        # A county table only where it says something: the counties that fell behind.
        if low:
            out += captioned_table(
                numbers.table("计划完成率低于 80% 的县（市、区）"),
                data_table(
                    ["产品", "县（市、区）", "计划任务", "已完成", "完成率", "样品批次"],
                    low,
                    [40, 40, 22, 22, 24, 22],
                    s,
                    align=["left", "left", "right", "right", "right", "right"],
                    highlight=range(len(low)),
                ),
                s,
            )
        else:
            counties = len({r.county_code for r in rows})
            planned = len({r.county_code for r in rows if r.planned})
            text = f"涉及的 {counties} 个县（市、区）计划任务完成率均不低于 80%，不再逐县列示。"
            if planned < counties:  # the others had samples outside the plan only
                text = (
                    f"涉及的 {counties} 个县（市、区）中，有计划任务的 {planned} 个计划任务完成率均不低于 80%，"
                    "不再逐县列示；其余只有计划外样品。"
                )
            out.append(para(text, s.body))
    else:
        out.append(para("本期未关联抽检计划，以下仅统计实际抽取的样品数。", s.body))
        out += captioned_table(
            numbers.table("各产品样品数"),
            data_table(
                ["产品", "涉及县（市、区）", "样品批次"],
                [[p[0], p[1], p[5]] for p in products],
                [60, 50, 40],
                s,
                align=["left", "right", "right"],
                total_row=len(products) > 1,
            ),
            s,
        )
    if rows:
        chart = charts.coverage_bars(
            rows,
            "各产品计划任务与完成情况" if summary.planning_available else "各产品样品数",
            work / "coverage.png",
        )
        out.append(
            image(
                chart,
                160,
                numbers.figure("各产品计划任务与完成情况" if summary.planning_available else "各产品样品数"),
                s,
            )
        )
    return out


def _coverage_rows(rows: list[CoverageRow]) -> tuple[list[list[object]], list[list[object]]]:
    """One row per product (counties, planned, done, completion, samples) with a total; and the planned counties
    whose completion is below 80%."""
    by_product: dict[str, list[CoverageRow]] = {}
    for r in rows:
        by_product.setdefault(r.product_name, []).append(r)
    products: list[list[object]] = []
    low: list[list[object]] = []
    grand = [0, 0, 0, 0]
    for product, items in by_product.items():
        planned = sum(r.planned or 0 for r in items)
        done = sum(r.done or 0 for r in items)
        taken = sum(r.samples for r in items)
        counties = len({r.county_code for r in items})
        products.append([product, counties, planned, done, _pct(done, planned), f"{taken:,}"])
        grand = [0, grand[1] + planned, grand[2] + done, grand[3] + taken]
        for r in sorted(items, key=lambda r: -(r.planned or 0)):
            if r.planned and (r.done or 0) / r.planned < 0.8:
                low.append(
                    [product, r.county_name, r.planned, r.done, _pct(r.done or 0, r.planned), r.samples]
                )
    # A county where several products were inspected is one county: the total counts each once, as the text does.
    grand[0] = len({r.county_code for r in rows})
    if len(products) > 1:
        products.append(
            ["合计", grand[0], f"{grand[1]:,}", f"{grand[2]:,}", _pct(grand[2], grand[1]), f"{grand[3]:,}"]
        )
    return products, low


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
    out += captioned_table(
        numbers.table("各产品产地核验结论"),
        data_table(
            ["产品", "样品数"] + [c.label for c in ORIGIN_CATEGORIES] + ["区域外占比"],
            _counts_rows(table, codes, "outside"),
            [34, 20, 26, 26, 26, 20, 22],
            s,
            align=["left"] + ["right"] * 6,
            long=False,
            total_row=len(table) > 1,
        ),
        s,
    )
    out.append(
        para(
            "注：“产地不符（区域外）”为产地核验的判定结果；其中采样坐标疑似录入错误（经纬度颠倒、位于境外）的样品"
            "在抽检结论中计为“待核实”，不计入不合格。",
            s.note,
        )
    )
    if len(table):
        chart = charts.verdict_bars(
            table, ORIGIN_CATEGORIES, "各产品产地核验结论构成", work / "origin_bars.png"
        )
        out.append(image(chart, 160, numbers.figure("各产品产地核验结论构成"), s))
        weekly = charts.weekly_results(
            summary.samples, "origin", ORIGIN_CATEGORIES, "按周统计的样品及产地核验结论", work / "weekly.png"
        )
        out.append(image(weekly, 160, numbers.figure("按周统计的样品及产地核验结论"), s))
    overview = static.season_png(summary, work / "season_origin.png", colour_by="origin", title=None)
    out.append(image(overview, 165, numbers.figure("样品产地核验结果分布"), s))
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
    out += captioned_table(
        numbers.table("各产品特色品质检验结论"),
        data_table(
            ["产品", "样品数"] + [c.label for c in QUALITY_CATEGORIES] + ["品质不合格占比"],
            _counts_rows(table, codes, "fail"),
            [34, 20, 24, 26, 24, 24, 22],
            s,
            align=["left"] + ["right"] * 6,
            long=False,
            total_row=len(table) > 1,
        ),
        s,
    )
    if len(table):
        chart = charts.verdict_bars(
            table, QUALITY_CATEGORIES, "各产品特色品质检验结论构成", work / "quality_bars.png"
        )
        out.append(image(chart, 160, numbers.figure("各产品特色品质检验结论构成"), s))
    quality_map = static.season_png(summary, work / "season_quality.png", colour_by="quality", title=None)
    out.append(image(quality_map, 165, numbers.figure("样品特色品质检验结果分布"), s))
    return out


def _maps(summary: SeasonSummary, s: Styles, work: Path, options: ReportOptions) -> list[Flowable]:
    with_samples = [a for a in summary.areas if (summary.samples["product_code"] == a.product_code).any()]
    if not options.product_maps or not with_samples:
        return []
    out: list[Flowable] = [PageBreak(), heading("各产品样品分布", s)]
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
                numbers.figure(
                    f"{area.name_zh}：样品产地核验结果（保护范围第 {area.version} 版，"
                    f"{area.area_km2:,.0f} 平方千米，样品 {len(subset):,} 批次）"
                ),
                s,
            )
        )
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
    verify = sum(1 for f in found if f.severity == "待核实")
    out.append(
        para(
            f"共 {len(found):,} 条（不符合 {failures:,} 条，存疑 {len(found) - failures - verify:,} 条，"
            f"待核实 {verify:,} 条），按采样时间排列。“存疑”样品需现场复核或复检后再作结论；"
            "“待核实”为采样坐标疑似录入错误（经纬度颠倒、位于境外）的样品，核实坐标后重新判定。",
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
            f"{f.collected_at:%Y-%m-%d}",
            f.kind,
            f.severity,
            f.producer_name,
            f.reason,
        ]
        for i, f in enumerate(shown)
    ]
    bad = [i for i, f in enumerate(shown) if f.severity == "不符合"]
    out += captioned_table(
        numbers.table("不合格及存疑样品明细"),
        data_table(
            ["序号", "样品编号", "产品", "区县", "采样日期", "类别", "结论", "被抽样单位", "原因"],
            rows,
            [9, 29, 20, 15, 20, 9, 14, 24, 34],
            s,
            align=["right", "code", "left", "left", "centre", "centre", "centre", "left", "left"],
            highlight=bad,
        ),
        s,
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
    out += captioned_table(
        numbers.table("登记位置在保护范围外的授权生产者"),
        data_table(
            ["生产者", "统一社会信用代码", "授权产品", "距保护范围（千米）", "区县"],
            rows,
            [52, 38, 28, 24, 32],
            s,
            align=["left", "code", "left", "right", "left"],
        ),
        s,
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
            ["产品", "标准", "版本", "生效日期", "面积（平方千米）", "依据"],
            rows,
            [24, 34, 14, 22, 22, 58],
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
    out.append(para(f"3. {FAILURE_RATE_DEFINITION}。", s.body_flush))
    for k, note in enumerate(summary.notes, start=4):
        out.append(para(f"{k}. {note}", s.body_flush))
    return out


def _title_block(title: str, s: Styles) -> list[Flowable]:
    """The report's title: "…监督抽检工作报告", or the title and 工作报告 on two lines when the title
    ends in a date or a bracket (plan titles often do)."""
    if title[-1:].isdigit() or title[-1:] in "）)":
        return [para(title, s.title), para("工作报告", s.title)]
    return [para(f"{title}工作报告", s.title)]


def _market(summary: SeasonSummary, s: Styles) -> list[Flowable]:
    """Market samples (taken at an outlet, not at a producer) grouped by the outlet where they were taken."""
    frame = summary.samples
    at_producer = frame["sampled_at"].eq("producer") | (
        frame["sampled_at"].eq("") & frame["producer_kind"].eq("producer")
    )
    market = frame[~at_producer] if len(frame) else frame
    if not len(market):
        return []
    groups = (
        market.groupby(["sampled_unit", "sampled_address"], sort=False)
        .agg(
            products=("product_name", lambda p: "、".join(dict.fromkeys(p))),
            samples=("sample_id", "size"),
            failed=("result", lambda r: int((r == RESULT_FAIL).sum())),
            verify=("result", lambda r: int((r == RESULT_VERIFY).sum())),
        )
        .reset_index()
        .sort_values(["failed", "samples"], ascending=False)
    )
    # A table row says something only for an outlet with a finding or several samples; the outlets where one
    # conforming sample was taken are counted, not listed one row each.
    notable = groups[(groups["failed"] > 0) | (groups["verify"] > 0) | (groups["samples"] > 1)]
    quiet = len(groups) - len(notable)
    rows = [
        [g.sampled_unit, g.sampled_address or "—", g.products, g.samples, g.failed, g.verify]
        for g in notable.itertuples(index=False)
    ]
    text = (
        f"在 {len(groups):,} 个经营场所抽取市场样品 {len(market):,} 批次；未登记的经营者按采样地点区分，"
        "不合并为一个单位。"
    )
    if quiet and rows:
        text += f"其中 {quiet:,} 个经营场所各抽取 1 批次且结论合格，不逐一列示；下表列出其余经营场所。"
    elif quiet:  # no table follows: every outlet had one conforming sample
        text += "各经营场所均抽取 1 批次且结论合格，不逐一列示。"
    out: list[Flowable] = [
        CondPageBreak(50 * 2.83),
        heading("市场抽样情况（按被抽样单位）", s),
        para(text, s.body),
    ]
    if rows:
        out += captioned_table(
            numbers.table(
                "市场抽样被抽样单位（有不合格、待核实或多批次的）" if quiet else "市场抽样被抽样单位"
            ),
            data_table(
                ["被抽样单位", "地址", "产品", "样品批次", "不合格", "待核实"],
                rows,
                [46, 50, 30, 16, 16, 16],
                s,
                align=["left", "left", "left", "right", "right", "right"],
                highlight=[k for k, r in enumerate(rows) if r[4]],
            ),
            s,
        )
    return out


@dataclass
class ReportContext:
    """What every section of the campaign report reads: the season, the styles, a scratch directory for
    images, the options and the path of the PDF (attachments are written beside it)."""

    summary: SeasonSummary
    styles: Styles
    work: Path
    options: ReportOptions
    path: Path
    attachments: list[Path] = field(default_factory=list)


Section = Callable[[ReportContext], list[Flowable]]


def _non_conformity_section(ctx: ReportContext) -> list[Flowable]:
    story, attachments = _non_conformities(ctx.summary, ctx.styles, ctx.path, ctx.options)
    ctx.attachments += attachments
    return story


def _balance_section(ctx: ReportContext) -> list[Flowable]:
    market = ctx.summary.market
    if market is None or not market.balance:
        return []
    return market_section(market, heading("产销平衡与电商平台经营者核查", ctx.styles), ctx.styles)


# The report's sections in order; a section is a function of the context, so other modules add their own
# (a mass-balance section, a table of flagged sellers) by passing ``sections``.
DEFAULT_SECTIONS: tuple[Section, ...] = (
    lambda c: _overview(c.summary, c.styles),
    lambda c: _coverage(c.summary, c.styles, c.work),
    lambda c: _origin(c.summary, c.styles, c.work),
    lambda c: _quality(c.summary, c.styles, c.work),
    lambda c: _maps(c.summary, c.styles, c.work, c.options),
    _non_conformity_section,
    _balance_section,
    lambda c: _market(c.summary, c.styles),
    lambda c: _producers(c.summary, c.styles),
    lambda c: _method(c.summary, c.styles),
)


def campaign_report(
    summary: SeasonSummary,
    path: str | Path,
    options: ReportOptions | None = None,
    sections: Sequence[Section] = DEFAULT_SECTIONS,
) -> ReportFiles:
    """Write the season campaign report of ``summary`` to ``path`` (PDF). Refused without an issuer, and for a
    period without samples (本期无抽检: there is nothing to report)."""
    options = options or ReportOptions.from_settings()
    issuer = require_issuer(options)
    if not len(summary.samples):
        raise InputError(
            "from",
            f"no samples were collected {summary.start} to {summary.end} (本期无抽检): nothing to report",
        )
    path = Path(path)
    s = Styles()
    rid = report_id(
        f"GI-CR-{summary.start:%Y%m%d}-{summary.end:%Y%m%d}",
        summary.title,
        issuer,
        summary.product_codes,
        list(summary.samples["number"]),
        list(summary.samples["result"]),
    )
    meta = ReportMeta(
        report_id=rid,
        title=f"{document_title(summary.title)}工作报告",
        short_title="地理标志产品监督抽检工作报告",
        generated_at=summary.generated_at,
        issuer=issuer,
        subject=summary.period,
    )
    heading.count = 0
    numbers.figures = numbers.tables = 0
    with tempfile.TemporaryDirectory(prefix="gi-report-") as tmp:
        ctx = ReportContext(summary, s, Path(tmp), options, path)
        story: list[Flowable] = [
            spacer(6),
            *_title_block(document_title(summary.title), s),
            para(f"抽样期间：{summary.period}", s.subtitle),
            para(f"{issuer}    报告编号：{rid}", s.subtitle),
            spacer(4),
        ]
        for section in sections:
            story += section(ctx)
        story += [spacer(10), signoff_block(options, s)]
        build_pdf(path, story, meta)
    return ReportFiles(pdf=path, report_id=rid, attachments=ctx.attachments)
