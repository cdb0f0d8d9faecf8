"""The shared page template of every report: A4, a header with the report id and generation time,
"第 x 页 共 y 页" footers, Chinese paragraph styles (CJK line breaking, so no line starts with a comma),
tables that split across pages with their header repeated, and the font check run on everything the report
prints."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
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
    pagesize: tuple[float, float] = A4


# The legal basis every notice and report cites (setting GI_LEGAL_BASIS replaces it, e.g. to add a province's
# rules). Article 5 of CNIPA Order No. 80 gives local IP offices the supervision of GI products and the special
# mark in their area; 国发〔2019〕5号 is the State Council's opinion on 双随机、一公开 supervision.
DEFAULT_LEGAL_BASIS = (
    "《地理标志产品保护办法》（国家知识产权局令第80号）第五条和"
    "《国务院关于在市场监管领域全面推行部门联合“双随机、一公开”监管的意见》（国发〔2019〕5号）"
)


@dataclass(frozen=True)
class ReportOptions:
    """Choices of a report that are not data. A published document needs its issuer: an option, or the
    configured issuing office (GI_ISSUING_OFFICE); there is no placeholder."""

    issuer: str | None = None
    max_detail_rows: int = 300  # longer non-conformity lists go to a CSV beside the PDF
    product_maps: bool = True
    legal_basis: str = DEFAULT_LEGAL_BASIS
    prepared_by: str | None = None  # 编制
    reviewed_by: str | None = None  # 审核
    approved_by: str | None = None  # 签发

    @classmethod
    def from_settings(cls, **overrides: Any) -> ReportOptions:
        """Options with the configured issuing office and legal basis, overridden by ``overrides``."""
        from gi.settings import get_settings

        settings = get_settings()
        values: dict[str, Any] = {
            "issuer": getattr(settings, "issuing_office", None),
            "legal_basis": getattr(settings, "legal_basis", None) or DEFAULT_LEGAL_BASIS,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def require_issuer(options: ReportOptions) -> str:
    """The issuer of a document; refused (InputError on ``issuer``) when none is given or configured."""
    from gi.errors import InputError

    issuer = (options.issuer or "").strip()
    if not issuer:
        raise InputError(
            "issuer", "a published document needs its issuer: give --issuer or set GI_ISSUING_OFFICE"
        )
    return issuer


def legal_basis(plans: Sequence[tuple[str, str]], basis: str = DEFAULT_LEGAL_BASIS) -> str:
    """The legal basis as cited: the regulations, then the plans of the season by title and number."""
    cited = [f"《{title}》（计划编号 {code}）" for title, code in plans]
    return basis + ("以及" + "、".join(cited) if cited else "")


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
        self.table_caption = style(
            "table_caption", 9.5, 13.5, alignment=TA_CENTER, spaceBefore=2 * mm, spaceAfter=1.5 * mm
        )
        self.cell = style("cell", 8.8, 11.5)
        self.cell_right = style("cell_right", 8.8, 11.5, alignment=TA_RIGHT)
        self.cell_centre = style("cell_centre", 8.8, 11.5, alignment=TA_CENTER)
        self.head = style("head", 8.8, 11.5, alignment=TA_CENTER)
        self.head_small = style("head_small", 7.6, 10.5, alignment=TA_CENTER)
        self.cell_code = style("cell_code", 7.6, 10.5)
        self.cell_small = style("cell_small", 7.6, 10.5)
        self.cell_small_right = style("cell_small_right", 7.6, 10.5, alignment=TA_RIGHT)
        self.cell_small_centre = style("cell_small_centre", 7.6, 10.5, alignment=TA_CENTER)
        self.cell_code_alert = style("cell_code_alert", 7.6, 10.5, textColor=ALERT)
        self.cell_alert = style("cell_alert", 8.8, 11.5, textColor=ALERT)
        self.cell_right_alert = style("cell_right_alert", 8.8, 11.5, alignment=TA_RIGHT, textColor=ALERT)
        self.cell_centre_alert = style("cell_centre_alert", 8.8, 11.5, alignment=TA_CENTER, textColor=ALERT)
        self.signature = style("signature", 10.5, 17, alignment=TA_RIGHT)
        self.left = style("left", 10.5, 17, alignment=TA_LEFT)


# Images go into the PDF as binary streams: ASCII85 (ReportLab's default) is encoded in pure Python when its C
# accelerator is not installed, 1.7 s of a region's 8.7 s report (benchmarks/campaign_report.py), and makes the
# file a quarter larger for nothing (a PDF is a binary file anyway).
rl_config.useA85 = 0
CELL_PADDING = 3  # points, left and right of every table cell
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT_RUN = re.compile(f"[{_SUPERSCRIPTS}]+")
# The embedded fonts have the Latin-1 superscripts: "mg/dm²" stays plain text, so the Chinese line breaker (never
# "（" at a line's end) keeps it; ReportLab's own breaker, which markup needs, does not.
_MISSING_SUPERSCRIPT = re.compile("[⁰⁴⁵⁶⁷⁸⁹]")


def para(text: str, style: ParagraphStyle, markup: bool = False) -> Paragraph:
    """A paragraph of plain ``text`` (escaped) or of ReportLab markup when ``markup``, broken into lines by
    the Chinese rules (reports.linebreak). Superscript digits (δ¹⁵N) are raised digits of the embedded font,
    which lacks some superscript glyphs."""
    if not markup and _MISSING_SUPERSCRIPT.search(text):
        digits = str.maketrans(_SUPERSCRIPTS, "0123456789")
        text = _SUPERSCRIPT_RUN.sub(lambda m: f"<super>{m.group().translate(digits)}</super>", escape(text))
        markup = True
    return CJKParagraph(text if markup else escape(text), style)


# Where a column name too wide for its column reads well broken: before a bracket, after a slash, before 占比.
_HEADER_BREAK = re.compile(r"(?=（)|(?<=[/／])|(?=占比$)")


def _header(name: str, width: float, style: ParagraphStyle) -> Paragraph:
    """A column name; when it is wider than its column (``width`` mm less the cell padding), on two lines broken
    where it reads well ("产地相符 / （区域内）", "发放/ / 产能"), never inside a word ("发放/产 / 能")."""
    room = width * mm - 2 * CELL_PADDING
    if stringWidth(name, style.fontName, style.fontSize) <= room or not _HEADER_BREAK.search(name[1:]):
        return para(name, style)
    at = next(m.start() for m in _HEADER_BREAK.finditer(name) if m.start() > 0)
    return para(f"{escape(name[:at])}<br/>{escape(name[at:])}", style, markup=True)


def data_table(
    header: Sequence[str | Flowable],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    styles: Styles,
    align: Sequence[str] | None = None,
    zebra: bool = True,
    highlight: Iterable[int] = (),
    long: bool = True,
    shaded: Iterable[int] = (),
    spans: Iterable[tuple[int, int, int]] = (),
    total_row: bool = False,
    small: bool = False,
) -> Table:
    """A table whose header row repeats on every page it spans; cells wrap (CJK) inside ``widths`` (mm).
    Rows (0-based, header excluded) in ``highlight`` print in red; rows in ``shaded`` are subtotals;
    ``spans`` are (column, first row, last row) cells merged down; a ``total_row`` (the last) is never left
    alone at the top of a page, and rows merged by a span are never split."""
    align = align or ["left"] * len(header)
    # "code": identifiers (credit codes, sample codes) in a smaller size, so 18 characters fit on one line.
    normal = {
        "left": styles.cell_small if small else styles.cell,
        "right": styles.cell_small_right if small else styles.cell_right,
        "centre": styles.cell_small_centre if small else styles.cell_centre,
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
    # A header may be a ready paragraph: a long column name broken where it reads well (标称生产企业 / 名称).
    head_style = styles.head_small if small else styles.head
    body: list[list[Any]] = [
        [
            h if isinstance(h, Flowable) else _header(str(h), w, head_style)
            for h, w in zip(header, widths, strict=True)
        ]
    ]
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
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
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
    for column, first, last in spans:
        commands += [
            ("SPAN", (column, first + 1), (column, last + 1)),
            ("NOSPLIT", (0, first + 1), (-1, last + 1)),
            ("VALIGN", (column, first + 1), (column, last + 1), "TOP"),
        ]
    if total_row and len(body) > 2:
        commands += [
            ("NOSPLIT", (0, len(body) - 2), (-1, len(body) - 1)),
            ("LINEABOVE", (0, len(body) - 1), (-1, len(body) - 1), 0.6, INK),
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


class Numbering:
    """Figure and table numbers (图 1, 表 1, …) in the order a document places them."""

    def __init__(self) -> None:
        self.figures = 0
        self.tables = 0

    def figure(self, caption: str) -> str:
        """The next figure's caption: 图 n  caption."""
        self.figures += 1
        return f"图 {self.figures}  {caption}"

    def table(self, caption: str) -> str:
        """The next table's caption: 表 n  caption."""
        self.tables += 1
        return f"表 {self.tables}  {caption}"


