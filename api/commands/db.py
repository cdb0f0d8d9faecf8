"""`gi db`: start the local PostGIS, apply migrations, report state."""

from __future__ import annotations

import logging

import typer

from api.console import console, working
from gi import db as gi_db
from gi.settings import get_settings

app = typer.Typer(help="The database: local PostGIS cluster and migrations.", no_args_is_help=True)


@app.command("up")
def up() -> None:
    """Start the database if it is the local one, create PostGIS, and apply every migration."""
    settings = get_settings()
    url = gi_db.database_url(settings)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with working("starting the database and applying migrations"):
        gi_db.upgrade(url)
        state = gi_db.status(url)
    where = "local cluster" if not settings.database_url else "GI_DATABASE_URL"
    console.print(
        f"database ready ({where}): {state.url}  PostgreSQL {state.server_version.split()[0]}, "
        f"PostGIS {state.postgis_version}, schema {state.current_revision}"
    )


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


@app.command("stop")
def stop(
    local: bool = typer.Option(
        False, "--local", help="Stop the project's own cluster even when GI_DATABASE_URL points elsewhere."
    ),
) -> None:
    """Stop the project's local cluster (never a GI_DATABASE_URL server)."""
    from gi.db.local import stop_cluster

    outcome = stop_cluster(get_settings(), local=local)
    console.print(outcome.message)
