"""Dependencies of the routes: the settings, a database session per request, and the caller.

Every route runs :func:`authorize` (the app adds it globally): it reads the route's roles from
``api.access.ROUTES``, resolves the bearer token to a :class:`~gi.accounts.tokens.Principal` with one query
(for a token seen lately, from a cache, and confirms it with the request's first statement), and answers 401 or
403 before the route runs. Routes take ``Caller`` (maybe anonymous) or ``CurrentUser``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, SessionTransaction

from api.access import BASIC_ROUTES, ROUTES, Access, allowed, is_page
from api.pages.templating import SESSION_COOKIE, wants_html
from api.problems import HTTPProblem
from gi.accounts.scope import Scope, scope_of
from gi.accounts.tokens import (
    Principal,
    PrincipalCache,
    authenticate,
    confirm_token,
    principal_for_token,
)
from gi.audit.actor import set_actor
from gi.db import get_engine
from gi.db.routing import ReadRouter, reading
from gi.settings import Settings, get_settings

oauth2 = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False)


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool, and
# each hop there costs more than the dependency itself (benchmarks/api.py).


async def settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dep)]


# A token whose holder was taken from the cache (authorize) and is still to be confirmed in the database (by the
# request's first statement, or by the group its upload goes with: api/grouping.py).
UNCONFIRMED = "gi.token.unconfirmed"


def invalid_token() -> HTTPProblem:
    """The 401 of a bearer token that is unknown, expired or revoked."""
    return HTTPProblem(
        401,
        "Authorization: the token is unknown, expired or revoked; sign in again",
        field="Authorization",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _confirm_on_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    """Confirm a cached token with the first statement of the request's transaction (in the worker thread that
    runs the route, so the check costs no thread-pool hand-off of its own): nothing is read or written for a
    token revoked meanwhile. The same statement names the actor of the transaction's audit entries."""
    unconfirmed = session.info.pop(UNCONFIRMED, None)
    if unconfirmed is None:
        return
    token, expected, cache = unconfirmed
    if confirm_token(session, connection, token) != expected:
        cache.forget(token)
        raise invalid_token()


if not event.contains(Session, "after_begin", _confirm_on_begin):
    event.listen(Session, "after_begin", _confirm_on_begin)


def _confirm_unused(session: Session) -> None:
    session.connection()  # begins: _confirm_on_begin checks the token (raises when it is no longer valid)
    session.close()


async def _closed(session: Session, io_free: bool = False) -> None:
    """Close ``session``: in the thread pool when it still holds a transaction (the rollback is a round trip),
    at once when it has none (a committed upload, a request that never used the database, an autocommit read).

    A request authorized from the token cache whose route never used this session confirms its token here,
    before the answer is sent (FastAPI closes function-scoped dependencies first).
    """
    if UNCONFIRMED in session.info:
        await run_in_threadpool(_confirm_unused, session)
    if session.in_transaction() and not io_free:
        await run_in_threadpool(session.close)  # rolls back whatever was not committed
    else:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for this request; routes that write commit it themselves before they answer.

    Creating a session does no I/O (it connects at its first statement), so this runs on the event loop.
    """
    engine = getattr(request.app.state, "engine", None) or get_engine()
    session = Session(bind=engine, expire_on_commit=False)
    try:
        yield session
    finally:
        await _closed(session)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A read-only session for this request: on the replica while it is current, else on the primary; in
    autocommit (:func:`gi.db.routing.reading`), so it sends its statements and nothing else.

    For public pages, OGC reads, tiles and dashboards; never for a route that writes or must read its own writes.
    """
    router: ReadRouter | None = getattr(request.app.state, "read_router", None)
    engine: Engine
    if router is None:  # an app built without one reads the primary
        engine = getattr(request.app.state, "engine", None) or get_engine()
    elif router.replica is None:  # no replica: the primary, chosen without I/O
        engine = router.primary
    else:  # asking the replica how far it lags is I/O
        engine = await run_in_threadpool(router.engine)
    session = Session(bind=reading(engine), expire_on_commit=False)
    try:
        yield session
    finally:
        await _closed(session, io_free=True)  # autocommit: nothing to roll back


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def route_roles(request: Request) -> frozenset[Access]:
    """The roles allowed on the route that matched this request."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    method = "GET" if request.method == "HEAD" else request.method
    roles = ROUTES.get((method, path or ""))
    if roles is None:  # the factory checks the table, so this is a bug: refuse rather than open
        raise HTTPProblem(403, f"route {method} {path} has no access entry")
    return roles


BASIC_CHALLENGE = 'Basic realm="GI", charset="UTF-8"'


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """User name and password of an ``Authorization: Basic`` header (None when there is none)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        name, sep, password = "", "", ""
    if not sep:
        raise HTTPProblem(
            401,
            "Authorization: malformed Basic credentials",
            field="Authorization",
            headers={"WWW-Authenticate": BASIC_CHALLENGE},
        )
    return name, password


