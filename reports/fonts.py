"""The font every PDF embeds: WenQuanYi Zen Hei (TrueType outlines, face 0 of Debian's wqy-zenhei.ttc), and
the check that every character a report prints exists in it.

CFF-outline CJK fonts (Noto/Source Han OTF) are refused by ReportLab, and the built-in STSong-Light is not
embedded (the reader would need the font), so the PDF carries this TrueType font as a subset. Some new or rare
characters (鿍, 𫓧, 𬌗, ...) are not in WQY: a report containing one is refused with the characters named,
rather than printed with empty boxes; point ``GI_CJK_FONT`` at a TrueType font that has them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from gi.errors import InputError
from maps.cjk_font import FONT_NAME, SUBFONT_INDEX, MissingFontError, cjk_font_path

PDF_FONT = "WQYZenHei"

__all__ = [
    "FONT_NAME",
    "PDF_FONT",
    "MissingFontError",
    "MissingGlyphsError",
    "font_cmap",
    "missing_glyphs",
    "register_cjk_font",
    "verify_printable",
]


class MissingGlyphsError(InputError):
    """Text a report would print contains characters the embedded font cannot draw."""

    def __init__(self, missing: dict[str, str]) -> None:
        shown = "、".join(
            f"{ch}（U+{ord(ch):04X}，见“{context}”）" for ch, context in list(missing.items())[:8]
        )
        super().__init__(
            "font",
            f"{len(missing)} character(s) not in {FONT_NAME}: {shown}; set GI_CJK_FONT to a TrueType "
            "font that has them (for example Noto Sans SC converted to TrueType outlines)",
        )
        self.missing = missing


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the CJK font with ReportLab (once) and return its PDF font name."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = cjk_font_path()
    pdfmetrics.registerFont(TTFont(PDF_FONT, str(path), subfontIndex=SUBFONT_INDEX))
    # One face only: bold and italic markup fall back to the same face instead of failing.
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(PDF_FONT, bold, italic, PDF_FONT)
    return PDF_FONT


@lru_cache(maxsize=4)
def font_cmap(path: Path | None = None) -> frozenset[int]:
    """Code points the font (face 0 of the collection) maps to a glyph."""
    from fontTools.ttLib import TTCollection, TTFont

    path = path or cjk_font_path()
    if path.suffix.lower() in (".ttc", ".otc"):
        font = TTCollection(str(path), lazy=True).fonts[SUBFONT_INDEX]
    else:
        font = TTFont(str(path), lazy=True)
    return frozenset(font.getBestCmap().keys())


_TAG = re.compile(r"<[^>]+>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " "}


def plain_text(markup: str) -> str:
    """Text of ReportLab paragraph markup (tags removed, entities decoded)."""
    text = _TAG.sub("", markup)
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text


def missing_glyphs(texts: Iterable[str]) -> dict[str, str]:
    """Characters of ``texts`` absent from the font, each with a little of the text it appears in."""
    cmap = font_cmap()
    missing: dict[str, str] = {}
    for text in texts:
        for i, char in enumerate(text):
            if char in missing or ord(char) in cmap:
                continue
            if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in "\n\r\t ":
                continue  # layout characters are never drawn
            missing[char] = text[max(0, i - 6) : i + 7]
    return missing


def verify_printable(texts: Iterable[str]) -> None:
    """Raise ``MissingGlyphsError`` if any character of ``texts`` is not in the font."""
    missing = missing_glyphs(texts)
    if missing:
        raise MissingGlyphsError(missing)
