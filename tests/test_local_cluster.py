"""The project's own cluster: crash-safe unless asked otherwise (GI_LOCAL_FAST, the test script's choice), and
a start whose port is taken between the choice and the bind (another checkout's cluster starting at the same
moment) moves to the next port instead of failing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from service_fixtures import free_port

from gi.db import local
from gi.db.local import _as_service, ensure_cluster, find_bindir, libpq_dsn, resolve_pgdata
from gi.settings import Settings

pytestmark = pytest.mark.postgis


def _stop(settings: Settings) -> None:
    subprocess.run(
        _as_service(
            [str(find_bindir() / "pg_ctl"), "-D", str(resolve_pgdata(settings)), "-m", "fast", "-w", "stop"]
        ),
        capture_output=True,
    )


@pytest.fixture
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="gi-cluster-", dir="/tmp"))
    path.chmod(0o755)
    settings = Settings(local_pgdata=path / "pgdata", database_url=None)
    try:
        yield path
    finally:
        _stop(settings)
        shutil.rmtree(resolve_pgdata(settings), ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)


def _setting(url: str, name: str) -> str:
    with psycopg.connect(libpq_dsn(url)) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    assert row is not None
    return str(row[0])


def test_a_port_taken_at_start_moves_to_the_next_and_the_cluster_is_crash_safe(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = free_port()
    settings = Settings(local_pgdata=base / "pgdata", local_port=taken, local_fast=False, database_url=None)
    choose = local._choose_port
    calls: list[int] = []

    def racing(preferred: int) -> int:
        # The first choice is made while the port is still free; it is taken before the server binds it.
        calls.append(preferred)
        return taken if len(calls) == 1 else choose(preferred)

    monkeypatch.setattr(local, "_choose_port", racing)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        cluster = ensure_cluster(settings)
    assert len(calls) == 2 and cluster.port != taken
    url = cluster.url("postgres")
    assert (
        _setting(url, "fsync"),
        _setting(url, "full_page_writes"),
        _setting(url, "synchronous_commit"),
    ) == (
        "on",
        "on",
        "on",
    )

    # Throw-away data may trade crash safety for speed, when asked (scripts/test.sh sets GI_LOCAL_FAST=1).
    _stop(settings)
    fast = ensure_cluster(Settings(local_pgdata=base / "pgdata", local_fast=True, database_url=None))
    assert _setting(fast.url("postgres"), "fsync") == "off"
