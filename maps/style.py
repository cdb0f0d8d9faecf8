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


# Verdict colours readable with the common colour-vision deficiencies (about 1 man in 16 in China has one):
# blue, orange and dark red differ in lightness as well as hue (Okabe & Ito's blue and orange, ColorBrewer's
# dark red), so "good", "doubt" and "bad" stay apart for deuteranopes and protanopes and in grey print.
GOOD_COLOUR = "#0072b2"
DOUBT_COLOUR = "#e69f00"
BAD_COLOUR = "#b2182b"
NONE_COLOUR = "#8c8c8c"

# Origin verdicts (产地核验结论); "unchecked" is a sample with no stored verdict yet.
ORIGIN_CATEGORIES: tuple[Category, ...] = (
    Category("inside", "产地相符（区域内）", GOOD_COLOUR),
    Category("uncertain", "边界存疑（容差带内）", DOUBT_COLOUR),
    Category("outside", "产地不符（区域外）", BAD_COLOUR),
    Category("unchecked", "未核验", NONE_COLOUR),
)

# Characteristic-quality verdicts (特色品质检验结论).
QUALITY_CATEGORIES: tuple[Category, ...] = (
    Category("pass", "品质合格", GOOD_COLOUR),
    Category("fail", "品质不合格", BAD_COLOUR),
    Category("inconclusive", "结果存疑", DOUBT_COLOUR),
    Category("pending", "待检验", NONE_COLOUR),
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
# The density of non-conformities: light yellow to dark red, a single-hue ramp by lightness.
HEAT_GRADIENT = {0.2: "#fee391", 0.5: "#fe9929", 0.8: "#cc4c02", 1.0: "#662506"}

# Reference layers: light enough not to compete with the data.
LAND_FILL = "#fbfaf6"
SEA_BACKGROUND = "#e6eef3"
PROVINCE_LINE = "#9a9a9a"
COUNTY_LINE = "#c4c4c4"
MARITIME_LINE = "#5b7a99"
# Rivers and lakes of the offline geography layer (maps.folium_maps.GeographyLayer): a quiet blue.
WATER_LINE = "#6f9fc6"
WATER_FILL = "#d4e5f2"

# Flags an origin check may raise, in words a supervisor reads (one table, shared with gi.quality.evidence's reasons).
FLAG_LABELS = FLAG_LABELS_ZH


def product_colour(index: int) -> str:
    """The colour of the ``index``-th product (stable order: the register's product codes)."""
    return PRODUCT_COLOURS[index % len(PRODUCT_COLOURS)]


def flag_label(flag: str) -> str:
    """Chinese wording of an origin-check flag (the code itself when unknown)."""
    return FLAG_LABELS.get(flag, flag)
