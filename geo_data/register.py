"""Schema and loader of the bundled register of real Chinese GI products (``register/products.json``).

The register is plain data: products, their legally defined production areas as lists of county-level
administrative units (one entry per historical version), market seasons and quality limits with the clause of
the standard each limit comes from. Geometry is not stored here: ``python -m geo_data.build_areas`` turns the
admin units into ``register/areas.geojson``. No database code lives in this module.
"""

from __future__ import annotations

import json
import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

REGISTER_DIR: Path = Path(__file__).resolve().parent / "register"
DEFAULT_REGISTER: Path = REGISTER_DIR / "products.json"
DEFAULT_AREAS: Path = REGISTER_DIR / "areas.geojson"

_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Three or more Latin words in a row: English prose, which a printed (Chinese) text must not carry. Codes such as
# "GB/T 19266-2008" or a lone "mg/kg" are not words of letters only and do not count.
_ENGLISH_RUN = re.compile(r"(?<![A-Za-z0-9/.-])[A-Za-z]{2,}(?:[ ,;:()'-]+[A-Za-z]+){2,}(?![A-Za-z0-9/.-])")


def check_printed_zh(value: str, what: str, note_field: str) -> str:
    """A text printed on Chinese reports and maps: Chinese, with no English remark (that goes in ``note_field``)."""
    if not _CJK.search(value):
        raise ValueError(f"{what} must be written in Chinese: {value!r}")
    english = _ENGLISH_RUN.search(value)
    if english:
        raise ValueError(f"{what} carries English prose {english.group(0)!r}: put remarks in {note_field}")
    return value


class GIKindName(StrEnum):
    """Legal form of a protection (values match ``gi.models.GIKind``)."""

    PROTECTED_PRODUCT = "protected_product"  # 地理标志保护产品 (AQSIQ, now CNIPA)
    COLLECTIVE_MARK = "collective_mark"  # 地理标志集体商标
    CERTIFICATION_MARK = "certification_mark"  # 地理标志证明商标
    AGRICULTURAL_GI = "agricultural_gi"  # 农产品地理标志 (Ministry of Agriculture)


class CategoryName(StrEnum):
    """Supervision category (values match ``gi.models.ProductCategory``)."""

    FARM_PRODUCT = "farm_product"
    PROCESSED_FOOD = "processed_food"
    MEDICINAL_HERB = "medicinal_herb"
    HANDICRAFT = "handicraft"


class Verification(StrEnum):
    """How far a figure was checked; kept per figure so nobody mistakes a recollection for the text."""

    STANDARD_TEXT = "standard text"  # read in the standard itself
    ANNOUNCEMENT_TEXT = "announcement text"  # read in (a copy of) the approving announcement
    SECONDARY_SOURCE = "secondary source"  # quoted by a secondary page, primary text not seen
    RECALLED = "recalled"  # from knowledge of the primary text, not re-read for this register


