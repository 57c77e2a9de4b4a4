"""Production monitoring: prediction volume and drift over a recent window."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import ready_service
from app.api.responses import error_docs, json_response
from app.api.security import requires
from app.auth.scopes import READ
from app.core.errors import ApiError
from app.monitoring.service import Monitoring, Traffic
from app.monitoring.shadow import ShadowReports
from app.monitoring.summary import WINDOW_REGEX
from app.schemas.monitoring import MonitoringSummary
from app.schemas.shadow import ShadowReport

router = APIRouter(tags=["monitoring"], dependencies=[requires(READ)])


@router.get("/monitoring/summary", response_model=MonitoringSummary, responses=error_docs(422, 503))
async def monitoring_summary(
    request: Request,
    window: str = Query(
        "1h",
        description="how far back: 15m, 1h, 24h, 7d (capped at 366d)",
        # Documented here, checked by parse_window: its 422 explains the format in words, not as a regex.
        json_schema_extra={"pattern": WINDOW_REGEX},
    ),
    traffic: Traffic = Query(
        "all",
        description="which applicants: all, `single` (scored one at a time) or `batch` (files and batch calls)",
    ),
) -> Response:
    """Counts over time, share flagged, score distribution and per-feature PSI against the training reference."""
    service = ready_service(request)
    reference = service.bundle.raw.get("reference")
    if not reference:
        raise ApiError(503, f"model v{service.version} has no reference distributions: drift cannot be computed")
    monitoring: Monitoring = request.app.state.monitoring
    return json_response(await run_in_threadpool(monitoring.summary, window, reference, service.version, traffic))


@router.get("/monitoring/shadow", response_model=ShadowReport, responses=error_docs(422, 503))
async def monitoring_shadow(
    request: Request,
    window: str = Query(
        "1h", description="how far back: 15m, 1h, 24h, 7d (capped at 366d)", json_schema_extra={"pattern": WINDOW_REGEX}
    ),
) -> Response:
    """Champion vs challenger: the active color's served answers against the idle color's answers to nginx's shadow
    copies of the same requests (`make shadow-green`): agreement, |Δ probability|, flagged shares, risk-band and
    decision transitions, serving time and unanswered requests of each color."""
    reports: ShadowReports = request.app.state.shadow
    return json_response(await run_in_threadpool(reports.report, window))
