"""The pages' Jinja2 environment, the static files they load, and the rendering of a page or an error page."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gi.settings import get_settings
from sampling.dashboard import region_label

HERE = Path(__file__).resolve().parent
STATIC = "/static"
MAP_ASSETS = "/static/vendor"
SESSION_COOKIE = "gi_session"
CSRF_COOKIE = "gi_csrf"
CSRF_FIELD = "csrf"

templates = Jinja2Templates(directory=HERE / "templates")

# Pages load only their own origin's files: scripts from /static, no inline script. MapLibre draws on a canvas
# from a worker it starts from a blob: URL and decodes tiles into blob: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "worker-src 'self' blob:; child-src blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def _local(value: datetime | None) -> datetime | None:
    from gi.settings import get_settings

    return value.astimezone(ZoneInfo(get_settings().timezone)) if value is not None else None


def format_day(value: date | datetime | None) -> str:
    """2025年04月01日 (local date of a timestamp)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _local(value) or value
    return f"{value:%Y年%m月%d日}"


def format_time(value: datetime | str | None) -> str:
    """2025-04-01 09:30 in local time (of a timestamp, or of ISO 8601 text as the published files write it; a
    bare date stays a date), so every moment on the pages reads alike."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 10:
            return text or "—"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
        if value.tzinfo is None:
            return f"{value:%Y-%m-%d %H:%M}"
    local = _local(value)
    return "—" if local is None else f"{local:%Y-%m-%d %H:%M}"


def format_count(value: int | float | None) -> str:
    """12,345 (— when unknown)."""
    return "—" if value is None else f"{value:,}"


templates.env.filters["day"] = format_day
templates.env.filters["time"] = format_time
templates.env.filters["count"] = format_count
templates.env.filters["region"] = region_label
templates.env.globals["STATIC"] = STATIC
templates.env.globals["MAP_ASSETS"] = MAP_ASSETS


def mount_static(app: FastAPI) -> None:
    """Serve the pages' own CSS and JS, and the vendored map libraries (maps/assets), from this origin (gzip when
    accepted; the versioned libraries immutable)."""
    from api.pages.assets import AssetFiles
    from maps.vendor_assets import ASSETS_DIR

    # the vendored libraries sit in folders named by their version: cached for good
    app.mount(f"{MAP_ASSETS}", AssetFiles(directory=ASSETS_DIR, immutable=True), name="vendor")
    app.mount(STATIC, AssetFiles(directory=HERE / "static"), name="static")


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (double-submit: a cookie and the same value in every form)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
    request.state.new_csrf = token
    return token


def secure(request: Request) -> bool:
    """True when the browser reached us over HTTPS (directly or through the proxy's scheme)."""
    return request.url.scheme == "https"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A page: the template with the caller, the CSRF token and the navigation; signed-in pages are not cached."""
    principal = getattr(request.state, "principal", None)
    values = {
        "user": principal,
        "csrf": csrf_token(request),
        "path": request.url.path,
        # Official PDFs name their issuer; without one configured the pages say so instead of offering them.
        "issuer": (get_settings().issuing_office or "").strip(),  # blank is none, as the reports judge it
    } | (context or {})
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if principal is not None:
        response.headers["Cache-Control"] = "no-store"
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=secure(request), path="/"
        )
    return response


def wants_html(request: Request) -> bool:
    """True for a browser's page request (it asks for text/html)."""
    return "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request, status: int, detail: str, title: str, field: str | None = None
) -> HTMLResponse:
    """An error as a page in Chinese, for browsers on page routes (API clients get problem+json): what went wrong
    in Chinese, the problem's precise English detail in small print below it."""
    from api.pages.explain import explain_zh

    context = {
        "status": status,
        "detail": detail,
        "title": title,
        "explanation": explain_zh(status, detail, field),
    }
    return render(request, "error.html", context, status)
