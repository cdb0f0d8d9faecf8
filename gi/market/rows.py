"""Shared row handling of the market imports: reading a file under canonical columns, typed cells with every
problem collected by row and column, the all-or-nothing rejection, and the report of what an import changed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data.crs import UnknownCRSError, parse_crs, to_wgs84
from geo_data.tables import (
    RowProblem,
    Table,
    TableFileError,
    blank,
    parse_date,
    parse_quantity,
    read_table,
    summarize,
)
from gi.errors import GIError, InputError
from gi.market.credit_code import CreditCode, parse_uscc
from gi.models import GIProduct

T = TypeVar("T")

# Columns several files share, with the headers offices use.
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "credit_code": ("credit_code", "uscc", "统一社会信用代码", "社会信用代码", "信用代码"),
    "name": ("name", "名称", "企业名称", "单位名称", "主体名称", "生产者名称", "经营者名称"),
    "product": ("product", "product_code", "gi_product", "产品", "产品名称", "地理标志产品"),
    "address": ("address", "地址", "住所", "经营地址", "生产地址"),
    "county": ("county", "county_code", "区县代码", "县区代码", "行政区划代码", "所在县区代码"),
    "x": ("x", "lon", "lng", "longitude", "easting", "经度"),
    "y": ("y", "lat", "latitude", "northing", "纬度"),
    "crs": ("crs", "srs", "coordinate_system", "坐标系"),
    "synthetic": ("synthetic", "合成", "合成数据"),
    "season": ("season", "harvest_year", "年度", "产季", "生产年度"),
    "quantity": ("quantity", "数量", "发放数量"),
    "unit": ("unit", "单位", "计量单位"),
    "unit_size": ("unit_size", "unit_kg", "net_kg", "每件净含量", "规格", "每单位数量"),
}
_TRUE = {"1", "true", "yes", "y", "是", "在岗", "有效", "合成", "t"}
_FALSE = {"0", "false", "no", "n", "否", "离岗", "无效", "f"}
_LIST_SPLIT = re.compile(r"[;；,，、/\s]+")
PRODUCT_SEPARATORS = re.compile(r"[;；,，、]+")  # product names may contain spaces (Wuchang rice)


class RowsError(InputError):
    """A file rejected as a whole: every problem of every row, with row numbers; nothing was stored."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        text = summarize(self.problems)
        GIError.__init__(self, f"{source}: {text}", field=self.problems[0].column if self.problems else None)
        self.problem = text


def read_rows(
    path: str | Path,
    aliases: Mapping[str, Sequence[str]],
    required: Sequence[str],
    sheet: str | None = None,
    what: str = "data",
) -> Table:
    """The rows of a CSV or .xlsx file; a file that cannot be read is refused naming the file and the problem."""
    try:
        return read_table(path, aliases, required, sheet, what)
    except TableFileError as exc:
        if exc.problems:
            raise RowsError(exc.source, exc.problems) from exc
        raise InputError(exc.source, str(exc).split(": ", 1)[-1]) from exc


class Cells:
    """Typed access to the cells of one row; each bad cell adds a problem instead of raising."""

    def __init__(self, number: int, cells: Mapping[str, Any], problems: list[RowProblem]) -> None:
        self.row = number
        self.cells = cells
        self.problems = problems
        self._start = len(problems)

    @property
    def ok(self) -> bool:
        """Whether this row has no problem so far."""
        return len(self.problems) == self._start

    def problem(self, column: str, text: str) -> None:
        """Record a problem of this row."""
        self.problems.append(RowProblem(self.row, column, text))

    def present(self, column: str) -> bool:
        """Whether the cell is filled."""
        return not blank(self.cells.get(column))

    def text(self, column: str, required: bool = False, max_length: int | None = None) -> str | None:
        """A text cell, stripped; None when empty (a problem when required or too long)."""
        cell = self.cells.get(column)
        if blank(cell):
            if required:
                self.problem(column, f"missing {column}")
            return None
        value = str(cell).strip()
        if isinstance(cell, float) and cell.is_integer():
            value = str(int(cell))  # Excel turns numeric codes into floats
        if max_length is not None and len(value) > max_length:
            self.problem(column, f"longer than {max_length} characters")
            return None
        return value

    def typed(self, column: str, parse: Callable[[Any], T], required: bool = False) -> T | None:
        """A cell parsed by ``parse`` (whose ValueError or InputError becomes this row's problem)."""
        cell = self.cells.get(column)
        if blank(cell):
            if required:
                self.problem(column, f"missing {column}")
            return None
        try:
            return parse(cell)
        except InputError as exc:
            self.problem(column, exc.problem)
        except ValueError as exc:
            self.problem(column, str(exc))
        return None

    def credit_code(self, column: str = "credit_code", required: bool = True) -> CreditCode | None:
        """A unified social credit code validated by its GB 32100 check character."""
        return self.typed(column, lambda c: parse_uscc(str(c), column), required)

    def day(self, column: str, required: bool = False) -> date | None:
        """A date cell."""
        return self.typed(column, parse_date, required)

    def number(self, column: str, required: bool = False, positive: bool = False) -> Decimal | None:
        """A non-negative (or positive) number cell."""
        value = self.typed(column, parse_quantity, required)
        if value is not None and (value < 0 or (positive and value == 0)):
            self.problem(column, f"{value} is not {'positive' if positive else 'zero or more'}")
            return None
        return value

    def integer(self, column: str, required: bool = False, low: int = 0, high: int = 10**9) -> int | None:
        """A whole number cell within [low, high]."""
        value = self.typed(column, parse_quantity, required)
        if value is None:
            return None
        if value != value.to_integral_value() or not low <= value <= high:
            self.problem(column, f"{value} is not a whole number from {low} to {high}")
            return None
        return int(value)

    def flag(self, column: str, default: bool = False) -> bool:
        """A yes/no cell (是/否, true/false, 1/0)."""
        cell = self.cells.get(column)
        if blank(cell):
            return default
        key = str(cell).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        self.problem(column, f"{cell!r} is neither yes nor no (是/否, true/false, 1/0)")
        return default

    def county(self, column: str = "county") -> str | None:
        """A 6-digit county code (GB/T 2260)."""
        value = self.text(column)
        if value is None:
            return None
        if not re.fullmatch(r"\d{6}", value):
            self.problem(column, f"{value!r} is not a 6-digit administrative division code")
            return None
        return value

    def items(self, column: str, separators: re.Pattern[str] = _LIST_SPLIT) -> list[str]:
        """A list cell: items separated by ; , 、 / or spaces (or by ``separators``)."""
        value = self.text(column)
        return [v.strip() for v in separators.split(value) if v.strip()] if value else []

    def season(self, column: str = "season", fallback: date | None = None) -> int | None:
        """A harvest year (2000-2100); the year of ``fallback`` when the cell is empty."""
        if not self.present(column):
            if fallback is not None:
                return fallback.year
            self.problem(column, "missing season (harvest year)")
            return None
        text = str(self.cells[column]).strip().removesuffix("年").removesuffix("年度")
        return self.typed(column, lambda _: _year(text))

    def location(self) -> Location | None:
        """The row's location (x, y and crs, both coordinates or neither) with its WGS84 lon/lat, or None."""
        has_x, has_y = self.present("x"), self.present("y")
        if not has_x and not has_y:
            return None
        if has_x != has_y:
            self.problem("y" if has_x else "x", "give both coordinates or neither")
            return None
        x = self.typed("x", parse_quantity)
        y = self.typed("y", parse_quantity)
        declared = self.text("crs") or "WGS84"
        try:
            system = parse_crs(declared)
        except UnknownCRSError as exc:
            self.problem("crs", str(exc).removeprefix("crs: "))
            return None
        if x is None or y is None:
            return None
        lon, lat = to_wgs84([float(x)], [float(y)], system)
        if not (math.isfinite(lon[0]) and math.isfinite(lat[0]) and abs(lon[0]) <= 180 and abs(lat[0]) <= 90):
            self.problem("x", f"({x}, {y}) in {system} is not a place on Earth; check the order and the crs")
            return None
        return Location(float(x), float(y), str(system), float(lon[0]), float(lat[0]))


