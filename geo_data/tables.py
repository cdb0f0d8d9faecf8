"""Read tabular files (CSV or Excel .xlsx) with English or Chinese headers into numbered rows.

The conventions every importer of the project shares (lab results, directories, marks, listings):

* headers are matched case- and space-insensitively against a table of aliases (``_``, ``-``, brackets and spaces
  are the same); unknown columns are ignored; a required column missing, or one given twice, is a file problem;
* row numbers are those a spreadsheet shows: the header is row 1 (or the row it is on), the first data row 2;
  blank rows and lines whose first cell starts with ``#`` are skipped;
* CSV is read as UTF-8 (with or without BOM), else GB 18030 (Excel on a Chinese Windows saves CSV in GBK);
* numbers may be full-width or carry thousands separators; dates may be 2025-04-12, 2025/4/12, 2025.4.12 or
  2025年4月12日.

This module knows nothing about what the columns mean: callers collect :class:`RowProblem` per row and reject the
whole file when there is any (all or nothing).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

FULL_WIDTH = str.maketrans("０１２３４５６７８９．－＋＜＞％，", "0123456789.-+<>%,")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NOT_DETECTED = {"nd", "n.d.", "未检出", "<lod", "<loq", "bdl", "not detected"}
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


class TableFileError(ValueError):
    """A table file that cannot be read at all: missing, of an unknown type, empty, or with a bad header."""

    def __init__(self, source: str, problems: Sequence[RowProblem], message: str | None = None) -> None:
        self.source = source
        self.problems = list(problems)
        if message is None:
            message = f"{source}: {summarize(self.problems)}"
        super().__init__(message)


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: its spreadsheet row number (0 for the header), the column, and what is wrong."""

    row: int
    column: str
    problem: str

    def text(self) -> str:
        """'row 5, value: ...'."""
        return (
            f"row {self.row}, {self.column}: {self.problem}" if self.row else f"{self.column}: {self.problem}"
        )


def summarize(problems: Sequence[RowProblem], shown: int = 5) -> str:
    """'N problem(s) — row 2, a: ...; row 7, b: ...; … and M more' on one line."""
    head = "; ".join(p.text() for p in problems[:shown])
    more = f"; … and {len(problems) - shown} more" if len(problems) > shown else ""
    return f"{len(problems)} problem(s) — {head}{more}"


@dataclass(frozen=True)
class Table:
    """The data rows of a file: (row number, {canonical column: cell}) and the canonical columns present."""

    source: str
    rows: list[tuple[int, dict[str, Any]]]
    columns: frozenset[str]


def header_key(text: Any) -> str:
    """A header cell normalized for matching: lower case, spaces, dashes and brackets as ``_``."""
    return re.sub(r"[\s\-（）()]+", "_", str(text or "").strip().lower()).strip("_")


def blank(value: Any) -> bool:
    """Whether a cell is empty (None or only whitespace)."""
    return value is None or (isinstance(value, str) and not value.strip())


def map_columns(
    header: Sequence[Any], aliases: Mapping[str, Sequence[str]], required: Sequence[str], source: str
) -> dict[str, int]:
    """Column positions by canonical name; a missing required column or a repeated one raises TableFileError."""
    lookup = {header_key(alias): name for name, names in aliases.items() for alias in (name, *names)}
    positions: dict[str, int] = {}
    problems: list[RowProblem] = []
    for i, cell in enumerate(header):
        name = lookup.get(header_key(cell))
        if name is None:
            continue
        if name in positions:
            problems.append(RowProblem(0, str(cell), f"column {name!r} appears twice"))
        positions[name] = i
    missing = [c for c in required if c not in positions]
    if missing:
        found = ", ".join(str(h) for h in header if not blank(h))
        problems.append(RowProblem(0, "header", f"missing column(s) {', '.join(missing)} (found: {found})"))
    if problems:
        raise TableFileError(source, problems)
    return positions


