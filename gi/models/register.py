"""The register: GI products, their versioned protected areas, quality specifications and seasons,
the producers authorized to use the GI special mark, and the inspectors."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base, CreatedAt


class GIKind(enum.StrEnum):
    """Legal form of the protection."""

    PROTECTED_PRODUCT = "protected_product"  # 地理标志保护产品
    COLLECTIVE_MARK = "collective_mark"  # 集体商标
    CERTIFICATION_MARK = "certification_mark"  # 证明商标
    AGRICULTURAL_GI = "agricultural_gi"  # 农产品地理标志


class ProductCategory(enum.StrEnum):
    """Supervision campaign a product belongs to."""

    FARM_PRODUCT = "farm_product"  # 农产品
    PROCESSED_FOOD = "processed_food"  # 加工食品
    MEDICINAL_HERB = "medicinal_herb"  # 道地药材
    HANDICRAFT = "handicraft"  # 手工艺品


# Producer.kind in Chinese, as every public document and map names it. An online seller is a 平台内经营者
# (电子商务法 第九条). The published notice is rebuilt byte for byte by `gi plan verify`: change a label only
# with that in mind.
PRODUCER_KIND_ZH = {
    "producer": "专用标志使用人",
    "market_outlet": "市场经营者",
    "online_seller": "平台内经营者",
}

GI_KIND_ZH = {
    GIKind.PROTECTED_PRODUCT: "地理标志保护产品",
    GIKind.COLLECTIVE_MARK: "地理标志集体商标",
    GIKind.CERTIFICATION_MARK: "地理标志证明商标",
    GIKind.AGRICULTURAL_GI: "农产品地理标志",
}
CATEGORY_ZH = {
    ProductCategory.FARM_PRODUCT: "农产品",
    ProductCategory.PROCESSED_FOOD: "加工食品",
    ProductCategory.MEDICINAL_HERB: "道地药材",
    ProductCategory.HANDICRAFT: "手工艺品",
}


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class GIProduct(CreatedAt, Base):
    """A protected GI product (地理标志产品)."""

    __tablename__ = "gi_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100), unique=True)
    name_pinyin: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    gi_kind: Mapped[GIKind] = mapped_column(Enum(GIKind, name="gi_kind", values_callable=_values))
    category: Mapped[ProductCategory] = mapped_column(
        Enum(ProductCategory, name="product_category", values_callable=_values)
    )
    registration_number: Mapped[str | None] = mapped_column(String(200))
    registration_date: Mapped[date | None] = mapped_column(Date)
    administering_office: Mapped[str | None] = mapped_column(String(200))
    standard: Mapped[str | None] = mapped_column(String(300))

    areas: Mapped[list[ProductionArea]] = relationship(
        back_populates="product", order_by="ProductionArea.version", cascade="all, delete-orphan"
    )
    quality_specs: Mapped[list[QualitySpec]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    seasons: Mapped[list[MarketSeason]] = relationship(back_populates="product", cascade="all, delete-orphan")
    producers: Mapped[list[Producer]] = relationship(back_populates="product")

    def __repr__(self) -> str:
        return f"GIProduct({self.code!r}, {self.name_zh})"


class ProductionArea(CreatedAt, Base):
    """One version of a product's legally protected production area; versions are never overwritten."""

    __tablename__ = "production_area"
    __table_args__ = (
        UniqueConstraint("product_id", "version"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_order"),
        # At most one open (current) version per product.
        Index(
            "uq_production_area_current", "product_id", unique=True, postgresql_where=text("valid_to IS NULL")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))
    legal_basis: Mapped[str] = mapped_column(Text)
    admin_units: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    approximation: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text)
    source_crs: Mapped[str] = mapped_column(String(40))
    area_km2: Mapped[float] = mapped_column(Numeric(14, 3))
    vertex_count: Mapped[int] = mapped_column(Integer)
    repair_notes: Mapped[list[str]] = mapped_column(JSONB, default=list)

    product: Mapped[GIProduct] = relationship(back_populates="areas")


