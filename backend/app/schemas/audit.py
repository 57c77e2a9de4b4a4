"""The audit answers (document GET /audit/predictions and /audit/keys)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AuditedRequest(BaseModel):
    time: str = Field(description="when it was scored, ISO 8601 UTC")
    color: str = Field(description="the deployment color that scored it")
    model_version: str
    source: str = Field(description="single, batch or probe")
    api_key: str | None = Field(description="the name of the API key that asked (null in logs older than auditing)")
    analyst: str | None = Field(description="the analyst the key asked for (the analyst UI's service key), or null")
    count: int = Field(description="applicants scored by the request")
    probabilities: list[float]
    labels: list[int]
    prediction_ids: list[str] | None = Field(description="each applicant's prediction id (null in older logs)")
    inputs: list[dict[str, Any]] | None = Field(description="the applicants, with include_inputs=true")


class AuditTrail(BaseModel):
    author: str = Field(description="the analyst, or the key acting for nobody")
    window: str
    from_: str = Field(alias="from")
    to: str
    requests: int
    predictions: int
    truncated: bool = Field(description="more requests than `limit` in the window: the newest are listed")
    items: list[AuditedRequest] = Field(description="newest first")


class KeyUse(BaseModel):
    name: str
    last_used: str = Field(description="ISO 8601 UTC")
    color: str = Field(description="the color that served that request")


class KeyUsage(BaseModel):
    keys: list[KeyUse]
