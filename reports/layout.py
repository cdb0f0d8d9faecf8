"""The shared page template of every report: A4, a header with the report id and generation time,
"第 x 页 共 y 页" footers, Chinese paragraph styles (CJK line breaking, so no line starts with a comma),
tables that split across pages with their header repeated, and the font check run on everything the report
prints."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    LongTable,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from reports.fonts import plain_text, register_cjk_font, verify_printable
from reports.linebreak import CJKParagraph

PAGE = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 18 * mm
CONTENT_WIDTH = PAGE[0] - 2 * MARGIN_X

INK = colors.HexColor("#1d1d1d")
MUTED = colors.HexColor("#5f5f5f")
RULE = colors.HexColor("#9a9a9a")
HEADER_FILL = colors.HexColor("#e9eef3")
ZEBRA_FILL = colors.HexColor("#f7f7f7")
ALERT = colors.HexColor("#b71c1c")


@dataclass(frozen=True)
class ReportMeta:
    """What the header and the PDF metadata say about a report."""

    report_id: str
    title: str
    short_title: str
    generated_at: datetime
    issuer: str
    subject: str = ""


DEFAULT_ISSUER = "地理标志产品监督管理部门"


@dataclass(frozen=True)
class ReportOptions:
    """Choices of a report that are not data."""

    issuer: str = DEFAULT_ISSUER
    max_detail_rows: int = 300  # longer non-conformity lists go to a CSV beside the PDF
    product_maps: bool = True


@dataclass
class ReportFiles:
    """What a report build wrote."""

    pdf: Path
    report_id: str
    attachments: list[Path] = field(default_factory=list)


def report_id(prefix: str, *parts: object) -> str:
    """A stable, readable id: prefix, date and a short hash of what the report is about."""
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:6].upper()
    return f"{prefix}-{digest}"


class Styles:
    """The paragraph styles of the reports (all in the embedded CJK font, CJK line breaking)."""

    def __init__(self) -> None:
        font = register_cjk_font()

        def style(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=leading,
                wordWrap="CJK",
                textColor=kw.pop("textColor", INK),
                **kw,
            )

        self.title = style("title", 19, 26, alignment=TA_CENTER, spaceAfter=4 * mm)
        self.subtitle = style("subtitle", 11.5, 17, alignment=TA_CENTER, textColor=MUTED, spaceAfter=2 * mm)
        self.h1 = style("h1", 13.5, 19, spaceBefore=5 * mm, spaceAfter=2.5 * mm)
        self.h2 = style("h2", 11.5, 16, spaceBefore=3 * mm, spaceAfter=1.5 * mm)
        self.body = style("body", 10.5, 17, firstLineIndent=21, spaceAfter=1.5 * mm)
        self.body_flush = style("body_flush", 10.5, 17, spaceAfter=1.5 * mm)
        self.note = style("note", 8.5, 12.5, textColor=MUTED, spaceAfter=1 * mm)
        self.caption = style(
            "caption", 9, 13, alignment=TA_CENTER, textColor=MUTED, spaceBefore=1 * mm, spaceAfter=3 * mm
        )
        self.cell = style("cell", 8.8, 11.5)
        self.cell_right = style("cell_right", 8.8, 11.5, alignment=TA_RIGHT)
        self.cell_centre = style("cell_centre", 8.8, 11.5, alignment=TA_CENTER)
        self.head = style("head", 8.8, 11.5, alignment=TA_CENTER)
        self.cell_code = style("cell_code", 7.6, 10.5)
        self.cell_code_alert = style("cell_code_alert", 7.6, 10.5, textColor=ALERT)
        self.cell_alert = style("cell_alert", 8.8, 11.5, textColor=ALERT)
        self.cell_right_alert = style("cell_right_alert", 8.8, 11.5, alignment=TA_RIGHT, textColor=ALERT)
        self.cell_centre_alert = style("cell_centre_alert", 8.8, 11.5, alignment=TA_CENTER, textColor=ALERT)
        self.signature = style("signature", 10.5, 17, alignment=TA_RIGHT)
        self.left = style("left", 10.5, 17, alignment=TA_LEFT)


def para(text: str, style: ParagraphStyle, markup: bool = False) -> Paragraph:
    """A paragraph of plain ``text`` (escaped) or of ReportLab markup when ``markup``, broken into lines by
    the Chinese rules (reports.linebreak)."""
    return CJKParagraph(text if markup else escape(text), style)


def data_table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    styles: Styles,
    align: Sequence[str] | None = None,
    zebra: bool = True,
    highlight: Iterable[int] = (),
    long: bool = True,
    shaded: Iterable[int] = (),
) -> Table:
    """A table whose header row repeats on every page it spans; cells wrap (CJK) inside ``widths`` (mm).
    Rows (0-based, header excluded) in ``highlight`` print in red; rows in ``shaded`` are subtotals."""
    align = align or ["left"] * len(header)
    # "code": identifiers (credit codes, sample codes) in a smaller size, so 18 characters fit on one line.
    normal = {
        "left": styles.cell,
        "right": styles.cell_right,
        "centre": styles.cell_centre,
        "code": styles.cell_code,
    }
    alert = {
        "left": styles.cell_alert,
        "right": styles.cell_right_alert,
        "centre": styles.cell_centre_alert,
        "code": styles.cell_code_alert,
    }
    red = set(highlight)
    grey = set(shaded)
    body = [[para(str(h), styles.head) for h in header]]
    for r, row in enumerate(rows):
        cell_style = alert if r in red else normal
        body.append(
            [
                v if isinstance(v, Flowable) else para("" if v is None else str(v), cell_style[a])
                for v, a in zip(row, align, strict=True)
            ]
        )
    table_cls = LongTable if long else Table
    table = table_cls(body, colWidths=[w * mm for w in widths], repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEABOVE", (0, 0), (-1, 0), 0.9, INK),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 0.9, INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if zebra:
        commands += [
            ("BACKGROUND", (0, r), (-1, r), ZEBRA_FILL) for r in range(2, len(body), 2) if r - 1 not in grey
        ]
    for r in grey:
        commands += [
            ("BACKGROUND", (0, r + 1), (-1, r + 1), HEADER_FILL),
            ("LINEABOVE", (0, r + 1), (-1, r + 1), 0.4, RULE),
        ]
    table.setStyle(TableStyle(commands))
    return table


def key_value_table(
    rows: Sequence[tuple[str, Any]], styles: Styles, widths: tuple[float, float] = (38, 136), columns: int = 1
) -> Table:
    """A bordered two-column (label, value) table, optionally laid out as ``columns`` pairs per row."""
    cells = [
        [
            para(label, styles.cell),
            v if isinstance(v, Flowable) else para("—" if v in (None, "") else str(v), styles.cell),
        ]
        for label, v in rows
    ]
    body: list[list[Any]] = []
    for i in range(0, len(cells), columns):
        row: list[Any] = []
        for pair in cells[i : i + columns]:
            row += pair
        row += [""] * (2 * columns - len(row))
        body.append(row)
    table = Table(body, colWidths=[w * mm for w in widths] * columns, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("BACKGROUND", (c, 0), (c, -1), HEADER_FILL) for c in range(0, 2 * columns, 2)]
    table.setStyle(TableStyle(commands))
    return table


def image(path: Path, width_mm: float, caption: str | None, styles: Styles) -> KeepTogether:
    """An image scaled to ``width_mm`` with a caption under it, kept on one page."""
    from reportlab.lib.utils import ImageReader

    w, h = ImageReader(str(path)).getSize()
    width = width_mm * mm
    parts: list[Flowable] = [Image(str(path), width=width, height=width * h / w)]
    if caption:
        parts.append(para(caption, styles.caption))
    return KeepTogether(parts)


def spacer(height_mm: float) -> Spacer:
    """Vertical space."""
    return Spacer(1, height_mm * mm)


# ---------------------------------------------------------------- page template and build


def _numbered_canvas(meta: ReportMeta) -> type[Canvas]:
    font = register_cjk_font()

    class NumberedCanvas(Canvas):
        """Defers page output until the end, so every footer can say how many pages there are."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("initialFontName", font)  # so no unembedded Helvetica is referenced
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, height = PAGE
            self.saveState()
            self.setFont(font, 8.5)
            self.setFillColor(MUTED)
            top = height - MARGIN_TOP + 7 * mm
            self.drawString(MARGIN_X, top, meta.short_title)
            self.drawRightString(
                width - MARGIN_X,
                top,
                f"报告编号 {meta.report_id}    生成时间 {meta.generated_at:%Y-%m-%d %H:%M}",
            )
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            self.line(MARGIN_X, top - 2.2 * mm, width - MARGIN_X, top - 2.2 * mm)
            self.setFont(font, 9)
            self.drawCentredString(
                width / 2, MARGIN_BOTTOM - 9 * mm, f"第 {self._pageNumber} 页 共 {total} 页"
            )
            self.restoreState()

    return NumberedCanvas


def walk_text(flowables: Iterable[Any]) -> Iterator[str]:
    """Every string the flowables will print (paragraph text and table cells, recursively)."""
    for item in flowables:
        if isinstance(item, Paragraph):
            yield plain_text(item.text)
        elif isinstance(item, str):
            yield item
        elif isinstance(item, Table):
            for row in item._cellvalues:
                yield from walk_text(row)
        elif isinstance(item, KeepTogether):
            yield from walk_text(item._content)
        elif isinstance(item, (list, tuple)):
            yield from walk_text(item)


def build_pdf(path: str | Path, story: list[Flowable], meta: ReportMeta) -> Path:
    """Check that the font covers everything printed, then lay ``story`` out on the template into ``path``."""
    register_cjk_font()
    footer_texts = [meta.short_title, meta.report_id, "报告编号 生成时间 第 页 共 页 0123456789-: "]
    verify_printable(list(walk_text(story)) + footer_texts)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = BaseDocTemplate(
        str(path),
        pagesize=PAGE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=meta.title,
        author=meta.issuer,
        subject=meta.subject or meta.title,
        creator="gi-supervision",
        keywords=meta.report_id,
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        CONTENT_WIDTH,
        PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story, canvasmaker=_numbered_canvas(meta))
    return path