class DatePrecision(StrEnum):
    """How exact a ``valid_from`` date is; a year-only date is stored as 1 January of that year."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    NO_LATER_THAN = "no_later_than"  # only a report after the fact dates it


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_month_day(value: str) -> str:
    match = re.fullmatch(r"(\d{2})-(\d{2})", value)
    if not match:
        raise ValueError(f"{value!r} is not MM-DD")
    month, day = int(match[1]), int(match[2])
    if month not in _MONTH_DAYS or not 1 <= day <= _MONTH_DAYS[month]:
        raise ValueError(f"{value!r} is not a real month-day")
    return value


class AdminUnit(_Model):
    """A county-level administrative unit, named by its 6-digit adcode as used by the boundary source."""

    code: Annotated[str, Field(pattern=r"^\d{6}$")]
    name: Annotated[str, Field(min_length=1)]


class AreaVersionDefinition(_Model):
    """One legal version of a production area: the units it is built from and the text that defines it."""

    version: Annotated[int, Field(ge=1)]
    valid_from: date
    valid_from_precision: DatePrecision = DatePrecision.DAY
    instrument: GIKindName | None = None  # legal form of this version, when it differs from the product's
    # The citation as an official writes it (printed on reports and maps): Chinese only.
    legal_basis: Annotated[str, Field(min_length=10)]
    # Provenance and verification remarks on the citation, in English (not printed on Chinese documents).
    basis_note: str = ""
    admin_units: Annotated[list[AdminUnit], Field(min_length=1)]
    # Empty only when the legal area is exactly the listed whole counties.
    approximation: str = ""

    @field_validator("legal_basis")
    @classmethod
    def _basis_in_chinese(cls, value: str) -> str:
        return check_printed_zh(value, "legal_basis", "basis_note")

    @field_validator("admin_units")
    @classmethod
    def _unique_units(cls, units: list[AdminUnit]) -> list[AdminUnit]:
        codes = [u.code for u in units]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"admin unit listed twice: {', '.join(duplicates)}")
        return units

    @property
    def admin_codes(self) -> list[str]:
        """Adcodes of the units, in register order."""
        return [u.code for u in self.admin_units]


class SeasonWindow(_Model):
    """A yearly market or harvest window; ``end`` before ``start`` means it wraps over the new year."""

    name: Annotated[str, Field(min_length=1)]
    start: str
    end: str
    kind: Literal["peak", "regular"]
    source: Annotated[str, Field(min_length=3)]

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        return _check_month_day(value)

    @property
    def wraps_new_year(self) -> bool:
        """True when the window runs from one year into the next."""
        return self.end < self.start


class QualityLimit(_Model):
    """A numeric limit of one quality indicator, with the standard and clause it comes from."""

    code: str
    name_zh: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    unit: Annotated[str, Field(min_length=1)]
    lower: float | None = None
    upper: float | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = True
    grade: str | None = None  # None: every grade; else a grade or product class (特级, 雌蟹, 杯类 ...)
    mandatory: bool = True
    method: str | None = None
    source: Annotated[str, Field(min_length=3)]
    clause: Annotated[str, Field(min_length=1)]
    verified: Verification
    valid_from: date | None = (
        None  # when the source took effect, if it differs from the product's standard_date
    )
    note: str = ""

    @field_validator("code")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _SNAKE.match(value):
            raise ValueError(f"indicator code {value!r} is not ascii snake_case")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> QualityLimit:
        if self.lower is None and self.upper is None:
            raise ValueError(f"{self.code}: a limit needs a lower or an upper bound")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"{self.code}: lower {self.lower} > upper {self.upper}")
        return self

    def accepts(self, value: float) -> bool:
        """Whether a measured value meets this limit."""
        if self.lower is not None and (
            value < self.lower or (value == self.lower and not self.lower_inclusive)
        ):
            return False
        if self.upper is not None and (
            value > self.upper or (value == self.upper and not self.upper_inclusive)
        ):
            return False
        return True


class CapacityFigure(_Model):
    """A published figure on the production of a GI (area, output, yield, or a sales cap), with its source.

    ``value`` is the figure the balance uses: the upper end when the source gives a range (``low`` keeps the
    lower end), so that a flag means more than the most generous published figure allows. ``estimate`` marks a
    figure that is approximate in the source ("about", "a year") or derived here from other figures
    (``derivation`` says how).
    """

    kind: Literal["area", "output", "yield", "sale_cap"]
    value: Annotated[float, Field(gt=0)]
    low: Annotated[float, Field(gt=0)] | None = None
    unit: Annotated[str, Field(pattern=r"^(mu|kg|piece)(/mu)?$")]  # mu = 亩 (1/15 ha)
    year: int | None = None
    scope: str = ""  # which part of the production (lake pens, ponds, first-grade zone ...)
    estimate: bool
    derivation: str = ""
    source: Annotated[str, Field(min_length=10)]
    verified: Verification
    note: str = ""

    @model_validator(mode="after")
    def _range(self) -> CapacityFigure:
        if self.low is not None and self.low > self.value:
            raise ValueError(f"{self.kind}: low {self.low} > value {self.value}")
        if self.kind in ("yield", "sale_cap") and not self.unit.endswith("/mu"):
            raise ValueError(f"{self.kind}: unit must be per mu, got {self.unit!r}")
        if self.kind in ("area", "output") and self.unit.endswith("/mu"):
            raise ValueError(f"{self.kind}: unit must not be per mu, got {self.unit!r}")
        if self.estimate and not (self.derivation or self.note):
            raise ValueError(f"{self.kind}: an estimate says why in derivation or note")
        return self


class NameVariants(_Model):
    """How a GI name shows in listing titles: the name itself, other exact forms, and place + product words.

    A title uses the name when it contains an ``exact`` form, or a ``places`` word followed within
    ``window`` characters by a ``products`` word (五常 … 大米, 阳澄湖 … 蟹), after simplifying traditional
    characters and removing spaces and punctuation.
    """

    exact: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    window: Annotated[int, Field(ge=0, le=20)] = 8

    @model_validator(mode="after")
    def _pairs(self) -> NameVariants:
        if bool(self.places) != bool(self.products):
            raise ValueError("name variants need both places and products words, or neither")
        return self


class MarketFacts(_Model):
    """What the mass balance of a product needs: its balance unit, published capacity figures, name variants."""

    balance_unit: Literal["kg", "piece"]
    figures: list[CapacityFigure] = Field(default_factory=list)
    names: NameVariants = Field(default_factory=NameVariants)
    note: str = ""


class ProductEntry(_Model):
    """One GI product of the register."""

    code: str
    name_zh: Annotated[str, Field(min_length=1)]
    name_pinyin: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    gi_kind: GIKindName
    category: CategoryName
    registration_number: str | None = None  # None where the announcement number could not be verified
    registration_date: date | None = None
    registration_date_precision: DatePrecision = DatePrecision.DAY
    administering_office: Annotated[str, Field(min_length=2)]  # its Chinese name, as printed
    administering_office_en: str = ""
    standard: Annotated[
        str, Field(min_length=3, max_length=300)
    ]  # "number title" of the product specification
    standard_note: str = ""  # provenance and verification remarks on ``standard``, in English
    standard_date: date  # from when the product's own limits are applied (see SOURCES.md)
    area_versions: Annotated[list[AreaVersionDefinition], Field(min_length=1)]
    seasons: list[SeasonWindow] = Field(default_factory=list)
    quality: list[QualityLimit] = Field(default_factory=list)
    market: MarketFacts | None = None  # capacity figures and name variants for the mass balance
    notes: str = ""

    @field_validator("administering_office")
    @classmethod
    def _office_in_chinese(cls, value: str) -> str:
        return check_printed_zh(value, "administering_office", "administering_office_en")

    @field_validator("standard")
    @classmethod
    def _standard_in_chinese(cls, value: str) -> str:
        return check_printed_zh(value, "standard", "standard_note")

    @field_validator("code")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"product code {value!r} is not an ascii slug")
        return value

    @model_validator(mode="after")
    def _versions_ordered(self) -> ProductEntry:
        numbers = [v.version for v in self.area_versions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.code}: area versions must be numbered 1..n in order, got {numbers}")
        starts = [v.valid_from for v in self.area_versions]
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ValueError(f"{self.code}: area versions must have strictly increasing valid_from")
        keys = [(q.code, q.grade, q.valid_from) for q in self.quality]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise ValueError(f"{self.code}: quality limit listed twice: {sorted(map(str, duplicates))}")
        return self

    @property
    def current_area(self) -> AreaVersionDefinition:
        """The latest area version, the one in force now."""
        return self.area_versions[-1]

    def area_on(self, day: date) -> AreaVersionDefinition | None:
        """The area version in force on ``day``, or None before the first one."""
        current = None
        for version in self.area_versions:
            if version.valid_from <= day:
                current = version
        return current


class Provenance(_Model):
    """Where the register's content comes from and under which terms it may be reused."""

    what: str
    compiled_by: str
    compiled_on: date
    sources: list[str]
    boundaries: str
    licence: str
    caveats: list[str] = Field(default_factory=list)


class RegisterFile(_Model):
    """The whole register file."""

    schema_version: Literal[1] = 1
    provenance: Provenance
    products: Annotated[list[ProductEntry], Field(min_length=1)]

    @field_validator("products")
    @classmethod
    def _unique_codes(cls, products: list[ProductEntry]) -> list[ProductEntry]:
        codes = [p.code for p in products]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"product code listed twice: {', '.join(duplicates)}")
        return products

    def product(self, code: str) -> ProductEntry:
        """The product with ``code``; KeyError if absent."""
        for entry in self.products:
            if entry.code == code:
                return entry
        raise KeyError(code)


def load_register(path: Path | None = None) -> RegisterFile:
    """Read and validate a register file (default: the bundled one)."""
    source = Path(path) if path is not None else DEFAULT_REGISTER
    with source.open(encoding="utf-8") as handle:
        data = json.load(handle)
    return RegisterFile.model_validate(data)
