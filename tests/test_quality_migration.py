"""Migration 0004 (quality) goes up and down cleanly and matches the models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fixtures import scratch_database
from sqlalchemy import inspect, text

from gi import db as gi_db
from gi.db.autogen import include_object
from gi.models import Base

pytestmark = pytest.mark.postgis

QUALITY_TABLES = {"lab_result", "quality_rule", "quality_verdict", "fingerprint_verdict", "origin_evidence"}
QUALITY_ENUMS = {"evidence_grade", "fingerprint_outcome", "quality_outcome", "decision_rule_kind"}


@pytest.fixture
def scratch_url(db_url: str) -> Iterator[str]:
    """An empty PostGIS database of its own, so going down does not disturb the session's test database."""
    with scratch_database(db_url, "gi_mig", migrate=False) as url:
        yield url


def _tables_and_enums(url: str) -> tuple[set[str], set[str]]:
    engine = gi_db.get_engine(url)
    with engine.connect() as conn:
        enums = set(conn.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars())
    return set(inspect(engine).get_table_names()), enums


def test_quality_migration_up_down_up(scratch_url: str) -> None:
    gi_db.upgrade(scratch_url, "0004")
    tables, enums = _tables_and_enums(scratch_url)
    assert QUALITY_TABLES <= tables and QUALITY_ENUMS <= enums
    gi_db.downgrade(scratch_url, "0002")
    tables, enums = _tables_and_enums(scratch_url)
    assert not QUALITY_TABLES & tables and not QUALITY_ENUMS & enums
    assert "sample" in tables  # only ours went
    gi_db.upgrade(scratch_url, "heads")
    tables, _ = _tables_and_enums(scratch_url)
    assert QUALITY_TABLES <= tables


def test_quality_models_match_the_migrated_schema(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diffs = compare_metadata(context, Base.metadata)
    ours = [d for d in diffs if any(t in repr(d) for t in QUALITY_TABLES)]
    assert ours == []
