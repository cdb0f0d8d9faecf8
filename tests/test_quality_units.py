"""Unit conversion of lab results: exact, within a quantity kind, and loud across kinds."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gi.errors import InputError
from gi.quality.units import UnitKind, convert, display_unit, indicator_kind, normalize_unit, to_spec_unit


@pytest.mark.parametrize(
    ("value", "unit", "spec_unit", "expected"),
    [
        ("5", "g/kg", "g/100g", "0.5"),
        ("0.5", "g/100 g", "%", "0.5"),
        ("0.5", "%", "mg/kg", "5000"),
        ("12.5", "mg/kg", "µg/g", "12.5"),
        ("12.5", "ppm", "mg/kg", "12.5"),
        ("12.5", "ug/g", "mg/kg", "12.5"),
        ("12.5", "μg/g", "mg/kg", "12.5"),  # Greek mu, not the micro sign
        ("50", "µg/kg", "mg/kg", "0.05"),
        ("50", "ppb", "mg/kg", "0.05"),
        ("350", "mg/100g", "g/100g", "0.35"),
        ("3.5", "毫克/千克", "mg/kg", "3.5"),
        ("6.2", "％", "%", "6.2"),
        ("4.5", "g/L", "g/100 mL", "0.45"),
        ("4.5", "克/升", "g/100mL", "0.45"),
        ("450", "mg/L", "g/L", "0.45"),
        ("45", "mg/100mL", "g/L", "0.45"),
        ("280", "粒/50g", "grains/50g", "280"),
        ("560", "grains/100g", "粒/50g", "280"),
        ("250", "g", "kg", "0.25"),
        ("75", "mm", "cm", "7.5"),
        ("-27.4", "‰", "‰", "-27.4"),
    ],
)
def test_conversions_are_exact(value: str, unit: str, spec_unit: str, expected: str) -> None:
    assert to_spec_unit("x", D(value), unit, spec_unit) == D(expected)


def test_value_at_a_limit_stays_exactly_at_the_limit() -> None:
    # 13 % moisture reported as 130 g/kg must compare equal to the limit 13 (no float residue)
    assert to_spec_unit("moisture", D(130), "g/kg", "%") == D(13)
    assert to_spec_unit("moisture", D("130.000"), "g/kg", "g/100g") == D(13)


def test_percent_depends_on_the_indicator() -> None:
    assert indicator_kind("moisture", "%") is UnitKind.MASS_FRACTION
    assert indicator_kind("alcohol", "%vol") is UnitKind.VOLUME_FRACTION
    assert indicator_kind("alcohol", "%") is UnitKind.VOLUME_FRACTION
    assert indicator_kind("soluble_solids", "%") is UnitKind.BRIX
    assert indicator_kind("tss_x", "%", name_zh="可溶性固形物") is UnitKind.BRIX
    assert to_spec_unit("soluble_solids", D("14.2"), "°Bx", "%") == D("14.2")
    assert to_spec_unit("alcohol", D(53), "% vol", "%") == D(53)
    with pytest.raises(InputError, match="mass_fraction"):
        to_spec_unit("soluble_solids", D(14), "g/100g", "%")  # total sugars are not a refractometer reading


@pytest.mark.parametrize(
    ("unit", "spec_unit", "words"),
    [
        ("g/L", "%", ["'g/L'", "'%'", "moisture", "density"]),
        ("g/100 mL", "g/100g", ["'g/100 mL'", "'g/100g'", "density"]),
        ("mg/kg", "mg/L", ["'mg/kg'", "'mg/L'", "density"]),
        ("kg", "%", ["'kg'", "mass"]),
        ("furlong", "%", ["unknown unit 'furlong'", "moisture", "mg/kg"]),
    ],
)
def test_unconvertible_units_name_both_units_and_the_indicator(unit: str, spec_unit: str, words) -> None:
    with pytest.raises(InputError) as err:
        to_spec_unit("moisture", D(1), unit, spec_unit)
    assert err.value.field == "unit"
    for word in words:
        assert word in str(err.value)


def test_missing_unit_is_an_error() -> None:
    with pytest.raises(InputError, match="no unit given for indicator 'moisture'"):
        to_spec_unit("moisture", D(1), "  ", "%")


def test_specification_unit_outside_the_table_is_reported() -> None:
    with pytest.raises(InputError, match="not in the conversion table"):
        indicator_kind("colour", "Hazen")


def test_normalize_and_display() -> None:
    assert normalize_unit(" g / 100 mL ") == "g/100ml"
    assert normalize_unit("ug/kg") == "µg/kg"
    assert normalize_unit("毫克/100克") == "mg/100g"
    assert display_unit("g/l") == "g/L"
    assert display_unit("G/100ML") == "g/100 mL"


def test_convert_round_trip_is_exact() -> None:
    for unit in ["%", "g/kg", "mg/100g", "mg/kg", "µg/kg", "ppb"]:
        there = convert(D("0.123456"), "%", unit, UnitKind.MASS_FRACTION)
        assert convert(there, unit, "%", UnitKind.MASS_FRACTION) == D("0.123456")


@pytest.mark.parametrize(
    ("value", "unit", "spec_unit", "expected"),
    [
        ("560", "count/100g", "count/50g", "280"),
        ("8", "µg/cm²", "mg/dm²", "0.8"),
        ("180", "℃", "°C", "180"),
        ("2", "weeks", "d", "14"),
    ],
)
def test_register_units(value: str, unit: str, spec_unit: str, expected: str) -> None:
    assert to_spec_unit("x", D(value), unit, spec_unit) == D(expected)


def test_every_register_limit_has_a_known_unit() -> None:
    from geo_data.register import load_register

    for product in load_register().products:
        for limit in product.quality:
            indicator_kind(limit.code, limit.unit, limit.name_zh)  # raises on a unit outside the table
