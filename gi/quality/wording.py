"""Wording of the combined-origin-evidence reasons (gi.quality.evidence) in English and in Chinese.

A reason is stored as a stable ``code`` with its ``params`` (numbers, area names, flag codes); both texts are
produced from them here: ``text`` (English) for the command line and logs, ``text_zh`` for the Chinese reports.
Also the Chinese labels of the origin-check flags, shared with the maps and reports (maps.style).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Origin-check flags (gi.origin.rule, stored in origin_verdict.flags) in the words a supervisor reads.
FLAG_LABELS_ZH: dict[str, str] = {
    "swapped_lat_lon": "经纬度疑似颠倒",
    "outside_china": "坐标位于境外",
    "null_island": "坐标为零",
    "coarse_precision": "坐标精度不足（少于4位小数）",
    "crs_implausible": "申报坐标系可疑",
    "accuracy_zero": "定位精度为0（疑似模拟定位）",
    "accuracy_poor": "GPS 精度超限",
    "accuracy_missing": "未报告 GPS 精度",
    "not_gps_fix": "非 GPS 定位（地图选点或地址解析）",
    "no_area_version": "采样时无有效保护范围版本",
    "in_other_gi_area": "位于其他地理标志产品保护范围内",
    "gps_accuracy_poor": "GPS 精度超限",
}

# Why a fingerprint could not be judged (gi.quality.fingerprint.NotAssessableError codes), in Chinese.
_NOT_ASSESSED_ZH: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "too_few_variables": lambda p: (
        f"参考数据集的 {len(p.get('variables') or ())} 个变量（{'、'.join(p.get('variables') or ())}）"
        f"中仅测定了 {p.get('measured', 0)} 个，至少需要 {p.get('needed', 2)} 个"
    ),
    "too_few_references": lambda p: (
        f"{p.get('area_zh', '')}参考数据集仅有 {p.get('n')} 个完整的真实样品，比对 {p.get('p')} 个变量"
        f"至少需要 {p.get('needed')} 个"
    ),
    "too_few_after_screening": lambda p: (
        f"{p.get('area_zh', '')}参考数据集剔除离群值后仅余 {p.get('m')} 个样品，不足以比对 {p.get('p')} 个变量"
    ),
    "singular_covariance": lambda p: (
        f"{p.get('area_zh', '')}参考数据中{'、'.join(p.get('variables') or ())}的协方差矩阵奇异"
        "（某变量为常数或两变量共线）"
    ),
    "not_positive": lambda p: f"{p.get('variable')} 测定值 {p.get('value')} 不大于 0，无法按对数尺度比较",
}
NOT_ASSESSED_FALLBACK_ZH = "参考数据或检测结果不足以判定"


def flag_label_en(flag: str) -> str:
    """English wording of an origin-check flag (gi.origin.rule.FLAG_LABELS; the code itself when unknown)."""
    try:
        from gi.origin.rule import FLAG_LABELS
    except ImportError:  # pragma: no cover - the origin module is always present in a full install
        return flag
    return FLAG_LABELS.get(flag, flag)


def flag_label_zh(flag: str) -> str:
    """Chinese wording of an origin-check flag (the code itself when unknown)."""
    return FLAG_LABELS_ZH.get(flag, flag)


def not_assessed_zh(code: str | None, params: Mapping[str, Any] | None) -> str:
    """Why a fingerprint was not assessed, in Chinese (a general sentence for an unknown or missing code)."""
    render = _NOT_ASSESSED_ZH.get(code or "")
    return render(params or {}) if render else NOT_ASSESSED_FALLBACK_ZH


# ---------------------------------------------------------------- numbers


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _where_en(p: Mapping[str, Any]) -> str:
    return f"area version {p['area_version']}" if p.get("area_version") else "no area version"


def _distance_en(p: Mapping[str, Any]) -> str:
    d = p.get("distance_m")
    if d is None:
        return ""
    metres = f"{d:+,.0f}"
    if metres in ("+0", "-0"):  # less than half a metre either side (or -0.0): no sign, never "-0 m"
        metres = "0"
    return f", {metres} m from the boundary"


def _where_zh(p: Mapping[str, Any]) -> str:
    return f"第{p['area_version']}版保护范围" if p.get("area_version") else "保护范围（采样时无有效版本）"


def metres_zh(metres: float) -> str:
    """A length as a report prints it: '12 米', '1.86 千米'."""
    metres = abs(metres)
    return f"{metres / 1000:,.2f} 千米" if metres >= 1000 else f"{metres:.0f} 米"


def _distance_zh(p: Mapping[str, Any]) -> str:
    """'界内 12 米' or '界外 1.86 千米'; nothing when unknown or when the position itself is suspect (a swapped
    or foreign position lies thousands of kilometres away: a data error, not a distance)."""
    d = p.get("distance_m")
    if d is None or p.get("position_suspect"):
        return ""
    return f"{'界内' if d >= 0 else '界外'} {metres_zh(d)}"


def _band_zh(p: Mapping[str, Any]) -> str:
    return f"判定容差 {_float(p.get('band_m')):,.0f} 米"


def _in_brackets(*parts: str) -> str:
    shown = [part for part in parts if part]
    return f"（{'，'.join(shown)}）" if shown else ""


def _p_zh(value: Any, spec: str) -> str:
    return "—" if value is None else format(float(value), spec)


# ---------------------------------------------------------------- reasons


def _fingerprint_en(p: Mapping[str, Any]) -> str:
    if p.get("consistent"):
        return (
            f"isotope/element profile consistent with {p['area_zh']} references "
            f"(p = {_float(p.get('p_value')):.2g}, n = {p.get('n_reference')})"
        )
    text = (
        f"isotope/element profile atypical for {p['area_zh']} (p = {_float(p.get('p_value')):.1e}, "
        f"d² = {_float(p.get('distance_sq')):.1f})"
    )
    top = [f"{variable} z {z:+.1f}" for variable, z in p.get("deviations") or []]
    if top:
        text += f"; deviating most: {', '.join(top)}"
    other = p.get("best_other")
    if other:
        text += f"; {'fits' if other['fits'] else 'nearest'} {other['area_zh']} (p = {other['p_value']:.2g})"
    return text


def _fingerprint_zh(p: Mapping[str, Any]) -> str:
    if p.get("consistent"):
        return (
            f"同位素/元素特征与{p['area_zh']}参考样品一致"
            f"（p = {_p_zh(p.get('p_value'), '.2g')}，参考样品 {p.get('n_reference')} 个）"
        )
    text = (
        f"同位素/元素特征不符合{p['area_zh']}参考样品"
        f"（p = {_p_zh(p.get('p_value'), '.1e')}，d² = {_p_zh(p.get('distance_sq'), '.1f')}）"
    )
    top = [f"{variable_zh(variable)}（z = {z:+.1f}）" for variable, z in p.get("deviations") or []]
    if top:
        text += f"；偏离最大的变量：{'、'.join(top)}"
    other = p.get("best_other")
    if other:
        verb = "与{}参考样品相符" if other["fits"] else "最接近{}参考样品"
        text += f"；{verb.format(other['area_zh'])}（p = {other['p_value']:.2g}）"
    return text


_EN: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "gps_missing": lambda p: "no GPS origin verdict stored for the sample",
    "gps_outside_entry_error": lambda p: (
        f"GPS point outside the protected area as submitted ({_where_en(p)}{_distance_en(p)}), inside if "
        "re-read: data-entry error suspected"
    ),
    "gps_outside": lambda p: f"GPS point outside the protected area ({_where_en(p)}{_distance_en(p)})",
    "gps_band": lambda p: (
        f"GPS point within the uncertain band of the boundary ({_where_en(p)}{_distance_en(p)}, "
        f"band {p['band_m']:,.0f} m)"
    ),
    "gps_untrusted_inside": lambda p: (
        f"location not trusted, so origin uncertain although the point lies inside ({_where_en(p)}"
        f"{_distance_en(p)})"
    ),
    "gps_untrusted": lambda p: f"location not trusted ({_where_en(p)}{_distance_en(p)})",
    "gps_inside": lambda p: f"GPS point inside the protected area ({_where_en(p)}{_distance_en(p)})",
    "gps_flag": lambda p: f"GPS flag: {flag_label_en(p['flag'])}",
    "fingerprint_no_reference": lambda p: (
        f"no reference set of authentic samples for {p['product_code']}: fingerprint not checked"
    ),
    "fingerprint_not_assessed": lambda p: f"fingerprint not assessed: {p['reason']}",
    "fingerprint_profile": _fingerprint_en,
    "fingerprint_synthetic": lambda p: (
        "the reference set is SYNTHETIC (demonstration only, not authentic measurements)"
    ),
    "photo_consistent": lambda p: (
        f"photo {p['photo']}: taken that day within {p['limit_m']:,} m of the declared point"
        + (f" ({p['distance_m']:,} m)" if "distance_m" in p else "")
    ),
    "photo_far": lambda p: (
        f"photo {p['photo']}: taken {p.get('distance_m', 0):,} m from the declared point "
        f"(more than {p['limit_m']:,} m)"
    ),
    "photo_other_day": lambda p: f"photo {p['photo']}: taken on another day ({p.get('taken_on', '?')})",
    "photo_no_exif": lambda p: f"photo {p['photo']}: no EXIF data (no position or time to check)",
    "photo_no_gps": lambda p: f"photo {p['photo']}: no GPS position in its EXIF data",
    "photo_no_time": lambda p: f"photo {p['photo']}: no capture time in its EXIF data",
    "text": lambda p: str(p.get("text", "")),
}

_ZH: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "gps_missing": lambda p: "该样品无 GPS 产地核验结论",
    "gps_outside_entry_error": lambda p: (
        f"按提交的坐标，采样点位于{_where_zh(p)}外{_in_brackets(_distance_zh(p))}；"
        "按经纬度互换或其他坐标系读取则位于范围内，疑为坐标录入错误"
    ),
    "gps_outside": lambda p: f"采样点位于{_where_zh(p)}外{_in_brackets(_distance_zh(p))}",
    "gps_band": lambda p: (
        f"采样点处于{_where_zh(p)}边界的判定容差带内{_in_brackets(_distance_zh(p), _band_zh(p))}"
    ),
    "gps_untrusted_inside": lambda p: (
        f"定位不可信：采样点虽位于{_where_zh(p)}内{_in_brackets(_distance_zh(p))}，产地仍判为存疑"
    ),
    "gps_untrusted": lambda p: f"定位不可信{_in_brackets(_where_zh(p), _distance_zh(p))}",
    "gps_inside": lambda p: f"采样点位于{_where_zh(p)}内{_in_brackets(_distance_zh(p))}",
    "gps_flag": lambda p: f"定位标记：{flag_label_zh(p['flag'])}",
    "fingerprint_no_reference": lambda p: (
        f"无{p.get('product_name_zh') or p['product_code']}真实样品参考数据集，未进行同位素/元素指纹比对"
    ),
    "fingerprint_not_assessed": lambda p: (
        f"未进行同位素/元素指纹判定：{not_assessed_zh(p.get('reason_code'), p.get('reason_params'))}"
    ),
    "fingerprint_profile": _fingerprint_zh,
    "fingerprint_synthetic": lambda p: "指纹参考数据集为合成数据（仅供演示，并非真实测定值）",
    "photo_consistent": lambda p: (
        f"照片{p['photo']}：拍摄于当日，距申报采样点{p.get('distance_m', 0):,}米（限{p['limit_m']:,}米以内）"
    ),
    "photo_far": lambda p: (
        f"照片{p['photo']}：拍摄位置距申报采样点{p.get('distance_m', 0):,}米，超过{p['limit_m']:,}米"
    ),
    "photo_other_day": lambda p: f"照片{p['photo']}：拍摄日期（{p.get('taken_on', '未知')}）与采样日期不同",
    "photo_no_exif": lambda p: f"照片{p['photo']}：无 EXIF 信息，无法核对拍摄位置和时间",
    "photo_no_gps": lambda p: f"照片{p['photo']}：EXIF 信息中无 GPS 位置",
    "photo_no_time": lambda p: f"照片{p['photo']}：EXIF 信息中无拍摄时间",
    "text": lambda p: str(p.get("text_zh") or p.get("text", "")),
}

CODES: tuple[str, ...] = tuple(_EN)


def reason_text(code: str, params: Mapping[str, Any], language: str = "en") -> str:
    """The text of a reason ``code`` with ``params`` in ``language`` ('en' or 'zh')."""
    table = _ZH if language == "zh" else _EN
    if code not in table:
        raise KeyError(f"unknown evidence reason code {code!r}")
    return table[code](params)


def is_finite(value: Any) -> bool:
    """True for a number that JSON can store (not None, NaN or infinite)."""
    return value is not None and math.isfinite(float(value))


def deviations_param(deviations: Sequence[Mapping[str, Any]], top: int = 2) -> list[list[Any]]:
    """The ``top`` deviations of a fingerprint verdict as [variable, z] pairs (the reason's parameter)."""
    return [[str(d["variable"]), float(d["z"])] for d in list(deviations)[:top]]


def grade_label(grade: str | None) -> str:
    """The Chinese name of a register grade or product class as printed: '小空心制品 (small hollow ware, <1.1 L)'
    -> '小空心制品' (the register keeps the English gloss, which gi.quality.judge also matches declared grades on)."""
    if not grade:
        return ""
    head = grade.partition(" (")[0].strip()
    return head if re.search(r"[\u4e00-\u9fff]", head) else grade


# Isotope ratios as written in Chinese documents (elements keep their symbols).
VARIABLES_ZH = {"d13C": "δ¹³C", "d15N": "δ¹⁵N", "d2H": "δ²H", "d18O": "δ¹⁸O", "d34S": "δ³⁴S"}
# Units stored in English words, as printed in Chinese documents ("ratio" is a pure number: no unit).
UNITS_ZH = {
    "count/50g": "个/50 g",
    "count": "个",
    "count/kg": "个/kg",
    "pieces": "件",
    "piece": "件",
    "piece/mu": "件/亩",
    "score": "分",
    "d": "天",
    "mu": "亩",
    "kg/mu": "kg/亩",
    "ratio": "",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A bound as Limit.text writes it ('≥ 15'), and the two inclusive bounds of a range.
_BOUND = re.compile(r"([≥≤<>])\s*(\S+)")


def variable_zh(code: str) -> str:
    """A fingerprint variable as printed in Chinese: 'd13C' -> 'δ¹³C' (element symbols unchanged)."""
    return VARIABLES_ZH.get(code, code)


def unit_zh(unit: str | None) -> str:
    """A unit as printed in Chinese: English words replaced ('count/50g' -> '个/50 g', 'score' -> '分'), powers
    as superscripts ('mg/dm2' -> 'mg/dm²'), symbols kept."""
    text = UNITS_ZH.get(unit or "", unit or "")
    return re.sub(r"(?<=[A-Za-z])([23])\b", lambda m: "²" if m.group(1) == "2" else "³", text)


def quantity_zh(value: object, unit: str | None) -> str:
    """A number with its unit as a Chinese document prints it: '1.51%', '68.2分', '6.7 g', '0.9 mg/dm²' (no
    space before %, ‰ or a Chinese unit)."""
    printed = unit_zh(unit)
    if not printed:
        return str(value)
    glue = "" if printed[0] in "%‰" or _CJK.match(printed) else " "
    return f"{value}{glue}{printed}"


def limit_zh(limit: str | None, unit: str | None) -> str:
    """A stored limit (gi.quality.decision.Limit.text: '≥ 15, ≤ 19 %', '≥ 90 score') as printed in Chinese:
    '15%～19%', '≥ 90分', '≤ 0.8 mg/dm²'; a text of another form is returned as it is."""
    if not limit:
        return "—"
    text = str(limit).strip()
    body = text[: -len(unit)].rstrip() if unit and text.endswith(f" {unit}") else text
    bounds = [_BOUND.fullmatch(part.strip()) for part in body.split(",")]
    if not all(bounds):
        return text
    found = [(m.group(1), m.group(2)) for m in bounds if m]
    if [sign for sign, _ in found] == ["≥", "≤"]:  # both ends included: a range
        return f"{quantity_zh(found[0][1], unit)}～{quantity_zh(found[1][1], unit)}"
    return "，".join(f"{sign} {quantity_zh(number, unit)}" for sign, number in found)
