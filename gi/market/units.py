"""Quantities of marks and goods in a product's balance unit: kilograms, or pieces where marks are counted
per item (one tag per crab, one label per ware).

Mass units (kg, g, 斤, t) convert to kilograms. Count units (box, bag, piece, crab, label) are pieces; a box or
a weight label converts to kilograms only with its net content (``unit_size``, kg per unit), and to pieces with
the number of items per unit (``unit_size``, pieces per unit; 1 when not given for piece, crab and label).
"""

from __future__ import annotations

from decimal import Decimal

from gi.errors import InputError

MASS_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "jin": Decimal("0.5"),
    "t": Decimal(1000),
}
COUNTS = ("box", "bag", "piece", "crab", "label")
_ALIASES: dict[str, str] = {
    "kg": "kg",
    "千克": "kg",
    "公斤": "kg",
    "kilogram": "kg",
    "g": "g",
    "克": "g",
    "jin": "jin",
    "斤": "jin",
    "市斤": "jin",
    "t": "t",
    "吨": "t",
    "tonne": "t",
    "box": "box",
    "boxes": "box",
    "盒": "box",
    "箱": "box",
    "礼盒": "box",
    "bag": "bag",
    "袋": "bag",
    "piece": "piece",
    "pieces": "piece",
    "pcs": "piece",
    "个": "piece",
    "件": "piece",
    "crab": "crab",
    "crabs": "crab",
    "只": "crab",
    "label": "label",
    "labels": "label",
    "枚": "label",
    "张": "label",
    "标": "label",
}
UNIT_ZH = {"kg": "千克", "piece": "件"}


def parse_unit(text: str) -> str:
    """A unit as typed (kg, 斤, 盒, 只, ...) in canonical form; InputError for an unknown unit."""
    key = str(text).strip().lower()
    unit = _ALIASES.get(key)
    if unit is None:
        raise InputError(
            "unit", f"{text!r} is not a unit of mass (kg, g, 斤, t) or count (box, bag, piece, crab, label)"
        )
    return unit


def to_balance(quantity: Decimal, unit: str, unit_size: Decimal | None, balance_unit: str) -> Decimal:
    """``quantity`` of ``unit`` in the balance unit (kg or piece); InputError says what is missing."""
    if balance_unit == "kg":
        if unit in MASS_KG:
            return quantity * MASS_KG[unit]
        if unit_size is None:
            raise InputError(
                "unit_size", f"{unit} needs its net content in kg (unit_size) for a product balanced in kg"
            )
        return quantity * unit_size
    if balance_unit == "piece":
        if unit in MASS_KG:
            raise InputError(
                "unit", f"{unit} is a mass; this product is balanced in pieces (one mark per item)"
            )
        if unit_size is None:
            if unit in ("box", "bag"):
                raise InputError("unit_size", f"give the number of items per {unit} (unit_size)")
            return quantity
        return quantity * unit_size
    raise InputError("balance_unit", f"{balance_unit!r} is neither kg nor piece")
