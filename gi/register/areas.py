"""Versioned production areas: import a new version (closing the previous one), look up the version valid
at a moment, and list a product's history. Versions are never overwritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from geo_data.io import area_from_box, read_area_file
from geo_data.measure import geodesic_area_km2, largest_shift_m, overlap_share, same_area, vertex_count
from gi import clock
from gi.errors import ConflictError, InputError, NotFoundError
from gi.models import GIProduct, ProductionArea
from gi.settings import Settings, get_settings

if TYPE_CHECKING:
    from gi.origin.rejudge import RejudgeReport


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


# One advisory lock guards the area versions. Judging samples against them holds it shared until the verdicts are
# committed; adding or changing a version takes it exclusively, and re-judges the stored samples it affects in the
# same transaction. So no verdict is ever committed against a version that a concurrent import has superseded, and
# no import misses a sample committed while it waited. (Two advisory keys in the 'gi' space; values are arbitrary.)
_AREA_LOCK = (0x6769, 1)


def hold_area_versions(db: Session | Connection) -> None:
    """Keep the area versions from changing until this transaction ends (shared: other checks go on)."""
    db.execute(text("SELECT pg_advisory_xact_lock_shared(:a, :b)"), {"a": _AREA_LOCK[0], "b": _AREA_LOCK[1]})


def lock_area_versions(db: Session | Connection) -> None:
    """Wait until no transaction judges against the area versions, and keep new ones out until this one ends."""
    db.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _AREA_LOCK[0], "b": _AREA_LOCK[1]})


SHARED_AREA_LOCK_SQL = f"SELECT pg_advisory_xact_lock_shared({_AREA_LOCK[0]}, {_AREA_LOCK[1]})"
# The same shared hold as a relation to join a query with (one row): a row of the query comes out only after the
# lock is held, so a statement that has to run anyway holds the versions without a round trip of its own.
HOLDING_AREA_VERSIONS = (
    f"(SELECT pg_advisory_xact_lock_shared({_AREA_LOCK[0]}, {_AREA_LOCK[1]})) AS held_areas"
)


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
        rows = session.execute(select(GIProduct.name_zh, GIProduct.code).order_by(GIProduct.code)).all()
        known = ", ".join(f"{name} ({code})" for name, code in rows) or "none loaded"
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


@dataclass(frozen=True)
class AreaChange:
    """How a new area version differs from the current one (all None but the new size when there is none)."""

    km2_before: float | None
    km2_after: float
    overlap_share: float | None  # share of the current area the new one also covers
    largest_shift_m: float | None  # Hausdorff distance between the two boundaries
    identical: bool = False

    @property
    def size_ratio(self) -> float | None:
        """New size over old size."""
        return self.km2_after / self.km2_before if self.km2_before else None

    def describe(self) -> str:
        """One line for a person."""
        if self.km2_before is None:
            return f"first version: {self.km2_after:,.1f} km²"
        if self.identical:
            return f"identical to the current version ({self.km2_after:,.1f} km²)"
        return (
            f"{self.km2_before:,.1f} km² -> {self.km2_after:,.1f} km², {100 * (self.overlap_share or 0):.1f} % of "
            f"the current area kept, largest boundary shift {self.largest_shift_m or 0:,.0f} m"
        )


@dataclass(frozen=True)
class AreaImportResult:
    """What an area import did: the version now current, how it differs, and the samples judged again."""

    area: ProductionArea
    change: AreaChange
    stored: bool  # False when the geometry was identical to the current version (nothing stored)
    rejudged: RejudgeReport | None = None


def compare_areas(current: BaseGeometry | None, new: BaseGeometry) -> AreaChange:
    """The change from ``current`` (None when there is no version yet) to ``new``."""
    after = geodesic_area_km2(new)
    if current is None:
        return AreaChange(None, after, None, None)
    if same_area(current, new):
        return AreaChange(geodesic_area_km2(current), after, 1.0, 0.0, identical=True)
    return AreaChange(
        geodesic_area_km2(current), after, overlap_share(current, new), largest_shift_m(current, new)
    )


# A protected area is at least a village's land; anything below a hectare is a coordinate mistake (lon/lat read
# as metres of a projected CRS gives a few square metres).
MIN_AREA_KM2 = 0.01
# A Chinese GI's area lies in China: a box at 10°E 50°N is a swapped or wrongly declared coordinate system. Half,
# not all, so that a coastal area drawn a little beyond the territorial sea is not refused.
MIN_SHARE_IN_CHINA = 0.5


def check_plausible(geometry: BaseGeometry, source_crs: str) -> None:
    """Refuse (whatever --replace says) an area of near-zero size or mostly outside China's territory."""
    from geo_data.china import share_in_china

    km2 = geodesic_area_km2(geometry)
    west, south, east, north = (round(v, 4) for v in geometry.bounds)
    where = f"lon {west}..{east}, lat {south}..{north}"
    if km2 < MIN_AREA_KM2:
        raise InputError(
            "geometry",
            f"the area is only {km2 * 1e6:,.1f} m² ({where}, read as {source_crs}): not a production area; "
            "is the declared coordinate system right (lon/lat read as metres, or the reverse)?",
        )
    share = share_in_china(geometry)
    if share < MIN_SHARE_IN_CHINA:
        raise InputError(
            "geometry",
            f"the area ({km2:,.1f} km², {where}, read as {source_crs}) lies outside China "
            f"({100 * share:.0f} % within its territory and waters); check the file and its coordinate system "
            "(longitude and latitude swapped?)",
        )


