"""Lot sampling by GB/T 2828.1-2012 / ISO 2859-1:1999: sample-size code letters for the general inspection
levels I, II and III (Table 1) and the sample size of each code letter (Table 2-A, single sampling, normal
inspection)."""

from __future__ import annotations

from dataclasses import dataclass

from gi.errors import InputError

GENERAL_LEVELS = ("I", "II", "III")
DEFAULT_LEVEL = "II"  # the standard: "unless otherwise specified, inspection level II shall be used"

# Table 1: upper bound of each lot-size range -> code letters at levels I, II, III (None = no upper bound).
_CODE_LETTERS: tuple[tuple[int | None, str, str, str], ...] = (
    (8, "A", "A", "B"),
    (15, "A", "B", "C"),
    (25, "B", "C", "D"),
    (50, "C", "D", "E"),
    (90, "C", "E", "F"),
    (150, "D", "F", "G"),
    (280, "E", "G", "H"),
    (500, "F", "H", "J"),
    (1200, "G", "J", "K"),
    (3200, "H", "K", "L"),
    (10000, "J", "L", "M"),
    (35000, "K", "M", "N"),
    (150000, "L", "N", "P"),
    (500000, "M", "P", "Q"),
    (None, "N", "Q", "R"),
)

# Table 2-A: sample size of each code letter (the letters I and O are not used).
SAMPLE_SIZE: dict[str, int] = {
    "A": 2,
    "B": 3,
    "C": 5,
    "D": 8,
    "E": 13,
    "F": 20,
    "G": 32,
    "H": 50,
    "J": 80,
    "K": 125,
    "L": 200,
    "M": 315,
    "N": 500,
    "P": 800,
    "Q": 1250,
    "R": 2000,
}


@dataclass(frozen=True)
class LotSample:
    """How many units to take from a lot: code letter, the table's sample size, the units actually taken."""

    lot_size: int
    level: str
    code_letter: str
    sample_size: int
    units_to_take: int  # = sample_size, or the whole lot when the lot is smaller (100 % inspection)


def code_letter(lot_size: int, level: str = DEFAULT_LEVEL) -> str:
    """The sample-size code letter of a lot of ``lot_size`` units at general inspection level I, II or III."""
    if level not in GENERAL_LEVELS:
        raise InputError("inspection_level", f"{level!r} is not a general inspection level (I, II or III)")
    if lot_size < 1:
        raise InputError("lot_size", f"must be at least 1 unit, got {lot_size}")
    column = GENERAL_LEVELS.index(level) + 1
    for row in _CODE_LETTERS:
        upper = row[0]
        if upper is None or lot_size <= upper:
            return row[column]  # type: ignore[return-value]
    raise AssertionError("unreachable: the last row has no upper bound")


def lot_sample(lot_size: int, level: str = DEFAULT_LEVEL) -> LotSample:
    """Code letter and units to take for a lot; a lot no larger than the sample size is inspected whole."""
    letter = code_letter(lot_size, level)
    size = SAMPLE_SIZE[letter]
    return LotSample(
        lot_size=lot_size,
        level=level,
        code_letter=letter,
        sample_size=size,
        units_to_take=min(size, lot_size),
    )
