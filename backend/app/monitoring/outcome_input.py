"""A batch of outcomes from a request body (a JSON list or CSV with the header prediction_id,outcome,observed_date),
checked before anything is stored: 422 naming every bad field and row (or the body, when it is not readable JSON
or CSV), 413 above MAX_BATCH_ROWS."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import orjson
from pydantic import ValidationError

from app.core.csv_codec import check_widths
from app.core.errors import ApiError, FieldError, field_errors, validation_error
from app.monitoring.outcomes import Outcome
from app.schemas.outcomes import OUTCOME_COLUMNS, OutcomeList


def malformed(what: str, reason: str) -> ApiError:
    return ApiError(422, f"malformed {what}: {reason}", [FieldError(None, None, reason)])


def _json_items(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise malformed("JSON", str(exc)) from None


def _csv_items(body: bytes) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8-sig")
        lines = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except UnicodeDecodeError as exc:
        raise malformed("CSV", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except csv.Error as exc:
        raise malformed("CSV", str(exc)) from None
    header = [name.strip() for name in lines[0]] if lines else []
    problems = [FieldError(None, name, "unknown column") for name in header if name not in OUTCOME_COLUMNS]
    problems += [
        FieldError(None, name, "column missing from the header") for name in OUTCOME_COLUMNS if name not in header
    ]
    if problems:
        raise ApiError(422, f"the CSV header must be {','.join(OUTCOME_COLUMNS)}", problems)
    check_widths(header, lines[1:], status=422)
    return [dict(zip(header, (value.strip() for value in values))) for values in lines[1:]]


def parse_outcomes(body: bytes, kind: str, labels: tuple[str, ...], today: date, max_rows: int) -> list[Outcome]:
    """The outcomes of a JSON or CSV body, every row checked: the outcome one of `labels`, the date not after
    `today`, an id listed at most once per value."""
    items = _csv_items(body) if kind == "csv" else _json_items(body)
    if isinstance(items, list) and len(items) > max_rows:
        raise ApiError(413, f"{len(items)} outcomes exceed the limit of {max_rows} per request (MAX_BATCH_ROWS)")
    if isinstance(items, list) and not items:
        raise ApiError(422, "no outcomes in the request", [FieldError(None, None, "list at least one outcome")])
    try:
        parsed = OutcomeList.validate_python(items)
    except ValidationError as exc:
        raise validation_error(field_errors(exc, batch=True), "outcomes") from None
    errors, seen = [], {}
    for row, item in enumerate(parsed):
        if item.outcome not in labels:
            choices = " or ".join(repr(label) for label in labels)
            errors.append(
                FieldError(row, "outcome", f"must be {choices}, the data set's labels (got {item.outcome!r})")
            )
        if item.observed_date > today:
            errors.append(FieldError(row, "observed_date", f"{item.observed_date} is in the future (today is {today})"))
        if seen.setdefault(item.prediction_id, item.outcome) != item.outcome:
            errors.append(FieldError(row, "prediction_id", f"{item.prediction_id} is listed with different outcomes"))
    if errors:
        raise validation_error(errors, "outcomes")
    return [Outcome(row, item.prediction_id, item.outcome, item.observed_date) for row, item in enumerate(parsed)]
