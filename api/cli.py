"""The `gi` command line: a thin face over the domain functions; errors print one line and exit non-zero."""

from __future__ import annotations

import sys

import typer

from api.commands import areas, db, demo, products, quality, register, results
from api.commands import check as check_cmd
from api.commands import maps as maps_cmd
from api.commands import plan as plan_cmd
from api.commands import reports as reports_cmd
from api.console import err_console

app = typer.Typer(
    name="gi",
    help="GI origin and quality supervision (地理标志产地与特色质量监管).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(register.app, name="register")
app.add_typer(products.app, name="products")
app.add_typer(areas.app, name="areas")
app.command("demo")(demo.demo)
app.command("check")(check_cmd.check)
app.add_typer(results.app, name="results")
app.add_typer(quality.app, name="quality")
app.add_typer(plan_cmd.app, name="plan")
app.add_typer(maps_cmd.app, name="map")
app.add_typer(reports_cmd.app, name="report")


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix: shown as one line, never as a traceback."""
    from sqlalchemy.exc import OperationalError

    from geo_data.crs import UnknownCRSError
    from geo_data.io import AreaFileError
    from geo_data.sample_files import SampleFileError
    from gi.db.local import LocalDatabaseError
    from gi.errors import InputError, NotFoundError

    return (
        InputError,
        NotFoundError,
        AreaFileError,
        UnknownCRSError,
        LocalDatabaseError,
        OperationalError,
        FileNotFoundError,
        SampleFileError,
    )


def main() -> None:
    """Entry point of the `gi` console script."""
    try:
        app()
    except _user_errors() as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if type(exc).__name__ == "OperationalError":
            message = (
                f"database: cannot connect or query ({message}); check GI_DATABASE_URL or run `gi db up`"
            )
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
