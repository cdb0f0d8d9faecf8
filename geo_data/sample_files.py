"""Reading sample files (CSV, Excel .xlsx, GeoJSON, GeoPackage) as a stream of plain rows; writing result files.

A row keeps every field as typed, under a canonical name (``x``, ``y``, ``crs``, ``product``, ...; English and
Chinese headers are recognized, see :data:`ALIASES`). The coordinate system of a row is its own ``crs`` column when
filled, else the one declared for the file (``--crs``), else the file's own, else WGS84. Rows are read in chunks,
so a file of any size is read in bounded memory. Problems of one row never stop the others: they come with the row
number (the line number in a CSV, the row number in a sheet, the feature number in GeoJSON/GeoPackage), and name
the column as the file's header has it (:attr:`SampleFile.names`): ``lon`` or ``经度``, never ``x``. A row with
values beyond the header's columns is refused (a comma in a value that is not quoted shifts every value after it);
a row with fewer fields than the header reads the missing ones as empty. A file that cannot be read at all raises
:class:`SampleFileError`, naming the file, the line and the problem.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from geo_data.values import EXCEL_SERIALS

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".geojson", ".json", ".gpkg")

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "sample_id", "uuid", "样品编号", "编号"),
    "product": ("product", "product_code", "gi_product", "产品", "产品名称", "地理标志产品"),
    "producer": (
        "producer",
        "producer_id",
        "credit_code",
        "producer_credit_code",
        "生产者",
        "统一社会信用代码",
        "生产者统一社会信用代码",
    ),
    "task_id": ("task_id", "task", "任务", "抽样任务", "任务编号", "抽样任务编号"),
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
        "定位精度",
    ),
    "location_source": ("location_source", "location_from", "位置来源"),
    "lot_number": ("lot_number", "lot", "batch", "批号"),
    "lot_size": ("lot_size", "批量"),
    "seal_code": ("seal_code", "seal", "seal_number", "封样编号", "封条编号", "封签编号"),
    "collector": ("collector", "inspector", "inspector_code", "采样人", "抽样人员"),
    "notes": ("notes", "note", "remarks", "备注"),
    "labelled_producer": (
        "labelled_producer",
        "labeled_producer",
        "manufacturer",
        "标称生产企业",
        "标称生产企业名称",
        "标称生产者",
    ),
    "labelled_address": (
        "labelled_address",
        "labeled_address",
        "manufacturer_address",
        "标称生产企业地址",
        "标称生产者地址",
    ),
    "sampled_at": ("sampled_at", "sampling_stage", "stage", "抽样环节", "被抽样单位类型"),
    "outlet_name": ("outlet_name", "outlet", "sampled_unit", "被抽样单位", "被抽样单位名称"),
    "outlet_address": ("outlet_address", "sampled_unit_address", "sampled_address", "被抽样单位地址"),
    "specification": ("specification", "spec", "package_size", "规格", "规格型号"),
    "production_date": ("production_date", "produced_on", "harvest_date", "生产日期", "采收日期"),
}
_LOOKUP = {alias.lower(): canonical for canonical, names in ALIASES.items() for alias in names}

# The headers of the template (gi check --template), in English and in Chinese, with what each column holds.
TEMPLATE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "样品编号", "UUID of the sample (optional: derived from the content when empty)"),
    ("product", "地理标志产品", "product code or Chinese name"),
    (
        "producer_credit_code",
        "生产者统一社会信用代码",
        "unified social credit code (or register id) of the producer",
    ),
    ("task_id", "抽样任务编号", "plan task the sample fulfils (gi plan show)"),
    ("seal_code", "封样编号", "number on the seal of the retained portion"),
    ("collected_at", "采样时间", "2026-04-02 09:40, 2026/4/2 9:40 or 2026年4月2日 9时40分 (local time)"),
    ("lon", "经度", "decimal degrees or D°M′S″ (120°07′25.7″E)"),
    ("lat", "纬度", "decimal degrees or D°M′S″"),
    ("crs", "坐标系", "WGS84, CGCS2000, GCJ02, BD09 or EPSG:n"),
    ("gps_accuracy_m", "定位精度", "GPS accuracy in metres"),
    ("location_source", "位置来源", "device_gps, map_pick or geocoded_address"),
    ("lot_number", "批号", "lot (batch) number"),
    ("lot_size", "批量", "size of the lot"),
    ("collector", "抽样人员", "inspector code"),
    ("labelled_producer", "标称生产企业", "manufacturer named on the label"),
    ("labelled_address", "标称生产企业地址", "its address as on the label"),
    (
        "sampled_at",
        "抽样环节",
        "producer (生产环节, at the producer) or outlet (流通环节: shop, market, online)",
    ),
    (
        "outlet_name",
        "被抽样单位",
        "unit the sample was taken from (empty at the producer: the producer itself)",
    ),
    ("outlet_address", "被抽样单位地址", "its address"),
    ("specification", "规格型号", "as on the label, e.g. 250 g/袋"),
    ("production_date", "生产日期", "date on the label: 2026-03-28, 2026/3/28 or 2026年3月28日"),
    ("notes", "备注", "free text"),
)
TEMPLATE_ROWS: tuple[tuple[str, ...], ...] = (
    (
        "",
        "xihu-longjing",
        "",
        "",
        "FY-2026-0417",
        "2026-04-02 09:40",
        "120.123812",
        "30.226843",
        "WGS84",
        "4.2",
        "device_gps",
        "LJ-2026-041",
        "300",
        "",
        "杭州龙井村茶叶专业合作社",
        "浙江省杭州市西湖区龙井村",
        "producer",
        "",
        "",
        "250 g/罐",
        "2026-03-30",
        "龙井村茶园",
    ),
    (
        "",
        "西湖龙井",
        "",
        "",
        "FY-2026-0418",
        "2026年4月2日 14时05分",
        "120°06′30.24″E",
        "30°12′26.37″N",
        "GCJ02",
        "6",
        "map_pick",
        "LJ-2026-042",
        "120",
        "",
        "杭州梅家坞茶业有限公司",
        "浙江省杭州市西湖区梅家坞村",
        "流通环节",
        "杭州西湖区茶叶市场某茶行",
        "浙江省杭州市西湖区龙井路",
        "500 g/袋",
        "2026年3月31日",
        "梅家坞，高德地图选点（GCJ-02）",
    ),
)

# A field longer than this in a CSV is refused (a stray quote can swallow the rest of a file into one field): the
# csv module's own limit, left as it is (it is process-wide).
MAX_FIELD_CHARS = csv.field_size_limit()


class SampleFileError(ValueError):
    """A sample file that cannot be read at all (missing, unsupported, undecodable, no coordinate columns)."""


class OutputFileError(SampleFileError):
    """A result file or template that cannot be written where asked (a directory, no permission, exists)."""


@dataclass
class SampleRow:
    """One row of a sample file: canonical fields as typed (None when empty)."""

    row: int
    fields: dict[str, str | None]
    short: str | None = None  # "the row has 2 fields, the header 4": said with any refusal of the row


@dataclass
class RowProblem:
    """A row that cannot become a sample: its number, the field at fault and what is wrong."""

    row: int
    field: str
    problem: str


Item = SampleRow | RowProblem


@dataclass
class SampleFile:
    """An open sample file: what it declares, and its rows, read chunk by chunk on demand."""

    source: str
    default_crs: str
    ignored_columns: list[str]
    estimated_rows: int
    items: Callable[[], Iterator[Item]] = field(repr=False)
    # Canonical field -> the column's header as the file has it; fields with no column of their own (the
    # coordinates of a geometry) by their usual names, lon and lat.
    names: dict[str, str] = field(default_factory=dict)

    def chunks(self, size: int) -> Iterator[list[Item]]:
        """The file's rows (and row problems) in chunks of ``size``, in file order."""
        chunk: list[Item] = []
        count = 0
        for item in self.items():
            chunk.append(item)
            count += 1
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        if count == 0:
            raise SampleFileError(f"{self.source}: contains no samples")


