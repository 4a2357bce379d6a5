"""Two small ASGI middlewares: refuse an announced oversized body at once, and set security headers.

The body limit itself is FastAPI's (`max_body_size`, Starlette's RequestBodyLimitMiddleware), which also stops a
body sent without Content-Length as soon as it grows past the limit. A request that announces its size is
answered here instead, before a byte of the body is read, with a message a person understands (JSON for /api/,
otherwise the site's upload page in the visitor's language, saying why).
"""

from __future__ import annotations

import json
from typing import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pipeline.web.i18n import LANG_COOKIE, Messages, request_language

# Pages, styles and scripts come from this server only; nothing is loaded from elsewhere, nothing framed.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class AnnouncedSizeLimit:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_mb: int, messages: Messages,
                 page: Callable[[Request], Awaitable[Response]]):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_mb = max_upload_mb
        self.messages = messages
        self.page = page  # the page a browser gets, as the site draws it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            try:
                announced = int(headers.get("content-length", ""))
            except ValueError:
                announced = None
            if announced is not None and announced > self.max_body_bytes:
                await self._refuse(scope, headers, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, headers: Headers, receive: Receive, send: Send) -> None:
        # "connection: close": the client may still be sending the body we will not read.
        if not scope["path"].startswith("/api/"):
            response = await self.page(Request(scope))
            response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        lang = request_language(cookie_parser(headers.get("cookie", "")).get(LANG_COOKIE), headers.get("accept-language"))
        message = self.messages.translator(lang)("check.too_large", mb=self.max_upload_mb)
        body = json.dumps({"status": "error", "error_code": "file_too_large", "message": message,
                           "practices": []}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"), *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in SECURITY_HEADERS if h[0] not in present]
            await send(message)

        await self.app(scope, receive, with_headers)
