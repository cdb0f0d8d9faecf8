"""Who is acting: the name every audit entry records beside the database role.

The command line acts as the operating-system user; the HTTP service names its authenticated user on the
request's session with :func:`set_actor` (or wraps work in :func:`acting_as`). The name reaches the database as
the transaction-local setting ``gi.actor``, set when each session transaction begins (one statement each).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

_ACTOR: ContextVar[str | None] = ContextVar("gi_audit_actor", default=None)
_INFO_KEY = "gi.actor"
_SET = "SELECT set_config('gi.actor', :actor, true)"


@cache
def system_user() -> str:
    """The operating-system user running this process (the CLI's actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


def current_actor(session: Session | None = None) -> str:
    """The actor a transaction records: the session's (:func:`set_actor`), the block's (:func:`acting_as`), or
    the OS user."""
    named = session.info.get(_INFO_KEY) if session is not None else None
    return str(named or _ACTOR.get() or system_user())


def _clean(actor: str) -> str:
    name = actor.strip()
    if not name:
        raise ValueError("an actor needs a name")
    return name


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record ``actor`` (a user name) on every audit entry committed inside this block (this thread/task)."""
    token = _ACTOR.set(_clean(actor))
    try:
        yield
    finally:
        _ACTOR.reset(token)


def set_actor(session: Session, actor: str) -> None:
    """Record ``actor`` on every entry this session commits from now on (the service: the signed-in user)."""
    session.info[_INFO_KEY] = _clean(actor)
    if session.in_transaction():
        session.execute(text(_SET), {"actor": session.info[_INFO_KEY]})


def _on_begin(session: Session, transaction: Any, connection: Any) -> None:
    connection.execute(text(_SET), {"actor": current_actor(session)})


def install() -> None:
    """Make every ORM session tell the database who is acting when a transaction begins (idempotent)."""
    if not event.contains(Session, "after_begin", _on_begin):
        event.listen(Session, "after_begin", _on_begin)
