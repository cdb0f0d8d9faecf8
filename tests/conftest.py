"""Test fixtures on a real PostgreSQL + PostGIS.

Each test session (each xdist worker) creates a fresh database on the configured server (GI_DATABASE_URL, or the
project's local cluster, started if needed), migrates it, and drops it at the end. Without a reachable server
the PostGIS tests skip, unless GI_REQUIRE_DB=1 (set by the README's test command and CI): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.settings import get_settings


def _require_db() -> bool:
    return os.environ.get("GI_REQUIRE_DB") == "1"


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    """URL of a fresh, migrated test database, dropped after the session."""
    from gi.db.local import create_database, drop_database

    try:
        server_url = gi_db.database_url(get_settings())
        name = f"gi_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
        server = make_url(server_url).set(database="postgres").render_as_string(hide_password=False)
        create_database(server, name)
    except Exception as exc:  # any failure to reach a server: skip or fail, as configured
        if _require_db():
            pytest.fail(f"PostGIS is required (GI_REQUIRE_DB=1) but unavailable: {exc}", pytrace=False)
        pytest.skip(f"PostGIS unavailable: {exc}")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    gi_db.upgrade(url)
    yield url
    gi_db.dispose_engines()
    drop_database(server, name)


@contextmanager
def scratch_database(db_url: str, prefix: str, migrate: bool = True) -> Iterator[str]:
    """A throw-away database of its own on the test server (migrated unless ``migrate`` is False), dropped after."""
    from gi.db.local import create_database, drop_database

    server = make_url(db_url).set(database="postgres").render_as_string(hide_password=False)
    name = f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            gi_db.upgrade(url)
        yield url
    finally:
        gi_db.get_engine(url).dispose()
        drop_database(server, name)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    """The pooled engine of the test database."""
    return gi_db.get_engine(db_url)


@pytest.fixture(autouse=False)
def use_test_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings (and so every domain function and CLI command) at the test database."""
    monkeypatch.setenv("GI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test, so tests never see each other."""
    connection = engine.connect()
    transaction = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def loaded_register(engine: Engine) -> None:
    """The bundled real register, loaded once per session and committed."""
    from gi.db import session_scope
    from gi.register.loader import load_register_into_db

    with session_scope(engine) as sess:
        load_register_into_db(sess)
