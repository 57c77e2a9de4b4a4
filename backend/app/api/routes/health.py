"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import model_state
from app.api.responses import json_response
from app.schemas.health import Health, NotReady, Ready

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(request: Request) -> Response:
    """200 while the process runs, whatever the model's state."""
    state = model_state(request)
    return json_response({"status": "ok", "color": state.color, "revision": state.revision})


@router.get("/ready", response_model=Ready, responses={503: {"model": NotReady, "description": "not ready, and why"}})
async def ready(request: Request) -> Response:
    """200 only after the bundle loaded and its self-test (the example row) succeeded."""
    state = model_state(request)
    if state.service is None:
        return json_response({"status": "not_ready", "phase": state.status, "reason": state.reason}, status_code=503)
    return json_response({"status": "ready", "model_version": state.version, "color": state.color})