class QualitySpec(CreatedAt, Base):
    """One quality indicator limit of a product specification (特色质量控制)."""

    __tablename__ = "quality_spec"
    __table_args__ = (
        UniqueConstraint(
            "product_id",
            "indicator_code",
            "grade",
            "valid_from",
            name="uq_quality_spec_key",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("lower_limit IS NOT NULL OR upper_limit IS NOT NULL", name="has_limit"),
        CheckConstraint(
            "lower_limit IS NULL OR upper_limit IS NULL OR lower_limit <= upper_limit", name="limit_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="CASCADE"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    lower_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    upper_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    lower_inclusive: Mapped[bool] = mapped_column(default=True)
    upper_inclusive: Mapped[bool] = mapped_column(default=True)
    grade: Mapped[str | None] = mapped_column(String(40))
    mandatory: Mapped[bool] = mapped_column(default=True)
    method_standard: Mapped[str | None] = mapped_column(String(200))
    source_standard: Mapped[str] = mapped_column(String(200))
    clause: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    product: Mapped[GIProduct] = relationship(back_populates="quality_specs")


class SeasonKind(enum.StrEnum):
    """Whether a market window is a peak (raised sampling frequency) or a regular one."""

    PEAK = "peak"
    REGULAR = "regular"


class MarketSeason(CreatedAt, Base):
    """A yearly month-day market window of a product; a window may wrap over the new year."""

    __tablename__ = "market_season"
    __table_args__ = (
        CheckConstraint("start_month BETWEEN 1 AND 12 AND end_month BETWEEN 1 AND 12", name="months"),
        CheckConstraint("start_day BETWEEN 1 AND 31 AND end_day BETWEEN 1 AND 31", name="days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    start_month: Mapped[int] = mapped_column(SmallInteger)
    start_day: Mapped[int] = mapped_column(SmallInteger)
    end_month: Mapped[int] = mapped_column(SmallInteger)
    end_day: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[SeasonKind] = mapped_column(Enum(SeasonKind, name="season_kind", values_callable=_values))
    source: Mapped[str | None] = mapped_column(Text)

    product: Mapped[GIProduct] = relationship(back_populates="seasons")


class Producer(CreatedAt, Base):
    """A firm authorized to use the GI special mark (专用标志使用人), or a registered market outlet."""

    __tablename__ = "producer"
    __table_args__ = (
        UniqueConstraint("product_id", "credit_code", name="uq_producer_product_credit"),
        CheckConstraint(
            "authorized_to IS NULL OR authorized_to >= authorized_from", name="authorization_order"
        ),
        # Only an online seller may lack a credit code (its listing did not show one); it is known by its shop.
        CheckConstraint(
            "credit_code IS NOT NULL OR (kind = 'online_seller' AND platform IS NOT NULL AND shop IS NOT NULL)",
            name="identified",
        ),
        UniqueConstraint("product_id", "platform", "shop", name="uq_producer_product_platform_shop"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(
        String(20), default="producer"
    )  # producer | market_outlet | online_seller
    address: Mapped[str | None] = mapped_column(Text)
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    location: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    authorization_number: Mapped[str | None] = mapped_column(String(100))
    authorized_from: Mapped[date | None] = mapped_column(Date)
    authorized_to: Mapped[date | None] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(default=False)
    platform: Mapped[str | None] = mapped_column(String(60), comment="online sellers: the platform")
    shop: Mapped[str | None] = mapped_column(String(200), comment="online sellers: the shop's name")
    source: Mapped[str | None] = mapped_column(Text, comment="the directory file it was last imported from")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    product: Mapped[GIProduct] = relationship(back_populates="producers")


class Inspector(CreatedAt, Base):
    """A law-enforcement inspector in the inspectors' directory (执法检查人员名录库)."""

    __tablename__ = "inspector"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(200))
    home_county_code: Mapped[str] = mapped_column(String(6), index=True)
    qualifications: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    capacity_per_round: Mapped[int] = mapped_column(Integer, default=8)
    active: Mapped[bool] = mapped_column(default=True)
    synthetic: Mapped[bool] = mapped_column(default=False)
