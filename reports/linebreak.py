"""Chinese line breaking for ReportLab paragraphs.

ReportLab's ``wordWrap='CJK'`` cuts "like a knife" and only sometimes applies the kinsoku rules: in mixed text
("12.6%，要求…") a line can still start with a comma or end with an opening bracket, and numbers get cut in
half. ``CJKParagraph`` keeps wordWrap='CJK' and replaces its line breaker for plain-text paragraphs with one
that never starts a line with closing punctuation, never ends one with opening punctuation, and keeps runs of
Latin letters and digits ("15.69%", "GB/T 19266") together whenever the line has room for them elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from reportlab.lib.textsplit import ALL_CANNOT_END, ALL_CANNOT_START
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph

CANNOT_START = set(ALL_CANNOT_START) | set("，。、；：！？）》」』】〕〉’”％‰℃.,;:!?)]}%")
CANNOT_END = set(ALL_CANNOT_END) | set("（《「『【〔〈‘“([{")
_WORD = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.%‰/-_+:#¹²³")


# Spans never broken inside when the line has room for them elsewhere: dates with their year, a number with its
# unit, "第 3 版", and the registered product names (a name is one word: "长白山五味子", never "长白山五味 / 子").
_UNITS = "平方千米|千米|公里|米|km²|km|mg/dm²|m²|m³|m|mg/kg|g/100g|g/kg|mg/L|μg/kg|%|‰|℃|°C|批次|家|个|件|次|千克|克|kg|g|mL|L|天|小时|h"
KEEP_PATTERN = re.compile(
    # A package size as labels print it: "500 g/袋", "2.5 kg/箱" (规格型号), before the plain units below.
    r"\d[\d.]*\s?(?:g|kg|克|千克|mL|L|斤)\s?/\s?[\u4e00-\u9fff]"
    r"|\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2})?"
    r"|\d{4}年\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日"
    rf"|[<>≤≥±]?\s?[-+]?\d[\d,.]*\s?(?:{_UNITS})(?![A-Za-z])"
    r"|第\s?\d+\s?[版轮条款]"
    r"|δ¹³C|δ¹⁵N|δ²H|δ¹⁸O"
)


@lru_cache(maxsize=1)
def _product_names() -> re.Pattern[str] | None:
    """The registered products' Chinese names, longest first (geo_data/register/products.json)."""
    from geo_data.register import DEFAULT_REGISTER

    try:
        products = json.loads(DEFAULT_REGISTER.read_text(encoding="utf-8"))["products"]
    except (OSError, KeyError, ValueError):
        return None
    names = sorted({str(p["name_zh"]) for p in products if p.get("name_zh")}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names))) if names else None


def keep_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each span of ``text`` that must not be broken inside (dates, units, product names)."""
    spans = [m.span() for m in KEEP_PATTERN.finditer(text)]
    names = _product_names()
    if names is not None:
        spans += [m.span() for m in names.finditer(text)]
    return sorted(spans)


def _is_word(char: str) -> bool:
    return char in _WORD


def _next_visible(text: str, at: int) -> str:
    """The first non-space character from ``at`` on ("" at the end): "15.5 %" does not break at its space."""
    while at < len(text) and text[at] == " ":
        at += 1
    return text[at] if at < len(text) else ""


def break_lines(text: str, max_widths: Sequence[float], font: str, size: float) -> list[tuple[float, str]]:
    """Lines of ``text`` as (unused width, line) pairs, each at most its max width wide (a single character
    wider than the line is put on a line of its own)."""
    widths = [stringWidth(ch, font, size) for ch in text]
    # glued[i]: no break between text[i - 1] and text[i].
    glued = [False] * (len(text) + 1)
    for a, b in keep_spans(text):
        for k in range(a + 1, b):
            glued[k] = True
    lines: list[tuple[float, str]] = []
    start, n = 0, len(text)
    while start < n and text[start] == " ":
        start += 1
    while start < n:
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        used, i = 0.0, start
        while i < n and used + widths[i] <= limit + 1e-6:
            used += widths[i]
            i += 1
        if i >= n:
            lines.append((limit - used, text[start:]))
            break
        brk = max(i, start + 1)
        for _ in range(8):  # each rule may move the break back; stop when none does
            moved = False
            if brk < n and _is_word(text[brk]) and _is_word(text[brk - 1]):
                k = brk - 1
                while k > start and _is_word(text[k - 1]):
                    k -= 1
                if k > start:
                    brk, moved = k, True
            while brk - 1 > start and _next_visible(text, brk) in CANNOT_START:
                brk, moved = brk - 1, True
            while brk - 1 > start and text[brk - 1] in CANNOT_END:
                brk, moved = brk - 1, True
            if brk < n and glued[brk]:
                k = brk
                while k > start and glued[k]:
                    k -= 1
                if k > start:  # the span fits on the next line: break before it
                    brk, moved = k, True
            if not moved:
                break
        line = text[start:brk].rstrip(" ")
        lines.append((limit - stringWidth(line, font, size), line))
        start = brk
        while start < n and text[start] == " ":
            start += 1
    return lines


class CJKParagraph(Paragraph):
    """A Paragraph with wordWrap='CJK' whose plain-text lines follow the Chinese line-breaking rules."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:
        """Break plain single-font text with :func:`break_lines`; markup falls back to ReportLab's breaker."""
        frags = self.frags
        single = (
            len(frags) == 1
            and hasattr(frags[0], "text")
            and not hasattr(frags[0], "cbDefn")
            and not self.style.endDots
            and not getattr(self, "_splitpara", 0)
        )
        if not single:
            return super().breakLinesCJK(maxWidths)
        if not isinstance(maxWidths, (list, tuple)):
            maxWidths = [maxWidths]
        frag = frags[0]
        self.height = 0
        lines = break_lines(frag.text, maxWidths, frag.fontName, frag.fontSize)
        return frag.clone(
            kind=0,
            lines=[(space, [line]) for space, line in lines],
            ascent=frag.fontSize,
            descent=-0.2 * frag.fontSize,
        )
