"""Samples collected by inspectors, and the origin verdicts (产地控制) derived from their locations."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base, CreatedAt
from gi.models.register import GIProduct, Inspector, Producer, ProductionArea, _values


class LocationSource(enum.StrEnum):
    """How the sample's location was obtained (a map pick or a geocoded address is weaker than a GPS fix)."""

    DEVICE_GPS = "device_gps"
    MAP_PICK = "map_pick"
    GEOCODED_ADDRESS = "geocoded_address"


class SampledAt(enum.StrEnum):
    """Where a sample was taken (抽样环节): at the producer itself, or at an outlet (a shop, a market, online)."""

    PRODUCER = "producer"
    OUTLET = "outlet"


class OriginOutcome(enum.StrEnum):
    """Outcome of an origin check."""

    INSIDE = "inside"
    OUTSIDE = "outside"
    UNCERTAIN = "uncertain"


class SampleIdentity(Base):
    """One row per sample UUID. ``sample`` is partitioned by collection month, so its own key is
    (id, collected_at); this table keeps one UUID one sample (the intake's ON CONFLICT is on it, a trigger on
    ``sample`` writes it for every other writer) and is what tables without the moment reference."""

    __tablename__ = "sample_identity"
    __table_args__ = (UniqueConstraint("id", "collected_at", name="uq_sample_identity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def sample_link(cls: str) -> Any:
    """A relationship from ``cls`` (its ``sample_id`` references sample_identity) to its Sample."""
    return relationship("Sample", primaryjoin=f"foreign({cls}.sample_id) == Sample.id")


# A verdict's sample: the key the triggers of migration 0024_batchfk check (no foreign key in the schema).
_VERDICT_SAMPLE = (
    "and_(foreign(OriginVerdictRecord.sample_id) == Sample.id, "
    "foreign(OriginVerdictRecord.collected_at) == Sample.collected_at)"
)


class Sample(CreatedAt, Base):
    """A sample an inspector collected, claimed to be a GI product; the location is kept as submitted.

    Partitioned by ``collected_at`` month (docs/scale.md): the table's primary key is (id, collected_at); the
    ORM maps it by ``id`` alone, which sample_identity keeps unique, so ``session.get(Sample, id)`` works."""

    __tablename__ = "sample"
    __table_args__ = (
        CheckConstraint("gps_accuracy_m IS NULL OR gps_accuracy_m >= 0", name="accuracy_non_negative"),
        CheckConstraint("lot_size IS NULL OR lot_size > 0", name="lot_size_positive"),
        # Time ranges and orderings; the id too, so that a look-up by (id, collected_at) reads one entry whichever
        # index the planner picks (migration 0025_collectedid).
        Index("ix_sample_collected_at", "collected_at", "id"),
        # (id, collected_at) references sample_identity: checked once per statement by triggers, not by a foreign
        # key's per-row query (migration 0024_batchfk).
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # References gi_product (RESTRICT): checked once per statement by triggers (migration 0026_productfk).
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    producer_id: Mapped[int | None] = mapped_column(
        ForeignKey("producer.id", ondelete="SET NULL"), index=True
    )
    # The plan task this sample fulfils; its foreign key is added by the planning migration.
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_x: Mapped[float] = mapped_column(Float, comment="longitude or easting as submitted")
    submitted_y: Mapped[float] = mapped_column(Float, comment="latitude or northing as submitted")
    declared_crs: Mapped[str] = mapped_column(String(40))
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[LocationSource] = mapped_column(
        Enum(LocationSource, name="location_source", values_callable=_values),
        default=LocationSource.DEVICE_GPS,
    )
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    lot_number: Mapped[str | None] = mapped_column(String(100))
    lot_size: Mapped[int | None] = mapped_column(Integer)
    seal_code: Mapped[str | None] = mapped_column(
        String(400),
        comment="seal codes (封样编号) of the sealed units, or the number on a seal of another kind",
    )
    collector_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspector.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str | None] = mapped_column(
        Text, comment="upload channel or batch file the sample came from"
    )
    notes: Mapped[str | None] = mapped_column(Text)
    # What a public notice prints of the sample (抽检结果公告): the label and where it was taken.
    labelled_producer: Mapped[str | None] = mapped_column(String(200), comment="标称生产企业 on the label")
    labelled_address: Mapped[str | None] = mapped_column(Text, comment="标称生产企业地址 on the label")
    sampled_at: Mapped[SampledAt | None] = mapped_column(
        Enum(SampledAt, name="sampled_at", values_callable=_values),
        comment="抽样环节: producer (at the producer) or outlet (shop, market, online store)",
    )
    outlet_name: Mapped[str | None] = mapped_column(String(200), comment="被抽样单位 when not registered")
    outlet_address: Mapped[str | None] = mapped_column(Text, comment="被抽样单位地址 when not registered")
    specification: Mapped[str | None] = mapped_column(String(100), comment="规格型号 (e.g. 250 g/袋)")
    production_date: Mapped[date | None] = mapped_column(Date, comment="生产日期 on the label")

    product: Mapped[GIProduct] = relationship(primaryjoin="foreign(Sample.product_id) == GIProduct.id")
    producer: Mapped[Producer | None] = relationship()
    collector: Mapped[Inspector | None] = relationship()
    origin_verdicts: Mapped[list[OriginVerdictRecord]] = relationship(
        back_populates="sample",
        order_by="OriginVerdictRecord.id",
        cascade="all, delete-orphan",
        primaryjoin=_VERDICT_SAMPLE,
    )


class OriginVerdictRecord(Base):
    """A stored origin verdict of a sample or a producer location, with everything needed to re-derive it.

    Partitioned by its sample's ``collected_at`` month; a producer's verdicts have none (NULL: the DEFAULT
    partition), so the table's key is unique (id, collected_at), mapped by ``id``."""

    __tablename__ = "origin_verdict"
    __table_args__ = (
        CheckConstraint("(sample_id IS NULL) <> (producer_id IS NULL)", name="one_subject"),
        CheckConstraint("(sample_id IS NULL) = (collected_at IS NULL)", name="sample_collected"),
        # A sample's verdicts in order: the current one is the last (gi.reads.verdicts).
        Index("ix_origin_verdict_sample_id_id", "sample_id", "id"),
        UniqueConstraint("id", "collected_at", name="uq_origin_verdict_id_collected_at"),
        # A verdict is superseded once. Partial: a look-up by collection moment must never find this index
        # cheap (migration 0027_supersedes).
        Index(
            "uq_origin_verdict_supersedes_id",
            "supersedes_id",
            "collected_at",
            unique=True,
            postgresql_where=text("supersedes_id IS NOT NULL"),
        ),
        # (sample_id, collected_at) references sample: checked once per statement by triggers, not by a foreign
        # key's per-row query (migration 0024_batchfk).
        # NO ACTION: checked at the end of a statement, so a sample's verdicts can go together with it.
        ForeignKeyConstraint(
            ["supersedes_id", "collected_at"],
            ["origin_verdict.id", "origin_verdict.collected_at"],
            name="fk_origin_verdict_supersedes_id_origin_verdict",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    collected_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="its sample's collection moment (partition key)"
    )
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producer.id", ondelete="CASCADE"), index=True)
    # product_id references gi_product and area_id production_area (RESTRICT; a NULL area references nothing):
    # checked once per statement by triggers (migration 0026_productfk).
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    area_id: Mapped[int | None] = mapped_column(Integer)
    area_version: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[OriginOutcome] = mapped_column(
        Enum(OriginOutcome, name="origin_outcome", values_callable=_values), index=True
    )
    distance_m: Mapped[float | None] = mapped_column(
        Float, comment="signed distance to the boundary, + inside"
    )
    band_m: Mapped[float] = mapped_column(Float, comment="half-width of the uncertain band used")
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    other_areas: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    rule: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # When the row was written (clock_timestamp, not the transaction's start): later rows have later times.
    checked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    supersedes_id: Mapped[int | None] = mapped_column(
        Integer, comment="the earlier verdict of the same subject this re-judgement replaces"
    )

    sample: Mapped[Sample | None] = relationship(
        back_populates="origin_verdicts", primaryjoin=_VERDICT_SAMPLE
    )
    area: Mapped[ProductionArea | None] = relationship(
        primaryjoin="foreign(OriginVerdictRecord.area_id) == ProductionArea.id"
    )


class SamplePhoto(Base):
    """A photo of a sample: its content hash (the file is ``GI_MEDIA_DIR/ab/cd/<sha256>``) and what its EXIF
    says against the sample's declared place and day."""

    __tablename__ = "sample_photo"
    __table_args__ = (UniqueConstraint("sample_id", "sha256", name="uq_sample_photo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sample_identity.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    bytes: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float, comment="from the sample's declared point")
    limit_m: Mapped[float] = mapped_column(Float, comment="max(GPS accuracy, 100 m)")
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    uploaded_by: Mapped[str | None] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
