"""Two small ASGI middlewares: refuse an announced oversized body at once, and set security headers.

The body limit itself is FastAPI's (`max_body_size` of each route, Starlette's RequestBodyLimitMiddleware), which
also stops a body sent without Content-Length as soon as it grows past the limit. A request that announces a size
over its route's limit is answered here instead, before a byte of the body is read: Starlette would answer it with a
bare text 413 whatever the app's handlers say. The app draws the answer (JSON for /api/, otherwise the site's page in
the visitor's language, saying why).
"""

from __future__ import annotations

from typing import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

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
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int],
                 answer: Callable[[Request], Awaitable[Response]]):
        self.app = app
        self.limit_for = limit_for  # the body limit of the route at a path
        self.answer = answer  # what a refused request gets, as the site says it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                announced = int(Headers(scope=scope).get("content-length", ""))
            except ValueError:
                announced = None
            if announced is not None and announced > self.limit_for(scope["path"]):
                response = await self.answer(Request(scope))
                response.headers["connection"] = "close"  # the client may still be sending the body we will not read
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
