"""Versioned production areas: import a new version (closing the previous one), look up the version valid
at a moment, and list a product's history. Versions are never overwritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo_data.io import read_area_file
from geo_data.measure import geodesic_area_km2, vertex_count
from gi.errors import InputError, NotFoundError
from gi.models import GIProduct, ProductionArea
from gi.settings import get_settings


def local_midnight(day: date) -> datetime:
    """Start of ``day`` in the configured time zone (Asia/Shanghai), as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(get_settings().timezone))


def as_aware(moment: datetime | date) -> datetime:
    """Interpret a date as local midnight and a naive datetime as local time; aware datetimes pass through."""
    if not isinstance(moment, datetime):
        return local_midnight(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


def find_product(session: Session, key: str) -> GIProduct:
    """A product by code, Chinese name, pinyin/English name or numeric id."""
    key = key.strip()
    query = select(GIProduct).where(
        (GIProduct.code == key)
        | (GIProduct.name_zh == key)
        | (func.lower(GIProduct.name_en) == key.lower())
        | (func.lower(GIProduct.name_pinyin) == key.lower())
    )
    product = session.scalars(query).first()
    if product is None and key.isdigit():
        product = session.get(GIProduct, int(key))
    if product is None:
        known = (
            ", ".join(session.scalars(select(GIProduct.code).order_by(GIProduct.code)).all()) or "none loaded"
        )
        raise NotFoundError(f"product: no GI product {key!r} (known: {known})")
    return product


@dataclass(frozen=True)
class AreaImport:
    """Everything known about a new area version before it is stored."""

    geometry: MultiPolygon
    legal_basis: str
    source: str
    source_crs: str
    valid_from: datetime
    admin_units: list[dict[str, Any]]
    approximation: str = ""
    repair_notes: tuple[str, ...] = ()


def add_area_version(session: Session, product: GIProduct, new: AreaImport) -> ProductionArea:
    """Store ``new`` as the product's next area version and close the validity of the current one."""
    if new.geometry.is_empty or not new.geometry.is_valid:
        raise InputError("geometry", "the area must be a valid, non-empty MultiPolygon")
    valid_from = as_aware(new.valid_from)
    # Lock the product row so that two concurrent imports cannot both close the same version.
    session.execute(select(GIProduct.id).where(GIProduct.id == product.id).with_for_update())
    current = current_area(session, product.id)
    if current is not None:
        if valid_from <= current.valid_from:
            raise InputError(
                "valid_from",
                f"{valid_from:%Y-%m-%d %H:%M %Z} is not after the current version {current.version}'s start "
                f"{current.valid_from:%Y-%m-%d}; history is never rewritten",
            )
        current.valid_to = valid_from
        session.flush()
    last = session.scalar(
        select(func.max(ProductionArea.version)).where(ProductionArea.product_id == product.id)
    )
    area = ProductionArea(
        product_id=product.id,
        version=(last or 0) + 1,
        valid_from=valid_from,
        valid_to=None,
        geom=from_shape(new.geometry, srid=4326),
        legal_basis=new.legal_basis,
        admin_units=list(new.admin_units),
        approximation=new.approximation,
        source=new.source,
        source_crs=new.source_crs,
        area_km2=round(geodesic_area_km2(new.geometry), 3),
        vertex_count=vertex_count(new.geometry),
        repair_notes=list(new.repair_notes),
    )
    session.add(area)
    session.flush()
    return area


def import_area_file(
    session: Session,
    product_key: str,
    path: str | Path,
    crs: str | None = None,
    legal_basis: str | None = None,
    valid_from: datetime | date | None = None,
    layer: str | None = None,
) -> ProductionArea:
    """Read an area file (all features merged) and store it as the product's next area version."""
    area_file = read_area_file(path, crs=crs, layer=layer)
    product = find_product(session, product_key)
    units = [
        {
            "code": str(f.properties.get("adcode") or f.properties.get("code")),
            "name": f.properties.get("name"),
        }
        for f in area_file.features
        if f.properties.get("adcode") or f.properties.get("code")
    ]
    return add_area_version(
        session,
        product,
        AreaImport(
            geometry=area_file.union(),
            legal_basis=legal_basis or f"imported from {Path(path).name}",
            source=Path(path).name,
            source_crs=area_file.declared_crs,
            valid_from=as_aware(valid_from or datetime.now(ZoneInfo(get_settings().timezone))),
            admin_units=units,
            repair_notes=tuple(area_file.repairs),
        ),
    )


def current_area(session: Session, product_id: int) -> ProductionArea | None:
    """The open (current) area version of a product, if any."""
    return session.scalars(
        select(ProductionArea).where(
            ProductionArea.product_id == product_id, ProductionArea.valid_to.is_(None)
        )
    ).first()


def area_at(session: Session, product_id: int, moment: datetime | date) -> ProductionArea | None:
    """The area version that was legally valid at ``moment`` (None before the first version)."""
    moment = as_aware(moment)
    return session.scalars(
        select(ProductionArea).where(
            ProductionArea.product_id == product_id,
            ProductionArea.valid_from <= moment,
            (ProductionArea.valid_to.is_(None)) | (ProductionArea.valid_to > moment),
        )
    ).first()


def area_history(session: Session, product_key: str) -> list[ProductionArea]:
    """All area versions of a product, oldest first."""
    product = find_product(session, product_key)
    return list(
        session.scalars(
            select(ProductionArea)
            .where(ProductionArea.product_id == product.id)
            .order_by(ProductionArea.version)
        )
    )


def area_shape(area: ProductionArea) -> MultiPolygon:
    """The shapely geometry of a stored area version."""
    return to_shape(area.geom)
