"""The market side: authorized users of the GI special mark, marks issued per holder and season, holders'
production capacity, outlets' suppliers and volumes, online listings, and the mass-balance runs and flags."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base, CreatedAt
from gi.models.register import GIProduct, Producer, _values


class MarkAuthorization(CreatedAt, Base):
    """An approval to use the GI special mark (专用标志使用核准): number, holder, validity and announcement."""

    __tablename__ = "mark_authorization"
    __table_args__ = (
        UniqueConstraint("product_id", "number", name="uq_mark_authorization_product_number"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(100), comment="authorization (approval) number")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    announcement: Mapped[str | None] = mapped_column(Text, comment="the announcement that approved it")
    source: Mapped[str | None] = mapped_column(Text, comment="file it was imported from")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    product: Mapped[GIProduct] = relationship()
    holder: Mapped[Producer] = relationship()


class MarkIssuance(CreatedAt, Base):
    """Labels or codes of the special mark issued to a holder for a season (e.g. 西湖龙井 labels by weight)."""

    __tablename__ = "mark_issuance"
    __table_args__ = (
        UniqueConstraint("product_id", "reference", name="uq_mark_issuance_product_reference"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_size IS NULL OR unit_size > 0", name="unit_size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="RESTRICT"), index=True)
    reference: Mapped[str] = mapped_column(String(100), comment="issuance record number")
    season: Mapped[int] = mapped_column(Integer, index=True, comment="harvest year the marks are for")
    issued_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(20), comment="kg, g, jin, t, box, piece, crab or label")
    unit_size: Mapped[Decimal | None] = mapped_column(
        Numeric(12, 4), comment="balance units per box, bag or label (net kg, or items)"
    )
    balance_quantity: Mapped[Decimal] = mapped_column(
        Numeric(18, 3), comment="quantity in the product's balance unit"
    )
    code_from: Mapped[str | None] = mapped_column(String(60))
    code_to: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[str | None] = mapped_column(Text)

    product: Mapped[GIProduct] = relationship()
    holder: Mapped[Producer] = relationship()


class HolderCapacity(CreatedAt, Base):
    """The production base of a holder for a season inside the protected area: planted area, ponds or herd."""

    __tablename__ = "holder_capacity"
    __table_args__ = (
        UniqueConstraint("producer_id", "season", "basis", name="uq_holder_capacity_producer_season_basis"),
        CheckConstraint("basis_quantity >= 0", name="basis_non_negative"),
        CheckConstraint("yield_per_unit IS NULL OR yield_per_unit >= 0", name="yield_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="RESTRICT"), index=True)
    season: Mapped[int] = mapped_column(Integer, index=True)
    basis: Mapped[str] = mapped_column(String(30), comment="planted_area, lake_pen, pond or herd")
    basis_quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    basis_unit: Mapped[str] = mapped_column(String(10), comment="mu, ha or head")
    yield_per_unit: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="assessed yield in the balance unit per basis unit (overrides the register)"
    )
    yield_source: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)

    holder: Mapped[Producer] = relationship()


class OutletSupplier(Base):
    """A supplier an outlet declares for a product (the holder whose marked goods it sells), by credit code."""

    __tablename__ = "outlet_supplier"
    # The integer id comes first: the audit log identifies a row by it (0015_outlet_supplier_audit).
    __table_args__ = (UniqueConstraint("outlet_id", "supplier_credit_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="CASCADE"))
    supplier_credit_code: Mapped[str] = mapped_column(String(18))


class MarketVolume(CreatedAt, Base):
    """Volume of a GI product an outlet sold or held in a season, as an outlet inspection recorded it."""

    __tablename__ = "market_volume"
    __table_args__ = (
        UniqueConstraint("product_id", "reference", name="uq_market_volume_product_reference"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="RESTRICT"), index=True)
    reference: Mapped[str] = mapped_column(String(100), comment="inspection record number")
    season: Mapped[int] = mapped_column(Integer, index=True)
    observed_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(20))
    unit_size: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    balance_quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    source: Mapped[str | None] = mapped_column(Text)

    outlet: Mapped[Producer] = relationship()


class ListingIdentity(Base):
    """One row per listing. ``listing`` is partitioned by ``observed_on`` month, so its own key is
    (id, observed_on); this table keeps one id one listing and one platform item one listing (triggers on
    ``listing`` write it) and is what tables referencing a listing point at."""

    __tablename__ = "listing_identity"
    __table_args__ = (
        UniqueConstraint("platform", "listing_key", name="uq_listing_identity_platform_key"),
        {"comment": "one row per listing: the keys the month-partitioned listing table cannot hold"},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    platform: Mapped[str] = mapped_column(String(60))
    listing_key: Mapped[str] = mapped_column(String(300))


class Listing(CreatedAt, Base):
    """An online listing seen on a platform: seller, title, claimed GI or mark, ship-from, price, volume sold.

    Partitioned by ``observed_on`` month (docs/scale.md): the table's primary key is (id, observed_on); the ORM
    maps it by ``id`` alone, which listing_identity keeps unique (with the platform and item id)."""

    __tablename__ = "listing"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(60))
    listing_key: Mapped[str] = mapped_column(String(300), comment="the platform's item id or URL")
    shop: Mapped[str] = mapped_column(String(200))
    seller_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("producer.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(Text)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True
    )
    name_match: Mapped[str | None] = mapped_column(String(100), comment="the GI name or variant found")
    claimed_gi: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_mark: Mapped[bool] = mapped_column(Boolean, default=False)
    ship_from_address: Mapped[str | None] = mapped_column(Text)
    ship_from: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    ship_from_submitted: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="x, y and crs as submitted"
    )
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    price_unit: Mapped[str | None] = mapped_column(String(40))
    volume_sold: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    volume_unit: Mapped[str | None] = mapped_column(String(20))
    unit_size: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    balance_quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    observed_on: Mapped[date] = mapped_column(Date)
    season: Mapped[int] = mapped_column(Integer, index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(Text)

    product: Mapped[GIProduct | None] = relationship()
    seller: Mapped[Producer | None] = relationship()


class BalanceFlagKind(enum.StrEnum):
    """What a mass-balance or listing check found."""

    HOLDER_OVER_CAPACITY = "holder_over_capacity"  # marks issued to a holder exceed its capacity
    MARKET_OVER_CAPACITY = "market_over_capacity"  # market volume of a product exceeds its capacity × factor
    OUTLET_OVER_SUPPLY = "outlet_over_supply"  # an outlet sold more than its suppliers were issued
    MARK_OUTSIDE_VALIDITY = (
        "mark_outside_validity"  # marks issued or used outside the authorization's validity
    )
    LISTING_UNAUTHORIZED = "listing_unauthorized"  # GI name or mark used online by a seller not authorized
    LISTING_SHIP_FROM_OUTSIDE = "listing_ship_from_outside"  # ships from outside the protected area
    LISTING_OVER_SUPPLY = "listing_over_supply"  # sold online more than the seller's authorized supply


BALANCE_FLAG_ZH: dict[str, str] = {
    "holder_over_capacity": "专用标志发放量超过产能",
    "market_over_capacity": "市场流通量超过产能",
    "outlet_over_supply": "经销量超过供货方标志发放量",
    "mark_outside_validity": "在核准有效期外发放或使用标志",
    "listing_unauthorized": "未经核准使用地理标志名称或专用标志",
    "listing_ship_from_outside": "发货地在保护范围外",
    "listing_over_supply": "网络销量超过可供货量",
}


class BalanceRun(Base):
    """One mass-balance check of a product and season: its totals, settings and figures, as stated inputs."""

    __tablename__ = "balance_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    season: Mapped[int] = mapped_column(Integer, index=True)
    unit: Mapped[str] = mapped_column(String(20), comment="the balance unit: kg or piece")
    capacity: Mapped[Decimal | None] = mapped_column(
        Numeric(20, 3), comment="product capacity (None: unknown)"
    )
    issued: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    market_volume: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    product: Mapped[GIProduct] = relationship()
    flags: Mapped[list[BalanceFlag]] = relationship(back_populates="run", order_by="BalanceFlag.id")


class BalanceFlag(Base):
    """A flag of a balance run, stored like a verdict: what it concerns, the figures compared, and its inputs."""

    __tablename__ = "balance_flag"
    __table_args__ = (CheckConstraint("threshold >= 0", name="threshold_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("balance_run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[BalanceFlagKind] = mapped_column(
        Enum(BalanceFlagKind, name="balance_flag_kind", values_callable=_values), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    season: Mapped[int] = mapped_column(Integer)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producer.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("listing_identity.id", ondelete="CASCADE"), index=True
    )
    observed: Mapped[Decimal | None] = mapped_column(Numeric(20, 3), comment="what was seen (issued, sold)")
    allowed: Mapped[Decimal | None] = mapped_column(Numeric(20, 3), comment="what it is compared with")
    threshold: Mapped[Decimal] = mapped_column(Numeric(10, 4), comment="factor of ``allowed`` that flags")
    unit: Mapped[str | None] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    run: Mapped[BalanceRun] = relationship(back_populates="flags")
    producer: Mapped[Producer | None] = relationship()
    listing: Mapped[Listing | None] = relationship(
        primaryjoin="foreign(BalanceFlag.listing_id) == Listing.id", viewonly=True
    )
