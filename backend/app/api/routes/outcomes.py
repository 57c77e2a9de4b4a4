"""Outcomes: what really happened to predictions (in), how the model did against them, and the labeled rows
retraining reads (the export's columns are a contract: docs/api.md)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.api.body import body_kind, read_body, wants_csv
from app.api.deps import ready_service, settings_of
from app.api.params import strip_text
from app.api.responses import error_docs, json_response
from app.api.security import requires
from app.auth.callers import Caller
from app.auth.scopes import AUDIT, OUTCOMES, READ
from app.core.errors import FieldError
from app.monitoring.outcome_service import OutcomeService, labels_of
from app.monitoring.outcomes import LabeledPrediction, RecordResult
from app.monitoring.summary import WINDOW_REGEX, iso
from app.schemas.outcomes import LabeledExport, OutcomeReport, RealizedPerformance

router = APIRouter(prefix="/outcomes", tags=["outcomes"])
EXPORT_HEAD = ("prediction_id", "model_version", "scored_at", "observed_date")


def outcomes_of(request: Request) -> OutcomeService:
    return request.app.state.outcomes


def report(result: RecordResult) -> Response:
    """200 when every outcome is recorded or unchanged; else 409 (conflicts first) or 404, naming the ids: the
    rest of the batch is recorded all the same."""
    body: dict[str, Any] = {
        **result.counts(),
        "unknown_ids": result.unknown,
        "conflicting_ids": result.conflicts,
        "detail": None,
        "errors": [],
    }
    status = 409 if result.conflicts else 404 if result.unknown else 200
    if status != 200:
        body["errors"] = [
            FieldError(None, "prediction_id", f"{pid}: already recorded with another outcome").as_dict()
            for pid in result.conflicts
        ] + [
            FieldError(None, "prediction_id", f"{pid}: no such prediction in the log").as_dict()
            for pid in result.unknown
        ]
        body["detail"] = (
            f"{len(result.conflicts)} conflicting and {len(result.unknown)} unknown prediction id(s) not recorded; "
            f"{len(result.recorded)} recorded, {len(result.unchanged)} unchanged"
        )
    return json_response(body, status)


@router.post("", response_model=OutcomeReport, responses=error_docs(400, 404, 409, 413, 415, 422, 503))
async def record_outcomes(request: Request, caller: Annotated[Caller, requires(OUTCOMES)]) -> Response:
    """Record observed outcomes: a JSON list of `{prediction_id, outcome, observed_date}` or CSV with that header
    (`Content-Type: text/csv`). The outcome is one of the data set's labels; the date is not in the future nor
    before the prediction (else 422, nothing recorded). The same outcome again is counted as unchanged; a different
    one is a conflict (409) and unknown ids are listed (404): in both cases the rest of the batch is recorded."""
    service = ready_service(request)
    settings = settings_of(request)
    kind = body_kind(request, allowed=("json", "csv"))
    body = await read_body(request, settings.MAX_BODY_BYTES)
    who = caller.analyst or caller.key
    result = await run_in_threadpool(outcomes_of(request).record, body, kind, service, who)
    return report(result)


@router.get(
    "/performance",
    response_model=RealizedPerformance,
    responses=error_docs(422, 503),
    dependencies=[requires(READ)],
)
async def realized_performance(
    request: Request,
    window: Annotated[
        str,
        Query(
            description="predictions scored how far back: 7d, 30d, 90d (capped at 366d)",
            json_schema_extra={"pattern": WINDOW_REGEX},
        ),
    ] = "30d",
) -> Response:
    """Per model version, against the matured outcomes of predictions scored in the window (no deployment
    probes): labeled count and share, ROC AUC with its bootstrap interval, PR AUC, Brier score, calibration per risk
    band and decile, confusion at the threshold, expected vs realized default and flagged shares."""
    service = ready_service(request)
    return json_response(await run_in_threadpool(outcomes_of(request).performance, window, service))


def export_columns(request: Request) -> tuple[list[str], str]:
    service = ready_service(request)
    return [feature.name for feature in service.metadata.features], service.metadata.dataset.target


def export_row(row: LabeledPrediction, features: list[str], target: str) -> dict[str, Any]:
    inputs = row.inputs or {}
    head = (row.prediction_id, row.model_version, iso(row.ts), str(row.observed_date))
    return {**dict(zip(EXPORT_HEAD, head)), **{name: inputs.get(name) for name in features}, target: row.outcome}


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if row[c] is None else row[c] for c in columns] for row in rows])
    return buffer.getvalue().encode("utf-8")


@router.get(
    "/labeled",
    response_model=LabeledExport,
    responses={200: {"content": {"text/csv": {}}}, **error_docs(401, 403, 422, 503)},
    dependencies=[requires(AUDIT)],
)
async def labeled_export(
    request: Request,
    matured_only: Annotated[
        bool, BeforeValidator(strip_text), Query(description="only outcomes observed after OUTCOME_MATURITY_DAYS")
    ] = True,
) -> Response:
    """The labeled predictions the log holds, oldest first, for retraining (no deployment probes): for
    `Accept: text/csv` the columns prediction_id, model_version, scored_at, observed_date, every feature in schema
    order, then the data set's target column holding the outcome label; else JSON with the target's name, the
    labels, the count and the same rows."""
    service = ready_service(request)
    positive, negative = labels_of(service.metadata)
    features, target = export_columns(request)
    labeled = await run_in_threadpool(outcomes_of(request).labeled, matured_only)
    rows = [export_row(row, features, target) for row in labeled]
    if wants_csv(request):
        content = await run_in_threadpool(to_csv, [*EXPORT_HEAD, *features, target], rows)
        return Response(content, media_type="text/csv; charset=utf-8")
    body = {"target": target, "positive_label": positive, "negative_label": negative, "count": len(rows), "rows": rows}
    return json_response(body)
