"""Prediction answers (the request model is generated from the bundle's schema at load time)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

RiskBand = Literal["low", "medium", "high"]


class TopFactor(BaseModel):
    feature: str
    value: str | int | float | None = Field(description="the applicant's value")
    contribution: float = Field(description="signed; positive pushes towards default")


class Decision(BaseModel):
    name: str = Field(description="the decision policy's outcome, e.g. approve, refer, decline")
    label: str = Field(description="the outcome in an analyst's words")
    wording: str = Field(description="what the outcome means")


PREDICTION_ID = "this prediction's id, for reporting its outcome later (POST /outcomes)"


class Prediction(BaseModel):
    prediction_id: str = Field(description=PREDICTION_ID)
    probability_default: float = Field(ge=0.0, le=1.0)
    label: Literal[0, 1] = Field(description="1 = default at the model's threshold")
    threshold: float
    risk_band: RiskBand
    decision: Decision
    top_factors: list[TopFactor] | None = Field(
        description="largest |contribution| first; null when the request says explain=false"
    )
    reasons: list[str] | None = Field(
        description="the principal reasons: up to 4 features pushing towards default, largest first, in plain "
        "language; null when the request says explain=false"
    )
    model_version: str
    color: str


class BatchRow(BaseModel):
    row: int
    prediction_id: str = Field(description=PREDICTION_ID)
    probability_default: float = Field(ge=0.0, le=1.0)
    label: Literal[0, 1]
    risk_band: RiskBand
    decision: str = Field(description="the name of the decision policy's outcome")
    reasons: list[str] | None = Field(description="principal reasons with explain=true, else null")


class BatchPrediction(BaseModel):
    model_version: str
    color: str
    threshold: float
    scored_at: str = Field(description="when the batch was scored (UTC, ISO 8601)")
    count: int
    predictions: list[BatchRow]