def canonical_name(header: Any) -> str | None:
    """The canonical field a column header stands for, or None."""
    if header is None:
        return None
    return _LOOKUP.get(str(header).strip().lower().replace(" ", "_"))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if value != value:  # NaN from pandas
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float):
        return repr(value)
    text = str(value).strip()
    return text or None


def _names(headers: Sequence[Any], mapping: dict[int, str]) -> dict[str, str]:
    """Canonical field -> its column's header as typed (lon and lat for coordinates without a column)."""
    names = {"x": "lon", "y": "lat"}
    names.update({name: str(headers[position]).strip() for position, name in mapping.items()})
    for canonical in ("x", "y"):
        names[f"{canonical}_text"] = names[canonical]
    return names


def _width(values: Sequence[Any]) -> int:
    """Fields up to the last one that is not blank (of a header: its named columns)."""
    filled = [i for i, v in enumerate(values) if v is not None and str(v).strip()]
    return filled[-1] + 1 if filled else 0


def _overflow(number: int, record: Sequence[Any], width: int, unit: str, hint: str = "") -> RowProblem | None:
    """A row with values beyond the header's last column: refused, not cut short silently."""
    used = _width(record)
    if used <= width:
        return None
    return RowProblem(
        number, "row", f"has {used} {unit}, the header {width}: values beyond the last column{hint}"
    )


