"""A streaming read replica of the project's local cluster (``gi db up --replica``).

The replica is a physical copy taken with ``pg_basebackup`` from the running local cluster, kept current by
streaming replication through a replication slot (``gi_replica``: the primary keeps the WAL the replica has not
received yet, so a replica that was stopped catches up when it starts again). It has its own data directory
(``GI_LOCAL_REPLICA_PGDATA``) and port, runs as the same unprivileged service account as the primary, and
accepts read-only connections (hot standby). Nothing here is used when ``GI_DATABASE_URL`` points elsewhere:
there, a replica is the server operator's business and ``GI_DATABASE_REPLICA_URL`` names it.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

from gi.db.local import (
    SUPERUSER,
    LocalCluster,
    LocalDatabaseError,
    _choose_port,
    _lock,
    _run,
    _running_as_root,
    _running_port,
    _wait_ready,
    ensure_cluster,
    find_bindir,
    libpq_dsn,
    resolve_pgdata,
)
from gi.settings import Settings

SLOT = "gi_replica"


@dataclass(frozen=True)
class LocalReplica:
    """The running replica and the primary it follows."""

    primary: LocalCluster
    replica: LocalCluster
    created: bool

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on the replica."""
        return self.replica.url(database)


def replica_pgdata(settings: Settings) -> Path:
    """The replica's data directory (moved under /var/lib/postgresql like the primary's when root can't share it)."""
    return resolve_pgdata(settings.model_copy(update={"local_pgdata": settings.local_replica_pgdata}))


def _ensure_slot(primary: LocalCluster) -> None:
    """Create the physical replication slot on the primary, reserving WAL from now on (idempotent)."""
    with psycopg.connect(libpq_dsn(primary.url("postgres")), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)).fetchone()
        if not exists:
            conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (SLOT,))


def _drop_slot(primary: LocalCluster) -> bool:
    """Drop the replication slot so the primary stops keeping WAL for a replica that is gone."""
    with psycopg.connect(libpq_dsn(primary.url("postgres")), autocommit=True) as conn:
        row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)).fetchone()
        if row is None:
            return False
        if row[0]:
            raise LocalDatabaseError(
                f"replication slot {SLOT} is in use: stop the replica first (`gi db stop`)"
            )
        conn.execute("SELECT pg_drop_replication_slot(%s)", (SLOT,))
    return True


def ensure_replica(settings: Settings) -> LocalReplica:
    """Start the local cluster, then create its streaming replica if needed and start it; return both."""
    primary = ensure_cluster(settings)
    bindir = find_bindir()
    pgdata = replica_pgdata(settings)
    created = False
    with _lock(pgdata):
        if not (pgdata / "PG_VERSION").exists():
            _ensure_slot(primary)
            if pgdata.exists() and any(pgdata.iterdir()):
                raise LocalDatabaseError(
                    f"{pgdata} is not empty and holds no cluster: remove it, or set GI_LOCAL_REPLICA_PGDATA"
                )
            pgdata.mkdir(parents=True, exist_ok=True)
            if _running_as_root():
                shutil.chown(pgdata, "postgres", "postgres")
            # -X stream: the WAL written during the copy comes along, so the copy is consistent on its own;
            # -R writes standby.signal (the copy starts as a hot standby, never as a second primary).
            _run(
                [
                    str(bindir / "pg_basebackup"),
                    "-D",
                    str(pgdata),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(primary.port),
                    "-U",
                    SUPERUSER,
                    "-X",
                    "stream",
                    "-S",
                    SLOT,
                    "-R",
                    "--checkpoint=fast",
                    "--no-password",
                ],
                f"pg_basebackup of the local cluster into {pgdata}",
            )
            # The server refuses a data directory others may read; the copied log is the primary's, not ours.
            pgdata.chmod(0o700)
            (pgdata / "server.log").unlink(missing_ok=True)
            created = True
        port = _running_port(pgdata)
        if port is None:
            _ensure_slot(primary)  # dropped by `gi db drop-replica` or an operator: the replica needs it back
            port = _choose_port(primary.port + 1)
            # The primary's address is given on the command line (it wins over postgresql.auto.conf), so a primary
            # that came back on another port is still followed.
            conninfo = f"host=127.0.0.1 port={primary.port} user={SUPERUSER} application_name={SLOT}"
            options = (
                f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                f"-c primary_conninfo='{conninfo}' -c primary_slot_name={SLOT} "
                "-c hot_standby=on -c hot_standby_feedback=on "
                "-c fsync=off -c shared_buffers=128MB -c max_connections=200"
            )
            _run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-l",
                    str(pgdata / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
                f"starting the replica in {pgdata} (see {pgdata / 'server.log'})",
            )
        replica = LocalCluster(bindir=bindir, pgdata=pgdata, port=port)
        _wait_ready(replica)
    return LocalReplica(primary=primary, replica=replica, created=created)


def existing_replica_pgdata(settings: Settings) -> Path | None:
    """The replica's data directory if a replica was created (never creates anything, unlike set-up)."""
    configured = settings.local_replica_pgdata.resolve()
    digest = hashlib.sha256(str(configured).encode()).hexdigest()[:10]
    for candidate in (configured, Path("/var/lib/postgresql") / f"gi-{digest}"):
        if (candidate / "PG_VERSION").exists():
            return candidate
    return None


def stop_replica(settings: Settings) -> bool:
    """Stop the local replica; False when it was not running. Its slot stays, so it catches up when restarted."""
    pgdata = existing_replica_pgdata(settings)
    if pgdata is None or _running_port(pgdata) is None:
        return False
    _run(
        [str(find_bindir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"], "stopping the replica"
    )
    return True


def drop_replica(settings: Settings) -> bool:
    """Stop and delete the local replica and drop its slot on the primary; False when there was none."""
    pgdata = existing_replica_pgdata(settings)
    stop_replica(settings)
    existed = pgdata is not None
    primary_pgdata = resolve_pgdata(settings)
    port = _running_port(primary_pgdata)
    if port is not None:
        existed = _drop_slot(LocalCluster(find_bindir(), primary_pgdata, port)) or existed
    if pgdata is not None:
        shutil.rmtree(pgdata, ignore_errors=True)
    return existed
