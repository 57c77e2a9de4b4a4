"""Shared lookups for routes: settings, model state and the ready scoring service."""

from __future__ import annotations

from starlette.requests import Request

from app.core.config import Settings
from app.core.errors import ApiError
from app.core.scoring import ScoringService
from app.core.state import ModelState


def model_state(request: Request) -> ModelState:
    return request.app.state.model


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def ready_service(request: Request) -> ScoringService:
    """The loaded model, or 503 with the reason (loading, missing or broken bundle)."""
    state: ModelState = request.app.state.model
    service = state.service
    if service is None:
        raise ApiError(503, state.reason)
    return service
