"""Model metadata and the feature schema, for clients."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ModelInfo(BaseModel):
    name: str
    version: str
    algorithm: str
    run_id: str
    trained_at: str
    metrics: dict[str, float | None]
    threshold: float
    threshold_strategy: str | None
    risk_bands: dict[str, float]
    dropped_features: list[str]
    dataset: dict[str, Any]
    feature_importance: dict[str, float]
    candidates: list[dict[str, Any]]
    plots: list[str] = Field(description="names for GET /model/plots/{name}")
    explanation: Literal["shap", "linear", "replacement"] = Field(
        description="how top_factors are computed: CatBoost SHAP values or linear terms (log-odds), "
        "or the change in probability when the feature is set to its typical value"
    )
    decision_policy: dict[str, Any] = Field(
        description="outcomes (name, label, wording, from, to) over the probability, the threshold's rationale, "
        "and `derived`: true when the bundle has no policy of its own (derived from threshold and risk bands)"
    )
    feature_labels: dict[str, str] = Field(description="each feature in an analyst's words")
    color: str
    revision: str = Field(description="the code revision (release tag) of the service")
    model_card: dict[str, Any] | None = Field(
        None, description="the card's statements: owner, intended and out-of-scope uses, limitations, data provenance"
    )
    fairness: dict[str, Any] | None = Field(
        None, description="fairness by group (fairlearn): groups, per-group figures with intervals, disparities, gate"
    )
    behavioral_tests: list[dict[str, Any]] | None = Field(None, description="the behavioral tests' results")
    gate: dict[str, Any] | None = Field(None, description="the quality gate's decision, reasons and warnings")
    lineage: dict[str, Any] | None = Field(
        None, description="who trained it, git commit, data hashes, DVC stages, MLflow runs"
    )


class FeatureSchema(BaseModel):
    features: list[dict[str, Any]] = Field(description="schema entries as in the bundle's metadata.json")
    example: dict[str, Any] = Field(description="a real applicant from the training data")
    target: str
    positive_label: str
