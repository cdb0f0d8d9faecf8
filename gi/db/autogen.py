"""What Alembic's autogenerate compares: our tables, not PostGIS's own."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

from gi.db.partitions import ARCHIVED_DATA_MONTH, ARCHIVED_MONTH, is_partition_name

POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave PostGIS's tables and our partitions out of autogenerate; GeoAlchemy2 handles spatial indexes."""
    if type_ == "table" and reflected and compare_to is None and name in POSTGIS_TABLES:
        return False
    # A month or DEFAULT partition of a partitioned table: its parent is the table the models describe.
    if type_ == "table" and reflected and compare_to is None and name and is_partition_name(name):
        return False
    # A month of the audit log detached by `gi audit archive` (audit_archive_pYYYY_MM): kept, not modelled.
    if type_ == "table" and reflected and compare_to is None and name and ARCHIVED_MONTH.match(name):
        return False
    # A month of a data table detached by `gi db archive` (<table>_archive_pYYYY_MM): kept, not modelled.
    if type_ == "table" and reflected and compare_to is None and name and ARCHIVED_DATA_MONTH.match(name):
        return False
    # PostgreSQL's own copies of a foreign key to a partitioned table, one per partition it points at.
    if type_ == "foreign_key_constraint" and reflected and is_partition_name(obj.referred_table.name):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))