def _mapping(headers: Sequence[Any]) -> tuple[dict[int, str], list[str]]:
    """Column position -> canonical field, and the headers that are not used."""
    mapping: dict[int, str] = {}
    ignored = []
    for position, header in enumerate(headers):
        name = canonical_name(header)
        if name is None or name in mapping.values():
            if header is not None and str(header).strip():
                ignored.append(str(header))
        else:
            mapping[position] = name
    return mapping, ignored


def _row(number: int, record: Sequence[Any], mapping: dict[int, str]) -> SampleRow:
    fields: dict[str, str | None] = dict.fromkeys(ALIASES)
    for position, name in mapping.items():
        fields[name] = _text(record[position]) if position < len(record) else None
    return SampleRow(row=number, fields=fields)


def _require_coordinates(mapping: dict[int, str], where: str, geometry: bool = False) -> None:
    names = set(mapping.values())
    if not geometry and not ({"x", "y"} <= names):
        raise SampleFileError(f"{where}: no coordinate columns (lon/lat, x/y, 经度/纬度)")


# --------------------------------------------------------------------------------------------- CSV


def _encoding(path: Path) -> tuple[str, int]:
    """The file's text encoding (UTF-8, else GB18030 as Excel on a Chinese Windows saves CSV) and its line count,
    found by decoding it block by block (nothing is kept)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        offset = 0
        try:
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    decoder.decode(block)
                    lines += block.count(b"\n")
                    offset += len(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, lines
    raise SampleFileError(f"{path.name}: not UTF-8 or GB18030 text (save it as CSV UTF-8)")


def _open_csv(
    path: Path,
) -> tuple[list[str], list[str], dict[int, str], csv.Dialect | type[csv.Dialect], str, int]:
    encoding, lines = _encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        head = fh.read(8192)
    try:
        dialect: csv.Dialect | type[csv.Dialect] = csv.Sniffer().sniff(head, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    headers = next(csv.reader(io.StringIO(head), dialect), [])
    mapping, ignored = _mapping(headers)
    return headers, ignored, mapping, dialect, encoding, lines


def _csv_items(
    path: Path,
    mapping: dict[int, str],
    dialect: csv.Dialect | type[csv.Dialect],
    encoding: str,
    headers: Sequence[str],
) -> Iterator[Item]:
    width = _width(headers)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, dialect)  # fields over csv.field_size_limit() (128 KiB) are an error
        next(reader, None)  # the header
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise SampleFileError(_csv_problem(path, reader.line_num, exc)) from exc
            if not any(value.strip() for value in record):
                continue  # a blank line
            problem = _overflow(
                reader.line_num, record, len(headers), "fields", " (a comma in a value that is not quoted?)"
            )
            if problem is not None:
                yield problem
                continue
            row = _row(reader.line_num, record, mapping)
            if len(record) < width:  # missing trailing fields read as empty; said if the row is refused
                row.short = f"the row has {len(record)} fields, the header {width}"
            yield row


def _csv_problem(path: Path, line: int, exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"{path.name}, line {line}: a field is longer than {MAX_FIELD_CHARS:,} characters "
            "(is a quote left open?)"
        )
    if "NUL" in text:
        return f"{path.name}, line {line}: contains a NUL byte (is it a text file?)"
    return f"{path.name}, line {line}: not readable as CSV ({text})"


# --------------------------------------------------------------------------------------------- Excel


def _open_xlsx(path: Path, sheet: str | None) -> tuple[Any, Any]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for a broken file
        raise SampleFileError(f"{path.name}: not readable as an Excel .xlsx workbook ({exc})") from exc
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise SampleFileError(f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})")
    return workbook, workbook[sheet] if sheet else workbook.worksheets[0]


# Excel date serials (geo_data.values.EXCEL_SERIALS: 1990-01-01 to 2100-01-01) in a date or time column are read as
# the dates they stand for: Unix seconds of those years are far larger, so such a number can only be a date cell
# in General format.
_DATE_FIELDS = frozenset({"collected_at", "production_date"})


def _serial_dates(record: Sequence[Any], positions: Sequence[int], epoch: datetime) -> Sequence[Any]:
    """The record with the Excel date serials of its date and time columns as datetimes (as Excel shows them)."""
    from openpyxl.utils.datetime import from_excel

    values = None
    for position in positions:
        value = record[position] if position < len(record) else None
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and EXCEL_SERIALS[0] <= value < EXCEL_SERIALS[1]
        ):
            values = values or list(record)
            values[position] = from_excel(value, epoch)
    return record if values is None else values


def _xlsx_items(path: Path, sheet: str | None) -> Iterator[Item]:
    workbook, worksheet = _open_xlsx(path, sheet)
    try:
        mapping: dict[int, str] | None = None
        dates: list[int] = []
        width = 0
        for number, record in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if not any(v is not None and str(v).strip() for v in record):
                continue
            if mapping is None:
                mapping, _ = _mapping(record)
                dates = [position for position, name in mapping.items() if name in _DATE_FIELDS]
                width = _width(record)
                continue
            problem = _overflow(number, record, width, "cells")
            if problem is not None:
                yield problem
                continue
            yield _row(number, _serial_dates(record, dates, workbook.epoch), mapping)
    finally:
        workbook.close()


def _xlsx_header(path: Path, sheet: str | None) -> tuple[dict[int, str], list[str], int, dict[str, str]]:
    workbook, worksheet = _open_xlsx(path, sheet)
    try:
        for record in worksheet.iter_rows(values_only=True):
            if any(v is not None and str(v).strip() for v in record):
                mapping, ignored = _mapping(record)
                return mapping, ignored, max(0, (worksheet.max_row or 1) - 1), _names(record, mapping)
        return {}, [], 0, _names([], {})
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------- vector files


def _vector(path: Path, layer: str | None) -> tuple[list[Item], list[str], str | None, dict[str, str]]:
    import pyogrio

    try:
        info = pyogrio.read_info(str(path), layer=layer)
        frame = pyogrio.read_dataframe(str(path), layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise SampleFileError(f"{path.name}: cannot be read as a vector file ({exc})") from exc
    headers = [c for c in frame.columns if c != frame.geometry.name]
    mapping, ignored = _mapping(headers)
    records = frame[headers].itertuples(index=False, name=None)
    items: list[Item] = []
    for number, (record, geom) in enumerate(zip(records, frame.geometry.values, strict=True), start=1):
        row = _row(number, record, mapping)
        if geom is not None and not geom.is_empty:
            if geom.geom_type != "Point":
                items.append(RowProblem(number, "geometry", f"a {geom.geom_type}, not a Point"))
                continue
            row.fields["x"], row.fields["y"] = repr(float(geom.x)), repr(float(geom.y))
        items.append(row)
    return items, ignored, info.get("crs"), _names(headers, mapping)


# --------------------------------------------------------------------------------------------- opening


def open_sample_file(path: str | Path, crs: str | None = None, layer: str | None = None) -> SampleFile:
    """Open a CSV, .xlsx, GeoJSON or GeoPackage file of samples (see the module docstring for CRS precedence).

    ``layer`` names the layer of a GeoPackage or the sheet of a workbook.
    """
    path = Path(path)
    if not path.exists():
        raise SampleFileError(f"{path.name}: file not found")
    if path.is_dir():
        raise SampleFileError(f"{path.name}: is a directory, not a file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise SampleFileError(f"{path.name}: the old .xls format is not read; save it as .xlsx or CSV")
    if suffix not in SUPPORTED_SUFFIXES:
        raise SampleFileError(
            f"{path.name}: unsupported format {suffix!r}; use CSV, Excel .xlsx, GeoJSON or GeoPackage"
        )
    declared = (crs or "").strip()
    if suffix in (".csv", ".txt"):
        headers, ignored, mapping, dialect, encoding, lines = _open_csv(path)
        _require_coordinates(mapping, path.name)
        return SampleFile(
            path.name,
            declared or "WGS84",
            ignored,
            max(0, lines - 1),
            lambda: _csv_items(path, mapping, dialect, encoding, headers),
            _names(headers, mapping),
        )
    if suffix in (".xlsx", ".xlsm"):
        mapping, ignored, rows, names = _xlsx_header(path, layer)
        _require_coordinates(mapping, path.name)
        return SampleFile(
            path.name, declared or "WGS84", ignored, rows, lambda: _xlsx_items(path, layer), names
        )
    items, ignored, file_crs, names = _vector(path, layer)
    return SampleFile(
        path.name, declared or file_crs or "WGS84", ignored, len(items), lambda: iter(items), names
    )


def sample_fields(row: SampleRow, default_crs: str) -> dict[str, Any]:
    """The fields of a file row as intake takes them: empty ones left out, the file's CRS for rows without one,
    and the coordinates as typed (their precision is judged)."""
    fields: dict[str, Any] = {k: v for k, v in row.fields.items() if v is not None}
    fields.setdefault("crs", default_crs)
    if "x" in fields:
        fields["x_text"] = fields["x"]
    if "y" in fields:
        fields["y_text"] = fields["y"]
    return fields


# --------------------------------------------------------------------------------------------- writing


class ResultFile:
    """A result table written to a temporary file beside its target and renamed onto it only by :meth:`commit`.

    Until then the target is untouched; leaving the ``with`` block without a commit removes the temporary file,
    so a failed run never leaves a file that claims what did not happen. CSV with a BOM, so that spreadsheet
    programs show Chinese text correctly. A target that cannot be written (a directory, a folder without write
    permission) raises :class:`OutputFileError` naming it here, before the caller does any work; ``exist_ok=False``
    refuses an existing target. The file gets the mode any new file gets (0666 less the umask), not the temporary
    file's private 0600.
    """

    def __init__(self, path: str | Path, header: Sequence[str], exist_ok: bool = True) -> None:
        self.path = Path(path)
        _check_target(self.path, exist_ok)
        with _writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        self.temporary = Path(name)
        os.fchmod(fd, 0o666 & ~current_umask())
        self._fh: TextIO = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(header)
        self.committed = False

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows (None as an empty cell)."""
        self._writer.writerows(["" if v is None else v for v in row] for row in rows)

    def commit(self) -> Path:
        """Flush to disk and put the file in place atomically."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        with _writing(self.path):  # the target became a directory meanwhile, or its folder read-only
            os.replace(self.temporary, self.path)
        self.committed = True
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (the target is left as it was)."""
        if not self._fh.closed:
            self._fh.close()
        self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> ResultFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self.discard()


