"""gi.origin.rows: the column-wise fast path gives every row exactly what validate_row + prepare_sample give it."""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures import square_product
from sqlalchemy.orm import Session

from gi.errors import ConflictError, InputError
from gi.models import GIProduct
from gi.origin.fields import SAMPLE_NAMESPACE, key_id, validate_row
from gi.origin.references import References, prepare_sample
from gi.origin.rows import field_validator, prepare_rows

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.postgis


@pytest.fixture
def product(session: Session) -> GIProduct:
    return square_product(session, "test-rows-tea", "测试行茶", "Rows Tea")


BASE: dict[str, Any] = {
    "product": "test-rows-tea",
    "collected_at": "2024-04-02T09:30:00+08:00",
    "x": "120.05123",
    "y": "30.05456",
    "crs": "WGS84",
    "gps_accuracy_m": "5",
    "lot_number": "L1",
}
# Each changes BASE; the ones that break a rule must come out exactly as the per-row path refuses them.
CHANGES: list[dict[str, Any]] = [
    {},
    {"x": 120.05123, "y": 30.05456},
    {"x": "120.05123000", "y": "30.0545600"},
    {"x": "+120.05", "y": "3.005456e1"},
    {"x": " 120.05 ", "y": "30.05\t"},
    {"x": "120°03′04.4″E", "y": "N30°03'16.4\""},
    {"x": "１２０.０５", "y": "30.05"},
    {"x": "1_20.05"},
    {"x": "nan"},
    {"x": float("nan")},
    {"y": float("inf")},
    {"x": "abc"},
    {"x": ""},
    {"x": None},
    {"x": True},
    {"x": 120, "y": 30},
    {"x": 10**400},
    {"x": "1" * 400},
    {"x": -0.0, "y": -0.0},
    {"x": "-0", "y": "0.0"},
    {"x": "30.05456", "y": "120.05123"},
    {"x": "200.5", "y": "30.1"},
    {"x": "2000", "y": "3000"},
    {"x": "500000", "y": "3300000", "crs": "EPSG:4549"},
    {"crs": "gcj02"},
    {"crs": " GCJ02 "},
    {"crs": "BD09"},
    {"crs": "cgcs2000"},
    {"crs": "EPSG:4326"},
    {"crs": "mars"},
    {"crs": ""},
    {"crs": None},
    {"collected_at": "2024-04-02T01:30:00Z"},
    {"collected_at": "2024-04-02T09:30:00"},
    {"collected_at": "2024/4/2 9:30"},
    {"collected_at": "2024年4月2日 9时30分"},
    {"collected_at": "1989-12-31T09:30:00+08:00"},
    {"collected_at": "2999-01-01T00:00:00+08:00"},
    {"collected_at": "yesterday"},
    {"collected_at": datetime(2024, 4, 2, 9, 30, tzinfo=SH)},
    {"collected_at": datetime(2024, 4, 2, 9, 30)},
    {"gps_accuracy_m": 0},
    {"gps_accuracy_m": "0"},
    {"gps_accuracy_m": 4.5},
    {"gps_accuracy_m": "-1"},
    {"gps_accuracy_m": -0.0},
    {"gps_accuracy_m": ""},
    {"gps_accuracy_m": None},
    {"gps_accuracy_m": "inf"},
    {"gps_accuracy_m": "12.5"},
    {"product": "测试行茶"},
    {"product": "rows tea"},
    {"product": " test-rows-tea "},
    {"product": "no-such-product"},
    {"product": ""},
    {"product": None},
    {"lot_number": ""},
    {"lot_number": "   "},
    {"lot_number": " L2 "},
    {"lot_number": "批次2"},
    {"lot_number": "L" * 100},
    {"lot_number": "L" * 101},
    {"lot_number": None},
    {"lot_number": 7},
    {"notes": "a note", "source": "app"},
    {"source": ""},
    {"x_text": "120.05123", "y_text": "30.05456"},
    {"labelled_producer": "某茶厂", "specification": "250 g/袋", "production_date": "2024/3/28"},
    {"production_date": "2024-05-01"},
    {"production_date": date(2024, 3, 1)},
    {"specification": "x" * 101},
    {"sampled_at": "流通环节", "outlet_name": "某店", "outlet_address": "某路1号"},
    {"sampled_at": "somewhere"},
    {"location_source": "map_pick"},
    {"location_source": "telepathy"},
    {"lot_size": "12"},
    {"lot_size": "0"},
    {"id": str(uuid.UUID(int=12345))},
    {"id": uuid.UUID(int=67890)},
    {"id": "not-a-uuid"},
    {"id": None},
    {"unknown_column": "ignored"},
    {"producer": None, "collector": None, "task_id": None, "seal_code": None},
    {"producer": "91330100MA0000000X"},
    {"collector": "nobody"},
    {"task_id": 999999},
    {"seal_code": "some seal"},
]
ABSENT = ["product", "collected_at", "x", "y", "crs", "gps_accuracy_m", "lot_number"]


