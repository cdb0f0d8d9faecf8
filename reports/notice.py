"""The public notice of a season's results (抽检结果公告): the columns of a real notice for the non-conforming
samples, the samples whose conclusion is still 待核实 (never published as failures), the conforming ones, the
failure rate with its one definition, the legal basis and the issuer. It carries no personal data of inspectors.
Landscape A4, so the twelve columns of the non-conforming table keep names and dates whole."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.platypus import CondPageBreak, Flowable

from gi.reads.notice import NoticeRow, SeasonNotice, build_notice
from gi.reads.season import (
    FAILURE_RATE_DEFINITION,
    RESULT_FAIL,
    RESULT_PASS,
    RESULT_VERIFY,
    SeasonSummary,
    document_title,
    failure_rate,
)
from reports.layout import (
    ReportFiles,
    ReportMeta,
    ReportOptions,
    Styles,
    build_pdf,
    data_table,
    legal_basis,
    para,
    report_id,
    require_issuer,
    spacer,
)

PAGE = landscape(A4)


def notice_title(summary: SeasonSummary) -> str:
    """The notice's title, from the season's title (which follows the requested period)."""
    return f"关于{document_title(summary.title)}结果的公告"


def _tally_rows(notice: SeasonNotice) -> list[list[object]]:
    table = notice.tallies
    rows: list[list[object]] = [
        [
            r["product_name"],
            f"{int(r['samples']):,}",
            f"{int(r[RESULT_PASS]):,}",
            f"{int(r[RESULT_FAIL]):,}",
            f"{int(r[RESULT_VERIFY]):,}",
            r["rate"],
        ]
        for _, r in table.iterrows()
    ]
    if len(table) > 1:
        total = table[["samples", RESULT_PASS, RESULT_FAIL, RESULT_VERIFY]].sum()
        rows.append(
            [
                "合计",
                f"{int(total['samples']):,}",
                f"{int(total[RESULT_PASS]):,}",
                f"{int(total[RESULT_FAIL]):,}",
                f"{int(total[RESULT_VERIFY]):,}",
                failure_rate(int(total[RESULT_FAIL]), int(total["samples"])),
            ]
        )
    return rows


# 序号 样品编号 标称生产企业名称 标称生产企业地址 被抽样单位名称 被抽样单位地址 产品名称 规格型号 生产日期/批号
# 不合格项目 标准值 检验结果 检验机构 备注 (mm; landscape A4 has 261 mm between the margins; 生产日期／批号 fits
# "批号 SIM-2024-0002" on one line: a lot number is never broken)
FAIL_WIDTHS = [8, 26, 21, 20, 23, 17, 16, 13, 26, 17, 20, 18, 18, 18]
# Column names too long for their column, broken where they read well (never "标称生产企业名 / 称").
BROKEN_HEADERS = {
    "标称生产企业名称": "标称生产企业<br/>名称",
    "标称生产企业地址": "标称生产企业<br/>地址",
    "被抽样单位名称": "被抽样单位<br/>名称",
    "被抽样单位地址": "被抽样单位<br/>地址",
    "生产日期／批号": "生产日期／<br/>批号",
}


def _headers(names: list[str], s: Styles) -> list[str | Flowable]:
    return [para(BROKEN_HEADERS[n], s.head_small, markup=True) if n in BROKEN_HEADERS else n for n in names]


def _failure_table(rows: list[NoticeRow], s: Styles) -> Flowable:
    body: list[list[object]] = []
    spans: list[tuple[int, int, int]] = []
    for n, r in enumerate(rows, start=1):
        items = r.items or ()
        first = len(body)
        for k, item in enumerate(items or (None,)):
            shared: list[object] = [
                n,
                r.number,
                r.labelled_producer,
                r.labelled_address,
                r.sampled_unit,
                r.sampled_address,
                r.product_name,
                r.specification,
                r.date_or_lot,
            ]
            blank: list[object] = [""] * len(shared)
            body.append(
                (shared if k == 0 else blank)
                + ([item.name, item.standard, item.result] if item else ["—", "—", "—"])
                + ([r.laboratory, r.remark or "—"] if k == 0 else ["", ""])
            )
        if len(items) > 1:
            last = len(body) - 1
            spans += [(c, first, last) for c in (*range(9), 12, 13)]
    return data_table(
        _headers(
            [
                "序号",
                "样品编号",
                "标称生产企业名称",
                "标称生产企业地址",
                "被抽样单位名称",
                "被抽样单位地址",
                "产品名称",
                "规格型号",
                "生产日期／批号",
                "不合格项目",
                "标准值",
                "检验结果",
                "检验机构",
                "备注",
            ],
            s,
        ),
        body,
        FAIL_WIDTHS,
        s,
        align=["right", "code"] + ["left"] * 12,
        spans=spans,
        zebra=False,
        small=True,
    )


def _verify_table(rows: list[NoticeRow], s: Styles) -> Flowable:
    return data_table(
        [
            "序号",
            "样品编号",
            "被抽样单位名称",
            "被抽样单位地址",
            "产品名称",
            "生产日期／批号",
            "抽样日期",
            "待核实事项",
        ],
        [
            [
                n,
                r.number,
                r.sampled_unit,
                r.sampled_address,
                r.product_name,
                r.date_or_lot,
                f"{r.sampled_on:%Y-%m-%d}",
                r.remark or "结论作出后另行公告",
            ]
            for n, r in enumerate(rows, start=1)
        ],
        [9, 30, 40, 42, 22, 27, 20, 71],
        s,
        align=["right", "code", "left", "left", "left", "left", "centre", "left"],
    )


def _pass_table(rows: list[NoticeRow], s: Styles) -> Flowable:
    return data_table(
        [
            "序号",
            "样品编号",
            "标称生产企业名称",
            "被抽样单位名称",
            "被抽样单位地址",
            "产品名称",
            "规格型号",
            "生产日期／批号",
            "检验机构",
        ],
        [
            [
                n,
                r.number,
                r.labelled_producer,
                r.sampled_unit,
                r.sampled_address,
                r.product_name,
                r.specification,
                r.date_or_lot,
                r.laboratory,
            ]
            for n, r in enumerate(rows, start=1)
        ],
        [9, 30, 34, 34, 42, 22, 17, 33, 40],
        s,
        align=["right", "code"] + ["left"] * 7,
    )


def _result_sections(
    failed: list[NoticeRow], verify: list[NoticeRow], passed: list[NoticeRow], s: Styles
) -> list[Flowable]:
    """Sections 二 to 四: the non-conforming, the samples still to verify, the conforming."""
    story: list[Flowable] = [CondPageBreak(40 * 2.83), para("二、不合格产品信息", s.h1)]
    if failed:
        story.append(_failure_table(failed, s))
    else:
        story.append(para("本次抽检未发现不合格产品。", s.body))
    story += [CondPageBreak(40 * 2.83), para("三、结论待核实的样品", s.h1)]
    if verify:
        story += [
            para(
                "下列样品的采样坐标异常、位于保护范围边界判定容差内、定位不可信，或特色品质检验尚在进行或无法判定，"
                "不作为不合格公告；核实或复检后作出结论，另行公告。",
                s.note,
            ),
            _verify_table(verify, s),
        ]
    else:
        story.append(para("无。", s.body))
    story += [CondPageBreak(40 * 2.83), para("四、合格产品信息", s.h1)]
    story.append(_pass_table(passed, s) if passed else para("无。", s.body))
    return story


def notice_story(
    summary: SeasonSummary, notice: SeasonNotice, options: ReportOptions, rid: str, s: Styles
) -> list[Flowable]:
    """The flowables of the notice (also used by tests to check what it prints)."""
    issuer = require_issuer(options)
    failed, verify, passed = notice.of(RESULT_FAIL), notice.of(RESULT_VERIFY), notice.of(RESULT_PASS)
    n = len(notice.rows)
    products = list(notice.tallies["product_name"]) if len(notice.tallies) else []
    named = "、".join(products[:6]) + ("等" if len(products) > 6 else "")
    story: list[Flowable] = [
        spacer(2),
        para(notice_title(summary), s.title),
        para(f"公告编号：{rid}", s.subtitle),
        spacer(2),
    ]
    if n:
        opening = (
            f"根据{legal_basis(summary.plans)}，{issuer}于{summary.period}对{named}{len(products)}个地理标志产品的"
            f"{n:,}批次样品开展了监督抽检，抽检内容包括产地（保护范围）核验和特色质量指标检验。"
            "按照“双随机、一公开”要求，现将抽检结果公告如下："
        )
    else:  # no results follow: say so instead of announcing them
        opening = (
            f"根据{legal_basis(summary.plans)}，{issuer}于{summary.period}未抽取样品（本期无抽检）。"
            "按照“双随机、一公开”要求，现将本期情况公告如下："
        )
    story.append(para(opening, s.body))
    story.append(para("一、总体情况", s.h1))
    if n:
        text = (
            f"本次抽检样品{n:,}批次，合格{len(passed):,}批次，不合格{len(failed):,}批次，"
            f"结论待核实{len(verify):,}批次，不合格率{failure_rate(len(failed), n)}。"
        )
        if notice.not_operating:
            text += f"另有{notice.not_operating:,}家计划抽检对象经核查未发现经营。"
        if notice.planned_unsampled:
            text += f"计划抽检对象中尚有{notice.planned_unsampled:,}家未完成抽样，完成后另行公告。"
        story += [
            para(text, s.body),
            para(f"说明：{FAILURE_RATE_DEFINITION}。", s.note),
            data_table(
                ["产品名称", "抽检批次", "合格", "不合格", "待核实", "不合格率"],
                _tally_rows(notice),
                [70, 36, 36, 36, 36, 40],
                s,
                align=["left"] + ["right"] * 5,
                long=False,
                total_row=len(notice.tallies) > 1,
            ),
        ]
    else:
        story.append(para("本期无抽检：所选期间内未抽取样品，无抽检结果可公告。", s.body))
    if n:
        story += _result_sections(failed, verify, passed, s)
    story += [
        CondPageBreak(50 * 2.83),
        para("五、有关要求" if n else "二、有关要求", s.h1),
        para(
            "（一）对抽检不合格的生产经营者，由所在地市场监督管理部门依法责令整改，"
            "对擅自使用或者伪造地理标志名称及专用标志等违法行为依法查处；整改情况纳入信用记录。",
            s.body,
        ),
        para(
            "（二）被抽样单位或标称生产企业对检验结论有异议的，可自收到检验结果之日起15日内向组织抽检的部门"
            "书面申请复检；复检使用抽样时封存的备份样品。",
            s.body,
        ),
        para(
            "（三）产地核验以采样时有效的地理标志产品保护范围为依据；本公告所列结果仅对所抽样品和所查事项负责。",
            s.body,
        ),
        spacer(6),
        para(issuer, s.signature),
        para(f"{summary.generated_at:%Y年%m月%d日}", s.signature),
    ]
    return story


def public_notice(
    summary: SeasonSummary,
    path: str | Path,
    options: ReportOptions | None = None,
    notice: SeasonNotice | None = None,
) -> ReportFiles:
    """Write the public notice of the season's results to ``path`` (PDF); refused without an issuer."""
    options = options or ReportOptions.from_settings()
    notice = notice if notice is not None else build_notice(summary)
    issuer = require_issuer(options)
    s = Styles()
    rid = report_id(
        f"GI-PN-{summary.start:%Y%m%d}-{summary.end:%Y%m%d}",
        summary.title,
        issuer,
        summary.product_codes,
        [(r.number, r.result) for r in notice.rows],
    )
    meta = ReportMeta(
        report_id=rid,
        title=notice_title(summary),
        short_title="地理标志产品监督抽检结果公告",
        generated_at=summary.generated_at,
        issuer=issuer,
        subject=summary.period,
        pagesize=PAGE,
    )
    build_pdf(path, notice_story(summary, notice, options, rid, s), meta)
    return ReportFiles(pdf=Path(path), report_id=rid)
