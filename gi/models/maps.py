"""The sample grid behind the national map: samples counted per Web Mercator cell, zoom level, year, product
and county, so that a low-zoom vector tile of a million samples is a small index range scan, not a scan of the
samples. It is derived data, rebuilt from the samples and their current verdicts (``maps.tiles``); the state
row records what it was built from, so a reader can tell whether it is current."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gi.models.base import Base
from gi.models.samples import Sample


class SampleGridCell(Base):
    """Samples in one cell (1/64 of a tile side at ``level``) of one year, product and county, by class."""

    __tablename__ = "sample_grid"

    level: Mapped[int] = mapped_column(
        SmallInteger, primary_key=True, comment="tile zoom the cell belongs to"
    )
    cx: Mapped[int] = mapped_column(Integer, primary_key=True, comment="cell column, 64 per tile")
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, comment="cell row from the north, 64 per tile")
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, comment="local year of collection")
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(
        String(6),
        primary_key=True,
        comment="the sample's region (task, producer or inspector county); '' unknown",
    )
    n: Mapped[int] = mapped_column(Integer, comment="samples")
    n_bad: Mapped[int] = mapped_column(Integer, comment="outside the area or failing quality")
    n_doubt: Mapped[int] = mapped_column(
        Integer, comment="in the boundary band or inconclusive, none failing"
    )
    sx: Mapped[float] = mapped_column(Float, comment="sum of Web Mercator x (the cell's centre of mass)")
    sy: Mapped[float] = mapped_column(Float, comment="sum of Web Mercator y")


class SampleGridNationalCell(Base):
    """The grid summed over counties (one row per cell, year and product): what the tiles of a caller who sees
    every region read, a fraction of the rows of :class:`SampleGridCell` where many counties' samples mix."""

    __tablename__ = "sample_grid_national"

    level: Mapped[int] = mapped_column(
        SmallInteger, primary_key=True, comment="tile zoom the cell belongs to"
    )
    cx: Mapped[int] = mapped_column(Integer, primary_key=True, comment="cell column, 64 per tile")
    cy: Mapped[int] = mapped_column(Integer, primary_key=True, comment="cell row from the north, 64 per tile")
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, comment="local year of collection")
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, comment="samples")
    n_bad: Mapped[int] = mapped_column(Integer, comment="outside the area or failing quality")
    n_doubt: Mapped[int] = mapped_column(
        Integer, comment="in the boundary band or inconclusive, none failing"
    )
    sx: Mapped[float] = mapped_column(Float, comment="sum of Web Mercator x (the cell's centre of mass)")
    sy: Mapped[float] = mapped_column(Float, comment="sum of Web Mercator y")


class SampleGridState(Base):
    """What the sample grid was built from: the newest verdict ids and sample time it saw, and when."""

    __tablename__ = "sample_grid_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origin_mark: Mapped[int] = mapped_column(BigInteger, comment="max(origin_verdict.id) seen")
    quality_mark: Mapped[int] = mapped_column(BigInteger, comment="max(quality_verdict.id) seen")
    sample_mark: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="max(sample.created_at) seen"
    )
    samples: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float, comment="time the build took")


class MapReferenceOutline(Base):
    """One outline of the national reference layers (country, province or maritime line) generalized for one
    zoom level of the map's reference tiles: what the tiles under the samples are cut from."""

    __tablename__ = "map_reference"

    level: Mapped[int] = mapped_column(
        SmallInteger, primary_key=True, comment="tile zoom this generalization is drawn at"
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True, comment="country, province or maritime")
    adcode: Mapped[str] = mapped_column(String(6), primary_key=True, comment="administrative code")
    name: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=3857, spatial_index=False), comment="Web Mercator, simplified for the level"
    )


# The grid's freshness check reads max(sample.created_at): an index makes that one index probe.
SAMPLE_CREATED_INDEX = Index("ix_sample_created_at", Sample.__table__.c.created_at)
