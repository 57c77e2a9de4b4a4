"""The API's 4xx/503 error: a one-line summary plus every offending field (and row)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

MAX_LISTED_ERRORS = 200

FRIENDLY_MESSAGES = {
    "missing": "field required",
    "extra_forbidden": "unknown field",
}


@dataclass(frozen=True)
class FieldError:
    row: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ApiError(Exception):
    """Raised anywhere below a route; the handler turns it into the JSON error response."""

    status_code: int
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: Mapping[str, str] | None = None  # e.g. WWW-Authenticate on a 401

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "errors": [e.as_dict() for e in self.errors[:MAX_LISTED_ERRORS]]}


def _message(error: dict[str, Any]) -> str:
    friendly = FRIENDLY_MESSAGES.get(error["type"])
    if friendly is not None:
        return friendly
    message = error["msg"].removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], (dict, list)):
        shown = repr(error["input"])
        message = f"{message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
    return message


def field_errors(exc: ValidationError, batch: bool) -> list[FieldError]:
    """Pydantic errors as (row, field, message); loc is (field,) or, for batches, (row, field)."""
    out = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        row = loc.pop(0) if batch and loc and isinstance(loc[0], int) else None
        name = str(loc[0]) if loc else None
        out.append(FieldError(row=row, field=name, message=_message(error)))
    return out


def validation_error(errors: Iterable[FieldError], what: str) -> ApiError:
    """422 naming how many fields (and rows) are wrong."""
    listed = list(errors)
    rows = {e.row for e in listed if e.row is not None}
    where = f" in {len(rows)} row(s)" if rows else ""
    summary = f"invalid {what}: {len(listed)} problem(s){where}"
    if len(listed) > MAX_LISTED_ERRORS:
        summary += f" (first {MAX_LISTED_ERRORS} listed)"
    return ApiError(422, summary, listed)