def add_area_version(
    session: Session,
    product: GIProduct,
    new: AreaImport,
    replace: bool = False,
    settings: Settings | None = None,
) -> AreaImportResult:
    """Store ``new`` as the product's next area version, close the current one's validity, and judge again the
    stored samples collected since ``new.valid_from``.

    Deliberate: geometry identical to the current version, on the same legal basis, stores nothing (the same
    area under a new announcement is a new version); a replacement that keeps less than
    ``area_min_overlap`` of the current area, or changes its size by more than ``area_max_size_ratio``, is refused
    (a :class:`ConflictError`) unless ``replace``.
    """
    settings = settings or get_settings()
    if new.geometry.is_empty or not new.geometry.is_valid:
        raise InputError("geometry", "the area must be a valid, non-empty MultiPolygon")
    check_plausible(new.geometry, new.source_crs)
    valid_from = as_aware(new.valid_from)
    # Wait for transactions judging against the current versions, and keep new verdicts out until this one ends
    # (it also serializes concurrent imports).
    lock_area_versions(session)
    current = current_area(session, product.id)
    change = compare_areas(area_shape(current) if current else None, new.geometry)
    if current is not None and change.identical and new.legal_basis == current.legal_basis:
        return AreaImportResult(current, change, stored=False)  # the same area on the same basis: nothing new
    if current is not None and not replace:
        ratio = change.size_ratio or 0.0
        far = (change.overlap_share or 0.0) < settings.area_min_overlap
        resized = not (1 / settings.area_max_size_ratio <= ratio <= settings.area_max_size_ratio)
        if far or resized:
            why = (
                f"it keeps only {100 * (change.overlap_share or 0):.1f} % of the current area "
                f"(at least {100 * settings.area_min_overlap:.0f} % expected)"
                if far
                else f"it changes the size by a factor of {ratio:.2f} (at most {settings.area_max_size_ratio:g})"
            )
            raise ConflictError(
                f"{product.code}: refused to replace area version {current.version}: {why}; {change.describe()}. "
                "Check the file and its coordinate system; pass --replace if this is the legal change",
                field="geometry",
            )
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
        area_km2=round(change.km2_after, 3),
        vertex_count=vertex_count(new.geometry),
        repair_notes=list(new.repair_notes),
    )
    session.add(area)
    session.flush()
    # A new version decides the samples collected since its start: they are judged again now, in this
    # transaction (a domain rule of the origin check, hence the import here rather than at the top).
    from gi.origin.rejudge import rejudge_samples

    rejudged = rejudge_samples(session, product.id, since=valid_from, settings=settings)
    return AreaImportResult(area, change, stored=True, rejudged=rejudged)


def counties_of(geometry: BaseGeometry) -> list[dict[str, Any]]:
    """The counties an imported area lies in (from the bundled county layer), for a file or box that names none:
    reference planning, regional scopes and ship-from addresses work by county."""
    from geo_data.admin import counties_covered

    try:
        return list(counties_covered(geometry))
    except FileNotFoundError:  # the layer is not installed: the area is stored without counties
        return []


def import_area_file(
    session: Session,
    product_key: str,
    path: str | Path,
    crs: str | None = None,
    legal_basis: str | None = None,
    valid_from: datetime | date | None = None,
    layer: str | None = None,
    replace: bool = False,
) -> AreaImportResult:
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
    geometry = area_file.union()
    return add_area_version(
        session,
        product,
        AreaImport(
            geometry=geometry,
            legal_basis=legal_basis or f"imported from {Path(path).name}",
            source=Path(path).name,
            source_crs=area_file.declared_crs,
            valid_from=as_aware(valid_from or clock.now()),
            admin_units=units or counties_of(geometry),
            repair_notes=tuple(area_file.repairs),
        ),
        replace=replace,
    )


def import_area_box(
    session: Session,
    product_key: str,
    west: str | float,
    south: str | float,
    east: str | float,
    north: str | float,
    legal_basis: str,
    crs: str = "WGS84",
    valid_from: datetime | date | None = None,
    replace: bool = False,
) -> AreaImportResult:
    """Store an area defined by a longitude/latitude box (as some announcements define it; degrees or D°M′S″)
    as the product's next area version."""
    geometry = area_from_box(west, south, east, north, crs=crs)
    return add_area_version(
        session,
        find_product(session, product_key),
        AreaImport(
            geometry=geometry,
            legal_basis=legal_basis,
            source=f"box {west} {south} {east} {north}",
            source_crs=str(crs),
            valid_from=as_aware(valid_from or clock.now()),
            admin_units=counties_of(geometry),
        ),
        replace=replace,
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
