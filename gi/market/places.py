"""Where a ship-from address lies relative to a protected area, from its text alone (no geocoding).

An address naming one of the area's county-level units (五常市, 西湖区, or the name without its suffix where
that is distinctive) is inside; an address naming a province-level unit the area does not touch (江苏 for
西湖龙井) is outside; anything else is undetermined, and says so, rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

# GB/T 2260 province-level units: code prefix -> names as addresses write them.
PROVINCES: dict[str, tuple[str, ...]] = {
    "11": ("北京",),
    "12": ("天津",),
    "13": ("河北",),
    "14": ("山西",),
    "15": ("内蒙古",),
    "21": ("辽宁",),
    "22": ("吉林",),
    "23": ("黑龙江",),
    "31": ("上海",),
    "32": ("江苏",),
    "33": ("浙江",),
    "34": ("安徽",),
    "35": ("福建",),
    "36": ("江西",),
    "37": ("山东",),
    "41": ("河南",),
    "42": ("湖北",),
    "43": ("湖南",),
    "44": ("广东",),
    "45": ("广西",),
    "46": ("海南",),
    "50": ("重庆",),
    "51": ("四川",),
    "52": ("贵州",),
    "53": ("云南",),
    "54": ("西藏",),
    "61": ("陕西",),
    "62": ("甘肃",),
    "63": ("青海",),
    "64": ("宁夏",),
    "65": ("新疆",),
    "71": ("台湾",),
    "81": ("香港",),
    "82": ("澳门",),
}
_SUFFIXES = ("自治县", "自治旗", "县", "市", "区", "旗")


def _short(name: str) -> str | None:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def address_side(address: str, units: Iterable[dict[str, str]]) -> tuple[str, str]:
    """('inside' | 'outside' | 'undetermined', reason) of an address against an area's admin units
    (``{"code": "330106", "name": "西湖区"}``)."""
    units = [u for u in units if u.get("code") and u.get("name")]
    text = "".join(address.split())
    for u in units:
        short = _short(u["name"])
        # A short name of two characters (西湖) is also a scenic spot or a street name elsewhere: only full names.
        if u["name"] in text or (short and len(short) >= 3 and short in text):
            return "inside", f"names {u['name']} ({u['code']}) of the area"
    provinces = {u["code"][:2] for u in units}
    for code, names in PROVINCES.items():
        if code in provinces:
            continue
        for name in names:
            if text.startswith(name) or (name in text[:6]):
                return "outside", f"names {name}, a province the area does not reach"
    return "undetermined", "the address names no unit of the area and no other province"
