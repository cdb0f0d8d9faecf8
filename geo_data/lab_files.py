"""Read laboratory result files (CSV or Excel .xlsx): one row per result of one indicator of one sample.

Columns (English or Chinese headers, any order, case and spaces ignored):

=================  =====================================  ======================================================
column             also accepted                           content
=================  =====================================  ======================================================
sample_id          sample, 样品编号, 样品ID                 the sample's UUID (or an unambiguous prefix, ≥ 8 chars)
indicator          indicator_code, 检测项目, 指标             indicator code (moisture) or Chinese name (水分)
value              result, 检测值, 检测结果, 结果              a number; "<0.05" below a detection limit, ">900"
unit               单位                                     the unit the value is reported in (required)
U                  uncertainty, 扩展不确定度, 不确定度          expanded uncertainty in the value's unit, or "3%"
k                  coverage_factor, 包含因子                 coverage factor of U (usually 2)
method             检测方法, 检测依据, 方法                    method standard, e.g. GB 5009.3-2016
laboratory         lab, 检测机构, 实验室                       the testing laboratory
tested_on          test_date, date, 检测日期                  date of the test (2025-04-12, 2025/4/12, 2025年4月12日)
grade              declared_grade, 等级, 样品等级              grade or class the sample claims (optional)
=================  =====================================  ======================================================

Row numbers are those a spreadsheet shows: the header is row 1 (or the row it is on), the first result row 2.
Every problem of every row is collected before anything is rejected, so one pass over the file shows them all.
This module knows nothing about products or the database: unknown indicators and samples are checked by gi.quality.lab.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "sample_id": ("sample_id", "sample", "sampleid", "样品编号", "样品id", "样品"),
    "indicator": ("indicator", "indicator_code", "检测项目", "指标", "项目", "指标代码"),
    "value": ("value", "result", "检测值", "检测结果", "结果", "测定值"),
    "unit": ("unit", "units", "单位"),
    "uncertainty": ("u", "uncertainty", "expanded_uncertainty", "扩展不确定度", "不确定度"),
    "coverage_factor": ("k", "coverage_factor", "包含因子"),
    "method": ("method", "检测方法", "检测依据", "方法"),
    "laboratory": ("laboratory", "lab", "检测机构", "实验室", "检验机构"),
    "tested_on": ("tested_on", "test_date", "date", "检测日期", "检验日期"),
    "grade": ("grade", "declared_grade", "等级", "样品等级"),
}
REQUIRED = ("sample_id", "indicator", "value", "unit", "laboratory", "tested_on")

_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－＋＜＞％，", "0123456789.-+<>%,")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NOT_DETECTED = {"nd", "n.d.", "未检出", "<lod", "<loq", "bdl", "not detected"}


class LabFileError(ValueError):
    """A lab file that cannot be read, or rows that cannot be taken; ``problems`` lists every row problem."""

    def __init__(self, source: str, problems: list[RowProblem], message: str | None = None) -> None:
        self.source = source
        self.problems = problems
        if message is None:
            shown = "; ".join(p.text() for p in problems[:5])
            more = f"; … and {len(problems) - 5} more" if len(problems) > 5 else ""
            message = f"{source}: {len(problems)} problem(s) — {shown}{more}"
        super().__init__(message)


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: its spreadsheet row number, the column, and what is wrong."""

    row: int
    column: str
    problem: str

    def text(self) -> str:
        """'row 5, value: ...'."""
        return (
            f"row {self.row}, {self.column}: {self.problem}" if self.row else f"{self.column}: {self.problem}"
        )


@dataclass(frozen=True)
class LabRow:
    """One result row as read, before it is matched to a sample and an indicator."""

    row: int
    sample: str
    indicator: str
    value: Decimal
    censored: str | None
    unit: str
    uncertainty: Decimal | None
    coverage_factor: Decimal | None
    method: str | None
    laboratory: str
    tested_on: date
    grade: str | None

    def key(self) -> tuple[str, str, str, date]:
        """What makes a result unique: sample, indicator, laboratory and test date."""
        return (
            self.sample.strip().lower(),
            self.indicator.strip().lower(),
            self.laboratory.strip(),
            self.tested_on,
        )


def _header_key(text: Any) -> str:
    return re.sub(r"[\s\-（）()]+", "_", str(text or "").strip().lower()).strip("_")


def map_columns(header: list[Any], source: str) -> dict[str, int]:
    """Column positions by canonical name; a missing required column or a repeated one is a file error."""
    lookup = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
    positions: dict[str, int] = {}
    problems: list[RowProblem] = []
    for i, cell in enumerate(header):
        name = lookup.get(_header_key(cell))
        if name is None:
            continue
        if name in positions:
            problems.append(RowProblem(0, str(cell), f"column {name!r} appears twice"))
        positions[name] = i
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        problems.append(
            RowProblem(
                0,
                "header",
                f"missing column(s) {', '.join(missing)} (found: "
                f"{', '.join(str(h) for h in header if h not in (None, ''))})",
            )
        )
    if problems:
        raise LabFileError(source, problems)
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
    cleaned = raw.translate(_FULL_WIDTH).replace(" ", "")
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


