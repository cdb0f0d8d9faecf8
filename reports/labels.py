"""Seal label sheets (封样标签): one label per task and unit, with the seal code as a QR code and in print.

The geometry is the common 14-up A4 sheet (2 x 7 labels of 99.1 x 38.1 mm, e.g. Avery L7163), so the sheet
prints on stock labels; the QR code holds exactly the code, which ODK Collect's barcode question scans.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from gi.errors import InputError
from gi.field.seals import SealLabel
from reports.fonts import register_cjk_font, verify_printable


@dataclass(frozen=True)
class SheetGeometry:
    """Where labels sit on an A4 sheet (millimetres)."""

    columns: int = 2
    rows: int = 7
    width: float = 99.1
    height: float = 38.1
    left: float = 4.65
    top: float = 15.15
    pitch_x: float = 101.6
    pitch_y: float = 38.1
    qr_size: float = 30.0


L7163 = SheetGeometry()


def label_lines(label: SealLabel) -> list[str]:
    """The text lines printed beside the QR code (after the code itself)."""
    return [
        label.product_name,
        _fit(label.producer_name, 34),
        f"任务 {label.task_id} · 第 {label.unit_number}/{label.units} 件 · 第 {label.round_number} 轮",
        f"计划 {label.plan_code}  {label.due_from:%m-%d}至{label.due_to:%m-%d}",
        "封样人：________  日期：______",
    ]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label_sheet_pdf(labels: Sequence[SealLabel], title: str, geometry: SheetGeometry = L7163) -> bytes:
    """The labels as an A4 PDF, a page per sheet of ``geometry``; every character is checked against the font."""
    if not labels:
        raise InputError("plan", "no labels to print: no open task in reach")
    verify_printable([title, *(line for label in labels for line in label_lines(label))])
    font = register_cjk_font()
    per_page = geometry.columns * geometry.rows
    pages = (len(labels) + per_page - 1) // per_page
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("GI origin and quality supervision")
    canvas.setSubject(", ".join(label.code for label in labels[:3]) + (" ..." if len(labels) > 3 else ""))
    for page in range(pages):
        chunk = labels[page * per_page : (page + 1) * per_page]
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#5f5f5f"))
        canvas.drawString(geometry.left * mm, A4[1] - 9 * mm, f"{title}　第 {page + 1}/{pages} 页")
        for i, label in enumerate(chunk):
            col, row = i % geometry.columns, i // geometry.columns
            x = (geometry.left + col * geometry.pitch_x) * mm
            y = A4[1] - (geometry.top + row * geometry.pitch_y + geometry.height) * mm
            _draw_label(canvas, label, x, y, geometry, font)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def write_label_sheet(
    labels: Sequence[SealLabel], path: Path, title: str, geometry: SheetGeometry = L7163
) -> Path:
    """Write the label sheet PDF to ``path`` (atomically) and return the path."""
    content = label_sheet_pdf(labels, title, geometry)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _draw_label(canvas: Canvas, label: SealLabel, x: float, y: float, g: SheetGeometry, font: str) -> None:
    width, height = g.width * mm, g.height * mm
    canvas.setStrokeColor(colors.HexColor("#c8c8c8"))
    canvas.setLineWidth(0.3)
    canvas.roundRect(x + 1 * mm, y + 1 * mm, width - 2 * mm, height - 2 * mm, 2 * mm)
    size = g.qr_size * mm
    drawing = Drawing(size, size)
    drawing.add(QrCodeWidget(label.code, barWidth=size, barHeight=size, barLevel="M", barBorder=2))
    renderPDF.draw(drawing, canvas, x + 2.5 * mm, y + (height - size) / 2)
    text_x = x + 2.5 * mm + size + 2 * mm
    text_width = width - (text_x - x) - 3 * mm
    canvas.setFillColor(colors.black)
    code_size = 13.0
    while stringWidth(label.code, "Courier-Bold", code_size) > text_width and code_size > 8:
        code_size -= 0.5
    canvas.setFont("Courier-Bold", code_size)
    line_y = y + height - 7.5 * mm
    canvas.drawString(text_x, line_y, label.code)
    sizes = (10.5, 8, 8, 7, 7.5)
    for line, size_pt in zip(label_lines(label), sizes, strict=True):
        line_y -= size_pt * 0.40 * mm + 2.1 * mm
        canvas.setFont(font, size_pt)
        canvas.setFillColor(colors.black if size_pt > 8 else colors.HexColor("#333333"))
        canvas.drawString(text_x, line_y, line)
