"""Units of lab results: a declared conversion table per quantity kind, exact in Decimal.

A unit alone does not say what it measures: "%" is a mass fraction for moisture, a volume fraction for alcohol
and degrees Brix for soluble solids; g/100 g and g/L differ by the density of the sample. So every indicator
has a *kind* (declared below, or inferred from the unit of its specification) and a value converts only between
units of that kind. All factors are powers of ten or exact fractions, so a value exactly at a limit stays exactly
at the limit after conversion (5 g/kg is exactly 0.5 g/100 g).
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal

from gi.errors import InputError


class UnitKind(enum.StrEnum):
    """What a quantity measures; conversion never crosses kinds."""

    MASS_FRACTION = "mass_fraction"  # g per g of sample: %, g/100 g, mg/kg, µg/g, ppm
    MASS_CONCENTRATION = "mass_concentration"  # g per L of liquid: g/L, g/100 mL, mg/L
    VOLUME_FRACTION = "volume_fraction"  # alcohol: % vol
    BRIX = "brix"  # soluble solids by refractometer: % or °Bx
    COUNT_PER_MASS = "count_per_mass"  # grains per 50 g (宁夏枸杞 粒/50g)
    MASS = "mass"  # single fruit mass
    LENGTH = "length"  # fruit diameter, grain length
    DELTA = "delta"  # stable-isotope delta value, per mil against a standard
    PH = "ph"
    SCORE = "score"  # sensory score (感官评分)
    RATIO = "ratio"  # dimensionless ratio (87Sr/86Sr, solids/acid ratio)
    MASS_PER_AREA = "mass_per_area"  # migration from flatware (GB 4806.4): mg/dm²
    TEMPERATURE = "temperature"  # thermal-shock temperature difference; only °C, no offset scales
    DURATION = "duration"  # days after full bloom


_ONE = Decimal(1)

# Factor of each unit to the kind's base unit (mass fraction: g/g; concentration: g/L; count: per g; mass: g;
# length: mm). Keys are normalized spellings (see normalize_unit).
UNIT_FACTORS: dict[UnitKind, dict[str, Decimal]] = {
    UnitKind.MASS_FRACTION: {
        "%": Decimal("0.01"),
        "%(m/m)": Decimal("0.01"),
        "%m/m": Decimal("0.01"),
        "%(w/w)": Decimal("0.01"),
        "%w/w": Decimal("0.01"),
        "g/100g": Decimal("0.01"),
        "g/kg": Decimal("0.001"),
        "mg/g": Decimal("0.001"),
        "‰(m/m)": Decimal("0.001"),
        "mg/100g": Decimal("0.00001"),
        "mg/kg": Decimal("0.000001"),
        "µg/g": Decimal("0.000001"),
        "ppm": Decimal("0.000001"),
        "µg/100g": Decimal("0.00000001"),
        "µg/kg": Decimal("0.000000001"),
        "ng/g": Decimal("0.000000001"),
        "ppb": Decimal("0.000000001"),
        "g/g": _ONE,
    },
    UnitKind.MASS_CONCENTRATION: {
        "g/l": _ONE,
        "mg/ml": _ONE,
        "g/100ml": Decimal(10),
        "%(m/v)": Decimal(10),
        "%m/v": Decimal(10),
        "%(w/v)": Decimal(10),
        "%w/v": Decimal(10),
        "mg/100ml": Decimal("0.01"),
        "mg/l": Decimal("0.001"),
        "µg/ml": Decimal("0.001"),
        "µg/l": Decimal("0.000001"),
        "ng/ml": Decimal("0.000001"),
    },
    UnitKind.VOLUME_FRACTION: {
        "%vol": Decimal("0.01"),
        "%(v/v)": Decimal("0.01"),
        "%v/v": Decimal("0.01"),
        "ml/100ml": Decimal("0.01"),
        "%": Decimal("0.01"),
        "ml/l": Decimal("0.001"),
    },
    UnitKind.BRIX: {"%": _ONE, "°bx": _ONE, "°brix": _ONE, "brix": _ONE, "bx": _ONE},
    UnitKind.COUNT_PER_MASS: {
        "grains/50g": _ONE / 50,
        "粒/50g": _ONE / 50,
        "grains/100g": Decimal("0.01"),
        "粒/100g": Decimal("0.01"),
        "grains/kg": Decimal("0.001"),
        "粒/kg": Decimal("0.001"),
        "grains/g": _ONE,
        "粒/g": _ONE,
        "count/50g": _ONE / 50,
        "count/100g": Decimal("0.01"),
        "count/kg": Decimal("0.001"),
        "count/g": _ONE,
    },
    UnitKind.MASS: {"g": _ONE, "kg": Decimal(1000), "mg": Decimal("0.001")},
    UnitKind.LENGTH: {"mm": _ONE, "cm": Decimal(10), "m": Decimal(1000)},
    UnitKind.DELTA: {"‰": _ONE, "permil": _ONE, "permille": _ONE},
    UnitKind.PH: {"ph": _ONE, "": _ONE},
    UnitKind.SCORE: {"分": _ONE, "points": _ONE, "score": _ONE},
    UnitKind.RATIO: {"1": _ONE, "ratio": _ONE, "": _ONE},
    UnitKind.MASS_PER_AREA: {
        "mg/dm²": _ONE,
        "mg/dm2": _ONE,
        "µg/cm²": Decimal("0.1"),
        "µg/cm2": Decimal("0.1"),
        "mg/cm²": Decimal(100),
        "mg/cm2": Decimal(100),
    },
    UnitKind.TEMPERATURE: {"°c": _ONE, "degc": _ONE},
    UnitKind.DURATION: {
        "d": _ONE,
        "day": _ONE,
        "days": _ONE,
        "天": _ONE,
        "week": Decimal(7),
        "weeks": Decimal(7),
    },
}

# How a unit is written for people (first spelling wins per kind).
DISPLAY = {
    "g/l": "g/L",
    "mg/ml": "mg/mL",
    "g/100ml": "g/100 mL",
    "mg/100ml": "mg/100 mL",
    "mg/l": "mg/L",
    "µg/ml": "µg/mL",
    "µg/l": "µg/L",
    "ng/ml": "ng/mL",
    "g/100g": "g/100 g",
    "mg/100g": "mg/100 g",
    "µg/100g": "µg/100 g",
    "%vol": "% vol",
    "ml/100ml": "mL/100 mL",
    "ml/l": "mL/L",
    "°bx": "°Bx",
    "ph": "pH",
    "grains/50g": "grains/50 g",
    "粒/50g": "粒/50 g",
    "count/50g": "count/50 g",
    "mg/dm2": "mg/dm²",
    "°c": "°C",
}

# Indicators whose kind is not the obvious one of their unit (a "%" that is not a mass fraction).
DECLARED_INDICATOR_KINDS: dict[str, UnitKind] = {
    "alcohol": UnitKind.VOLUME_FRACTION,
    "alcohol_content": UnitKind.VOLUME_FRACTION,
    "alcoholic_strength": UnitKind.VOLUME_FRACTION,
    "soluble_solids": UnitKind.BRIX,
    "total_soluble_solids": UnitKind.BRIX,
    "tss": UnitKind.BRIX,
    "ph": UnitKind.PH,
}
# The same by Chinese name, for register entries whose codes differ.
_NAME_HINTS: tuple[tuple[str, UnitKind], ...] = (
    ("酒精度", UnitKind.VOLUME_FRACTION),
    ("可溶性固形物", UnitKind.BRIX),
    ("pH", UnitKind.PH),
)

_CHINESE_TOKENS = (
    ("毫克", "mg"),
    ("微克", "µg"),
    ("纳克", "ng"),
    ("千克", "kg"),
    ("公斤", "kg"),
    ("克", "g"),
    ("毫升", "ml"),
    ("升", "l"),
    ("毫米", "mm"),
    ("厘米", "cm"),
    ("米", "m"),
)
_FULL_WIDTH = str.maketrans({"％": "%", "／": "/", "（": "(", "）": ")", "μ": "µ", "‰": "‰", "℃": "°c"})


# Kinds whose values may be below zero: a stable-isotope delta (δ13C of C3 plants is about -27 ‰) and a
# temperature in °C. Every other kind is an amount, a size, a count, a score or a ratio: a negative value is a
# typo (a dash, a stray minus) that would otherwise pass every upper limit.
SIGNED_KINDS = frozenset({UnitKind.DELTA, UnitKind.TEMPERATURE})


def may_be_negative(kind: UnitKind) -> bool:
    """Whether a value of ``kind`` can legitimately be below zero."""
    return kind in SIGNED_KINDS


def normalize_unit(unit: str) -> str:
    """A unit's canonical spelling: no spaces, lower case, µ for micro, Chinese unit names in SI symbols."""
    text = unit.strip().translate(_FULL_WIDTH)
    for zh, symbol in _CHINESE_TOKENS:
        text = text.replace(zh, symbol)
    text = re.sub(r"\s+", "", text).lower()
    text = re.sub(r"^u(?=g|l)|(?<=/)u(?=g|l)", "µ", text)  # ug/kg, mg/ul -> µ
    text = text.replace("per mil", "permil").replace("permill", "permil")
    return text


