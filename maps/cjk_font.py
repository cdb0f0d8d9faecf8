"""The CJK font every image and PDF uses: WenQuanYi Zen Hei (Debian package fonts-wqy-zenhei), a TrueType
collection whose face 0 is the proportional "WenQuanYi Zen Hei"."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

FONT_NAME = "WenQuanYi Zen Hei"
SUBFONT_INDEX = 0
CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),
    Path("/usr/local/share/fonts/wqy-zenhei.ttc"),
)


class MissingFontError(FileNotFoundError):
    """The CJK font is not installed."""


def cjk_font_path() -> Path:
    """Path of the WenQuanYi Zen Hei collection (``GI_CJK_FONT`` overrides the search)."""
    override = os.environ.get("GI_CJK_FONT")
    candidates = (Path(override),) if override else CANDIDATES
    for path in candidates:
        if path.is_file():
            return path
    raise MissingFontError(
        f"font: WenQuanYi Zen Hei not found (looked in {', '.join(str(p) for p in candidates)}); "
        "install it with `apt-get install fonts-wqy-zenhei` (scripts/setup.sh does) or set GI_CJK_FONT"
    )


@lru_cache(maxsize=1)
def use_cjk_font_in_matplotlib() -> str:
    """Register the font with matplotlib and make it the default family; returns the family name."""
    import matplotlib
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(cjk_font_path()))
    # WQY declares weight 500 only; matplotlib would warn on every "normal" lookup.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    matplotlib.rcParams["font.family"] = [FONT_NAME]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return FONT_NAME
