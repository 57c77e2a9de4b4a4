"""JSON answers serialized once with orjson (no jsonable_encoder on the hot path)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from app.schemas.errors import ErrorResponse

JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_response(payload: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """NaN and infinity (JSON has neither) become null."""
    return Response(orjson.dumps(payload, option=JSON_OPTIONS), status_code, headers, media_type="application/json")


def error_docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give."""
    descriptions = {
        400: "malformed body (invalid JSON, empty body, unreadable or ragged CSV)",
        401: "missing, malformed, unknown or revoked API key (with WWW-Authenticate)",
        403: "the API key lacks the scope this route requires",
        404: "not found (POST /outcomes: unknown prediction ids, listed; the rest of the batch is recorded)",
        409: "conflict (POST /outcomes: ids already recorded with another outcome, listed; the rest is recorded)",
        413: "body larger than MAX_BODY_BYTES, or more rows than MAX_BATCH_ROWS",
        415: "unsupported content type",
        422: "invalid data: every offending field (and row) is listed",
        503: "no model loaded (still loading, missing or broken bundle), or the API key store is unusable; "
        "detail says why",
    }
    return {code: {"model": ErrorResponse, "description": descriptions[code]} for code in codes}
