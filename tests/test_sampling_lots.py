"""ISO 2859-1 / GB/T 2828.1 tables: code letters at general levels I-III and sample sizes."""

from __future__ import annotations

import pytest

from gi.errors import InputError
from sampling.lots import SAMPLE_SIZE, code_letter, lot_sample

# Table 1 of ISO 2859-1:1999, general inspection levels: (lowest lot size of the range, I, II, III).
TABLE_1 = [
    (2, "A", "A", "B"),
    (9, "A", "B", "C"),
    (16, "B", "C", "D"),
    (26, "C", "D", "E"),
    (51, "C", "E", "F"),
    (91, "D", "F", "G"),
    (151, "E", "G", "H"),
    (281, "F", "H", "J"),
    (501, "G", "J", "K"),
    (1201, "H", "K", "L"),
    (3201, "J", "L", "M"),
    (10001, "K", "M", "N"),
    (35001, "L", "N", "P"),
    (150001, "M", "P", "Q"),
    (500001, "N", "Q", "R"),
]


@pytest.mark.parametrize("row", TABLE_1)
def test_code_letters_at_both_ends_of_each_range(row: tuple[int, str, str, str]) -> None:
    low, *letters = row
    index = TABLE_1.index(row)
    high = TABLE_1[index + 1][0] - 1 if index + 1 < len(TABLE_1) else 10_000_000
    for lot in (low, high):
        assert [code_letter(lot, level) for level in ("I", "II", "III")] == letters


def test_sample_sizes_of_the_code_letters() -> None:
    assert list(SAMPLE_SIZE) == list("ABCDEFGHJKLMNPQR")  # no I, no O
    assert list(SAMPLE_SIZE.values()) == [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000]


def test_lot_sample_examples() -> None:
    assert lot_sample(500).code_letter == "H" and lot_sample(500).units_to_take == 50
    assert lot_sample(1000, "III").units_to_take == 125
    assert lot_sample(10_000, "I").units_to_take == 80
    # A lot smaller than the sample is inspected whole (100 %).
    small = lot_sample(3, "III")
    assert small.code_letter == "B" and small.sample_size == 3 and small.units_to_take == 3
    assert lot_sample(1).units_to_take == 1


def test_refuses_bad_level_and_lot() -> None:
    with pytest.raises(InputError, match="inspection_level"):
        code_letter(100, "S-1")
    with pytest.raises(InputError, match="lot_size"):
        code_letter(0)