def _check_target(path: Path, exist_ok: bool) -> None:
    """Refuse a target that is a directory, or that exists when it must not (:class:`OutputFileError`)."""
    if path.is_dir():
        raise OutputFileError(f"{path}: is a directory; give a file name (such as samples.result.csv)")
    if not exist_ok and path.exists():
        raise OutputFileError(f"{path}: exists already; give another name, or --force to overwrite it")


def current_umask() -> int:
    """The process's umask (read by setting it, and at once setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# What a file system says when a folder cannot be written in; anything else (a full disk) is not our message.
_UNWRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.EEXIST})


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Report a target that cannot be written by its own name, not by a temporary file's (a full disk stays an
    OSError: it is no fault of the name)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _UNWRITABLE:
            raise
        why = "part of its folder is a file" if exc.errno in (errno.EEXIST, errno.ENOTDIR) else exc.strerror
        raise OutputFileError(f"{path}: cannot be written ({why or exc})") from exc


def write_result_csv(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], exist_ok: bool = True
) -> Path:
    """Write a whole result table at once, atomically (see :class:`ResultFile`)."""
    with ResultFile(path, header, exist_ok=exist_ok) as out:
        out.write(rows)
        return out.commit()


def write_template(path: str | Path, chinese: bool = False, overwrite: bool = False) -> Path:
    """An example sample file with every accepted column and two example rows: CSV, or .xlsx by its suffix; an
    existing file is refused (:class:`OutputFileError`) unless ``overwrite``."""
    path = Path(path)
    header = [zh if chinese else en for en, zh, _ in TEMPLATE_COLUMNS]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _check_target(path, exist_ok=overwrite)
        from openpyxl import Workbook
        from openpyxl.comments import Comment

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "样品 samples"
        sheet.append(header)
        for cell, (_, _, meaning) in zip(sheet[1], TEMPLATE_COLUMNS, strict=True):
            cell.comment = Comment(meaning, "gi")
        for row in TEMPLATE_ROWS:
            sheet.append(list(row))
        with _writing(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            workbook.save(path)
        return path
    return write_result_csv(path, header, TEMPLATE_ROWS, exist_ok=overwrite)
