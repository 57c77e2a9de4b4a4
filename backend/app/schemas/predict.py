"""Prediction answers (the request model is generated from the bundle's schema at load time)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

RiskBand = Literal["low", "medium", "high"]


class TopFactor(BaseModel):
    feature: str
    value: str | int | float | None = Field(description="the applicant's value")
    contribution: float = Field(description="signed; positive pushes towards default")


class Prediction(BaseModel):
    probability_default: float = Field(ge=0.0, le=1.0)
    label: Literal[0, 1] = Field(description="1 = default at the model's threshold")
    threshold: float
    risk_band: RiskBand
    top_factors: list[TopFactor] | None = Field(
        description="largest |contribution| first; null when the request says explain=false"
    )
    model_version: str
    color: str


class BatchRow(BaseModel):
    row: int
    probability_default: float = Field(ge=0.0, le=1.0)
    label: Literal[0, 1]
    risk_band: RiskBand


class BatchPrediction(BaseModel):
    model_version: str
    color: str
    count: int
    predictions: list[BatchRow]
