"""One router per resource: health, model, predict, metrics; the scoring routes' fast lane."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette._utils import get_route_path  # what Starlette's and FastAPI's routers match on
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response
from app.core.errors import ApiError


class ScoringRoutes:
    """Serves a router's routes (endpoints that take only the Request) straight from the middleware
    stack, inside this app's own middleware and before FastAPI's: skipping its exception, exit-stack,
    body-limit and telemetry layers and the route table saves ~20 us per request (measured A/B:
    +10 % single-row throughput at c=8, p50 at c=1 down ~20 us). The APIRoutes still describe these
    endpoints in the OpenAPI document; errors leave in the same shape; scope["route"] is set as
    FastAPI does (metrics label by template)."""

    def __init__(self, app: ASGIApp, router: APIRouter) -> None:
        self.app = app
        self.routes = {route.path: route for route in router.routes if isinstance(route, APIRoute)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(get_route_path(scope)) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        if scope["method"] not in route.methods:
            allowed = ", ".join(sorted(route.methods))
            response = error_response(ApiError(405, "Method Not Allowed"), headers={"Allow": allowed})
        else:
            try:
                response = await route.endpoint(Request(scope, receive))
            except ApiError as exc:
                response = error_response(exc)
        await response(scope, receive, send)