def _rows() -> list[dict[str, Any]]:
    rows = [{**BASE, **change} for change in CHANGES]
    for name in ABSENT:
        rows.append({k: v for k, v in BASE.items() if k != name})
    return rows


def _per_row(refs: References, data: dict[str, Any]) -> Any:
    try:
        return prepare_sample(refs, validate_row(data), "upload")
    except (InputError, ConflictError) as exc:
        return ("refused", type(exc), str(exc))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_fast_rows_equal_the_per_row_path(session: Session, product: GIProduct) -> None:
    rows = _rows()
    refs = References(session)
    fast = prepare_rows(refs, rows, "upload", {})
    taken = 0
    for data, got in zip(rows, fast, strict=True):
        expected = _per_row(refs, data)
        if got is None:
            continue  # left to the per-row path, which gives it exactly `expected`
        taken += 1
        assert not (isinstance(expected, tuple) and expected[0] == "refused"), (data, expected)
        assert _same(tuple(got), tuple(expected)), (data, got, expected)
        assert got._fields == expected._fields
    assert taken >= 40  # the plain rows and most valid variations go the fast way
    assert fast[0] is not None and fast[1] is not None  # strings and floats
    # Every refused row is left to the per-row path (so its field and problem are today's).
    refused = [
        d for d in rows if isinstance(_per_row(refs, d), tuple) and not hasattr(_per_row(refs, d), "id")
    ]
    assert refused
    for data in refused:
        assert fast[rows.index(data)] is None


def test_rows_sharing_a_moment_share_its_object(session: Session, product: GIProduct) -> None:
    earlier = datetime(2024, 4, 2, 9, 30, tzinfo=SH)
    moments: dict[str, Any] = {BASE["collected_at"]: earlier}
    fast = prepare_rows(References(session), [dict(BASE), {**BASE, "lot_number": "L2"}], None, moments)
    assert all(c is not None and c.collected_at is earlier for c in fast)


def test_a_chunk_lacking_a_required_column_goes_row_by_row(session: Session, product: GIProduct) -> None:
    rows = [{k: v for k, v in BASE.items() if k != "x"}] * 3
    assert prepare_rows(References(session), rows) == [None, None, None]


def test_field_validators_are_the_models() -> None:
    assert field_validator("gps_accuracy_m").validate_python("5") == 5.0
    with pytest.raises(ValueError):
        field_validator("product").validate_python("  ")


def test_key_id_is_uuid5() -> None:
    for key in ["", "a|b", "产品|2024-01-01T00:00:00+00:00|120.5|30.5|WGS84|||||"]:
        made, expected = key_id(key), uuid.uuid5(SAMPLE_NAMESPACE, key)
        assert made == expected and made.int == expected.int and str(made) == str(expected)
        assert hash(made) == hash(expected) and made.version == 5 and made.is_safe == expected.is_safe
