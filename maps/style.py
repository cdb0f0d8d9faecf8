"""Colours and Chinese labels shared by the web maps, the static images and the reports, so that a verdict
looks the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from gi.quality.wording import FLAG_LABELS_ZH


@dataclass(frozen=True)
class Category:
    """One legend entry: a code stored in the data, its Chinese label and colour."""

    code: str
    label: str
    colour: str


# Origin verdicts (产地核验结论); "unchecked" is a sample with no stored verdict yet.
ORIGIN_CATEGORIES: tuple[Category, ...] = (
    Category("inside", "产地相符（区域内）", "#1a9850"),
    Category("uncertain", "边界存疑（容差带内）", "#f0a30a"),
    Category("outside", "产地不符（区域外）", "#d73027"),
    Category("unchecked", "未核验", "#8c8c8c"),
)

# Characteristic-quality verdicts (特色品质检验结论).
QUALITY_CATEGORIES: tuple[Category, ...] = (
    Category("pass", "品质合格", "#1a9850"),
    Category("fail", "品质不合格", "#d73027"),
    Category("inconclusive", "结果存疑", "#f0a30a"),
    Category("pending", "待检验", "#8c8c8c"),
)

ORIGIN = {c.code: c for c in ORIGIN_CATEGORIES}
QUALITY = {c.code: c for c in QUALITY_CATEGORIES}

# Distinct, print-safe colours for the protected areas of different products.
PRODUCT_COLOURS: tuple[str, ...] = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#8dd3c7",
    "#bebada",
    "#80b1d3",
    "#fccde5",
    "#bc80bd",
)

PRODUCER_OUTSIDE_COLOUR = "#7b1fa2"
HEAT_GRADIENT = {0.2: "#fee08b", 0.5: "#fc8d59", 0.8: "#d73027", 1.0: "#7f0000"}

# Reference layers: light enough not to compete with the data.
LAND_FILL = "#fbfaf6"
SEA_BACKGROUND = "#e6eef3"
PROVINCE_LINE = "#9a9a9a"
COUNTY_LINE = "#c4c4c4"
MARITIME_LINE = "#5b7a99"

# Flags an origin check may raise, in words a supervisor reads (one table, shared with gi.quality.evidence's reasons).
FLAG_LABELS = FLAG_LABELS_ZH


def product_colour(index: int) -> str:
    """The colour of the ``index``-th product (stable order: the register's product codes)."""
    return PRODUCT_COLOURS[index % len(PRODUCT_COLOURS)]


def flag_label(flag: str) -> str:
    """Chinese wording of an origin-check flag (the code itself when unknown)."""
    return FLAG_LABELS.get(flag, flag)
