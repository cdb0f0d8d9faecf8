"""Database access: the one URL, engines, sessions and Alembic migrations."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from gi.errors import ConflictError
from gi.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Every session: the configured zone, and no JIT. The application's statements are short index reads whose
# planner cost still passes jit_above_cost over partitioned tables, where compiling takes about a second for a
# query that runs in milliseconds (an OGC items page by bbox: 1.0 s of JIT for 20 ms of work).
SESSION_OPTIONS = "-c timezone={timezone} -c jit=off"


def database_url(settings: Settings | None = None) -> str:
    """The database URL in use: ``GI_DATABASE_URL``, or the local cluster (started if needed)."""
    settings = settings or get_settings()
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    from gi.db.local import ensure_cluster

    return ensure_cluster(settings).url(settings.local_database)


_ENGINES: dict[str, Engine] = {}

# A pooled connection idle longer than this is pinged before use (a server restart or an idle-connection reaper
# may have closed it meanwhile); a busy one is not, which saves a round trip per request. A connection broken
# while busy fails its statement, which the service answers 503, and the pool then replaces every connection.
IDLE_PING_S = 10.0
# The service's worker threads (uvicorn's thread pool) each hold at most one connection at a time; a pool smaller
# than its concurrency closes and reopens connections under load (a new server process each time).
POOL_SIZE = 20
_CHECKED_IN = "gi.checked_in"


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any) -> None:
    idle_since = record.info.get(_CHECKED_IN)
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
        return
    try:
        engine.dialect.do_ping(dbapi_connection)
    except psycopg.Error as exc:  # the pool discards it and connects anew
        raise DisconnectionError(f"the pooled connection was closed while idle: {exc}") from exc


def table_exists(db: Session | Connection, name: str) -> bool:
    """True when the table (or any relation) ``name`` exists: a later migration's table may not be there yet."""
    return db.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one() is True


def get_engine(url: str | None = None) -> Engine:
    """A pooled engine for ``url`` (default: the configured database), created once per process."""
    url = url or database_url()
    engine = _ENGINES.get(url)
    if engine is None:
        # Sessions speak the configured zone, so timestamps read back as local (Asia/Shanghai) dates.
        engine = _ENGINES[url] = create_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=20,
            connect_args={"options": SESSION_OPTIONS.format(timezone=get_settings().timezone)},
        )
        created = engine

        def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
            _ping_if_idle(created, dbapi_connection, record)

        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", ping_if_idle)
        from gi.audit.actor import install

        install()  # every session transaction tells the audit log who is acting
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before dropping a database)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def psycopg_connection(connection: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy one, for COPY and server-side prepared statements."""
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"the database driver must be psycopg 3, not {type(raw).__name__}")
    return raw


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error, so nothing is half-written."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` (installing PostGIS first in a database that lacks it)."""
    ensure_postgis(url or database_url())
    with _known_revisions():
        command.upgrade(alembic_config(url), revision)


def ensure_postgis(url: str) -> None:
    """Install the PostGIS extension in the database of ``url`` when it is missing, or say who must: an empty
    database on another server (GI_DATABASE_URL) otherwise fails in the first migration on "type geometry
    does not exist", which reads like an old schema."""
    from gi.db.local import libpq_dsn

    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            return
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.errors.InsufficientPrivilege:
            name = make_url(url).database
            raise ConflictError(
                f"database: PostGIS is not installed in {name!r} and this role may not install it: as a "
                f"superuser (or the database owner, where PostGIS is a trusted extension) run "
                f"`CREATE EXTENSION postgis;` in {name!r}, then `gi db upgrade`",
                field="database",
            ) from None
        except psycopg.errors.FeatureNotSupported:  # "extension is not available": the server lacks PostGIS
            raise ConflictError(
                "database: the server has no PostGIS: install it (Debian: postgresql-15-postgis-3), then "
                "`gi db upgrade`",
                field="database",
            ) from None


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    with _known_revisions():
        command.downgrade(alembic_config(url), revision)


@contextmanager
def _known_revisions() -> Iterator[None]:
    # A database stamped by another version's migrations (an older numbering, a newer release) makes Alembic
    # raise a resolution error naming a revision; say what it means and what to do instead of a traceback.
    from alembic.script.revision import ResolutionError
    from alembic.util.exc import CommandError

    try:
        yield
    except (ResolutionError, CommandError) as exc:
        if "Can't locate revision" not in str(exc) and not isinstance(exc, ResolutionError):
            raise
        raise ConflictError(
            f"the database is at a migration this version of gi does not know ({exc}); it was migrated by another "
            "version: run that version, or for a local development cluster `gi db stop`, delete its data "
            "directory and `gi db up` again",
            field="database",
        ) from exc


@dataclass(frozen=True)
class DatabaseStatus:
    """What `gi db status` reports."""

    url: str
    server_version: str
    postgis_version: str | None
    current_revision: str | None
    head_revision: str | None

    @property
    def up_to_date(self) -> bool:
        """True when every migration is applied."""
        return self.current_revision == self.head_revision


def status(url: str | None = None) -> DatabaseStatus:
    """Server, PostGIS and migration state of the configured database."""
    url = url or database_url()
    engine = get_engine(url)
    with engine.connect() as conn:
        server = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        ).scalar_one_or_none()
        current = ",".join(sorted(MigrationContext.configure(conn).get_current_heads())) or None
    head = ",".join(sorted(ScriptDirectory.from_config(alembic_config(url)).get_heads())) or None
    return DatabaseStatus(
        url=make_url(url).render_as_string(hide_password=True),
        server_version=str(server),
        postgis_version=postgis,
        current_revision=current,
        head_revision=head,
    )
