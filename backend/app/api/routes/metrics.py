"""Prometheus scrape endpoint: for keys with the `metrics` scope (Prometheus scrapes each backend directly on
the stack's network with its own key). The scrape-time gauges read the prediction log, so rendering runs in the
thread pool: a scrape never holds up the requests the event loop is serving."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.api.security import requires
from app.auth.scopes import METRICS
from app.core.metrics import Metrics

router = APIRouter(tags=["health"], dependencies=[requires(METRICS)])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry: Metrics = request.app.state.metrics
    return Response(await run_in_threadpool(registry.render), media_type=registry.content_type)
