"""Sign in (OAuth2 password flow), sign out, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import CurrentUser, SessionDep, SettingsDep, oauth2
from api.problems import HTTPProblem
from gi.accounts.tokens import login, revoke_token
from gi.models import ROLE_ZH

router = APIRouter(tags=["accounts"])


class TokenOut(BaseModel):
    """An access token (OAuth2 bearer) and when it expires."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class Me(BaseModel):
    """The signed-in user: role, region or inspector entry."""

    username: str
    full_name: str | None
    role: str
    role_zh: str
    regions: list[str]
    inspector: str | None


@router.post(
    "/auth/token",
    summary="Sign in: user name and password for a bearer token",
    response_model=TokenOut,
    responses={
        401: {"description": "Wrong user name or password"},
        429: {"description": "Too many failures"},
    },
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    """Check the password (argon2) and issue a token that expires; failed attempts are counted and paused."""
    client = request.client.host if request.client else "unknown"
    issued = login(session, form.username, form.password, client, settings)
    session.commit()  # a failure is counted even though the answer is 401
    if issued is None:
        raise HTTPProblem(
            401,
            "username: wrong user name or password, or the account is disabled",
            field="username",
            headers={"WWW-Authenticate": "Bearer"},
        )
    seconds = int(settings.api_token_minutes * 60)
    return TokenOut(access_token=issued.token, expires_in=seconds, role=issued.principal.role.value)


@router.post("/auth/logout", summary="Sign out: revoke this token", status_code=204)
def sign_out(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> None:
    """Revoke the token of this request at once."""
    if token:
        revoke_token(session, token)
        session.commit()
        cache = getattr(request.app.state, "principals", None)
        if cache is not None:  # (every request confirms its token anyway: this only spares the next a try)
            cache.forget(token)


@router.get("/users/me", summary="The signed-in user", response_model=Me)
def me(user: CurrentUser) -> Me:
    """Role and scope of the caller."""
    return Me(
        username=user.username,
        full_name=user.full_name,
        role=user.role.value,
        role_zh=ROLE_ZH[user.role],
        regions=list(user.regions),
        inspector=user.inspector_code,
    )
