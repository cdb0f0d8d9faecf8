"""`gi users`: accounts of the HTTP service (add, list, disable, enable, passwd)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from api.console import console
from gi.accounts import users as accounts
from gi.db import session_scope
from gi.errors import InputError
from gi.models import ROLE_ZH, Role

app = typer.Typer(
    help="Accounts of the HTTP service: inspectors, supervisors, administrators.", no_args_is_help=True
)


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError("password", "nothing on standard input")
        return line
    if not sys.stdin.isatty():
        raise InputError("password", "no terminal to ask on; pass --password-stdin and pipe it in")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=confirm))


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name (lower case letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help="inspector | supervisor | admin"),
    region: list[str] = typer.Option(
        [], "--region", help="Supervisor's province, prefecture or county adcode (repeatable), e.g. 330000."
    ),
    inspector: str | None = typer.Option(None, "--inspector", help="Inspector's code in the directory."),
    full_name: str | None = typer.Option(
        None, "--name", help="Full name (an inspector's comes from the directory)."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Create an account; the password is asked for (or read with --password-stdin) and stored as argon2id."""
    password = _password(password_stdin)
    with session_scope() as session:
        user = accounts.add_user(
            session, username, role, password, regions=region, inspector=inspector, full_name=full_name
        )
        name, role_value, regions = user.username, Role(user.role), ", ".join(user.regions)
    where = f" region {regions}" if regions else (f" inspector {inspector}" if inspector else "")
    console.print(f"added {name} ({role_value.value}, {ROLE_ZH[role_value]}){where}")


@app.command("list")
def list_() -> None:
    """Every account: role, scope, state."""
    with session_scope() as session:
        rows = [
            (
                u.username,
                u.full_name or "",
                f"{u.role.value} ({ROLE_ZH[Role(u.role)]})",
                ", ".join(u.regions) or (u.inspector.code if u.inspector else ""),
                "disabled" if u.disabled_at else "active",
            )
            for u in accounts.list_users(session)
        ]
    table = Table("user", "name", "role", "scope", "state")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"{len(rows)} account(s)")


@app.command("disable")
def disable(username: str = typer.Argument(..., help="Login name.")) -> None:
    """Disable an account and revoke its tokens at once."""
    with session_scope() as session:
        accounts.disable_user(session, username)
    console.print(f"disabled {username}; its tokens are revoked")


@app.command("enable")
def enable(username: str = typer.Argument(..., help="Login name.")) -> None:
    """Enable a disabled account again."""
    with session_scope() as session:
        accounts.enable_user(session, username)
    console.print(f"enabled {username}")


@app.command("passwd")
def passwd(
    username: str = typer.Argument(..., help="Login name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Set a new password; every token issued before is revoked."""
    password = _password(password_stdin)
    with session_scope() as session:
        accounts.set_password(session, username, password)
    console.print(f"password of {username} changed; its earlier tokens are revoked")