def parse_date(value: Any) -> date:
    """A date cell: a date, a datetime, or text as 2025-04-12, 2025/4/12, 2025.4.12 or 2025年4月12日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().translate(_FULL_WIDTH)
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", text)
    if not match:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")
    return date(int(match[1]), int(match[2]), int(match[3]))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _uncertainty(cell: Any, value: Decimal) -> Decimal:
    text = str(cell).strip().translate(_FULL_WIDTH) if isinstance(cell, str) else cell
    if isinstance(text, str) and text.endswith("%"):
        relative, censored = parse_number(text[:-1])
        if censored:
            raise ValueError(f"{cell!r} is not a number")
        return abs(value) * relative / 100
    number, censored = parse_number(text)
    if censored:
        raise ValueError(f"{cell!r} is not a number")
    return number


def parse_rows(records: Iterable[tuple[int, dict[str, Any]]]) -> tuple[list[LabRow], list[RowProblem]]:
    """Parse (row number, {column: cell}) records; return the good rows and every problem found."""
    rows: list[LabRow] = []
    problems: list[RowProblem] = []
    first_row_of: dict[tuple[str, str, str, date], int] = {}
    for number, cells in records:
        row_problems: list[RowProblem] = []

        def text(column: str, required: bool = False) -> str | None:
            cell = cells.get(column)  # noqa: B023
            if _blank(cell):
                if required:
                    what = "missing unit" if column == "unit" else f"missing {column}"
                    row_problems.append(RowProblem(number, column, what))  # noqa: B023
                return None
            return str(cell).strip()

        sample = text("sample_id", True)
        indicator = text("indicator", True)
        unit = text("unit", True)
        laboratory = text("laboratory", True)
        method = text("method")
        grade = text("grade")
        value: Decimal | None = None
        censored = None
        if _blank(cells.get("value")):
            row_problems.append(RowProblem(number, "value", "missing value"))
        else:
            try:
                value, censored = parse_number(cells["value"])
            except ValueError as exc:
                row_problems.append(RowProblem(number, "value", f"text in a number field: {exc}"))
        uncertainty = coverage = None
        if not _blank(cells.get("uncertainty")) and value is not None:
            try:
                uncertainty = _uncertainty(cells["uncertainty"], value)
                if uncertainty < 0:
                    row_problems.append(RowProblem(number, "U", "an expanded uncertainty cannot be negative"))
            except ValueError as exc:
                row_problems.append(RowProblem(number, "U", f"text in a number field: {exc}"))
        if not _blank(cells.get("coverage_factor")):
            try:
                coverage, censored_k = parse_number(cells["coverage_factor"])
                if censored_k or coverage <= 0:
                    row_problems.append(
                        RowProblem(
                            number, "k", f"{cells['coverage_factor']!r} is not a positive coverage factor"
                        )
                    )
            except ValueError as exc:
                row_problems.append(RowProblem(number, "k", f"text in a number field: {exc}"))
        tested_on = None
        if _blank(cells.get("tested_on")):
            row_problems.append(RowProblem(number, "tested_on", "missing test date"))
        else:
            try:
                tested_on = parse_date(cells["tested_on"])
            except ValueError as exc:
                row_problems.append(RowProblem(number, "tested_on", str(exc)))
        if row_problems:
            problems.extend(row_problems)
            continue
        assert sample and indicator and unit and laboratory and value is not None and tested_on is not None
        row = LabRow(
            number,
            sample,
            indicator,
            value,
            censored,
            unit,
            uncertainty,
            coverage,
            method,
            laboratory,
            tested_on,
            grade,
        )
        first = first_row_of.get(row.key())
        if first is not None:
            problems.append(
                RowProblem(
                    number,
                    "row",
                    f"duplicate of row {first}: the same sample, indicator, laboratory and test date",
                )
            )
            continue
        first_row_of[row.key()] = number
        rows.append(row)
    return rows, problems


def _csv_records(path: Path) -> Iterator[tuple[int, list[Any]]]:
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("gb18030")  # Excel on a Chinese Windows saves CSV in GBK
    reader = csv.reader(content.splitlines())
    yield from enumerate(reader, start=1)


def _xlsx_records(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise LabFileError(
                path.name, [], f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})"
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        for number, record in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(record)
    finally:
        workbook.close()


def read_lab_rows(path: str | Path, sheet: str | None = None) -> tuple[list[LabRow], list[RowProblem]]:
    """The good rows of a CSV or .xlsx file and every row problem; a file that cannot be read raises."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(path, sheet)
    elif suffix in (".csv", ".txt"):
        records = _csv_records(path)
    elif suffix == ".xls":
        raise LabFileError(
            path.name, [], f"{path.name}: the old .xls format is not read; save it as .xlsx or CSV"
        )
    else:
        raise LabFileError(path.name, [], f"{path.name}: unknown file type {suffix!r}; use .csv or .xlsx")

    header: list[Any] | None = None
    positions: dict[str, int] = {}
    body: list[tuple[int, dict[str, Any]]] = []
    for number, record in records:
        if all(_blank(c) for c in record):
            continue
        first = record[0] if record else None
        if isinstance(first, str) and first.lstrip().startswith("#"):
            continue  # comment line
        if header is None:
            header = record
            positions = map_columns(record, path.name)
            continue
        body.append((number, {name: record[i] if i < len(record) else None for name, i in positions.items()}))
    if header is None:
        raise LabFileError(path.name, [], f"{path.name}: the file is empty")
    if not body:
        raise LabFileError(path.name, [], f"{path.name}: no result rows under the header")
    return parse_rows(body)


def read_lab_file(path: str | Path, sheet: str | None = None) -> list[LabRow]:
    """Every result row of a CSV or .xlsx file; raises LabFileError listing every problem, by row number."""
    rows, problems = read_lab_rows(path, sheet)
    if problems:
        raise LabFileError(Path(path).name, problems)
    return rows