def display_unit(unit: str) -> str:
    """A normalized unit as people write it (g/L, not g/l)."""
    norm = normalize_unit(unit)
    return DISPLAY.get(norm, norm)


def unit_kinds(unit: str) -> list[UnitKind]:
    """Every kind a unit can belong to ("%" belongs to several)."""
    norm = normalize_unit(unit)
    return [kind for kind, factors in UNIT_FACTORS.items() if norm in factors]


def indicator_kind(indicator: str, spec_unit: str, name_zh: str = "") -> UnitKind:
    """The kind of an indicator: declared for the code or Chinese name, else the one kind its unit belongs to.

    A bare "%" with no declaration is a mass fraction: Chinese food standards state % (m/m) unless they say
    otherwise (alcohol is % vol, soluble solids are read as Brix).
    """
    declared = DECLARED_INDICATOR_KINDS.get(indicator.strip().lower())
    if declared is not None:
        return declared
    for hint, kind in _NAME_HINTS:
        if hint and hint in name_zh:
            return kind
    kinds = [k for k in unit_kinds(spec_unit) if not (normalize_unit(spec_unit) == "" and k is UnitKind.PH)]
    if not kinds:
        raise InputError(
            "unit",
            f"the specification of indicator {indicator!r} uses unit {spec_unit!r}, "
            "which is not in the conversion table (gi/units.py)",
        )
    if UnitKind.MASS_FRACTION in kinds:
        return UnitKind.MASS_FRACTION
    return kinds[0]