def captioned_table(caption: str, table: Table, styles: Styles) -> list[Flowable]:
    """A table with its numbered caption above it, the caption kept with the table's first rows."""
    return [CondPageBreak(30 * mm), para(caption, styles.table_caption), table]


def signoff_block(options: ReportOptions, styles: Styles) -> Table:
    """The 编制 / 审核 / 签发 block of a report: names when given, else lines to sign on."""
    blank = "＿＿＿＿＿＿"
    cells = [
        para(f"编制：{options.prepared_by or blank}", styles.left),
        para(f"审核：{options.reviewed_by or blank}", styles.left),
        para(f"签发：{options.approved_by or blank}", styles.left),
    ]
    dates = [para("日期：＿＿＿＿年＿＿月＿＿日", styles.note) for _ in range(3)]
    table = Table([cells, dates], colWidths=[CONTENT_WIDTH / 3] * 3, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
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
            width, height = meta.pagesize
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
    page = meta.pagesize
    doc = BaseDocTemplate(
        str(path),
        pagesize=page,
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
        page[0] - 2 * MARGIN_X,
        page[1] - MARGIN_TOP - MARGIN_BOTTOM,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story, canvasmaker=_numbered_canvas(meta))
    return path


def printed_lines(flowables: Iterable[Any]) -> Iterator[str]:
    """Every line the laid-out paragraphs printed (after ``build_pdf``), recursively through tables: what the
    line-breaking tests read."""
    for item in flowables:
        if isinstance(item, Paragraph):
            lines = getattr(getattr(item, "blPara", None), "lines", None) or []
            for line in lines:
                words = line[1] if isinstance(line, tuple) else getattr(line, "words", [])
                yield "".join(w if isinstance(w, str) else getattr(w, "text", "") for w in words)
        elif isinstance(item, Table):
            for row in item._cellvalues:
                yield from printed_lines(row)
        elif isinstance(item, KeepTogether):
            yield from printed_lines(item._content)
        elif isinstance(item, (list, tuple)):
            yield from printed_lines(item)