def _basic_principal(request: Request, session: Session, settings: Settings) -> Principal | None:
    """The caller of a route open to HTTP Basic (ODK Collect), checked like a sign-in (counted, paused)."""
    credentials = basic_credentials(request)
    if credentials is None:
        return None
    if request.url.scheme != "https" and not settings.api_basic_over_http:
        # A password in clear over the network: refused, so a misconfigured proxy is noticed, not exploited.
        raise HTTPProblem(
            403, "Authorization: Basic credentials are accepted only over HTTPS", field="Authorization"
        )
    client = request.client.host if request.client else "unknown"
    checked = authenticate(session, credentials[0], credentials[1], client, settings)
    session.commit()  # a failure is counted even though the answer is 401
    if checked is None:
        raise HTTPProblem(
            401,
            "Authorization: wrong user name or password",
            field="Authorization",
            headers={"WWW-Authenticate": BASIC_CHALLENGE},
        )
    return checked[1]


def _identify(
    request: Request, session: Session, settings: Settings, token: str | None, from_cookie: bool, basic: bool
) -> Principal | None:
    """The holder of ``token`` (or, on routes open to it, of HTTP Basic credentials); database work."""
    principal = principal_for_token(session, token, acting=True) if token else None
    if token and principal is None and not from_cookie:
        raise invalid_token()
    if principal is None and basic:
        principal = _basic_principal(request, session, settings)
    return principal


async def authorize(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> Principal | None:
    """The caller of this request (None = anonymous), after checking the route's roles.

    Routes in ``api.access.BASIC_ROUTES`` (OpenRosa, for ODK Collect) also take HTTP Basic credentials, and
    challenge an anonymous caller with ``WWW-Authenticate: Basic``, as Collect expects. A bearer token this
    process checked lately (``app.state.principals``) is authorized here, on the event loop, and confirmed in
    the database by the request's first statement, which the route sends anyway from its worker thread (or when
    the session closes, before the answer, for a route that never used it): revocation still takes effect at
    once, and an upload makes one thread-pool hand-off instead of two. Any other request with credentials goes to
    the thread pool for its check (one query); an anonymous one is answered here.
    """
    roles = route_roles(request)
    path = route_path(request)
    basic = (("GET" if request.method == "HEAD" else request.method), path) in BASIC_ROUTES
    page = is_page(path)
    from_cookie = False
    if not token and page:  # pages also sign in with the session cookie (api/pages/signin.py)
        token = request.cookies.get(SESSION_COOKIE) or None
        from_cookie = token is not None
    principal = None
    cache: PrincipalCache | None = getattr(request.app.state, "principals", None)
    if token and cache is not None and not from_cookie:
        # Known from an earlier request: authorized here, on the event loop; the token is confirmed in the
        # database by the request's first statement (or when the session closes, if the route never uses it).
        principal = cache.get(token)
        if principal is not None and allowed(roles, principal.role):
            session.info[UNCONFIRMED] = (token, principal, cache)
            request.state.principal = principal
            set_actor(session, principal.username)
            return principal
        principal = None
    if token or (basic and request.headers.get("authorization")):
        principal = await run_in_threadpool(_identify, request, session, settings, token, from_cookie, basic)
        if principal is not None and token and cache is not None and not from_cookie:
            cache.put(token, principal)
    request.state.principal = principal
    if allowed(roles, principal.role if principal else None):
        if principal is not None:
            set_actor(session, principal.username)  # the audit log records who stored what (told at commit)
        return principal
    if principal is None:
        if page and wants_html(request):  # a browser: to the sign-in form, and back here afterwards
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPProblem(
                303, "sign in first", headers={"Location": f"/login?next={quote(target, safe='')}"}
            )
        raise HTTPProblem(
            401,
            "Authorization: sign in first" + ("" if basic or page else " (POST /auth/token)"),
            field="Authorization",
            headers={"WWW-Authenticate": BASIC_CHALLENGE if basic else "Bearer"},
        )
    article = "an" if str(principal.role)[:1] in "aeiou" else "a"
    raise HTTPProblem(403, f"{article} {principal.role} may not call {request.method} {path}")


def route_path(request: Request) -> str:
    """The path template of the matched route."""
    return str(getattr(request.scope.get("route"), "path", request.url.path))


Caller = Annotated[Principal | None, Depends(authorize)]


async def current_user(principal: Caller) -> Principal:
    """The signed-in caller (routes that are never public)."""
    if principal is None:  # only reachable if a route's table entry is PUBLIC by mistake
        raise HTTPProblem(401, "Authorization: sign in first", field="Authorization")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


async def scope_dep(principal: Caller) -> Scope:
    """What the caller may see."""
    return scope_of(principal)


ScopeDep = Annotated[Scope, Depends(scope_dep)]
