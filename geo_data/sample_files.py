"""Reading sample files (CSV, GeoJSON, GeoPackage) into plain rows, and writing result files.

A row keeps every field as text, exactly as typed, under a canonical name (``x``, ``y``, ``crs``, ``product``,
...; English, pinyin-free and common Chinese headers are recognized). The coordinate system of a row is its own
``crs`` column when filled, else the one declared for the file (``--crs``), else the file's own, else WGS84.
Problems of one row never stop the others: they are returned with the row number (the line number in a CSV, the
feature number in GeoJSON/GeoPackage). Whole-file problems raise :class:`SampleFileError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORTED_SUFFIXES = (".csv", ".txt", ".geojson", ".json", ".gpkg")

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "sample_id", "uuid", "样品编号", "编号"),
    "product": ("product", "product_code", "gi_product", "产品", "产品名称"),
    "producer": ("producer", "producer_id", "credit_code", "生产者", "统一社会信用代码"),
    "task_id": ("task_id", "task", "任务"),
    "collected_at": ("collected_at", "collected", "datetime", "time", "date", "采样时间", "采样日期"),
    "x": ("x", "lon", "lng", "long", "longitude", "easting", "经度"),
    "y": ("y", "lat", "latitude", "northing", "纬度"),
    "crs": ("crs", "srs", "coordinate_system", "declared_crs", "坐标系"),
    "gps_accuracy_m": (
        "gps_accuracy_m",
        "accuracy",
        "accuracy_m",
        "gps_accuracy",
        "horizontal_accuracy",
        "精度",
    ),
    "location_source": ("location_source", "location_from", "位置来源"),
    "lot_number": ("lot_number", "lot", "batch", "批号"),
    "lot_size": ("lot_size", "批量"),
    "collector": ("collector", "inspector", "inspector_code", "采样人"),
    "notes": ("notes", "note", "remarks", "备注"),
}
_LOOKUP = {alias.lower(): canonical for canonical, names in ALIASES.items() for alias in names}


class SampleFileError(ValueError):
    """A sample file that cannot be read at all (missing, unsupported, no rows, no coordinate columns)."""


@dataclass
class SampleRow:
    """One row of a sample file: canonical fields as typed (None when empty)."""

    row: int
    fields: dict[str, str | None]


@dataclass
class RowProblem:
    """A row that cannot become a sample: its number, the field at fault and what is wrong."""

    row: int
    field: str
    problem: str


@dataclass
class SampleFile:
    """The rows of one file, with the coordinate system declared for rows without their own."""

    source: str
    default_crs: str
    rows: list[SampleRow]
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def canonical_name(header: str) -> str | None:
    """The canonical field a column header stands for, or None."""
    return _LOOKUP.get(header.strip().lower().replace(" ", "_"))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if value != value:  # NaN from pandas
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    text = str(value).strip()
    return text or None


def _decode(raw: bytes, where: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SampleFileError(f"{where}: not UTF-8 or GB18030 text")


def _rows_from_records(
    records: Iterable[tuple[int, dict[str, Any]]], headers: Sequence[str], where: str
) -> tuple[list[SampleRow], list[str]]:
    mapping: dict[str, str] = {}
    ignored = []
    for header in headers:
        name = canonical_name(header)
        if name is None or name in mapping.values():
            ignored.append(header)
        else:
            mapping[header] = name
    rows = []
    for number, record in records:
        fields: dict[str, str | None] = {name: None for name in ALIASES}
        for header, name in mapping.items():
            fields[name] = _text(record.get(header))
        rows.append(SampleRow(row=number, fields=fields))
    return rows, ignored


def _read_csv(path: Path) -> tuple[list[SampleRow], list[str]]:
    text = _decode(path.read_bytes(), path.name)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = list(reader.fieldnames or [])
    records = ((reader.line_num, row) for row in reader)
    rows, ignored = _rows_from_records(records, headers, path.name)
    return rows, ignored


def _read_vector(
    path: Path, layer: str | None
) -> tuple[list[SampleRow], list[str], str | None, list[RowProblem]]:
    import pyogrio

    try:
        info = pyogrio.read_info(str(path), layer=layer)
        frame = pyogrio.read_dataframe(str(path), layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise SampleFileError(f"{path.name}: cannot be read as a vector file ({exc})") from exc
    headers = [c for c in frame.columns if c != frame.geometry.name]
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    rows, ignored = _rows_from_records(enumerate(records, start=1), headers, path.name)
    problems = []
    for sample_row, geom in zip(rows, frame.geometry.values, strict=True):
        if geom is None or geom.is_empty:
            continue  # coordinates may still be in x/y columns
        if geom.geom_type != "Point":
            problems.append(RowProblem(sample_row.row, "geometry", f"a {geom.geom_type}, not a Point"))
            continue
        sample_row.fields["x"], sample_row.fields["y"] = repr(float(geom.x)), repr(float(geom.y))
    return rows, ignored, info.get("crs"), problems


def read_sample_file(path: str | Path, crs: str | None = None, layer: str | None = None) -> SampleFile:
    """Read a CSV, GeoJSON or GeoPackage of samples (see the module docstring for CRS precedence)."""
    path = Path(path)
    if not path.exists():
        raise SampleFileError(f"{path.name}: file not found")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SampleFileError(f"{path.name}: unsupported format {suffix!r}; use CSV, GeoJSON or GeoPackage")
    problems: list[RowProblem] = []
    file_crs = None
    if suffix in (".csv", ".txt"):
        rows, ignored = _read_csv(path)
        if rows and not any(r.fields["x"] or r.fields["y"] for r in rows[:50]):
            raise SampleFileError(f"{path.name}: no coordinate columns (lon/lat, x/y, 经度/纬度)")
    else:
        rows, ignored, file_crs, problems = _read_vector(path, layer)
    if not rows:
        raise SampleFileError(f"{path.name}: contains no samples")
    default_crs = (crs or "").strip() or file_crs or "WGS84"
    return SampleFile(
        source=path.name, default_crs=default_crs, rows=rows, problems=problems, ignored_columns=ignored
    )


def write_result_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a result table as CSV with a BOM, so that spreadsheet programs show Chinese text correctly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path
