"""`gi db`: start the local PostGIS, apply migrations, report state."""

from __future__ import annotations

import logging
from datetime import datetime

import typer

from api.console import console, working
from gi import db as gi_db
from gi.db.partitions import maintain_partitions
from gi.db.replica import SLOT
from gi.errors import ConflictError, InputError
from gi.settings import get_settings

# Months ahead `gi db up` makes sure of (run `gi db partitions` monthly from cron for a server left running).
PARTITIONS_AHEAD = 3

app = typer.Typer(help="The database: local PostGIS cluster and migrations.", no_args_is_help=True)


@app.command("up")
def up(
    replica: bool = typer.Option(
        False,
        "--replica",
        help="Also start a streaming read replica of the local cluster (pg_basebackup, a slot).",
    ),
) -> None:
    """Start the database if it is the local one, create PostGIS, and apply every migration."""
    settings = get_settings()
    if replica and settings.database_url:
        raise InputError(
            "--replica", "only the project's local cluster gets a replica; GI_DATABASE_URL points elsewhere"
        )
    url = gi_db.database_url(settings)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with working("starting the database and applying migrations"):
        gi_db.upgrade(url)
        state = gi_db.status(url)
        partitions = maintain_partitions(gi_db.get_engine(url), ahead=PARTITIONS_AHEAD)
    where = "local cluster" if not settings.database_url else "GI_DATABASE_URL"
    console.print(
        f"database ready ({where}): {state.url}  PostgreSQL {state.server_version.split()[0]}, "
        f"PostGIS {state.postgis_version}, schema {state.current_revision}"
    )
    # The summary, and any warning about rows in DEFAULT (`gi db partitions` lists every partition it made).
    for line in partitions.lines():
        if line.startswith("partitions:") or "_default:" in line:
            console.print(line)
    if replica:
        from gi.db.replica import ensure_replica

        with working("copying the cluster (pg_basebackup) and starting its replica"):
            local = ensure_replica(settings)
        how = "created and started" if local.created else "running"
        console.print(
            f"replica {how} on port {local.replica.port} ({local.replica.pgdata}), slot {SLOT}; read from it with\n"
            f"  export GI_DATABASE_REPLICA_URL={local.url(settings.local_database)}"
        )


@app.command("partitions")
def partitions(
    ahead: int = typer.Option(
        PARTITIONS_AHEAD, "--ahead", min=0, help="Months after the current one to have partitions for."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Also create every month from this one (YYYY-MM), e.g. before loading old samples.",
    ),
) -> None:
    """Create the history tables' month partitions ahead of time; report rows that fell into DEFAULT."""
    start = None
    if since is not None:
        try:
            start = datetime.strptime(since, "%Y-%m").date()
        except ValueError:
            raise InputError("--since", f"{since!r} is not a month (YYYY-MM)") from None
    with working("creating month partitions"):
        report = maintain_partitions(gi_db.get_engine(), ahead=ahead, since=start)
    for line in report.lines():
        console.print(line)
    if not report.ok:
        raise ConflictError(
            "rows outside every month partition are in DEFAULT: create their months with --since and move them "
            "(docs/scale.md, Partitioned history)"
        )


@app.command("archive")
def archive(
    month: str = typer.Argument(
        ..., help="The data month to archive, YYYY-MM (before the current one, its samples re-judged)."
    ),
) -> None:
    """Detach a closed month of samples, verdicts, evidence and listings into <table>_archive_pYYYY_MM tables,
    kept protected and still verified by `gi audit verify`. Exit 1 if refused (the line says why)."""
    from gi.audit.archive import parse_month
    from gi.db.archive import archive_data_month

    with working(f"archiving {month}"):
        done = archive_data_month(gi_db.get_engine(), parse_month(month))
    for line in done.lines():
        console.print(line, highlight=False, soft_wrap=True)


@app.command("drop-replica")
def drop_replica() -> None:
    """Stop and delete the local replica and drop its replication slot (the primary stops keeping WAL for it)."""
    from gi.db.replica import drop_replica as drop

    dropped = drop(get_settings())
    console.print("local replica dropped" if dropped else "there was no local replica")


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("heads", help="Target revision (default: every head).")) -> None:
    """Apply migrations up to REVISION."""
    with working(f"applying migrations up to {revision}"):
        gi_db.upgrade(revision=revision)
    console.print(f"schema at {gi_db.status().current_revision}")


@app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. 0001 or base.")) -> None:
    """Revert migrations down to REVISION (data in dropped tables is lost)."""
    with working(f"reverting migrations down to {revision}"):
        gi_db.downgrade(revision=revision)
    console.print(f"schema at {gi_db.status().current_revision or 'base (empty)'}")


@app.command("status")
def status() -> None:
    """Show the server, PostGIS version and migration state."""
    state = gi_db.status()
    console.print(f"url:      {state.url}")
    console.print(f"server:   PostgreSQL {state.server_version}")
    console.print(f"postgis:  {state.postgis_version or 'not installed'}")
    mark = "up to date" if state.up_to_date else "behind: run `gi db upgrade`"
    console.print(f"schema:   {state.current_revision or 'empty'} (head {state.head_revision}, {mark})")
    settings = get_settings()
    if settings.database_replica_url:
        from gi.db.routing import read_router

        health = read_router(gi_db.get_engine(), settings).health()
        if health is not None:
            console.print(
                f"replica:  {'read' if health.usable else 'NOT read (primary instead)'}: {health.reason}"
            )


@app.command("stop")
def stop(
    local: bool = typer.Option(
        False, "--local", help="Stop the project's own cluster even when GI_DATABASE_URL points elsewhere."
    ),
) -> None:
    """Stop the project's local cluster (never a GI_DATABASE_URL server)."""
    from gi.db.local import stop_cluster
    from gi.db.replica import stop_replica

    outcome = stop_cluster(get_settings(), local=local)
    # The replica follows its primary: it stops with it, and is left alone when the primary is not ours to stop.
    if not outcome.refused and stop_replica(get_settings()):
        console.print("local replica stopped")
    console.print(outcome.message)
