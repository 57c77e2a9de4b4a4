"""The monitoring summary answer (documents GET /monitoring/summary)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DriftStatus = Literal["ok", "warn", "alert", "insufficient_data"]


class VolumeBucket(BaseModel):
    start: str = Field(description="bucket start, ISO 8601 UTC")
    count: int
    flagged: int = Field(description="predictions with label 1 (default)")


class Distribution(BaseModel):
    kind: Literal["numeric", "categorical"]
    psi: float | None = Field(description="population stability index against the training reference")
    p_value: float | None = Field(description="chi-square goodness of fit to the reference (drift needs p < max)")
    status: DriftStatus
    rows: int
    bins: list[str]
    reference: list[float] = Field(description="training share per bin")
    current: list[float] = Field(description="share per bin in the window")


class Thresholds(BaseModel):
    warn: float
    alert: float
    min_rows: int
    max_p_value: float


class MonitoringSummary(BaseModel):
    window: str
    window_seconds: int
    from_: str = Field(alias="from")
    to: str
    count: int
    flagged: int
    share_flagged: float | None
    model_versions: dict[str, int] = Field(description="predictions in the window per model version")
    colors: dict[str, int] = Field(description="predictions in the window per stack color (blue, green)")
    served_version: str = Field(description="the model this backend serves; the score drift is about it alone")
    volume: list[VolumeBucket]
    bucket_seconds: int
    score: Distribution = Field(description="predicted probabilities of the served version vs its hold-out scores")
    features: dict[str, Distribution]
    drifting_features: list[str]
    status: DriftStatus
    thresholds: Thresholds
    traffic: Literal["all", "single", "batch"] = Field(
        description="which applicants it covers: all, those scored one at a time, or those scored in batches"
    )
