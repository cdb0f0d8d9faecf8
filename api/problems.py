"""How the HTTP service answers an error: one table from error kind to status, RFC 9457 problem details.

The CLI's table is ``api/errors.py`` (kind -> exit code); this is its HTTP mirror. Every error a route raises,
ours or a library's, goes through :func:`gi.errors.classify`, so no route keeps its own list of exceptions, and
no stack trace or SQL reaches a client (a failure is logged here with its traceback and answered in one line).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access import is_page
from gi.errors import ErrorKind, Problem, classify, field_list

log = logging.getLogger("gi.api")

PROBLEM_JSON = "application/problem+json"

STATUS: dict[ErrorKind, int] = {
    ErrorKind.BAD_INPUT: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.LIMITED: 429,
    ErrorKind.FAILURE: 500,
}

TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict with what is stored",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Internal error",
    503: "Unavailable; retry later",
}


class ProblemResponse(JSONResponse):
    """A JSON response with the problem+json media type (ASCII-escaped: it may quote broken input)."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        """The body as ASCII JSON, so an unpaired surrogate quoted from the input cannot break it."""
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def jsonable(value: object) -> object:
    """``value`` with everything JSON has no type for (dates, decimals, UUIDs) as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def problem(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    """An RFC 9457 problem response: ``detail`` is one line; ``field`` names what is wrong."""
    body: dict[str, Any] = {
        "type": f"urn:gi:problem:{kind}" if kind else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field:
        body["field"] = field
    body.update({k: jsonable(v) for k, v in extra.items() if v is not None})
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def from_problem(p: Problem, errors: list[dict[str, Any]] | None = None) -> ProblemResponse:
    """The response of a classified error."""
    status = STATUS[p.kind]
    headers: dict[str, str] = {}
    if p.retry_after is not None or p.kind is ErrorKind.UNAVAILABLE:
        headers["Retry-After"] = str(p.retry_after or 5)
    differences = None
    if p.differences:
        differences = {
            name: {"stored": jsonable(pair[0]), "submitted": jsonable(pair[1])}
            for name, pair in p.differences.items()
        }
    return problem(
        status,
        p.message,
        field=p.field,
        kind=p.kind.value,
        headers=headers,
        differences=differences,
        errors=errors,
    )


def _validation_field(loc: Any) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_detail(errors: Sequence[Mapping[str, Any]], default: str = "body") -> tuple[str, str]:
    """The field and one-line detail of a validation failure: every unknown field named at once, else the first
    problem."""
    unknown = [_validation_field(e.get("loc", ())) for e in errors if e.get("type") == "extra_forbidden"]
    if unknown:
        return unknown[0], f"{unknown[0]}: unknown field; not taken here: {field_list(unknown)}"
    first = errors[0] if errors else {"loc": (default,), "msg": "invalid"}
    name = _validation_field(first.get("loc", ())) if first.get("loc") else default
    return name, f"{name}: {first.get('msg')}"


async def _on_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if errors and errors[0].get("type") == "json_invalid":
        return problem(400, "body: not valid JSON", field="body", kind="bad_input")
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid"}
    name, detail = validation_detail(errors)
    where = str(first.get("loc", ("body",))[0]) if first.get("loc") else "body"
    listed = [
        {"field": _validation_field(e.get("loc", ())), "problem": str(e.get("msg"))} for e in errors[:20]
    ]
    # A malformed query, path or header parameter is a bad request; a body that fails its schema is 422.
    status = 400 if where in ("query", "path", "header", "cookie") else 422
    return problem(status, detail, field=name, kind="bad_input", errors=listed)


async def _on_http(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    field = getattr(exc, "field", None)
    return problem(exc.status_code, detail, field=field, headers=exc.headers)


def classify_request_error(request: Request, exc: Exception) -> tuple[Problem, str | None]:
    """The problem an error of a request is (gi.errors.classify) and, for a failure, the incident id under
    which its traceback is logged (every face answers a failure with that id, never the traceback)."""
    p = classify(exc)
    if p.kind is ErrorKind.FAILURE and isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
        p = classify(exc.exceptions[0])  # anyio wraps a task's error in a group
    if p.kind is not ErrorKind.FAILURE:
        return p, None
    incident = uuid.uuid4().hex[:12]
    log.error("internal error %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
    return p, incident


async def _on_error(request: Request, exc: Exception) -> ProblemResponse:
    p, incident = classify_request_error(request, exc)
    if incident is not None:
        return problem(500, f"internal error; incident {incident} is in the service log", kind="failure")
    if p.kind is ErrorKind.UNAVAILABLE:
        log.warning("unavailable on %s %s: %s", request.method, request.url.path, p.message)
    rows = getattr(exc, "problems", None)
    if isinstance(rows, list) and rows and hasattr(rows[0], "text"):  # a file's row problems, each named
        return from_problem(
            p, errors=[{"row": r.row, "field": r.column, "problem": r.text()} for r in rows[:200]]
        )
    return from_problem(p)


def _for_pages(handler: Any) -> Any:
    """``handler``, answering a browser on a page route (``api.access.is_page``) with an error page in Chinese
    instead of problem details; API clients keep problem+json."""

    async def handle(request: Request, exc: Exception) -> Response:
        response: ProblemResponse = await handler(request, exc)
        route_path = str(getattr(request.scope.get("route"), "path", request.url.path))
        if response.status_code < 400 or not is_page(route_path):
            return response
        from api.pages.templating import error_page, wants_html

        if not wants_html(request):
            return response
        body = json.loads(bytes(response.body))
        page = error_page(
            request,
            response.status_code,
            str(body.get("detail", "")),
            PAGE_TITLES.get(response.status_code, str(body.get("title", "错误"))),
            str(body["field"]) if body.get("field") else None,
        )
        for name in ("retry-after", "www-authenticate"):
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    return handle


PAGE_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "未找到",
    409: "与已有记录冲突",
    413: "内容过大",
    422: "填写有误",
    429: "尝试过于频繁",
    500: "系统内部错误",
    503: "服务暂不可用",
}


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with problem details (an error page for browsers on page routes)."""
    app.add_exception_handler(RequestValidationError, _for_pages(_on_validation))
    app.add_exception_handler(StarletteHTTPException, _for_pages(_on_http))
    # Our errors and the database's are answered by the exception middleware (not re-raised as a crash);
    # anything else reaches the catch-all, which logs it and answers 500 without internals.
    from sqlalchemy.exc import DBAPIError

    from gi.errors import GIError

    app.add_exception_handler(GIError, _for_pages(_on_error))
    app.add_exception_handler(DBAPIError, _for_pages(_on_error))
    app.add_exception_handler(Exception, _for_pages(_on_error))


class HTTPProblem(HTTPException):
    """An HTTP error a face raises itself (401, 403, 406, 415), with the field it concerns."""

    def __init__(
        self, status_code: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, detail, headers)
        self.field = field
