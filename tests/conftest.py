"""Test fixtures on a real PostgreSQL + PostGIS.

Each test session (each xdist worker) creates a fresh database on the configured server (GI_DATABASE_URL, or the
project's local cluster, started if needed), migrates it, and drops it at the end. Without a reachable server
the PostGIS tests skip, unless GI_REQUIRE_DB=1 (set by the README's test command and CI): then they fail, and so
does any other test that would skip (no Chromium, no poppler), because the test command promises that every
test ran. A test that uses the database without the ``postgis`` mark stops the run at collection.

Helpers that test modules import (throw-away databases, the `gi` subprocess, PDF text) are in fixtures.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gi import db as gi_db
from gi.settings import get_settings

pytest_plugins = ["pytester"]  # test_suite_rules.py runs small suites under these rules

# The fixtures that reach the database; a test using any of them (directly or through another fixture) is a
# database test and must be marked ``postgis``.
DATABASE_FIXTURES = frozenset(
    {"db_url", "engine", "session", "use_test_db", "loaded_register", "register_template", "register_copy"}
)


def _require_db() -> bool:
    return os.environ.get("GI_REQUIRE_DB") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run a database test that is not marked ``postgis`` (so ``-m postgis`` selects them all)."""
    unmarked = [
        item.nodeid
        for item in items
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("postgis") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            f"{len(unmarked)} database test(s) without @pytest.mark.postgis: " + ", ".join(unmarked[:10])
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under GI_REQUIRE_DB=1 a skipped test is a failed one: the test command runs every test or fails."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _require_db() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but GI_REQUIRE_DB=1 requires every test to run: {reason}"


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


@pytest.fixture(scope="session")
def register_template(db_url: str) -> Iterator[str]:
    """A migrated database holding the bundled register, to copy throw-away databases from (database_copy)."""
    from fixtures import scratch_database

    from gi.db import session_scope
    from gi.register.loader import load_register_into_db

    with scratch_database(db_url, "gi_tpl") as url:
        with session_scope(gi_db.get_engine(url)) as sess:
            load_register_into_db(sess)
        gi_db.get_engine(url).dispose()  # CREATE DATABASE ... TEMPLATE needs the template idle
        yield url


@pytest.fixture
def register_copy(register_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throw-away copy of the register database that the settings (so every domain function and CLI command)
    point at: for tests that commit verdicts, which are append-only and cannot be cleaned up (docs/audit.md)."""
    from fixtures import database_copy

    with database_copy(register_template, "gi_copy") as url:
        monkeypatch.setenv("GI_DATABASE_URL", url)
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()


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
