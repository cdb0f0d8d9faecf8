"""Finding a GI name in an online listing's title, with the common variants sellers use.

Titles are normalized first: full-width to half-width and lower case (NFKC), traditional characters of GI names
to simplified (陽澄湖大閘蟹 is 阳澄湖大闸蟹), and spaces, punctuation and symbols removed (【五常】 大米, 西湖·龙井).
A title uses a product's name when it contains one of its exact forms, or one of its place words followed
within a few characters by one of its product words (五常稻花香大米, 阳澄湖公蟹, 狮峰明前龙井): the 2024
Measures forbid using a GI name for goods not from the area also with words such as 种, 型, 式, 类 or 风格,
so "五常同款大米" counts too. A place word right after a negation (非, 不是) does not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from geo_data.register import NameVariants

# Traditional forms of the characters of the register's names and variants (simplified on the right).
_TRADITIONAL = str.maketrans(
    "陽閘龍華興鎮長寧紅楊餘爾庫獅塢覺隴雲棲種蟹湖茶稻",
    "阳闸龙华兴镇长宁红杨余尔库狮坞觉陇云栖种蟹湖茶稻",
)
_NEGATIONS = ("非", "不是", "并非")


def normalize_title(text: str) -> str:
    """A title as matched: NFKC, lower case, simplified GI characters, no spaces, punctuation or symbols."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRADITIONAL)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


@dataclass(frozen=True)
class NameMatch:
    """A GI name found in a title: the product, the text matched (normalized) and how."""

    product_code: str
    matched: str
    how: str  # "exact" or "place+product"
    position: int


@dataclass(frozen=True)
class NamePattern:
    """The compiled variants of one product's name."""

    product_code: str
    exact: tuple[str, ...]
    pair: re.Pattern[str] | None

    @classmethod
    def of(cls, product_code: str, name_zh: str, variants: NameVariants | None) -> NamePattern:
        """Compile a product's name and its register variants."""
        exact = {normalize_title(name_zh)}
        pair = None
        if variants is not None:
            exact |= {normalize_title(e) for e in variants.exact}
            if variants.places and variants.products:
                places = "|".join(
                    sorted({re.escape(normalize_title(p)) for p in variants.places}, key=len, reverse=True)
                )
                words = "|".join(
                    sorted({re.escape(normalize_title(p)) for p in variants.products}, key=len, reverse=True)
                )
                pair = re.compile(f"(?:{places}).{{0,{variants.window}}}?(?:{words})")
        return cls(product_code, tuple(sorted(e for e in exact if e)), pair)

    def find(self, normalized: str) -> NameMatch | None:
        """The first use of this name in a normalized title, or None."""
        found: list[NameMatch] = []
        for e in self.exact:
            for m in re.finditer(re.escape(e), normalized):
                if not _negated(normalized, m.start()):
                    found.append(NameMatch(self.product_code, e, "exact", m.start()))
                    break
        if self.pair is not None:
            for m in self.pair.finditer(normalized):
                if not _negated(normalized, m.start()):
                    found.append(NameMatch(self.product_code, m.group(0), "place+product", m.start()))
                    break
        return min(found, key=lambda m: (m.position, m.how != "exact")) if found else None


def _negated(text: str, start: int) -> bool:
    return any(text[max(0, start - len(n)) : start] == n for n in _NEGATIONS)


def find_gi_names(title: str, patterns: Iterable[NamePattern]) -> list[NameMatch]:
    """Every product whose name a title uses, in the order they appear."""
    normalized = normalize_title(title)
    matches = [m for p in patterns if (m := p.find(normalized)) is not None]
    return sorted(matches, key=lambda m: m.position)
