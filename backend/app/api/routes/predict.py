"""Scoring: one applicant (with explanations) or a batch (JSON array or CSV)."""

from __future__ import annotations

from itertools import count
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.api.body import body_kind, read_body, wants_csv
from app.api.deps import ready_service, settings_of
from app.api.params import strip_text
from app.api.responses import error_docs, json_response
from app.core.applicant import Row
from app.core.csv_codec import parse_csv, to_csv
from app.core.scoring import Factor, Prediction, Predictions, ScoringService, Source
from app.schemas.predict import BatchPrediction
from app.schemas.predict import Prediction as PredictionAnswer

router = APIRouter(tags=["predict"])
# Deployment checks send `X-Traffic-Source: probe`: logged as such, left out of volume and drift.
TRAFFIC_SOURCE_HEADER = "x-traffic-source"


def _single_answer(service: ScoringService, color: str, prediction: Prediction, factors: list[Factor] | None) -> dict:
    return {
        "probability_default": prediction.probability,
        "label": prediction.label,
        "threshold": service.threshold,
        "risk_band": prediction.risk_band,
        "top_factors": (
            None
            if factors is None
            else [{"feature": f.feature, "value": f.value, "contribution": f.contribution} for f in factors]
        ),
        "model_version": service.version,
        "color": color,
    }


def _predict_and_explain(service: ScoringService, applicant: Row, source: Source) -> tuple[Prediction, list[Factor]]:
    (prediction,) = service.predict([applicant], source)
    return prediction, service.explain(applicant)


@router.post("/predict", response_model=PredictionAnswer, responses=error_docs(400, 413, 415, 422, 503))
async def predict(
    request: Request,
    explain: Annotated[
        bool,
        BeforeValidator(strip_text),
        Query(description="compute top_factors (signed contributions per feature); false skips them"),
    ] = True,
) -> Response:
    """Score one applicant (a JSON object: feature -> value). Deployment checks send `X-Traffic-Source: probe`
    (logged as source `probe`, left out of the monitoring summary)."""
    service = ready_service(request)
    settings = settings_of(request)
    body_kind(request, allowed=("json",))
    applicant = service.parser.one_from_json(await read_body(request, settings.MAX_BODY_BYTES))
    source: Source = "probe" if request.headers.get(TRAFFIC_SOURCE_HEADER) == "probe" else "single"
    if explain:
        prediction, factors = await run_in_threadpool(_predict_and_explain, service, applicant, source)
    else:  # scored together with the other requests waiting in this event-loop turn (if coalescing is on)
        prediction, factors = await request.app.state.coalescer.predict(service, applicant, source), None
    return json_response(_single_answer(service, settings.DEPLOY_COLOR, prediction, factors))


def _batch_json(service: ScoringService, color: str, predictions: Predictions) -> bytes:
    """The JSON answer, serialized by orjson straight from the prediction columns."""
    columns = zip(count(), predictions.probabilities, predictions.labels, predictions.risk_bands)
    rows = [{"row": i, "probability_default": p, "label": label, "risk_band": band} for i, p, label, band in columns]
    return orjson.dumps({"model_version": service.version, "color": color, "count": len(rows), "predictions": rows})


def _score_batch(service: ScoringService, kind: str, body: bytes, csv_answer: bool, color: str) -> tuple[bytes, str]:
    """Parse, validate, score and render a batch (in a worker thread: it can take a while)."""
    names = service.parser.names
    if kind == "csv":
        columns, records = parse_csv(body, service.metadata)
        applicants = service.parser.many_from_records(records)  # more than MAX_BATCH_ROWS: 413
    else:
        columns, applicants = names, service.parser.many_from_json(body)
    predictions = service.predict(applicants, "batch")
    if csv_answer:
        return to_csv(columns, names, applicants, predictions.columns()), "text/csv; charset=utf-8"
    return _batch_json(service, color, predictions), "application/json"


@router.post(
    "/predict/batch",
    response_model=BatchPrediction,
    responses={200: {"content": {"text/csv": {}}}, **error_docs(400, 413, 415, 422, 503)},
)
async def predict_batch(request: Request) -> Response:
    """Score many applicants: a JSON array, or CSV with a header row (`Content-Type: text/csv`).
    Answers JSON, or CSV (input columns + probability_default, label, risk_band) for `Accept: text/csv`."""
    service = ready_service(request)
    settings = settings_of(request)
    kind = body_kind(request, allowed=("json", "csv"))
    body = await read_body(request, settings.MAX_BODY_BYTES)
    content, media_type = await run_in_threadpool(
        _score_batch, service, kind, body, wants_csv(request), settings.DEPLOY_COLOR
    )
    return Response(content, media_type=media_type)
