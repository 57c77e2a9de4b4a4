"""Pure ASGI middleware (cheaper per request than Starlette's BaseHTTPMiddleware)."""

from __future__ import annotations

import json
import logging
import re
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.security import caller_of
from app.auth.callers import Authenticator
from app.core.errors import ApiError
from app.core.metrics import UNMATCHED_ROUTE, Metrics
from app.core.state import ModelState

logger = logging.getLogger(__name__)

PREFIX_PATTERN = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


class ForwardedPrefixMiddleware:
    """Behind nginx (`/api/` stripped, `X-Forwarded-Prefix: /api`) the prefix becomes the root_path,
    so /api/docs loads /api/openapi.json and "Try it out" calls /api/predict."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-forwarded-prefix":
                    prefix = value.decode("latin-1").rstrip("/")
                    if PREFIX_PATTERN.match(prefix):
                        scope["root_path"] = scope.get("root_path", "") + prefix
                    break
        await self.app(scope, receive, send)


class DeploymentHeadersMiddleware:
    """X-Deployment-Color, X-Model-Version and X-App-Revision on every response to an authenticated caller
    (anonymous callers learn nothing about the deployment). Routes that check a key leave the caller in the
    request's state; for the others (docs, routing errors) a valid key presented is checked here."""

    def __init__(self, app: ASGIApp, state: ModelState, authenticator: Authenticator) -> None:
        self.app = app
        self.state = state
        self.authenticator = authenticator

    def _authenticated(self, scope: Scope) -> bool:
        if caller_of(scope) is not None:
            return True
        headers = Headers(scope=scope)
        if "authorization" not in headers:
            return False
        try:
            return self.authenticator.caller(headers) is not None
        except ApiError:
            return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and self._authenticated(scope):
                message["headers"] = [*message.get("headers", ()), *self.state.response_headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestMetricsMiddleware:
    """Count and time every request by route template (not raw path), method and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            self.metrics.observe_request(template, scope["method"], status, time.perf_counter() - started)


class UnhandledErrorMiddleware:
    """The last line: an unexpected exception becomes a JSON 500 (with the deployment headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking_start)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            body = json.dumps({"detail": "internal server error", "errors": []}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
