"""The streaming read replica (``gi db up --replica``) on real PostgreSQL clusters of the test's own.

A primary and its replica are created in temporary directories (so the project's own cluster is untouched): a
write on the primary appears on the replica; OGC reads go to the replica while it is current and to the primary
when it lags or is stopped, so stale rows are never served as current; a stopped replica catches up through its
slot when started again.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from demo.directories import make_uscc
from gi import db as gi_db
from gi.db.local import LocalDatabaseError, ensure_cluster, stop_cluster
from gi.db.replica import LocalReplica, drop_replica, ensure_replica, stop_replica
from gi.db.routing import ReadRouter, read_router
from gi.settings import Settings

pytestmark = pytest.mark.postgis

DATABASE = "gi_replica_test"


@dataclass
class Pair:
    """A primary with its replica, and engines on both."""

    settings: Settings
    local: LocalReplica
    primary_url: str
    replica_url: str
    primary: Engine
    replica: Engine


def _settings(base: Path, **extra: object) -> Settings:
    return Settings(
        database_url=None,
        database_replica_url=None,
        local_pgdata=base / "primary",
        local_replica_pgdata=base / "replica",
        local_port=55410,
        local_database=DATABASE,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    base = tmp_path_factory.mktemp("replica")
    settings = _settings(base)
    try:
        primary_cluster = ensure_cluster(settings)
    except LocalDatabaseError as exc:
        if os.environ.get("GI_REQUIRE_DB") == "1":
            pytest.fail(f"a local cluster is required (GI_REQUIRE_DB=1) but could not start: {exc}")
        pytest.skip(f"no local PostgreSQL: {exc}")
    primary_url = primary_cluster.url(DATABASE)
    try:
        gi_db.upgrade(primary_url)
        from demo.directories import create_synthetic_directory
        from gi.register.loader import load_register_into_db

        with gi_db.session_scope(gi_db.get_engine(primary_url)) as session:
            load_register_into_db(session)
            create_synthetic_directory(session, producers_per_product=2, inspectors_per_province=1)
        local = ensure_replica(settings)
        replica_url = local.url(DATABASE)
        primary = create_engine(primary_url)
        replica = create_engine(replica_url)
        yield Pair(settings, local, primary_url, replica_url, primary, replica)
        primary.dispose()
        replica.dispose()
    finally:
        gi_db.dispose_engines()
        drop_replica(settings)
        stop_cluster(settings)
        for directory in (settings.local_pgdata, settings.local_replica_pgdata, primary_cluster.pgdata):
            shutil.rmtree(directory, ignore_errors=True)


def _wait(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _caught_up(pair: Pair) -> bool:
    with pair.primary.connect() as conn:
        # The insert position, not the write position: the local cluster commits asynchronously
        # (synchronous_commit=off), so a commit record may still sit in the WAL buffers.
        target = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
    with pair.replica.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), CAST(:t AS pg_lsn)) >= 0"),
                {"t": target},
            ).scalar_one()
        )


def _add_producer(pair: Pair, name: str) -> None:
    """Commit a producer (a copy of the first one, with a credit code of its own) on the primary."""
    code = make_uscc("110101", np.random.default_rng(abs(hash(name)) % 2**32))
    with pair.primary.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO producer (product_id, name, credit_code, kind, location, synthetic) "
                "SELECT product_id, :name, :code, kind, location, true FROM producer ORDER BY id LIMIT 1"
            ),
            {"name": name, "code": code},
        )


def _app(pair: Pair, max_lag_s: float) -> TestClient:
    from api.app import create_app

    settings = pair.settings.model_copy(
        update={
            "database_url": pair.primary_url,
            "database_replica_url": pair.replica_url,
            "replica_max_lag_s": max_lag_s,
            "replica_check_s": 0.0,
        }
    )
    return TestClient(create_app(settings, engine=gi_db.get_engine(pair.primary_url)))


def _producers_served(client: TestClient) -> int:
    response = client.get("/collections/producers/items", params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["numberMatched"])


def test_replica_is_a_hot_standby_fed_by_a_slot(pair: Pair) -> None:
    """The replica is in recovery, streams from the primary through the slot, and refuses writes."""
    with pair.replica.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
        assert conn.execute(text("SELECT status FROM pg_stat_wal_receiver")).scalar_one() == "streaming"
    with pair.primary.connect() as conn:
        slot = conn.execute(
            text("SELECT active FROM pg_replication_slots WHERE slot_name = 'gi_replica'")
        ).one()
        assert slot.active is True
    with pytest.raises(Exception, match="read-only transaction"), pair.replica.begin() as conn:
        conn.execute(text("CREATE TABLE refused (x int)"))


def test_a_write_on_the_primary_is_read_on_the_replica(pair: Pair) -> None:
    """A row committed on the primary appears on the replica once it has caught up, and the router reads there."""
    before = _count(pair.replica, "SELECT count(*) FROM producer")
    _add_producer(pair, "副本写入检查 replica write check")
    _wait(lambda: _caught_up(pair), "the replica to replay the write")
    assert _count(pair.replica, "SELECT count(*) FROM producer") == before + 1
    assert _count(pair.replica, "SELECT count(*) FROM producer WHERE name LIKE '副本写入检查%'") == 1
    router = ReadRouter(pair.primary, pair.replica, max_lag_s=5.0, check_s=0.0)
    health = router.health()
    assert health is not None and health.usable and health.streaming, health
    assert router.engine() is pair.replica


def test_reads_go_to_the_replica_only_while_it_is_current(pair: Pair) -> None:
    """With replay paused the replica lags: a strict app reads the primary (sees the new row); a lenient one
    reads the replica (does not yet): so reads really go to the replica, and lag sends them back."""
    _wait(lambda: _caught_up(pair), "the replica to catch up")
    with _app(pair, max_lag_s=0.0) as strict, _app(pair, max_lag_s=3600.0) as lenient:
        start = _producers_served(strict)
        assert _producers_served(lenient) == start
        with pair.replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
        try:
            _add_producer(pair, "延迟检查 lag check")

            def received_not_replayed() -> bool:
                with pair.replica.connect() as conn:
                    return bool(
                        conn.execute(
                            text(
                                "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) > 0"
                            )
                        ).scalar_one()
                    )

            _wait(received_not_replayed, "the replica to receive WAL it does not replay")
            assert _producers_served(strict) == start + 1  # degraded to the primary: current
            assert _producers_served(lenient) == start  # the replica, knowingly behind
        finally:
            with pair.replica.connect() as conn:
                conn.execute(text("SELECT pg_wal_replay_resume()"))
        _wait(lambda: _caught_up(pair), "the replica to replay after resuming")
        assert _producers_served(strict) == start + 1
        assert _producers_served(lenient) == start + 1


def test_a_stopped_replica_degrades_to_the_primary_and_catches_up_when_started(pair: Pair) -> None:
    """Stopped: reads are served by the primary; started again: it replays what it missed through its slot."""
    router = read_router(
        pair.primary,
        pair.settings.model_copy(update={"database_replica_url": pair.replica_url, "replica_check_s": 0.0}),
    )
    try:
        assert stop_replica(pair.settings) is True
        health = router.health()
        assert health is not None and not health.usable and "unreachable" in health.reason
        assert router.engine() is pair.primary
        _add_producer(pair, "停机补齐 catch-up check")
        with router.session() as session:
            assert session.scalar(text("SELECT count(*) FROM producer WHERE name LIKE '停机补齐%'")) == 1
        restarted = ensure_replica(pair.settings)
        assert restarted.created is False
        replica = create_engine(restarted.url(DATABASE))
        try:
            pair.replica.dispose()
            pair.replica = replica
            pair.replica_url = restarted.url(DATABASE)
            _wait(lambda: _caught_up(pair), "the restarted replica to catch up")
            assert _count(replica, "SELECT count(*) FROM producer WHERE name LIKE '停机补齐%'") == 1
        finally:
            router.dispose()
        router = read_router(
            pair.primary,
            pair.settings.model_copy(
                update={"database_replica_url": restarted.url(DATABASE), "replica_check_s": 0.0}
            ),
        )
        health = router.health()
        assert health is not None and health.usable, health
    finally:
        router.dispose()
