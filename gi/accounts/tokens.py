"""Sign-in: passwords checked against argon2 hashes, failed logins paused, opaque tokens stored as SHA-256.

A token is 256 random bits shown once to its holder; the database keeps only its SHA-256, its expiry and its
revocation, so one query answers "who is this" and a stolen table signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, text, update
from sqlalchemy.orm import Session

from gi.accounts.users import password_hasher
from gi.audit.actor import SET_ACTOR_SQL, set_actor, told
from gi.errors import RateLimitedError
from gi.models import AuthToken, LoginFailure, Role, User
from gi.settings import Settings, get_settings

TOKEN_PREFIX = "gi_"
# A hash to verify against when the user name is unknown, so timing does not tell which names exist.
_DUMMY_PASSWORD = "not-a-password-of-anyone"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account with its role and scope (region prefixes, or his inspector entry)."""

    user_id: int
    username: str
    role: Role
    regions: tuple[str, ...] = ()
    inspector_id: int | None = None
    inspector_code: str | None = None
    full_name: str | None = None

    @property
    def actor(self) -> str:
        """How audit entries name this caller."""
        return f"user:{self.username}"


@dataclass(frozen=True)
class IssuedToken:
    """A new access token: shown once to its holder, never stored in clear."""

    token: str
    expires_at: datetime
    principal: Principal


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_dummy_hash: str | None = None


