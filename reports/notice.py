"""The public notice of a season's results (监督抽查结果公告): the targets inspected and their results. It
carries no personal data of inspectors: only firms (by name and unified social credit code), products, places
and results."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from reportlab.platypus import CondPageBreak, Flowable

from gi.reads.notice import NoticeEntry, notice_entries
from gi.reads.season import SeasonSummary
from reports.layout import (
    ReportFiles,
    ReportMeta,
    ReportOptions,
    Styles,
    build_pdf,
    data_table,
    para,
    report_id,
    spacer,
)


def _title(summary: SeasonSummary) -> str:
    return f"关于{summary.title}结果的公告"


def _per_product(entries: list[NoticeEntry]) -> list[list[object]]:
    by_product: dict[str, Counter] = {}
    samples: Counter = Counter()
    for e in entries:
        by_product.setdefault(e.product_name, Counter())[e.result] += 1
        samples[e.product_name] += e.samples
    rows: list[list[object]] = []
    for product, counts in by_product.items():
        total = sum(counts.values())
        decided = counts["合格"] + counts["不合格"]
        rows.append(
            [
                product,
                total,
                f"{samples[product]:,}",
                counts["合格"],
                counts["不合格"],
                total - decided,
                f"{counts['不合格'] / decided:.1%}" if decided else "—",
            ]
        )
    return rows


def notice_story(
    summary: SeasonSummary, entries: list[NoticeEntry], options: ReportOptions, rid: str, s: Styles
) -> list[Flowable]:
    """The flowables of the notice (also used by tests to check what it prints)."""
    counts = Counter(e.result for e in entries)
    products = list(dict.fromkeys(e.product_name for e in entries)) or [a.name_zh for a in summary.areas]
    n_samples = sum(e.samples for e in entries)
    named = "、".join(products[:6]) + ("等" if len(products) > 6 else "")
    story: list[Flowable] = [
        spacer(4),
        para(_title(summary), s.title),
        para(f"公告编号：{rid}", s.subtitle),
        spacer(3),
        para(
            f"为加强地理标志产品保护，规范地理标志专用标志使用，根据《地理标志产品保护办法》等规定，{options.issuer}"
            f"于{summary.period}对{named}{len(products)}个地理标志产品开展了监督抽查，按照“双随机、一公开”要求，"
            f"共抽查生产经营单位（含市场抽样）{len(entries):,}家（次），抽取样品{n_samples:,}批次。抽查内容包括"
            "产地（保护范围）核验和特色质量指标检验。现将抽查结果公告如下：",
            s.body,
        ),
        para("一、总体结果", s.h1),
        para(
            f"抽查结果合格{counts['合格']:,}家（次），不合格{counts['不合格']:,}家（次），"
            f"结果待定{counts['待定'] + counts['无法判定']:,}家（次）"
            + (f"，未发现经营{counts['未发现经营']:,}家（次）" if counts["未发现经营"] else "")
            + "。",
            s.body,
        ),
        data_table(
            ["产品", "抽查单位", "样品批次", "合格", "不合格", "待定", "不合格率"],
            _per_product(entries),
            [40, 22, 24, 20, 20, 22, 26],
            s,
            align=["left"] + ["right"] * 6,
            long=False,
        ),
    ]
    failed = [e for e in entries if e.result == "不合格"]
    story += [CondPageBreak(40 * 2.83), para("二、不合格产品及生产经营者名单", s.h1)]
    if failed:
        story.append(
            data_table(
                ["序号", "被抽查单位", "统一社会信用代码", "产品", "所在地", "抽样日期", "不合格项目"],
                [
                    [
                        i + 1,
                        e.target,
                        e.credit_code or "—",
                        e.product_name,
                        e.county_name,
                        f"{e.sampled_on:%Y-%m-%d}" if e.sampled_on else "—",
                        e.items,
                    ]
                    for i, e in enumerate(failed)
                ],
                [9, 28, 33, 20, 15, 19, 50],
                s,
                align=["right", "left", "code", "left", "left", "centre", "left"],
            )
        )
    else:
        story.append(para("本次抽查未发现不合格产品。", s.body))
    story += [
        CondPageBreak(40 * 2.83),
        para("三、抽查结果明细", s.h1),
        para(
            "按结果、产品和所在地排列；“待定”指产地核验需现场复核或特色质量检验尚未出具结论，结论作出后另行公告。",
            s.note,
        ),
    ]
    story.append(
        data_table(
            ["序号", "被抽查单位", "统一社会信用代码", "产品", "所在地", "样品批次", "结果"],
            [
                [i + 1, e.target, e.credit_code or "—", e.product_name, e.county_name, e.samples, e.result]
                for i, e in enumerate(entries)
            ],
            [10, 44, 36, 22, 26, 17, 19],
            s,
            align=["right", "left", "code", "left", "left", "right", "centre"],
            highlight=[i for i, e in enumerate(entries) if e.result == "不合格"],
        )
    )
    story += [
        CondPageBreak(50 * 2.83),
        para("四、有关要求", s.h1),
        para(
            "（一）对抽查不合格的生产经营者，由所在地市场监督管理部门依法责令整改，"
            "对擅自使用或者伪造地理标志名称及专用标志等违法行为依法查处；整改情况纳入信用记录。",
            s.body,
        ),
        para(
            "（二）被抽查单位对检验结论有异议的，可自收到检验结果之日起15日内向组织抽查的部门书面申请复检；"
            "复检使用抽样时封存的备份样品。",
            s.body,
        ),
        para(
            "（三）产地核验以采样时有效的地理标志产品保护范围为依据；本公告所列结果仅对所抽样品和所查事项负责。",
            s.body,
        ),
        spacer(8),
        para(options.issuer, s.signature),
        para(f"{summary.generated_at:%Y年%m月%d日}", s.signature),
    ]
    return story


def public_notice(
    summary: SeasonSummary,
    path: str | Path,
    options: ReportOptions | None = None,
    entries: list[NoticeEntry] | None = None,
) -> ReportFiles:
    """Write the public notice of the season's results to ``path`` (PDF)."""
    options = options or ReportOptions()
    entries = entries if entries is not None else notice_entries(summary)
    s = Styles()
    rid = report_id(
        f"GI-PN-{summary.end:%Y%m%d}",
        summary.title,
        summary.start,
        summary.end,
        len(entries),
        summary.generated_at.isoformat(),
    )
    meta = ReportMeta(
        report_id=rid,
        title=_title(summary),
        short_title="地理标志产品监督抽查结果公告",
        generated_at=summary.generated_at,
        issuer=options.issuer,
        subject=summary.period,
    )
    build_pdf(path, notice_story(summary, entries, options, rid, s), meta)
    return ReportFiles(pdf=Path(path), report_id=rid)