@dataclass(frozen=True)
class Location:
    """A location as submitted (x, y in ``crs``) and in WGS84."""

    x: float
    y: float
    crs: str
    lon: float
    lat: float

    def submitted(self) -> dict[str, Any]:
        """The coordinates as submitted, for storage beside the WGS84 point."""
        return {"x": self.x, "y": self.y, "crs": self.crs}


def _year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError(f"{text!r} is not a year such as 2025")
    year = int(text)
    if not 2000 <= year <= 2100:
        raise ValueError(f"{year} is not a plausible harvest year")
    return year


class ProductLookup:
    """Products by code, Chinese or English name, looked up once per import."""

    def __init__(self, session: Session) -> None:
        self.by_key: dict[str, GIProduct] = {}
        for p in session.scalars(select(GIProduct)):
            for key in (p.code, p.name_zh, p.name_en.lower(), p.name_pinyin.lower(), str(p.id)):
                self.by_key[key] = p

    def __call__(self, cells: Cells, column: str = "product", value: str | None = None) -> GIProduct | None:
        """The product a cell names (a problem of the row when unknown)."""
        key = value if value is not None else cells.text(column, required=True)
        if key is None:
            return None
        product = self.by_key.get(key) or self.by_key.get(key.lower())
        if product is None:
            cells.problem(column, f"no GI product {key!r} in the register")
        return product


def duplicate_check(seen: dict[Any, int], key: Any, cells: Cells, what: str) -> bool:
    """Whether ``key`` is new in this file; a repeat is a problem naming the first row."""
    first = seen.get(key)
    if first is not None:
        cells.problem("row", f"duplicate of row {first}: the same {what}")
        return False
    seen[key] = cells.row
    return True


@dataclass
class Change:
    """One upserted record and, for an update, each changed field as (stored, imported)."""

    key: str
    created: bool
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class ImportReport:
    """What an import did: rows read, records created, updated (with their changes) and unchanged, and notes."""

    source: str
    what: str
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def created(self) -> int:
        """Records created."""
        return sum(1 for c in self.changes if c.created)

    @property
    def updated(self) -> int:
        """Records updated."""
        return sum(1 for c in self.changes if not c.created)

    def summary(self) -> str:
        """'12 rows: 10 created, 1 updated, 1 unchanged'."""
        return (
            f"{self.source}: {self.rows} {self.what} row(s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )


def apply_changes(
    record: Any, values: Mapping[str, Any], compare: Mapping[str, Any] | None = None
) -> dict[str, tuple[Any, Any]]:
    """Set ``values`` on ``record`` where they differ (None means 'not given': kept); return what changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, new in values.items():
        if new is None:
            continue
        old = getattr(record, name)
        same = compare[name](old, new) if compare and name in compare else old == new
        if not same:
            changed[name] = (old, new)
            setattr(record, name, new)
    return changed


def reject_if(source: str, problems: Sequence[RowProblem]) -> None:
    """Refuse the whole file when any row has a problem."""
    if problems:
        raise RowsError(source, sorted(problems, key=lambda p: (p.row, p.column)))