def _verify(password: str, stored: str | None, settings: Settings) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored``, and its hash at the configured cost when ``stored`` was made
    at another one (None when it is current)."""
    global _dummy_hash
    hasher = password_hasher(settings)
    if stored is None:
        _dummy_hash = _dummy_hash or hasher.hash(_DUMMY_PASSWORD)
        hasher.verify(password, _dummy_hash)
        return False, None
    try:
        ok, updated = hasher.verify_and_update(password, stored)
    except Exception:  # a malformed stored hash signs no one in
        return False, None
    return bool(ok), updated


def _pause(session: Session, column: Any, value: str, limit: int, window: timedelta) -> int | None:
    """Seconds until the oldest counted failure leaves the window, when ``limit`` failures are in it."""
    now = datetime.now(UTC)
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > now - window)
    ).one()
    if count < limit:
        return None
    return max(1, int((oldest + window - now).total_seconds()) + 1)


def authenticate(
    session: Session, username: str, password: str, client: str, settings: Settings | None = None
) -> tuple[User, Principal] | None:
    """Check a user name and password; None for wrong credentials (the failure is counted).

    After ``api_login_failures`` failures for one user name (or four times as many from one client) within
    ``api_login_window_s``, attempts are refused with RateLimitedError until the window has moved on, without
    checking the password, so guessing is slow even for a correct guess. Token sign-in and HTTP Basic (ODK
    Collect) both go through here.
    """
    settings = settings or get_settings()
    name = username.strip().lower()[:64]
    client = client[:64]
    window = timedelta(seconds=settings.api_login_window_s)
    wait = _pause(session, LoginFailure.username, name, settings.api_login_failures, window) or _pause(
        session, LoginFailure.client, client, 4 * settings.api_login_failures, window
    )
    if wait is not None:
        raise RateLimitedError(
            f"username: too many failed logins; try again in {wait} s", retry_after=wait, field="username"
        )
    user = session.scalar(select(User).where(User.username == name))
    ok, rehashed = _verify(password, user.password_hash if user is not None else None, settings)
    if user is None or not ok or user.disabled_at is not None:
        session.add(LoginFailure(username=name, client=client))
        session.flush()
        return None
    if rehashed is not None:  # stored at another cost than the configured one: stored again at this one
        user.password_hash = rehashed
    session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    return user, principal_of(session, user)


def login(
    session: Session, username: str, password: str, client: str, settings: Settings | None = None
) -> IssuedToken | None:
    """Check a password (:func:`authenticate`) and issue a token; None for wrong credentials."""
    settings = settings or get_settings()
    checked = authenticate(session, username, password, client, settings)
    if checked is None:
        return None
    user, principal = checked
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(minutes=settings.api_token_minutes)
    session.add(
        AuthToken(token_sha256=token_digest(token), user_id=user.id, expires_at=expires, client=client[:64])
    )
    session.flush()
    return IssuedToken(token, expires, principal)


def principal_of(session: Session, user: User) -> Principal:
    """The principal of an account."""
    code = user.inspector.code if user.inspector_id is not None and user.inspector is not None else None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        regions=tuple(user.regions or ()),
        inspector_id=user.inspector_id,
        inspector_code=code,
        full_name=user.full_name,
    )


_WHO_SQL = """
    SELECT u.id, u.username, u.role, u.regions, u.inspector_id, i.code, u.full_name{actor}
    FROM auth_token t JOIN app_user u ON u.id = t.user_id LEFT JOIN inspector i ON i.id = u.inspector_id
    WHERE t.token_sha256 = :digest AND t.revoked_at IS NULL AND t.expires_at > now()
      AND u.disabled_at IS NULL
    """
_WHO = text(_WHO_SQL.format(actor=""))
# The same check telling the audit log who acts (evaluated only for the row found): the service's requests send
# no separate statement for it (gi.audit.actor).
_WHO_ACTING = text(_WHO_SQL.format(actor=", " + SET_ACTOR_SQL.format(name="u.username")))


def principal_for_token(session: Session, token: str, acting: bool = False) -> Principal | None:
    """Who holds ``token``: None when it is unknown, expired, revoked, or its account is disabled.

    Checked in the database on every call, so a revoked token or a disabled account is refused at once. With
    ``acting``, the same statement names the holder as the actor of the session's transaction (its audit
    entries), as :func:`gi.audit.actor.set_actor` would.
    """
    return _who(session, session, token, acting)


def confirm_token(session: Session, connection: Connection, token: str) -> Principal | None:
    """:func:`principal_for_token` with ``acting``, sent on ``connection``: the one ``session``'s transaction has
    just begun on (from its ``after_begin`` event, where the session itself must not be re-entered)."""
    return _who(session, connection, token, True)


def _who(session: Session, db: Session | Connection, token: str, acting: bool) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = db.execute(_WHO_ACTING if acting else _WHO, {"digest": token_digest(token)}).first()
    if row is None:
        return None
    if acting:
        set_actor(session, row[1])
        told(session, row[1])
    return Principal(
        user_id=row[0],
        username=row[1],
        role=Role(row[2]),
        regions=tuple(row[3] or ()),
        inspector_id=row[4],
        inspector_code=row[5],
        full_name=row[6],
    )


class PrincipalCache:
    """The holders of tokens this process has checked lately, so that a request can be authorized on the event
    loop without waiting for the database.

    It never stands in for the check: whoever uses a cached principal still confirms the token in the database
    within the same request (the service does it in the request's own transaction, api/deps.py), so revoking a
    token or disabling an account takes effect at once. It only saves the wait (a thread-pool hand-off) before
    the route can start. Bounded: at ``size`` entries the oldest half is dropped.
    """

    def __init__(self, ttl_s: float = 60.0, size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        """The principal cached for ``token``, if it was checked less than ``ttl_s`` ago."""
        entry = self._entries.get(token_digest(token))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        """Remember that ``token`` was just found to belong to ``principal``."""
        entries = self._entries
        if len(entries) >= self.size:  # dicts keep insertion order: the first half are the oldest
            for key in list(entries)[: self.size // 2]:
                entries.pop(key, None)
        entries[token_digest(token)] = (time.monotonic() + self.ttl_s, principal)

    def forget(self, token: str) -> None:
        """Drop ``token`` (signed out, or found no longer valid)."""
        self._entries.pop(token_digest(token), None)


def revoke_token(session: Session, token: str) -> bool:
    """Revoke one token (sign out); True when it was live."""
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.token_sha256 == token_digest(token), AuthToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(getattr(result, "rowcount", 0))


def purge_expired(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete tokens expired (and failed logins) longer ago than ``older_than``; returns tokens deleted."""
    cutoff = datetime.now(UTC) - older_than
    session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))
    result = session.execute(delete(AuthToken).where(AuthToken.expires_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