def parse_number(text: Any) -> tuple[Decimal, str | None]:
    """A number cell as an exact Decimal and its censoring ('<', '>' or None); ValueError says why not."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a number")
    if isinstance(text, (int, Decimal)):
        return Decimal(text), None
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")):
            raise ValueError(f"{text!r} is not a finite number")
        return Decimal(repr(text)), None  # shortest repr: 13.1 stays 13.1, not 13.0999999999999996447
    raw = str(text).strip()
    cleaned = raw.translate(FULL_WIDTH).replace(" ", "")
    if cleaned.lower() in _NOT_DETECTED:
        raise ValueError(
            f"{raw!r} has no number: write a result below the detection limit as '<LOD', e.g. '<0.05'"
        )
    censored = None
    if cleaned[:1] in "<>" and cleaned:
        censored, cleaned = cleaned[0], cleaned[1:]
        if cleaned.startswith("="):
            raise ValueError(f"{raw!r}: '≤'/'≥' results are not censored values; report the number")
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.match(cleaned):
        raise ValueError(f"{raw!r} is not a number")
    try:
        return Decimal(cleaned), censored
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise ValueError(f"{raw!r} is not a number") from exc


def parse_quantity(text: Any) -> Decimal:
    """A plain non-censored number cell (a quantity, an area, a price); ValueError says why not."""
    value, censored = parse_number(text)
    if censored:
        raise ValueError(f"{text!r} is not a number")
    return value


def parse_date(value: Any) -> date:
    """A date cell: a date, a datetime, or text as 2025-04-12, 2025/4/12, 2025.4.12 or 2025年4月12日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().translate(FULL_WIDTH)
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", text)
    if not match:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date ({exc})") from exc


def csv_records(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of a CSV file in UTF-8 (BOM optional) or GB 18030."""
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            content = raw.decode("gb18030")  # Excel on a Chinese Windows saves CSV in GBK
        except UnicodeDecodeError:  # UTF-16 ("Unicode text" in Excel) or not text at all
            raise TableFileError(
                path.name, [], f"{path.name}: not UTF-8 or GB18030 text (save it as CSV UTF-8)"
            ) from None
    reader = csv.reader(content.splitlines())
    yield from enumerate(reader, start=1)


def xlsx_records(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of a worksheet (the first, or ``sheet``) of an .xlsx workbook."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for a broken file
        raise TableFileError(
            path.name, [], f"{path.name}: not readable as an Excel .xlsx workbook ({exc})"
        ) from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise TableFileError(
                path.name, [], f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})"
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        for number, record in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(record)
    finally:
        workbook.close()


def file_records(path: Path, sheet: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of a CSV or .xlsx file; another type raises TableFileError naming the file."""
    if not path.exists():
        raise FileNotFoundError(2, "no such file", str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return xlsx_records(path, sheet)
    if suffix in (".csv", ".txt"):
        return csv_records(path)
    if suffix == ".xls":
        raise TableFileError(
            path.name, [], f"{path.name}: the old .xls format is not read; save it as .xlsx or CSV"
        )
    raise TableFileError(path.name, [], f"{path.name}: unknown file type {suffix!r}; use .csv or .xlsx")


def read_table(
    path: str | Path,
    aliases: Mapping[str, Sequence[str]],
    required: Sequence[str],
    sheet: str | None = None,
    what: str = "data",
) -> Table:
    """The data rows of a CSV or .xlsx file under canonical column names (see the module docstring)."""
    path = Path(path)
    header: list[Any] | None = None
    positions: dict[str, int] = {}
    body: list[tuple[int, dict[str, Any]]] = []
    for number, record in file_records(path, sheet):
        if all(blank(c) for c in record):
            continue
        first = record[0] if record else None
        if isinstance(first, str) and first.lstrip().startswith("#"):
            continue  # comment line
        if header is None:
            header = record
            positions = map_columns(record, aliases, required, path.name)
            continue
        body.append((number, {name: record[i] if i < len(record) else None for name, i in positions.items()}))
    if header is None:
        raise TableFileError(path.name, [], f"{path.name}: the file is empty")
    if not body:
        raise TableFileError(path.name, [], f"{path.name}: no {what} rows under the header")
    return Table(path.name, body, frozenset(positions))
