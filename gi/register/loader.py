"""Load the bundled register of real GI products (or any file in its format) into the database.

Loading is idempotent: products and limits are upserted, seasons replaced, and an area version is added only
when the file holds a version newer than the stored ones, so history is never rewritten. The one edit made to a
stored version: when the register file words the legal basis (or the approximation) of a version it loaded
earlier differently, with the same date and geometry, the stored text is brought up to date and a note says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import geopandas as gpd
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo_data.io import as_multipolygon, repair_areal
from geo_data.measure import same_area
from geo_data.register import DEFAULT_AREAS, AreaVersionDefinition, ProductEntry, load_register
from gi.models import GIProduct, MarketSeason, ProductionArea, QualitySpec, SeasonKind
from gi.register.areas import AreaImport, add_area_version, area_shape, local_midnight, lock_area_versions

ProgressCallback = Callable[[str], None]


@dataclass
class RegisterLoadReport:
    """What a register load changed."""

    products_added: int = 0
    products_updated: int = 0
    area_versions_added: int = 0
    limits_upserted: int = 0
    seasons_loaded: int = 0
    notes: list[str] = field(default_factory=list)


def _areas_by_product(areas_path: Path) -> dict[str, list[dict]]:
    frame = gpd.read_file(areas_path)
    grouped: dict[str, list[dict]] = {}
    for row in frame.to_dict("records"):
        grouped.setdefault(str(row["product_code"]), []).append(row)
    for rows in grouped.values():
        rows.sort(key=lambda r: int(r["version"]))
    return grouped


def _same_geometry(a: BaseGeometry, b: BaseGeometry) -> bool:
    return same_area(a, as_multipolygon(b))


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def load_register_into_db(
    session: Session,
    register_path: Path | None = None,
    areas_path: Path | None = None,
    on_product: ProgressCallback | None = None,
) -> RegisterLoadReport:
    """Upsert every product of the register file with its limits, seasons and area versions."""
    register = load_register(register_path)
    # One load at a time: a second one waits here for the first to commit, then finds its products stored.
    lock_area_versions(session)
    if areas_path is None:
        areas_path = (register_path.parent / DEFAULT_AREAS.name) if register_path else DEFAULT_AREAS
    areas = _areas_by_product(areas_path)
    report = RegisterLoadReport()
    for entry in register.products:
        if on_product:
            on_product(entry.name_zh)
        product = session.scalars(select(GIProduct).where(GIProduct.code == entry.code)).first()
        fields = dict(
            code=entry.code,
            name_zh=entry.name_zh,
            name_pinyin=entry.name_pinyin,
            name_en=entry.name_en,
            gi_kind=entry.gi_kind,
            category=entry.category,
            registration_number=entry.registration_number,
            registration_date=entry.registration_date,
            administering_office=entry.administering_office,
            standard=entry.standard,
        )
        changed = False
        if product is None:
            product = GIProduct(**fields)
            session.add(product)
            report.products_added += 1
        else:
            changed = _assign_changed(product, fields)
        session.flush()
        limits, limits_changed = _upsert_limits(session, product, entry)
        report.limits_upserted += limits
        if changed or limits_changed:  # an unchanged reload updates nothing (and writes no audit entry)
            report.products_updated += 1
        report.seasons_loaded += _replace_seasons(session, product, entry)
        report.area_versions_added += _add_new_area_versions(
            session, product, entry, areas.get(entry.code, []), areas_path, report
        )
    return report


def _assign_changed(record: object, values: Mapping[str, object]) -> bool:
    """Set the attributes of ``record`` that differ from ``values``; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def _upsert_limits(session: Session, product: GIProduct, entry: ProductEntry) -> tuple[int, bool]:
    """Upsert the product's limits; how many the register has and whether any stored one was added or changed."""
    existing = {
        (s.indicator_code, s.grade, s.valid_from): s
        for s in session.scalars(select(QualitySpec).where(QualitySpec.product_id == product.id))
    }
    count = 0
    changed = False
    for limit in entry.quality:
        valid_from = _as_date(getattr(limit, "valid_from", None) or entry.standard_date)
        key = (limit.code, limit.grade, valid_from)
        values = dict(
            name_zh=limit.name_zh,
            name_en=limit.name_en,
            unit=limit.unit,
            lower_limit=None if limit.lower is None else Decimal(str(limit.lower)),
            upper_limit=None if limit.upper is None else Decimal(str(limit.upper)),
            lower_inclusive=limit.lower_inclusive,
            upper_inclusive=limit.upper_inclusive,
            mandatory=limit.mandatory,
            method_standard=limit.method,
            source_standard=limit.source,
            clause=limit.clause,
        )
        spec = existing.get(key)
        if spec is None:
            spec = QualitySpec(
                product_id=product.id,
                indicator_code=limit.code,
                grade=limit.grade,
                valid_from=valid_from,
                **values,
            )
            session.add(spec)
            changed = True
        else:
            changed = _assign_changed(spec, values) or changed
        count += 1
    session.flush()
    return count, changed


