"""The `gi` command line: a thin face over the domain functions; errors print one line and exit non-zero."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from api import help as cli_help
from api.commands import (
    areas,
    audit,
    db,
    demo,
    directories,
    forms,
    market,
    products,
    quality,
    register,
    results,
    users,
)
from api.commands import check as check_cmd
from api.commands import labels as labels_cmd
from api.commands import maps as maps_cmd
from api.commands import plan as plan_cmd
from api.commands import references as references_cmd
from api.commands import reports as reports_cmd
from api.commands import serve as serve_cmd
from api.console import console, err_console
from api.errors import EXIT_INTERRUPTED, exit_for

DISTRIBUTION = "gi-supervision"


class Interrupted(BaseException):
    """Ctrl-C during a command, carried past Typer to :func:`main` (the KeyboardInterrupt is its ``__cause__``)."""


class Commands(TyperGroup):
    """The `gi` group: a command interrupted by Ctrl-C reaches :func:`main` with what it had done (the notes the
    domain added to the KeyboardInterrupt), where Typer would exit 130 without a word."""

    def invoke(self, ctx: Any) -> Any:  # ctx: the click Context Typer vendors
        """Run the command; Ctrl-C becomes :class:`Interrupted`."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise Interrupted from exc


cli_help.install()
app = typer.Typer(
    name="gi",
    cls=Commands,
    help="GI origin and quality supervision (地理标志产地与特色质量监管).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # -h everywhere: click passes the main context's settings down to every command.
    context_settings={"help_option_names": ["-h", "--help"]},
)


def installed_version() -> str:
    """The installed version of the `gi` distribution."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"gi {installed_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    show_version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """GI origin and quality supervision (地理标志产地与特色质量监管)."""


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
app.add_typer(forms.app, name="forms")
app.add_typer(users.app, name="users")
app.command("serve")(serve_cmd.serve)
app.command("labels")(labels_cmd.labels)
app.add_typer(audit.app, name="audit")
app.add_typer(directories.producers_app, name="producers")
app.add_typer(directories.outlets_app, name="outlets")
app.add_typer(directories.inspectors_app, name="inspectors")
directories.outlets_app.add_typer(market.volumes_app, name="volumes")
app.add_typer(market.marks_app, name="marks")
app.add_typer(market.capacity_app, name="capacity")
app.add_typer(market.listings_app, name="listings")
app.add_typer(market.balance_app, name="balance")
app.add_typer(references_cmd.app, name="references")


def main() -> None:
    """Entry point of the `gi` console script: every error is one line and a documented exit code."""
    try:
        app(prog_name="gi")  # `python -m api.cli` too says `Usage: gi ...`
    except (Interrupted, KeyboardInterrupt) as stop:
        cause = stop.__cause__ if isinstance(stop, Interrupted) else stop
        # What the command had done (a sample file: how many samples it committed), else the general promise.
        notes = [str(n) for n in getattr(cause, "__notes__", ()) if str(n).strip()]
        said = "; ".join(notes) or "what was committed is kept; a re-run is safe"
        err_console.print(f"[bold red]interrupted:[/] {escape(said)}", highlight=False, soft_wrap=True)
        sys.stderr.flush()
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # every error reaches the user as one line (api.errors), never a traceback
        sys.exit(exit_for(exc))


if __name__ == "__main__":
    main()
