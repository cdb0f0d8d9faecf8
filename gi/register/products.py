"""GI products: add one, and summarize the register (what `gi products` and the demo print)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.models import CATEGORY_ZH, GIKind, GIProduct, ProductCategory, ProductionArea


class ProductInput(BaseModel):
    """A new GI product as entered by a supervisor."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="ASCII slug, e.g. xihu-longjing")
    name_zh: str = Field(min_length=2, max_length=100)
    name_pinyin: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    gi_kind: GIKind
    category: ProductCategory
    registration_number: str | None = None
    registration_date: date | None = None
    administering_office: str | None = None
    standard: str | None = None

    @field_validator("name_zh")
    @classmethod
    def _has_chinese(cls, value: str) -> str:
        if not any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in value):
            raise ValueError("must keep the product's Chinese name (e.g. 西湖龙井)")
        return value


def validate_input(model: type[BaseModel], data: dict[str, object]) -> BaseModel:
    """Validate ``data`` against ``model``; the first problem becomes an :class:`InputError` naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise InputError(field, first["msg"]) from exc


def add_product(session: Session, data: ProductInput) -> GIProduct:
    """Store a new product; its code and Chinese name must be unused."""
    for column, value, field in (
        (GIProduct.code, data.code, "code"),
        (GIProduct.name_zh, data.name_zh, "name_zh"),
    ):
        if session.scalar(select(GIProduct.id).where(column == value)) is not None:
            raise InputError(field, f"a product {value!r} already exists")
    product = GIProduct(**data.model_dump())
    session.add(product)
    session.flush()
    return product


_STANDARD_NUMBER = re.compile(r"^((?:GB/T|GB|[A-Z]{2,3}/T|DB\d{2,6}/T|DB\d{2,6})\s*[\d.]+-\d{4})")


def short_standard(standard: str | None) -> str:
    """The standard's number (``GB/T 18650-2008``) or, for an announcement, its first words."""
    if not standard:
        return ""
    match = _STANDARD_NUMBER.match(standard.strip())
    if match:
        return match.group(1)
    return standard if len(standard) <= 18 else standard[:17] + "…"


@dataclass(frozen=True)
class ProductSummary:
    """One line of the register summary."""

    code: str
    name_zh: str
    name_en: str
    category: str
    category_zh: str
    standard: str | None
    area_versions: int
    current_version: int | None
    area_km2: float | None
    counties: int
    indicators: int
    seasons: int


def register_summary(session: Session) -> list[ProductSummary]:
    """Products with their area versions, current km², county count, indicators and seasons."""
    versions = (
        select(ProductionArea.product_id, func.count().label("n"))
        .group_by(ProductionArea.product_id)
        .subquery()
    )
    rows = session.execute(
        select(GIProduct, versions.c.n)
        .outerjoin(versions, versions.c.product_id == GIProduct.id)
        .order_by(GIProduct.category, GIProduct.code)
    ).all()
    summaries = []
    for product, n_versions in rows:
        current = next((a for a in product.areas if a.valid_to is None), None)
        summaries.append(
            ProductSummary(
                code=product.code,
                name_zh=product.name_zh,
                name_en=product.name_en,
                category=product.category.value,
                category_zh=CATEGORY_ZH[product.category],
                standard=product.standard,
                area_versions=int(n_versions or 0),
                current_version=current.version if current else None,
                area_km2=float(current.area_km2) if current else None,
                counties=len(current.admin_units) if current else 0,
                indicators=len(product.quality_specs),
                seasons=len(product.seasons),
            )
        )
    return summaries