def _replace_seasons(session: Session, product: GIProduct, entry: ProductEntry) -> int:
    """Make the product's stored seasons those of ``entry``, changing only what differs (every change is an
    audit-log entry, so an unchanged reload must change nothing)."""
    wanted: list[tuple[str, int, int, int, int, SeasonKind, str | None]] = []
    for season in entry.seasons:
        start_m, start_d = (int(x) for x in season.start.split("-"))
        end_m, end_d = (int(x) for x in season.end.split("-"))
        wanted.append((season.name, start_m, start_d, end_m, end_d, SeasonKind(season.kind), season.source))
    stored = session.scalars(
        select(MarketSeason).where(MarketSeason.product_id == product.id).order_by(MarketSeason.id)
    ).all()
    unmatched = list(wanted)
    stale = []
    for row in stored:
        key = (row.name, row.start_month, row.start_day, row.end_month, row.end_day, row.kind, row.source)
        if key in unmatched:
            unmatched.remove(key)
        else:
            stale.append(row.id)
    if stale:
        session.execute(delete(MarketSeason).where(MarketSeason.id.in_(stale)))
    for name, start_m, start_d, end_m, end_d, kind, source in unmatched:
        session.add(
            MarketSeason(
                product_id=product.id,
                name=name,
                start_month=start_m,
                start_day=start_d,
                end_month=end_m,
                end_day=end_d,
                kind=kind,
                source=source,
            )
        )
    session.flush()
    return len(entry.seasons)


def _add_new_area_versions(
    session: Session,
    product: GIProduct,
    entry: ProductEntry,
    rows: list[dict],
    areas_path: Path,
    report: RegisterLoadReport,
) -> int:
    if not rows:
        report.notes.append(f"{entry.code}: no area in {areas_path.name}")
        return 0
    stored = list(
        session.scalars(
            select(ProductionArea)
            .where(ProductionArea.product_id == product.id)
            .order_by(ProductionArea.version)
        )
    )
    latest_start = stored[-1].valid_from if stored else None
    definitions = {str(_as_date(v.valid_from)): v for v in entry.area_versions}
    added = 0
    for row in rows:
        start = local_midnight(_as_date(row["valid_from"]))
        if latest_start is not None and start <= latest_start:
            # Already stored (or older than what is stored): history is never rewritten, but say so
            # when the file's geometry no longer matches the stored version of the same date.
            same_date = next((a for a in stored if a.valid_from == start), None)
            if same_date is not None and not _same_geometry(area_shape(same_date), row["geometry"]):
                report.notes.append(
                    f"{entry.code}: version {same_date.version} of {start:%Y-%m-%d} differs from {areas_path.name}; "
                    "not overwritten (import it as a new version with a later valid-from date)"
                )
            elif same_date is not None and same_date.source == _bundled_source(areas_path):
                _refresh_texts(same_date, row, definitions.get(str(start.date())), entry.code, report)
            continue
        geometry, repairs = repair_areal(as_multipolygon(row["geometry"]), f"{areas_path.name}, {entry.code}")
        definition = definitions.get(str(start.date()))
        units = [{"code": u.code, "name": u.name} for u in definition.admin_units] if definition else []
        add_area_version(
            session,
            product,
            AreaImport(
                geometry=geometry,
                legal_basis=str(row.get("legal_basis") or (definition.legal_basis if definition else "")),
                source=_bundled_source(areas_path),
                source_crs="WGS84",
                valid_from=start,
                admin_units=units,
                approximation=definition.approximation if definition else "",
                repair_notes=tuple(repairs),
            ),
            replace=True,  # the register file is the legal text: its versions replace whatever they replace
        )
        latest_start = start
        added += 1
    return added


def _bundled_source(areas_path: Path) -> str:
    """The ``source`` of an area version loaded from a register's areas file."""
    return f"{areas_path.name} (bundled register)"


def _refresh_texts(
    stored: ProductionArea,
    row: dict,
    definition: AreaVersionDefinition | None,
    code: str,
    report: RegisterLoadReport,
) -> None:
    """Bring the legal-basis and approximation wording of a version loaded earlier from the same file up to date
    (an editorial change: date, geometry and every verdict made against the version stay as they are)."""
    legal_basis = str(
        row.get("legal_basis") or (definition.legal_basis if definition else stored.legal_basis)
    )
    approximation = definition.approximation if definition else stored.approximation
    changed = [
        name
        for name, old, new in (
            ("legal basis", stored.legal_basis, legal_basis),
            ("approximation", stored.approximation, approximation),
        )
        if old != new
    ]
    if changed:
        stored.legal_basis, stored.approximation = legal_basis, approximation
        report.notes.append(
            f"{code}: {' and '.join(changed)} of version {stored.version} updated from the register"
        )
