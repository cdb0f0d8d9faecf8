"""The project's own local PostgreSQL + PostGIS cluster: created, started and reused on demand.

The cluster lives in a data directory of the project's (``GI_LOCAL_PGDATA``, default ``.pgdata``), listens on
127.0.0.1 only with trust authentication, and runs as the unprivileged ``postgres`` user when we are root
(the server refuses to run as root). Nothing here is used when ``GI_DATABASE_URL`` points elsewhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gi.errors import UnavailableError
from gi.settings import Settings

SUPERUSER = "gi"
SERVICE_ACCOUNT = "postgres"


class LocalDatabaseError(UnavailableError):
    """The local cluster could not be created or started; the message says why and what to do."""


@dataclass(frozen=True)
class LocalCluster:
    """Where the local cluster lives and how to reach it."""

    bindir: Path
    pgdata: Path
    port: int

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


def find_bindir() -> Path:
    """Return the newest PostgreSQL server bin directory that has PostGIS installed beside it."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    for pg_ctl in reversed(candidates):
        version = pg_ctl.parent.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return pg_ctl.parent
    if candidates:
        version = candidates[-1].parent.parent.name
        raise LocalDatabaseError(
            f"PostgreSQL {version} is installed but PostGIS is not: run `make setup` "
            f"(or `apt-get install postgresql-{version}-postgis-3`)"
        )
    raise LocalDatabaseError(
        "PostgreSQL server binaries not found: run `make setup` (installs postgresql-15-postgis-3)"
    )


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_service(cmd: list[str]) -> list[str]:
    """Prefix a command so that it runs as the unprivileged service account when we are root."""
    if _running_as_root():
        return ["runuser", "-u", SERVICE_ACCOUNT, "--", *cmd]
    return cmd


def _service_can_use(path: Path) -> bool:
    """True when the service account can reach (traverse) ``path``'s parent directory."""
    if not _running_as_root():
        return True
    probe = _as_service(["test", "-x", str(path.parent), "-a", "-w", str(path.parent)])
    parent_ok = subprocess.run(probe, capture_output=True).returncode == 0
    if parent_ok:
        return True
    # A data directory we already created and handed over is also fine.
    probe = _as_service(["test", "-w", str(path)])
    return path.exists() and subprocess.run(probe, capture_output=True).returncode == 0


def resolve_pgdata(settings: Settings) -> Path:
    """The data directory: the configured one, or a per-project one under /var/lib when root can't share it."""
    pgdata = settings.local_pgdata.resolve()
    if not _running_as_root():
        return pgdata
    if pgdata.exists() and (pgdata / "PG_VERSION").exists():
        return pgdata
    try:
        pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError as exc:
        raise LocalDatabaseError(
            f"user {SERVICE_ACCOUNT!r} is missing: run `make setup` (the postgresql package creates it)"
        ) from exc
    pgdata.mkdir(parents=True, exist_ok=True)
    shutil.chown(pgdata, SERVICE_ACCOUNT, SERVICE_ACCOUNT)
    if _service_can_use(pgdata):
        return pgdata
    # The checkout sits somewhere the service account may not enter (e.g. /root): keep the cluster under
    # /var/lib/postgresql, named after the checkout so that two checkouts never share one.
    pgdata.rmdir()
    digest = hashlib.sha256(str(settings.local_pgdata.resolve()).encode()).hexdigest()[:10]
    return Path("/var/lib/postgresql") / f"gi-{digest}"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _choose_port(preferred: int) -> int:
    for port in range(preferred, preferred + 200):
        if _port_free(port):
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _running_port(pgdata: Path) -> int | None:
    """Port of the server that runs on ``pgdata``, or None when none runs."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return port


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(_as_service(cmd), capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise LocalDatabaseError(
            f"{what} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}"
        )


@contextmanager
def _lock(pgdata: Path) -> Iterator[None]:
    """Serialize cluster set-up between processes (parallel test workers, CLI calls)."""
    lock_path = Path(f"/tmp/gi-pg-{hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]}.lock")
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_cluster(settings: Settings) -> LocalCluster:
    """Create the local cluster if needed and start it if stopped; return how to reach it."""
    bindir = find_bindir()
    pgdata = resolve_pgdata(settings)
    with _lock(pgdata):
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(parents=True, exist_ok=True)
            if _running_as_root():
                shutil.chown(pgdata, SERVICE_ACCOUNT, SERVICE_ACCOUNT)
            _run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
                "initdb of the local cluster",
            )
        port = _running_port(pgdata)
        if port is None:
            port = _start(bindir, pgdata, settings)
        cluster = LocalCluster(bindir=bindir, pgdata=pgdata, port=port)
        _wait_ready(cluster)
        create_database(cluster.url("postgres"), settings.local_database)
    return cluster


# Crash safety is the default: the office's records live here unless GI_DATABASE_URL names another server.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _start(bindir: Path, pgdata: Path, settings: Settings, attempts: int = 5) -> int:
    """Start the stopped cluster on a free port and return it; a port taken between the choice and the server's
    bind (another checkout's cluster starting at the same moment) moves the start to the next one."""
    log = pgdata / "server.log"
    port = settings.local_port
    for attempt in range(attempts):
        port = _choose_port(port)
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            f"{FAST_OPTIONS + ' ' if settings.local_fast else ''}"
            "-c shared_buffers=256MB -c max_connections=200"
        )
        offset = log.stat().st_size if log.exists() else 0
        try:
            _run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                f"starting the local cluster in {pgdata} (see {log})",
            )
            return port
        except LocalDatabaseError:
            if attempt + 1 == attempts or not _lost_port_race(log, offset):
                raise
            port += 1
    raise AssertionError("unreachable")