def convert(value: Decimal, from_unit: str, to_unit: str, kind: UnitKind, indicator: str = "?") -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit``, both of ``kind``; exact in Decimal."""
    factors = UNIT_FACTORS[kind]
    source, target = normalize_unit(from_unit), normalize_unit(to_unit)
    if source not in factors or target not in factors:
        bad = from_unit if source not in factors else to_unit
        other_kinds = [k.value for k in unit_kinds(bad)]
        if other_kinds:
            problem = (
                f"cannot convert {from_unit!r} to {to_unit!r} for indicator {indicator!r}: "
                f"{bad!r} is a {' or '.join(other_kinds)} unit and the indicator is a {kind.value}"
            )
            if {UnitKind.MASS_FRACTION, UnitKind.MASS_CONCENTRATION} <= {kind, *unit_kinds(bad)}:
                problem += " (per mass and per volume differ by the sample's density)"
        else:
            known = ", ".join(sorted({display_unit(u) for u in factors if u}))
            problem = (
                f"unknown unit {bad!r} for indicator {indicator!r} ({kind.value}); convertible units: {known}"
            )
        raise InputError("unit", problem)
    if source == target:
        return value
    return value * factors[source] / factors[target]


def to_spec_unit(indicator: str, value: Decimal, unit: str, spec_unit: str, name_zh: str = "") -> Decimal:
    """A reported value converted to the unit of the indicator's specification (or reference set)."""
    if not unit or not unit.strip():
        raise InputError(
            "unit", f"no unit given for indicator {indicator!r} (its specification is in {spec_unit!r})"
        )
    return convert(value, unit, spec_unit, indicator_kind(indicator, spec_unit, name_zh), indicator)
