"""Liveness and readiness answers: the status for anyone, the details for an authenticated caller."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ONLY_AUTHENTICATED = "only for an authenticated caller"


class Health(BaseModel):
    status: Literal["ok"]
    color: str | None = Field(None, description=f"this stack's color ({ONLY_AUTHENTICATED})")
    revision: str | None = Field(
        None, description=f"the code revision (release tag) this process runs ({ONLY_AUTHENTICATED})"
    )


class Ready(BaseModel):
    status: Literal["ready"]
    model_version: str | None = Field(None, description=f"the served model version ({ONLY_AUTHENTICATED})")
    color: str | None = Field(None, description=f"this stack's color ({ONLY_AUTHENTICATED})")


class NotReady(BaseModel):
    status: Literal["not_ready"]
    phase: Literal["loading", "failed"] | None = Field(
        None,
        description="loading: wait; failed: the bundle or the API key store cannot be used, waiting will not help "
        f"({ONLY_AUTHENTICATED})",
    )
    reason: str | None = Field(None, description=f"why ({ONLY_AUTHENTICATED})")
