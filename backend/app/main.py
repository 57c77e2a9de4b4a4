"""The FastAPI application factory; `python -m app` (app/__main__.py) serves it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.errors import install_error_handlers
from app.api.middleware import (
    DeploymentHeadersMiddleware,
    ForwardedPrefixMiddleware,
    RequestMetricsMiddleware,
    UnhandledErrorMiddleware,
)
from app.api.openapi import install_openapi
from app.api.routes import audit, health, metrics, model, monitoring, outcomes, predict
from app.auth.callers import Authenticator
from app.auth.key_store import KeyStore
from app.auth.usage import KeyUsage
from app.core.coalescer import InlineScorer, RowCoalescer
from app.core.config import Settings, get_settings
from app.core.metrics import Metrics
from app.core.state import ModelState, start_loader
from app.monitoring.drift_metrics import DriftCollector
from app.monitoring.outcome_metrics import OutcomeCollector
from app.monitoring.outcome_service import OutcomeService
from app.monitoring.service import Monitoring
from app.monitoring.shadow import ShadowReports
from app.monitoring.shadow_metrics import ShadowCollector

API_VERSION = "1.0.0"
DESCRIPTION = (
    "Default-risk scoring of loan applicants. The request schema is generated from the served "
    "model's bundle. Every route but /health and /ready needs an API key (`Authorization: Bearer <key>`) "
    "with the route's scope. Errors: `{detail, errors: [{row, field, message}]}`."
)
TELEMETRY_OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def configure_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(level)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app (own model state and metrics registry); the bundle loads in the background at start-up."""
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)
    state = ModelState(settings.DEPLOY_COLOR, settings.APP_REVISION)
    metrics_registry = Metrics(state)
    state.listeners.append(metrics_registry.observe_predictions)
    prediction_monitoring = Monitoring(settings, state.color, metrics_registry.count_log_failures)
    state.listeners.append(prediction_monitoring.observe)
    metrics_registry.registry.register(DriftCollector(state, prediction_monitoring))
    shadow_reports = ShadowReports(settings, prediction_monitoring)
    metrics_registry.registry.register(ShadowCollector(shadow_reports))
    outcome_service = OutcomeService(settings, prediction_monitoring)
    metrics_registry.registry.register(OutcomeCollector(state, outcome_service))
    usage_path = settings.PREDICTION_LOG_PATH if settings.PREDICTION_LOG_ENABLED else None
    key_usage = KeyUsage(usage_path, state.color, settings.KEY_USAGE_FLUSH_S)
    authenticator = Authenticator(
        KeyStore(settings.API_KEYS_PATH, settings.API_KEYS_RECHECK_S),
        key_usage.touch,
        metrics_registry.count_auth_refusal,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prediction_monitoring.start()
        outcome_service.start()
        key_usage.start()
        authenticator.store.check()  # read the key store now: a missing one is in the log at start-up
        app.state.loader = start_loader(state, settings)
        yield
        key_usage.close()
        prediction_monitoring.close()

    app = FastAPI(
        title="Credit default scoring API",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
        telemetry=TELEMETRY_OFF,
    )
    app.state.settings = settings
    app.state.model = state
    app.state.metrics = metrics_registry
    app.state.monitoring = prediction_monitoring
    app.state.outcomes = outcome_service
    app.state.shadow = shadow_reports
    app.state.auth = authenticator
    app.state.key_usage = key_usage
    app.state.coalescer = RowCoalescer() if settings.COALESCE_SINGLE_ROWS else InlineScorer()
    routers = (predict, health, model, metrics, monitoring, audit, outcomes)
    for module in routers:
        app.include_router(module.router)
    install_error_handlers(app)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(DeploymentHeadersMiddleware, state=state, authenticator=authenticator)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics_registry)
    app.add_middleware(ForwardedPrefixMiddleware)
    install_openapi(app, state, settings)
    return app
