"""Reference-collection tasks: authentic samples to collect inside a product's area, by county and harvest year,
where its origin-fingerprint reference set is thin; planned apart from inspections."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base, CreatedAt
from gi.models.register import GIProduct


class ReferenceTask(CreatedAt, Base):
    """One authentic reference sample to collect in a county of the area for a harvest year."""

    __tablename__ = "reference_task"
    __table_args__ = (
        UniqueConstraint(
            "campaign", "product_id", "number", name="uq_reference_task_campaign_product_number"
        ),
        CheckConstraint("status IN ('planned', 'collected', 'cancelled')", name="status_known"),
        CheckConstraint("due_to >= due_from", name="due_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(64), index=True, comment="plan code or REF-<product>-<year>")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    harvest_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer, comment="order within the campaign and product")
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    reason: Mapped[str] = mapped_column(Text)
    point: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), comment="suggested place inside county and area"
    )
    due_from: Mapped[date] = mapped_column(Date)
    due_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    reference_set: Mapped[str | None] = mapped_column(String(100))
    reference_sample_id: Mapped[str | None] = mapped_column(String(100))
    collected_on: Mapped[date | None] = mapped_column(Date)

    product: Mapped[GIProduct] = relationship()
