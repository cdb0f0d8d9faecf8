"""ASGI middleware of the service: request size limits (413) and response security headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        is_json = content_type.startswith(b"application/json")
        limit = self.max_json_bytes if is_json else self.max_bytes
        what = "JSON body" if is_json else "request body"
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(send, limit, what)
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
    async def _refuse(send: Send, limit: int, what: str) -> None:
        body = json.dumps(_too_large(limit, what)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    *_SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
