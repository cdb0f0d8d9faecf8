"""`gi db stop` touches only the project's own cluster."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from gi.db.local import libpq_dsn, stop_cluster
from gi.settings import Settings, get_settings


def test_stop_leaves_everything_alone_when_the_url_points_elsewhere(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql+psycopg://gi@db.example.org:5433/gi", local_pgdata=tmp_path)
    outcome = stop_cluster(settings)
    assert not outcome.stopped
    assert "db.example.org:5433/gi" in outcome.message and "never touches" in outcome.message


@pytest.mark.postgis
def test_stop_with_another_url_keeps_the_running_local_cluster(db_url: str) -> None:
    settings = get_settings()
    if settings.database_url:
        pytest.skip("the tests run on a configured server, not the project's local cluster")
    elsewhere = Settings(
        database_url="postgresql+psycopg://gi@db.example.org/gi", local_pgdata=settings.local_pgdata
    )
    assert not stop_cluster(elsewhere).stopped
    with psycopg.connect(libpq_dsn(db_url)) as conn:  # the project's cluster still answers
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_stop_without_a_cluster_says_it_was_not_running(tmp_path: Path) -> None:
    outcome = stop_cluster(Settings(database_url=None, local_pgdata=tmp_path / "none"))
    assert not outcome.stopped and "was not running" in outcome.message
