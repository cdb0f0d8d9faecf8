"""What Alembic's autogenerate compares: our tables, not PostGIS's own."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave PostGIS's tables out of autogenerate and let GeoAlchemy2 handle spatial indexes."""
    if type_ == "table" and reflected and compare_to is None and name in POSTGIS_TABLES:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))
