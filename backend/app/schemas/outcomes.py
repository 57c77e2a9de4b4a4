"""Outcomes in (POST /outcomes), what a batch did, realized performance and the labeled export."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

OUTCOME_COLUMNS = ("prediction_id", "outcome", "observed_date")


class OutcomeIn(BaseModel):
    """One observed outcome (a JSON object, or a CSV row with these columns)."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: str = Field(min_length=3, max_length=80, description="the id a prediction answer gave")
    outcome: str = Field(description="one of the data set's labels (the bundle's positive or negative label)")
    observed_date: date = Field(description="when the outcome was observed (ISO date, not in the future)")


OutcomeList = TypeAdapter(list[OutcomeIn])


class OutcomeReport(BaseModel):
    """What a batch did (also the body of its 404 and 409 answers, with detail and errors)."""

    recorded: int = Field(description="outcomes stored now")
    unchanged: int = Field(description="already recorded with the same value")
    unknown: int = Field(description="ids the prediction log does not know (not recorded)")
    conflicts: int = Field(description="ids already recorded with another value (not recorded)")
    unknown_ids: list[str]
    conflicting_ids: list[str]
    detail: str | None = None
    errors: list[dict] = Field(default_factory=list)


class AucFigure(BaseModel):
    value: float | None = Field(description="ROC AUC of the matured labeled predictions (null with one class)")
    ci_low: float | None = Field(description="2.5th percentile of the bootstrap")
    ci_high: float | None = Field(description="97.5th percentile of the bootstrap")
    n: int = Field(description="labeled predictions it rests on")
    resamples: int


class Confusion(BaseModel):
    true_positive: int
    false_positive: int
    true_negative: int
    false_negative: int


class BandCalibration(BaseModel):
    band: Literal["low", "medium", "high"]
    count: int
    predicted: float = Field(description="mean predicted probability of default")
    observed: float = Field(description="observed default rate")


class DecileCalibration(BaseModel):
    decile: int = Field(ge=1, le=10)
    count: int
    predicted: float
    observed: float


class VersionPerformance(BaseModel):
    model_version: str
    predictions: int = Field(description="predictions scored in the window (no deployment probes)")
    labeled: int = Field(description="matured predictions with an outcome: every figure below rests on them")
    labeled_share: float | None
    immature: int = Field(description="outcomes observed before OUTCOME_MATURITY_DAYS: left out")
    positives: int = Field(description="observed defaults among the labeled")
    status: Literal["ok", "insufficient"]
    reason: str | None = Field(description="why the figures are not yet trustworthy")
    roc_auc: AucFigure
    pr_auc: float | None = Field(description="average precision")
    brier: float | None
    confusion: Confusion | None = Field(description="observed outcome vs the label at the model's threshold")
    expected_default_rate: float | None = Field(description="mean predicted probability")
    realized_default_rate: float | None
    expected_flagged_share: float | None = Field(description="share flagged on the training hold-out (if known)")
    realized_flagged_share: float | None = Field(description="share of the labeled predictions flagged")
    calibration_error: float | None = Field(description="count-weighted mean |predicted - observed| over deciles")
    calibration_bands: list[BandCalibration]
    calibration_deciles: list[DecileCalibration]


class RealizedPerformance(BaseModel):
    window: str
    start: str = Field(alias="from", description="predictions scored from (UTC)")
    to: str
    maturity_days: int
    min_labeled: int
    positive_label: str
    served_version: str
    versions: list[VersionPerformance]


class LabeledExport(BaseModel):
    """JSON form of GET /outcomes/labeled (CSV with Accept: text/csv): the retraining contract."""

    target: str
    positive_label: str
    negative_label: str
    count: int
    rows: list[dict] = Field(
        description="prediction_id, model_version, scored_at, observed_date, every feature (schema order), and the "
        "target column holding the outcome label"
    )
