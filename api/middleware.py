"""ASGI middleware of the service: request size limits (413), NUL characters in the path or query (400), and
response security headers. On the OpenRosa routes (``/odk/``) a refusal is an ``OpenRosaResponse`` in Chinese, as
ODK Collect shows it, rather than problem+json."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.openrosa_xml import OPENROSA_XML, body_too_large_zh, is_openrosa, openrosa_headers, openrosa_message
from api.problems import PROBLEM_JSON, HTTPProblem

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
]


def _too_large(limit: int, what: str) -> dict[str, Any]:
    return {
        "type": "urn:gi:problem:too_large",
        "title": "Too large",
        "status": 413,
        "detail": f"body: the {what} is larger than {limit} bytes",
        "field": "body",
    }


def _has_nul(scope: Scope) -> bool:
    """A NUL character in the path or the query string (raw or percent-encoded): no route can take it, and the
    database refuses it in text, so it is a bad request before any route runs."""
    raw = scope.get("raw_path") or b""
    query = scope.get("query_string") or b""
    return "\x00" in scope.get("path", "") or any(b"\x00" in part or b"%00" in part for part in (raw, query))


class LimitsAndHeaders:
    """Refuse bodies above the configured limits with 413 (by Content-Length at once, or while streaming),
    and add security headers; signed-in answers are marked ``Cache-Control: no-store`` unless the route chose its own caching."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = b""
        length: bytes | None = None
        authorized = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name == b"authorization":
                authorized = True
        if _has_nul(scope):
            await self._refuse_nul(scope, send)
            return
        is_json = content_type.startswith(b"application/json")
        limit = self.max_json_bytes if is_json else self.max_bytes
        what = "JSON body" if is_json else "request body"
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(scope, send, limit, what)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPProblem(413, f"body: the {what} is larger than {limit} bytes", field="body")
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                # (a route that sets its own caching, such as a map tile with its ETag, keeps it)
                if authorized and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, limited_receive, send_with_headers)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int, what: str) -> None:
        if is_openrosa(scope.get("path", "")):
            xml = openrosa_message(body_too_large_zh(limit), "error").encode()
            extra = [(k.lower().encode(), v.encode()) for k, v in openrosa_headers().items()]
            await _answer(send, 413, OPENROSA_XML.encode(), xml, extra)
            return
        await _answer(send, 413, PROBLEM_JSON.encode(), json.dumps(_too_large(limit, what)).encode())

    @staticmethod
    async def _refuse_nul(scope: Scope, send: Send) -> None:
        detail = "path: the path or query contains a NUL character (%00)"
        if is_openrosa(scope.get("path", "")):
            xml = openrosa_message(f"请求有误：{detail}", "error").encode()
            extra = [(k.lower().encode(), v.encode()) for k, v in openrosa_headers().items()]
            await _answer(send, 400, OPENROSA_XML.encode(), xml, extra)
            return
        problem = {
            "type": "urn:gi:problem:bad_input",
            "title": "Bad request",
            "status": 400,
            "detail": detail,
            "field": "path",
        }
        await _answer(send, 400, PROBLEM_JSON.encode(), json.dumps(problem).encode())


async def _answer(
    send: Send, status: int, media_type: bytes, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer at once, before the route (and without reading the body: the connection is closed after it)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(extra or []),
                *_SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
