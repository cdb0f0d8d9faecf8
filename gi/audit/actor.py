"""Who is acting: the name every audit entry records beside the database role.

The command line acts as the operating-system user; the HTTP service wraps each request in
:func:`acting_as` with its authenticated user. The name reaches the database as the transaction-local setting
``gi.actor``, set when each transaction begins (one statement per transaction).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from sqlalchemy import Engine, event

_ACTOR: ContextVar[str | None] = ContextVar("gi_audit_actor", default=None)


@cache
def system_user() -> str:
    """The operating-system user running this process (the CLI's actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


def current_actor() -> str:
    """The actor the next transaction records: the one set by :func:`acting_as`, else the OS user."""
    return _ACTOR.get() or system_user()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record ``actor`` (a user name) on every audit entry committed inside this block."""
    name = actor.strip()
    if not name:
        raise ValueError("an actor needs a name")
    token = _ACTOR.set(name)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def _on_begin(conn: Any) -> None:
    conn.exec_driver_sql("SELECT set_config('gi.actor', %(actor)s, true)", {"actor": current_actor()})


def install(engine: Engine) -> None:
    """Make every transaction on ``engine`` tell the database who is acting."""
    if not event.contains(engine, "begin", _on_begin):
        event.listen(engine, "begin", _on_begin)
