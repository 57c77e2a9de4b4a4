"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"]
    color: str
    revision: str = Field(description="the code revision (release tag) this process runs")


class Ready(BaseModel):
    status: Literal["ready"]
    model_version: str
    color: str


class NotReady(BaseModel):
    status: Literal["not_ready"]
    phase: Literal["loading", "failed"] = Field(
        description="loading: wait; failed: the bundle cannot be served (missing, broken), waiting will not help"
    )
    reason: str
