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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from geo_data.tables import (
    FULL_WIDTH,
    RowProblem,
    TableFileError,
    blank,
    parse_date,
    parse_number,
    summarize,
)

__all__ = ["COLUMN_ALIASES", "REQUIRED", "LabFileError", "LabRow", "RowProblem", "parse_date", "parse_number"]

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


class LabFileError(ValueError):
    """A lab file that cannot be read, or rows that cannot be taken; ``problems`` lists every row problem."""

    def __init__(self, source: str, problems: list[RowProblem], message: str | None = None) -> None:
        self.source = source
        self.problems = problems
        if message is None:
            message = f"{source}: {summarize(problems)}"
        super().__init__(message)
        # What is wrong, without the file's name in front (a face puts the name where it belongs).
        self.detail = message.removeprefix(f"{source}: ")


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


def _uncertainty(cell: Any, value: Decimal) -> Decimal:
    text = str(cell).strip().translate(FULL_WIDTH) if isinstance(cell, str) else cell
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
            if blank(cell):
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
        if blank(cells.get("value")):
            row_problems.append(RowProblem(number, "value", "missing value"))
        else:
            try:
                value, censored = parse_number(cells["value"])
            except ValueError as exc:
                row_problems.append(RowProblem(number, "value", f"text in a number field: {exc}"))
        uncertainty = coverage = None
        if not blank(cells.get("uncertainty")) and value is not None:
            try:
                uncertainty = _uncertainty(cells["uncertainty"], value)
                if uncertainty < 0:
                    row_problems.append(RowProblem(number, "U", "an expanded uncertainty cannot be negative"))
            except ValueError as exc:
                row_problems.append(RowProblem(number, "U", f"text in a number field: {exc}"))
        if not blank(cells.get("coverage_factor")):
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
        if blank(cells.get("tested_on")):
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


def read_lab_rows(path: str | Path, sheet: str | None = None) -> tuple[list[LabRow], list[RowProblem]]:
    """The good rows of a CSV or .xlsx file and every row problem; a file that cannot be read raises."""
    from geo_data.tables import read_table

    try:
        table = read_table(path, COLUMN_ALIASES, REQUIRED, sheet, what="result")
    except TableFileError as exc:
        raise LabFileError(exc.source, exc.problems, str(exc) if not exc.problems else None) from exc
    return parse_rows(table.rows)


def read_lab_file(path: str | Path, sheet: str | None = None) -> list[LabRow]:
    """Every result row of a CSV or .xlsx file; raises LabFileError listing every problem, by row number."""
    rows, problems = read_lab_rows(path, sheet)
    if problems:
        raise LabFileError(Path(path).name, problems)
    return rows
