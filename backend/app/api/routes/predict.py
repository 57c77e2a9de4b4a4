"""Scoring: one applicant (with its decision, explanations and reasons) or a batch (JSON array or CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.api.body import body_kind, read_body, wants_csv
from app.api.deps import ready_service, settings_of
from app.api.params import strip_text
from app.api.request_origin import origin
from app.api.responses import error_docs, json_response
from app.api.security import requires
from app.auth.callers import Caller
from app.auth.scopes import SCORE
from app.core.csv_codec import parse_csv, to_csv
from app.core.scored_batch import RESULT_COLUMNS, ScoredBatch, scored_at_now
from app.core.scoring import Explanation, Prediction, ScoringService, Source
from app.schemas.predict import BatchPrediction
from app.schemas.predict import Prediction as PredictionAnswer

router = APIRouter(tags=["predict"])


def _single_answer(
    service: ScoringService, color: str, prediction: Prediction, explanation: Explanation | None
) -> dict:
    outcome = service.policy.by_name[prediction.decision]
    return {
        "prediction_id": prediction.prediction_id,
        "probability_default": prediction.probability,
        "label": prediction.label,
        "threshold": service.threshold,
        "risk_band": prediction.risk_band,
        "decision": {"name": outcome.name, "label": outcome.label, "wording": outcome.wording},
        "top_factors": (
            None
            if explanation is None
            else [{"feature": f.feature, "value": f.value, "contribution": f.contribution} for f in explanation.factors]
        ),
        "reasons": None if explanation is None else explanation.reasons,
        "model_version": service.version,
        "color": color,
    }


@router.post("/predict", response_model=PredictionAnswer, responses=error_docs(400, 413, 415, 422, 503))
async def predict(
    request: Request,
    caller: Annotated[Caller, requires(SCORE)],
    explain: Annotated[
        bool,
        BeforeValidator(strip_text),
        Query(description="compute top_factors and reasons (signed contributions per feature); false skips them"),
    ] = True,
) -> Response:
    """Score one applicant (a JSON object: feature -> value): probability, label, risk band, the decision
    policy's outcome and, unless `explain=false`, the top factors and the principal reasons. Deployment checks
    send `X-Traffic-Source: probe` with a `probe` key (logged as source `probe`, left out of the monitoring summary)."""
    source, caller = origin(request, caller, "single")
    service = ready_service(request)
    settings = settings_of(request)
    body_kind(request, allowed=("json",))
    applicant = service.parser.one_from_json(await read_body(request, settings.MAX_BODY_BYTES))
    if explain and not service.explains_fast:  # e.g. replacement explanations: a model call per feature
        prediction, explanation = await run_in_threadpool(service.predict_one, applicant, source, True, caller)
    else:  # scored with the other requests waiting in this event-loop turn (if coalescing is on)
        prediction, explanation = await request.app.state.coalescer.predict(service, applicant, source, explain, caller)
    return json_response(_single_answer(service, settings.DEPLOY_COLOR, prediction, explanation))


def _score_batch(
    service: ScoringService,
    kind: str,
    body: bytes,
    csv_answer: bool,
    color: str,
    explain: bool,
    source: Source,
    caller: Caller,
) -> tuple[bytes, str]:
    """Parse, validate, score (and explain) and render a batch (in a worker thread: it can take a while)."""
    names = service.parser.names
    if kind == "csv":
        columns, records = parse_csv(body, service.metadata)
        applicants = service.parser.many_from_records(records)  # more than MAX_BATCH_ROWS: 413
    else:
        columns, applicants = names, service.parser.many_from_json(body)
    if explain:
        predictions, contributions = service.predict_explained(applicants, source, caller)
        reasons = service.reasons(applicants, contributions)
    else:
        predictions, reasons = service.predict(applicants, source, caller), None
    scored = ScoredBatch(predictions, reasons, service.threshold, service.version, scored_at_now())
    if csv_answer:
        csv_body = to_csv(columns, names, applicants, RESULT_COLUMNS, scored.csv_results())
        return csv_body, "text/csv; charset=utf-8"
    return scored.json(color), "application/json"


@router.post(
    "/predict/batch",
    response_model=BatchPrediction,
    responses={200: {"content": {"text/csv": {}}}, **error_docs(400, 413, 415, 422, 503)},
)
async def predict_batch(
    request: Request,
    caller: Annotated[Caller, requires(SCORE)],
    explain: Annotated[
        bool,
        BeforeValidator(strip_text),
        Query(description="compute each applicant's principal reasons (reason_1..reason_4 in CSV)"),
    ] = False,
) -> Response:
    """Score many applicants: a JSON array, or CSV with a header row (`Content-Type: text/csv`). Answers JSON,
    or CSV for `Accept: text/csv`: the input columns, then probability_default, label, risk_band, decision,
    reason_1..reason_4 (filled with `explain=true`), threshold, model_version, scored_at, prediction_id (each
    applicant's id, for reporting its outcome: POST /outcomes). Deployment checks send `X-Traffic-Source: probe`
    with a `probe` key (logged as source `probe`, left out of the monitoring summary)."""
    source, caller = origin(request, caller, "batch")
    service = ready_service(request)
    settings = settings_of(request)
    kind = body_kind(request, allowed=("json", "csv"))
    body = await read_body(request, settings.MAX_BODY_BYTES)
    content, media_type = await run_in_threadpool(
        _score_batch,
        service,
        kind,
        body,
        wants_csv(request),
        settings.DEPLOY_COLOR,
        explain,
        source,
        caller,
    )
    return Response(content, media_type=media_type)
