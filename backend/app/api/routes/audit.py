"""The audit trail, for keys with the `audit` scope: who scored what, over a window; when each key was last used."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.api.params import strip_text
from app.api.responses import error_docs, json_response
from app.api.security import requires
from app.auth.callers import ANALYST_PATTERN
from app.auth.scopes import AUDIT
from app.auth.usage import KeyUsage as KeyUsageTracker
from app.monitoring.service import Monitoring
from app.monitoring.summary import WINDOW_REGEX, iso, parse_window
from app.schemas.audit import AuditTrail, KeyUsage

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[requires(AUDIT)])
MAX_LISTED = 10_000


@router.get("/predictions", response_model=AuditTrail, responses=error_docs(422, 503))
async def audit_predictions(
    request: Request,
    author: Annotated[
        str,
        Query(
            min_length=1,
            max_length=128,
            pattern=ANALYST_PATTERN.pattern,
            description="an analyst (as the UI names them), or an API key's name for its own requests",
        ),
    ],
    window: Annotated[
        str,
        Query(
            description="how far back: 15m, 1h, 24h, 7d (capped at 366d)", json_schema_extra={"pattern": WINDOW_REGEX}
        ),
    ] = "24h",
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED, description="the newest requests listed at most")] = 1000,
    include_inputs: Annotated[
        bool, BeforeValidator(strip_text), Query(description="list each request's applicants (personal data)")
    ] = False,
) -> Response:
    """The scoring requests of an analyst (made through the analyst UI) or of an API key (made for nobody) over
    the window, newest first: when, on which color and model version, how many applicants, the probabilities
    and labels, and with `include_inputs=true` the applicants themselves."""
    monitoring: Monitoring = request.app.state.monitoring
    now = time.time()
    listed = await run_in_threadpool(monitoring.requests_by, author, window, limit + 1, include_inputs)
    items = [
        {
            "time": iso(entry.ts),
            "color": entry.color,
            "model_version": entry.model_version,
            "source": entry.source,
            "api_key": entry.api_key,
            "analyst": entry.analyst,
            "count": len(entry.probabilities),
            "probabilities": entry.probabilities,
            "labels": entry.labels,
            "prediction_ids": entry.prediction_ids(),
            "inputs": entry.inputs,
        }
        for entry in listed[:limit]
    ]
    return json_response(
        {
            "author": author,
            "window": window,
            "from": iso(now - parse_window(window)),
            "to": iso(now),
            "requests": len(items),
            "predictions": sum(item["count"] for item in items),
            "truncated": len(listed) > limit,
            "items": items,
        }
    )


@router.get("/keys", response_model=KeyUsage, responses=error_docs(503))
async def audit_keys(request: Request) -> Response:
    """When each API key was last used (by either color), as far as the prediction log's file records it."""
    usage: KeyUsageTracker = request.app.state.key_usage
    last = await run_in_threadpool(usage.last_used)
    return json_response(
        {"keys": [{"name": name, "last_used": iso(ts), "color": color} for name, (ts, color) in sorted(last.items())]}
    )
