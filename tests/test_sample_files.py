"""Sample files as people have them: Excel workbooks, Excel-style and Chinese dates, D°M′S″ coordinates, GB18030
CSV, the template with every accepted column; and the result file written only when committed."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from geo_data.sample_files import (
    TEMPLATE_COLUMNS,
    ResultFile,
    SampleFileError,
    SampleRow,
    canonical_name,
    open_sample_file,
    sample_fields,
    write_template,
)
from geo_data.values import angle, local_moment
from gi.errors import InputError
from gi.models import SampledAt
from gi.origin.fields import validate_row

SH = ZoneInfo("Asia/Shanghai")


def _rows(path: Path, **kw: str) -> list[SampleRow]:
    opened = open_sample_file(path, **kw)
    return [item for chunk in opened.chunks(2) for item in chunk if isinstance(item, SampleRow)]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026/4/5 9:40", datetime(2026, 4, 5, 9, 40, tzinfo=SH)),
        ("2026年4月5日", datetime(2026, 4, 5, tzinfo=SH)),
        ("2026年4月5日 9时40分", datetime(2026, 4, 5, 9, 40, tzinfo=SH)),
        ("２０２６年４月５日 ０９:４０", datetime(2026, 4, 5, 9, 40, tzinfo=SH)),
        ("2026.4.5 09:40:30", datetime(2026, 4, 5, 9, 40, 30, tzinfo=SH)),
        ("2026-04-05T09:40:00+08:00", datetime(2026, 4, 5, 9, 40, tzinfo=SH)),
        ("2026-04-05 01:40Z", datetime(2026, 4, 5, 9, 40, tzinfo=SH)),
    ],
)
def test_dates_as_people_type_them(typed: str, expected: datetime) -> None:
    row = validate_row({"product": "p", "collected_at": typed, "x": "120.1", "y": "30.2"})
    assert row["collected_at"] == expected


@pytest.mark.parametrize("typed", ["2026/2/30", "昨天", "2026年13月1日", "5.4.2026"])
def test_impossible_dates_name_the_field(typed: str) -> None:
    with pytest.raises(InputError) as err:
        validate_row({"product": "p", "collected_at": typed, "x": "120.1", "y": "30.2"})
    assert err.value.field == "collected_at"


@pytest.mark.parametrize(
    ("typed", "degrees"),
    [
        ("120°07′25.7″E", 120 + 7 / 60 + 25.7 / 3600),
        ("120°07'25.7\"", 120 + 7 / 60 + 25.7 / 3600),
        ("30度15分N", 30.25),
        ("N30°15′", 30.25),
        ("118°W", -118.0),
        ("120.123810", "120.123810"),  # plain decimals are left to the number parser
    ],
)
def test_degrees_minutes_seconds(typed: str, degrees: float | str) -> None:
    assert angle(typed) == (pytest.approx(degrees) if isinstance(degrees, float) else degrees)


def test_a_dms_row_validates_to_decimal_degrees() -> None:
    row = validate_row(
        {"product": "p", "collected_at": "2026-04-02", "x": "120°07′25.7″E", "y": "30°13′36.6″N"}
    )
    assert row["x"] == pytest.approx(120.1238055, abs=1e-7) and row["y"] == pytest.approx(30.22683, abs=1e-5)
    with pytest.raises(InputError) as err:
        validate_row({"product": "p", "collected_at": "2026-04-02", "x": "120°75′E", "y": "30.2"})
    assert err.value.field == "x"  # 75 minutes: not an angle


def test_local_moment_leaves_iso_text_to_the_validator() -> None:
    assert local_moment("2026-04-05T09:40:00+08:00") == "2026-04-05T09:40:00+08:00"
    with pytest.raises(ValueError, match="'not a date' is not a date/time; use ISO 8601"):
        local_moment("not a date")  # what it cannot read it refuses, naming the forms it reads


def test_xlsx_with_chinese_headers_excel_dates_and_dms(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "地理标志产品",
            "采样时间",
            "经度",
            "纬度",
            "坐标系",
            "定位精度",
            "封样编号",
            "生产者统一社会信用代码",
        ]
    )
    sheet.append(["西湖龙井", datetime(2026, 4, 2, 9, 40), 120.123812, 30.226843, "WGS84", 4.2, "FY-1", None])
    sheet.append(
        ["西湖龙井", "2026年4月2日 14时05分", "120°06′30.24″E", "30°12′26.37″N", "GCJ02", "6", "FY-2", None]
    )
    sheet.append([None] * 8)  # a blank row is skipped
    sheet.append(
        ["xihu-longjing", "2026/4/3 10:20", "120.270113", "30.181702", None, 5, None, "91330106MA27XXXX0X"]
    )
    path = tmp_path / "samples.xlsx"
    workbook.save(path)
    rows = _rows(path)
    assert [r.row for r in rows] == [2, 3, 5]  # sheet rows
    fields = [sample_fields(r, "WGS84") for r in rows]
    assert fields[0]["collected_at"] == "2026-04-02 09:40:00" and fields[0]["x"] == "120.123812"
    assert fields[1]["seal_code"] == "FY-2" and fields[2]["producer"] == "91330106MA27XXXX0X"
    validated = [validate_row(f) for f in fields]
    assert validated[0]["collected_at"] == datetime(2026, 4, 2, 9, 40, tzinfo=SH)
    assert validated[1]["collected_at"] == datetime(2026, 4, 2, 14, 5, tzinfo=SH)
    assert validated[1]["x"] == pytest.approx(120.1084, abs=1e-6)
    assert validated[2]["crs"] == "WGS84"


def test_gb18030_csv_and_unreadable_files(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("产品,采样时间,经度,纬度\n西湖龙井,2026年4月2日,120.12,30.22\n".encode("gb18030"))
    assert _rows(gbk)[0].fields["product"] == "西湖龙井"
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"product,lon,lat\n\xff\xfe\x00\x81\x30\x81")
    with pytest.raises(SampleFileError, match="not UTF-8 or GB18030"):
        open_sample_file(binary)
    no_xy = tmp_path / "no_xy.csv"
    no_xy.write_text("product,time\nx,2026-01-01\n", encoding="utf-8")
    with pytest.raises(SampleFileError, match="no coordinate columns"):
        open_sample_file(no_xy)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(SampleFileError, match="old .xls format"):
        open_sample_file(old)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(SampleFileError, match="not readable as an Excel"):
        open_sample_file(broken)


@pytest.mark.parametrize("chinese", [False, True])
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_template_has_every_accepted_column_and_reads_back(
    tmp_path: Path, suffix: str, chinese: bool
) -> None:
    path = write_template(tmp_path / f"template.{suffix}", chinese=chinese)
    if suffix == "csv":
        header = next(csv.reader(path.open(encoding="utf-8-sig")))
    else:
        header = [c.value for c in next(load_workbook(path).active.iter_rows(max_row=1))]
    assert header == [zh if chinese else en for en, zh, _ in TEMPLATE_COLUMNS]
    names = {canonical_name(h) for h in header}
    assert None not in names
    assert {"producer", "task_id", "seal_code", "collected_at", "x", "y", "crs", "lot_number"} <= names
    rows = _rows(path)
    assert len(rows) == 2
    validated = [validate_row(sample_fields(r, "WGS84")) for r in rows]
    assert validated[1]["x"] == pytest.approx(120.1084, abs=1e-6)  # D°M′S″ in the example row
    assert validated[1]["collected_at"] == datetime(2026, 4, 2, 14, 5, tzinfo=SH)
    # What the notice prints of a sample: the label, where it was taken, the specification and the date.
    assert {"labelled_producer", "labelled_address", "sampled_at", "outlet_name", "outlet_address"} <= names
    assert {"specification", "production_date"} <= names
    assert validated[0]["sampled_at"] is SampledAt.PRODUCER and validated[0].get("outlet_name") is None
    assert validated[0]["production_date"] == date(2026, 3, 30)
    assert validated[1]["sampled_at"] is SampledAt.OUTLET  # 流通环节, as typed in Chinese
    assert validated[1]["production_date"] == date(2026, 3, 31)  # 2026年3月31日
    assert validated[1]["specification"] == "500 g/袋" and validated[1]["labelled_producer"]


def test_a_result_file_appears_only_when_committed(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("an earlier result\n", encoding="utf-8")
    with pytest.raises(RuntimeError), ResultFile(target, ["row", "status"]) as out:
        out.write([(1, "stored")])
        raise RuntimeError("the database went away")
    assert target.read_text(encoding="utf-8") == "an earlier result\n"  # untouched
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left
    with ResultFile(target, ["row", "status"]) as out:
        out.write([(1, "stored"), (2, None)])
        out.commit()
    assert target.read_text(encoding="utf-8-sig").splitlines() == ["row,status", "1,stored", "2,"]
