"""The error body of every 4xx and 503 answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorItem(BaseModel):
    row: int | None = Field(description="0-based row of a batch (null for single requests or the whole body)")
    field: str | None = Field(description="the offending field or CSV column (null for the whole body)")
    message: str


class ErrorResponse(BaseModel):
    detail: str = Field(description="one-line summary")
    errors: list[ErrorItem]
