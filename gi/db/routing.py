"""Where read-only work reads: the replica while it is current, the primary otherwise.

Public pages, OGC API reads and the read models (``gi/reads``) may read a streaming replica
(``GI_DATABASE_REPLICA_URL``); writes, and anything that must read its own writes (sign-in, a plan just created),
use the primary. A replica is read only while it is streaming from its primary and has replayed everything it
received, or is at most ``GI_REPLICA_MAX_LAG_S`` behind: a stopped, disconnected or lagging replica is skipped and
the primary answers, so nobody is shown stale verdicts as current. The check costs one query on the replica and
is trusted for ``GI_REPLICA_CHECK_S`` seconds; a read may therefore be at most max-lag + check-interval old.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gi.db import SESSION_OPTIONS
from gi.settings import Settings, get_settings

# On the replica: is the WAL receiver streaming, and how far behind is replay? When everything received has been
# replayed the replica is as current as its primary has told it (0); otherwise the age of the last replayed
# transaction bounds how old what it shows is.
_HEALTH = text(
    "SELECT pg_is_in_recovery() AS standby, "
    "(SELECT status FROM pg_stat_wal_receiver) AS receiver, "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END AS lag_s"
)


@dataclass(frozen=True)
class ReplicaHealth:
    """What a replica said about itself, and whether reads may go to it."""

    usable: bool
    streaming: bool
    lag_s: float | None
    reason: str


def _replica_engine(url: str, timezone: str) -> Engine:
    url_obj = make_url(url)
    if url_obj.drivername in ("postgresql", "postgres"):
        url_obj = url_obj.set(drivername="postgresql+psycopg")
    # A short connect timeout: an unreachable replica must cost a request little before it falls back.
    return create_engine(
        url_obj,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": SESSION_OPTIONS.format(timezone=timezone), "connect_timeout": 2},
    )


def health_of(engine: Engine, max_lag_s: float) -> ReplicaHealth:
    """Ask the replica behind ``engine`` whether it is streaming and how far it lags."""
    try:
        with engine.connect() as conn:
            row = conn.execute(_HEALTH).mappings().one()
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return ReplicaHealth(False, False, None, f"replica unreachable: {first[0] if first else exc}")
    if not row["standby"]:
        # A promoted replica (or a primary named by mistake) is current by definition.
        return ReplicaHealth(True, False, 0.0, "not a standby: read as a primary")
    streaming = row["receiver"] == "streaming"
    lag = float(row["lag_s"]) if row["lag_s"] is not None else None
    if not streaming:
        return ReplicaHealth(False, False, lag, f"replica not streaming from its primary ({row['receiver']})")
    if lag is None or lag > max_lag_s:
        shown = "unknown" if lag is None else f"{lag:.1f} s"
        return ReplicaHealth(False, True, lag, f"replica behind by {shown} (limit {max_lag_s:g} s)")
    return ReplicaHealth(True, True, lag, "streaming, current")


class ReadRouter:
    """Chooses the engine for read-only work: the replica while it is usable, else the primary."""

    def __init__(
        self, primary: Engine, replica: Engine | None, max_lag_s: float = 5.0, check_s: float = 1.0
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self._checked_at = float("-inf")
        self._health: ReplicaHealth | None = None
        self._lock = threading.Lock()

    def health(self) -> ReplicaHealth | None:
        """The replica's health, checked at most every ``check_s`` seconds (None without a replica)."""
        if self.replica is None:
            return None
        with self._lock:
            now = time.monotonic()
            if self._health is None or now - self._checked_at >= self.check_s:
                self._health = health_of(self.replica, self.max_lag_s)
                self._checked_at = now
            return self._health

    def engine(self) -> Engine:
        """The engine a read should use now."""
        health = self.health()
        if self.replica is not None and health is not None and health.usable:
            return self.replica
        return self.primary

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only session on the engine chosen now (closed, never committed; see :func:`reading`)."""
        session = Session(bind=reading(self.engine()), expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        """Close the replica's pooled connections (the primary's engine belongs to its owner)."""
        if self.replica is not None:
            self.replica.dispose()


_READING: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def reading(engine: Engine) -> Engine:
    """``engine`` for read-only sessions: in autocommit, so a read sends no BEGIN and no ROLLBACK, only its
    statements (under READ COMMITTED, a transaction would not make two statements see one snapshot anyway).

    For reads that never write, never lock and need no transaction-local setting; they share the engine's pool.
    """
    found = _READING.get(engine)
    if found is None:
        found = _READING[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


def read_router(primary: Engine, settings: Settings | None = None) -> ReadRouter:
    """A router over ``primary`` and the configured replica (``GI_DATABASE_REPLICA_URL``; none = the primary)."""
    settings = settings or get_settings()
    replica = (
        _replica_engine(settings.database_replica_url, settings.timezone)
        if settings.database_replica_url
        else None
    )
    return ReadRouter(primary, replica, settings.replica_max_lag_s, settings.replica_check_s)


_ROUTERS: dict[tuple[str, str | None], ReadRouter] = {}


def read_engine(settings: Settings | None = None) -> Engine:
    """The engine read-only domain work (CLI reports, read models) should use now."""
    from gi.db import database_url, get_engine

    settings = settings or get_settings()
    url = database_url(settings)
    key = (url, settings.database_replica_url)
    router = _ROUTERS.get(key)
    primary = get_engine(url)
    if router is None or router.primary is not primary:  # the primary's engines were disposed: start again
        if router is not None:
            router.dispose()
        router = _ROUTERS[key] = read_router(primary, settings)
    return router.engine()