def _lost_port_race(log: Path, offset: int) -> bool:
    """Whether the start that wrote ``log`` from ``offset`` on failed only because its port was taken."""
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return False
    return "could not bind" in tail or "Address already in use" in tail


def _wait_ready(cluster: LocalCluster, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(libpq_dsn(cluster.url("postgres")), connect_timeout=3):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise LocalDatabaseError(
                    f"local cluster on port {cluster.port} does not answer: {exc}"
                ) from exc
            time.sleep(0.2)


@dataclass(frozen=True)
class StopOutcome:
    """What ``gi db stop`` did: whether the project's own cluster was stopped, and a line saying so."""

    stopped: bool
    message: str
    refused: bool = False  # GI_DATABASE_URL names another server, so nothing local was touched


def stop_cluster(settings: Settings, local: bool = False) -> StopOutcome:
    """Stop the project's own local cluster, and only it.

    When ``GI_DATABASE_URL`` points at another server, nothing is stopped unless ``local`` asks for the project's
    cluster anyway: the configured server is never touched, and the message says so.
    """
    pgdata = resolve_pgdata(settings)
    port = _running_port(pgdata)
    if settings.database_url and not local:
        from sqlalchemy.engine import make_url

        url = make_url(settings.database_url)
        ours = port is not None and url.host in ("127.0.0.1", "localhost") and url.port == port
        if not ours:
            where = f"{url.host or 'a local socket'}:{url.port or 5432}/{url.database}"
            return StopOutcome(
                False,
                f"nothing stopped: GI_DATABASE_URL points at {where}, which `gi db stop` never touches; "
                "`gi db stop --local` stops the project's own cluster",
                refused=True,
            )
    if port is None:
        return StopOutcome(False, f"the project's local cluster ({pgdata}) was not running")
    _run(
        [str(find_bindir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"], "stopping the cluster"
    )
    return StopOutcome(True, f"the project's local cluster ({pgdata}) stopped")


def libpq_dsn(sqlalchemy_url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://``) into a libpq connection string."""
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, name: str) -> bool:
    """Create database ``name`` with PostGIS on the server of ``server_url``; False if it already existed."""
    with psycopg.connect(libpq_dsn(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    from sqlalchemy.engine import make_url

    from gi.db import ensure_postgis  # gi.db imports this module: import it when called

    ensure_postgis(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    return not exists


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (used by the tests' janitor)."""
    with psycopg.connect(libpq_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
