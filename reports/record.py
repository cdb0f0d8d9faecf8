"""The inspection record of one sample (抽样检验记录单): the sample, its location and origin verdict, lab
results against the limits, the inspectors, photos if any. An internal document: it names the inspectors."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Table, TableStyle

from geo_data.crs import in_china_box
from gi import clock
from maps import static
from maps.style import ORIGIN, QUALITY
from reports.data import SampleRecordData
from reports.layout import (
    RULE,
    ReportFiles,
    ReportMeta,
    ReportOptions,
    Styles,
    build_pdf,
    data_table,
    image,
    key_value_table,
    para,
    require_issuer,
    spacer,
)

OUTCOME_ZH = {"pass": "合格", "fail": "不合格", "inconclusive": "无法判定"}
# The conclusion's colour, as the origin and quality verdicts below colour theirs.
CONCLUSION_COLOURS = {
    "合格": ORIGIN["inside"].colour,
    "不合格": ORIGIN["outside"].colour,
    "待核实": ORIGIN["uncertain"].colour,
}


def _verdict_markup(label: str, colour: str) -> str:
    return f'<font color="{colour}">{label}</font>'


def record_story(record: SampleRecordData, rid: str, s: Styles, work: Path) -> list[Flowable]:
    """The flowables of the record (also used by tests)."""
    origin = ORIGIN.get(record.origin, ORIGIN["unchecked"])
    quality = QUALITY.get(record.quality, QUALITY["pending"])
    story: list[Flowable] = [
        para("地理标志产品抽样检验记录", s.title),
        para(f"样品编号 {record.number or record.code}    记录编号 {rid}", s.subtitle),
        spacer(2),
        key_value_table(
            [
                (
                    "抽检结论",
                    para(
                        _verdict_markup(
                            record.conclusion, CONCLUSION_COLOURS.get(record.conclusion, "#555555")
                        )
                        + (f"（{escape(record.conclusion_reason)}）" if record.conclusion_reason else ""),
                        s.cell,
                        markup=True,
                    ),
                )
            ],
            s,
            widths=(30, 144),
        ),
        spacer(2),
        para("一、样品信息", s.h1),
        key_value_table(
            [
                ("样品编号", record.number or record.code),
                ("样品标识", record.sample_id),
                ("产品名称", record.product_name),
                ("执行标准", record.standard),
                ("被抽样单位", record.producer_name),
                ("统一社会信用代码", record.producer_code or "—"),
                ("被抽样单位地址", record.producer_address or "—"),
                ("抽样环节", record.sampled_at or "—"),
                ("标称生产企业", record.labelled_producer or "—"),
                ("标称生产企业地址", record.labelled_address or "—"),
                ("规格型号", record.specification or "—"),
                (
                    "生产日期",
                    f"{record.production_date:%Y-%m-%d}" if record.production_date else "—",
                ),
                ("采样时间", f"{record.collected_at:%Y-%m-%d %H:%M}"),
                ("批号", record.lot_number),
                ("批量", record.lot_size),
                ("所属计划", record.plan or "计划外抽样"),
                ("抽检任务", record.task or "—"),
                ("来源", record.source),
                ("备注", record.notes),
            ],
            s,
            widths=(30, 57),  # keys such as 标称生产企业地址 and 统一社会信用代码 on one line
            columns=2,
        ),
        para("二、采样位置与产地核验", s.h1),
        key_value_table(
            [
                ("提交坐标", record.submitted),
                ("WGS84 坐标", f"{record.lon:.6f}, {record.lat:.6f}"),
                ("定位方式", record.location_source),
                (
                    "GPS 精度",
                    f"{record.gps_accuracy_m:g} 米" if record.gps_accuracy_m is not None else "未报告",
                ),
                ("所在区县", record.county),
                ("核验结论", para(_verdict_markup(origin.label, origin.colour), s.cell, markup=True)),
                ("说明", record.origin_reason),
            ]
            + record.origin_details,
            s,
            widths=(30, 144),
        ),
    ]
    if not in_china_box([record.lon], [record.lat])[0]:
        story.append(
            para(
                "采样坐标不在我国范围内（可能经纬度颠倒或坐标系申报错误），未绘制位置图；见上表标记。", s.note
            )
        )
    elif record.area is not None or record.origin != "unchecked":
        location = static.sample_location_png(
            work / "location.png",
            record.area,
            record.lon,
            record.lat,
            record.origin,
            size=static.ImageSize(6.4, 4.0),
        )
        story.append(spacer(2))
        story.append(
            image(
                location,
                150,
                f"样品 {record.code} 采样位置与{record.product_name}保护范围"
                + (f"（第 {record.area.version} 版）" if record.area else ""),
                s,
            )
        )
    story += [CondPageBreak(60 * 2.83), para("三、特色质量检验", s.h1)]
    story.append(
        key_value_table(
            [
                ("检验结论", para(_verdict_markup(quality.label, quality.colour), s.cell, markup=True)),
                ("判定规则", record.quality_rule or "—"),
            ],
            s,
            widths=(30, 144),
        )
    )
    if record.indicators:
        story.append(spacer(2))
        story.append(
            data_table(
                ["指标", "标准要求", "检测结果", "判定", "说明"],
                [
                    [i.name, i.limit, i.value, OUTCOME_ZH.get(i.outcome, i.outcome), i.note]
                    for i in record.indicators
                ],
                [38, 32, 32, 18, 54],
                s,
                align=["left", "left", "left", "centre", "left"],
                highlight=[n for n, i in enumerate(record.indicators) if i.outcome == "fail"],
            )
        )
    else:
        story.append(para("尚无检验结果。", s.body_flush))
    if record.lab_results:
        story += [
            para("实验室报告的原始结果", s.h2),
            data_table(
                ["检测项目", "报告结果", "方法", "实验室", "检测日期"],
                [
                    [r.indicator, r.reported, r.method, r.laboratory, f"{r.tested_on:%Y-%m-%d}"]
                    for r in record.lab_results
                ],
                [30, 46, 36, 40, 22],
                s,
                align=["left", "left", "left", "left", "centre"],
            ),
        ]
    if record.evidence or record.evidence_reasons:
        story += [
            para("产地综合证据", s.h2),
            para(
                f"综合判定：{record.evidence}。依据：" if record.evidence else "依据：",
                s.body_flush,
            ),
        ]
        story += [
            para(f"{n}. {reason}。", s.body_flush) for n, reason in enumerate(record.evidence_reasons, 1)
        ]
    story += [CondPageBreak(55 * 2.83), para("四、检查人员", s.h1)]
    if record.inspectors:
        story.append(
            data_table(
                ["职责", "姓名", "执法证/人员编号", "单位"],
                [[p.role, p.name, p.code, p.unit] for p in record.inspectors],
                [22, 30, 40, 82],
                s,
                long=False,
            )
        )
    else:
        story.append(para("未登记检查人员。", s.body_flush))
    story.append(spacer(8))
    story.append(_signatures(s))
    photos: list[Flowable] = []
    for n, photo in enumerate(record.photos, start=1):
        caption = f"照片{n}（{photo.caption}）"
        photos.append(image(photo.path, 110, caption, s) if photo.path else para(caption, s.body_flush))
    # The heading goes with the first photo: never alone at the foot of a page, the photo on the next.
    first = photos[0] if photos else para("无照片。", s.body_flush)
    story += [KeepTogether([para("五、照片", s.h1), first]), *photos[1:]]
    return story


def _signatures(s: Styles) -> KeepTogether:
    cells = [
        [para("检查人员（签字）：", s.cell), "", para("被抽样单位（签章）：", s.cell), ""],
        [para("日期：", s.cell), "", para("日期：", s.cell), ""],
    ]
    table = Table(
        cells, colWidths=[34 * 2.83, 52 * 2.83, 36 * 2.83, 52 * 2.83], rowHeights=[12 * 2.83, 9 * 2.83]
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (1, 0), (1, -1), 0.6, RULE),
                ("LINEBELOW", (3, 0), (3, -1), 0.6, RULE),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        )
    )
    return KeepTogether([table])


def sample_record(
    record: SampleRecordData,
    path: str | Path,
    options: ReportOptions | None = None,
    generated_at: datetime | None = None,
) -> ReportFiles:
    """Write the inspection record of one sample to ``path`` (PDF)."""

    options = options or ReportOptions.from_settings()
    issuer = require_issuer(options)
    moment = generated_at or clock.now()
    rid = record.record_number
    meta = ReportMeta(
        report_id=rid,
        title=f"地理标志产品抽样检验记录 {record.code}",
        short_title="地理标志产品抽样检验记录",
        generated_at=moment,
        issuer=issuer,
        subject=record.product_name,
    )
    with tempfile.TemporaryDirectory(prefix="gi-record-") as tmp:
        build_pdf(path, record_story(record, rid, s := Styles(), Path(tmp)), meta)
    del s
    return ReportFiles(pdf=Path(path), report_id=rid)
