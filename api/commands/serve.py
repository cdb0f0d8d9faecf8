"""`gi serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import typer

from api.console import console
from gi.settings import get_settings


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default GI_API_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (default GI_API_PORT)."),
    workers: int | None = typer.Option(None, "--workers", help="Worker processes (default GI_API_WORKERS)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the API (OpenAPI 3.0 at /api, documentation at /docs) on the configured database."""
    import uvicorn

    from gi import db as gi_db

    settings = get_settings()
    url = gi_db.database_url(settings)  # starts the local cluster when it is the one configured
    state = gi_db.status(url)
    if not state.up_to_date:
        console.print(
            f"[yellow]schema {state.current_revision} is behind {state.head_revision}: run `gi db up`[/]"
        )
    host = host or settings.api_host
    port = port or settings.api_port
    workers = workers or settings.api_workers
    if not (settings.issuing_office or "").strip():
        # Official PDFs name their issuer: without one the report routes answer 422 and the pages offer none.
        console.print(
            "[yellow]GI_ISSUING_OFFICE is not set: campaign reports, notices and inspection records (PDF) are "
            "refused until it is, e.g. GI_ISSUING_OFFICE=杭州市市场监督管理局[/]"
        )
    console.print(f"serving on http://{host}:{port}/ ({workers} worker(s)); documentation at /docs")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        server_header=False,
    )
