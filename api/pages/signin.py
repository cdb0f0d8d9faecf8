"""Sign-in for the pages: a form that checks the password like ``POST /auth/token`` (counted failures, pauses)
and keeps the token in an HttpOnly session cookie; sign-out revokes it. Both forms carry a CSRF token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep, SettingsDep
from api.pages.templating import CSRF_COOKIE, SESSION_COOKIE, render, secure
from api.problems import HTTPProblem
from gi.accounts.tokens import login, revoke_token

router = APIRouter(tags=["pages"], include_in_schema=False)


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse a form whose CSRF token is not this browser's (400: the form is stale or from another site)."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), submitted.encode()):
        raise HTTPProblem(
            400, "csrf: the form is stale or was not sent by this site; reload the page", field="csrf"
        )


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after sign-in (never another site: no scheme, no //host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", {"next": safe_next(next, ""), "error": None})


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Check the password and start a session; a wrong one shows the form again with the error."""
    check_csrf(request, csrf)
    client = request.client.host if request.client else "unknown"
    issued = login(session, username, password, client, settings)
    session.commit()  # a failure is counted even though the answer is 401
    if issued is None:
        context = {
            "next": safe_next(next, ""),
            "error": "用户名或密码错误，或账号已停用。",
            "username": username,
        }
        return render(request, "login.html", context)
    staff = issued.principal.role.value in ("supervisor", "admin")
    response = RedirectResponse(safe_next(next, "/dashboard" if staff else "/public"), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(settings.api_token_minutes * 60),
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )
    return response


@router.post("/logout")
def logout_form(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=100)]
) -> RedirectResponse:
    """Revoke the session's token and forget the cookie."""
    check_csrf(request, csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        revoke_token(session, token)
        session.commit()
    response = RedirectResponse("/public", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
