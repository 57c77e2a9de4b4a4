"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]
    color: str


class Ready(BaseModel):
    status: Literal["ready"]
    model_version: str
    color: str


class NotReady(BaseModel):
    status: Literal["not_ready"]
    reason: str
