"""User accounts: add, list, disable, change password; passwords hashed with argon2id (pwdlib)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gi.errors import ConflictError, InputError, NotFoundError
from gi.models import AuthToken, Inspector, Role, User
from gi.settings import Settings, get_settings

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
REGION = re.compile(r"^\d{2}(\d{2}(\d{2})?)?$")
MIN_PASSWORD = 10


@lru_cache(maxsize=4)
def _argon2(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),))


def password_hasher(settings: Settings | None = None) -> PasswordHash:
    """argon2id at the configured cost (default OWASP's minimum: 19 MiB, 2 passes, 1 lane; docs/security.md).
    It verifies hashes of any cost, so passwords stored before a change of cost still sign in."""
    settings = settings or get_settings()
    return _argon2(settings.password_memory_kib, settings.password_time_cost, settings.password_parallelism)


def check_username(username: str) -> str:
    """A user name in its stored form (lower case), or an InputError naming ``username``."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InputError("username", f"{username!r} must be 2-64 letters, digits, '.', '_' or '-'")
    return name


def check_password(password: str) -> str:
    """A password long enough to resist guessing, or an InputError naming ``password``."""
    if len(password) < MIN_PASSWORD:
        raise InputError("password", f"must have at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InputError("password", "must have at most 1024 characters")
    return password


def region_prefix(code: str) -> str:
    """An adcode as the prefix that selects its region: 330000 -> 33, 330100 -> 3301, 330106 -> 330106."""
    code = code.strip()
    if len(code) == 6 and code.isdigit():
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    if not REGION.match(code):
        raise InputError("regions", f"{code!r} is not a province, prefecture or county adcode")
    return code


def add_user(
    session: Session,
    username: str,
    role: Role | str,
    password: str,
    *,
    regions: Sequence[str] = (),
    inspector: str | None = None,
    full_name: str | None = None,
    settings: Settings | None = None,
) -> User:
    """Create an account; an inspector names his directory entry (code), a supervisor his region codes."""
    name = check_username(username)
    try:
        role = Role(role)
    except ValueError:
        raise InputError("role", f"{role!r} is not one of {', '.join(r.value for r in Role)}") from None
    check_password(password)
    prefixes = sorted({region_prefix(c) for c in regions})
    if role is Role.SUPERVISOR and not prefixes:
        raise InputError("regions", "a supervisor needs at least one province, prefecture or county code")
    inspector_id = None
    if role is Role.INSPECTOR:
        if not inspector:
            raise InputError("inspector", "an inspector account names its entry in the inspectors' directory")
        found = session.scalar(select(Inspector).where(Inspector.code == inspector))
        if found is None:
            raise InputError("inspector", f"no inspector {inspector!r} in the directory")
        inspector_id = found.id
        full_name = full_name or found.name
    elif inspector:
        raise InputError("inspector", "only an inspector account names a directory entry")
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise ConflictError(f"username: {name!r} already exists", field="username")
    if inspector_id is not None and session.scalar(select(User.id).where(User.inspector_id == inspector_id)):
        raise ConflictError(f"inspector: {inspector!r} already has an account", field="inspector")
    user = User(
        username=name,
        full_name=full_name,
        role=role,
        regions=prefixes,
        inspector_id=inspector_id,
        password_hash=password_hasher(settings).hash(password),
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> User:
    """The account named ``username``, or NotFoundError."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(f"username: no user {username!r}", field="username")
    return user


def list_users(session: Session) -> list[User]:
    """Every account, by user name."""
    return list(session.scalars(select(User).order_by(User.username)))


def revoke_all_tokens(session: Session, user_id: int) -> int:
    """Revoke every live token of a user; returns how many."""
    now = datetime.now(UTC)
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None), AuthToken.expires_at > now)
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def disable_user(session: Session, username: str) -> User:
    """Disable an account and revoke its tokens at once (kept, so records still name who did what)."""
    user = find_user(session, username)
    if user.disabled_at is None:
        user.disabled_at = datetime.now(UTC)
    revoke_all_tokens(session, user.id)
    session.flush()
    return user


def enable_user(session: Session, username: str) -> User:
    """Re-enable a disabled account (old tokens stay revoked)."""
    user = find_user(session, username)
    user.disabled_at = None
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """Change a password; every token issued before is revoked."""
    user = find_user(session, username)
    user.password_hash = password_hasher().hash(check_password(password))
    user.password_changed_at = datetime.now(UTC)
    revoke_all_tokens(session, user.id)
    session.flush()
    return user
