"""Migrations on a real PostGIS: up to every head, models match the schema, down to base leaves nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fixtures import scratch_database
from sqlalchemy import create_engine, inspect, text

from gi import db as gi_db
from gi.db.autogen import include_object
from gi.db.partitions import is_partition_name
from gi.models import Base

pytestmark = pytest.mark.postgis


@pytest.fixture
def scratch_url(db_url: str) -> Iterator[str]:
    """An empty PostGIS database of its own, so that downgrades don't disturb other tests."""
    with scratch_database(db_url, "gi_migr", migrate=False) as url:
        yield url


def _our_tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        return {n for n in names if not is_partition_name(n)}
    finally:
        engine.dispose()


def test_upgrade_creates_every_model_table_and_matches_the_models(scratch_url: str) -> None:
    gi_db.upgrade(scratch_url)
    assert _our_tables(scratch_url) == set(Base.metadata.tables)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
        gist = conn.execute(
            text(
                "SELECT count(*) FROM pg_indexes WHERE indexdef ILIKE '%USING gist%' AND tablename = 'production_area'"
            )
        ).scalar_one()
        srid = conn.execute(text("SELECT Find_SRID('public', 'production_area', 'geom')")).scalar_one()
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert gist == 1
    assert srid == 4326


def test_downgrade_to_base_removes_tables_and_types_and_upgrade_again_works(scratch_url: str) -> None:
    gi_db.upgrade(scratch_url)
    gi_db.downgrade(scratch_url, "base")
    assert _our_tables(scratch_url) == set()
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        enums = conn.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars().all()
    engine.dispose()
    assert enums == []
    gi_db.upgrade(scratch_url)
    assert _our_tables(scratch_url) == set(Base.metadata.tables)
    assert gi_db.status(scratch_url).up_to_date


def test_a_database_of_another_versions_migrations_gets_one_clear_line(scratch_url: str) -> None:
    """A database stamped with a revision this code does not know (an old numbering, a newer release) is refused
    by `gi db upgrade` with one line saying what happened and what to do, never Alembic's traceback."""
    from fixtures import gi

    gi_db.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    result = gi(scratch_url, "db", "upgrade")
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert "does not know" in result.stderr and "9999" in result.stderr, result.stderr


def test_gi_db_up_installs_postgis_in_an_empty_database_or_says_who_must(db_url: str) -> None:
    """GI_DATABASE_URL may name an empty database on another server: `gi db up` installs PostGIS there first
    (it failed in the first migration on "type geometry does not exist", reported as an old schema); a role
    that may not install it gets one line saying who must."""
    import uuid

    import psycopg
    from fixtures import gi
    from sqlalchemy.engine import make_url

    from gi.db.local import libpq_dsn

    with scratch_database(db_url, "gi_noext", migrate=False) as url:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute("DROP EXTENSION postgis")
        up = gi(url, "db", "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "PostGIS" in up.stdout and "Traceback" not in up.stderr
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            role = f"gi_noext_{uuid.uuid4().hex[:8]}"
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'noext-pass' NOSUPERUSER NOCREATEDB")
        server = make_url(url).set(database="postgres")
        name = f"{role}_db"
        with psycopg.connect(
            libpq_dsn(server.render_as_string(hide_password=False)), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {role}')
        try:
            theirs = make_url(url).set(database=name, username=role, password="noext-pass")
            refused = gi(theirs.render_as_string(hide_password=False), "db", "up")
            assert refused.returncode != 0 and "Traceback" not in refused.stderr
            assert f"PostGIS is not installed in '{name}'" in refused.stderr
            assert "CREATE EXTENSION postgis" in refused.stderr
        finally:
            with psycopg.connect(
                libpq_dsn(server.render_as_string(hide_password=False)), autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f"DROP ROLE IF EXISTS {role}")
