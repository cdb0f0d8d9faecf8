"""Who is acting: the name every audit entry records beside the database role.

The command line acts as the operating-system user; the HTTP service names its authenticated user on the
request's session with :func:`set_actor` (or wraps work in :func:`acting_as`). The name reaches the database as
the transaction-local setting ``gi.actor``, which the log reads when it chains a transaction's entries at commit.
So it is told once per transaction, just before the commit (one statement), and only to a transaction that used
the database or has something to flush: a read that never commits costs nothing. A statement that already told
it (the service's token check sets it in the same query, see :func:`gi.accounts.tokens.principal_for_token`)
records that with :func:`told`, and the commit then sends nothing more.
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
_BEGUN_KEY = "gi.actor.begun"  # the current transaction has a connection
_TOLD_KEY = "gi.actor.told"  # the actor the current transaction's gi.actor already holds
_SET = "SELECT set_config('gi.actor', :actor, true)"
SET_ACTOR_SQL = "set_config('gi.actor', {name}, true)"  # to fold into a statement's select list


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


def told(session: Session, actor: str) -> None:
    """Note that a statement of the current transaction set ``gi.actor`` to ``actor`` (with
    :data:`SET_ACTOR_SQL`), so its commit need not tell it again."""
    session.info[_TOLD_KEY] = actor


def _on_begin(session: Session, transaction: Any, connection: Any) -> None:
    session.info[_BEGUN_KEY] = True


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: its root transaction tells at its own commit
        return
    actor = current_actor(session)
    if session.info.get(_TOLD_KEY) == actor:
        return
    if session.info.get(_BEGUN_KEY) or session.new or session.dirty or session.deleted:
        session.execute(text(_SET), {"actor": actor})
        session.info[_TOLD_KEY] = actor


def _on_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the setting is transaction-local: the next transaction starts untold
        session.info.pop(_BEGUN_KEY, None)
        session.info.pop(_TOLD_KEY, None)


def install() -> None:
    """Make every ORM session tell the database who is acting before it commits (idempotent)."""
    if not event.contains(Session, "after_begin", _on_begin):
        event.listen(Session, "after_begin", _on_begin)
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
    if not event.contains(Session, "after_transaction_end", _on_end):
        event.listen(Session, "after_transaction_end", _on_end)
