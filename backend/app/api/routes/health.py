"""Liveness and readiness: open to anyone (Docker's health check, load balancers); an authenticated caller (any
valid key, e.g. the deploy CLI's gates) also learns the color, model version, revision and the reason for not
being ready. A bad credential is refused (401) rather than ignored."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import model_state
from app.api.responses import json_response
from app.api.security import optional_caller
from app.auth.callers import Authenticator
from app.core.errors import ApiError
from app.schemas.health import Health, NotReady, Ready

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(request: Request) -> Response:
    """200 while the process runs, whatever the model's or the key store's state."""
    try:
        caller = optional_caller(request)
    except ApiError as exc:
        if exc.status_code != 503:  # an unusable key store: alive all the same
            raise
        caller = None
    if caller is None:
        return json_response({"status": "ok"})
    state = model_state(request)
    return json_response({"status": "ok", "color": state.color, "revision": state.revision})


@router.get("/ready", response_model=Ready, responses={503: {"model": NotReady, "description": "not ready, and why"}})
async def ready(request: Request) -> Response:
    """200 only after the bundle loaded and its self-test (the example row) succeeded, with a usable API key
    store (without one nobody could call the scoring routes)."""
    caller = optional_caller(request)  # a credential while the key store is unusable: 503 naming the reason
    state = model_state(request)
    authenticator: Authenticator = request.app.state.auth
    problem = authenticator.store.problem
    if state.service is None or problem is not None:
        if caller is None:
            return json_response({"status": "not_ready"}, status_code=503)
        phase, reason = (state.status, state.reason) if state.service is None else ("failed", problem)
        return json_response({"status": "not_ready", "phase": phase, "reason": reason}, status_code=503)
    if caller is None:
        return json_response({"status": "ready"})
    return json_response({"status": "ready", "model_version": state.version, "color": state.color})
