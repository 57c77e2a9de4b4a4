"""Training configuration: one YAML file validated by pydantic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from training.decision_policy import DecisionPolicyConfig
from training.errors import TrainingInputError
from training.governance_config import BehavioralTests, FairnessConfig, ModelCardConfig
from training.input_rules import InputRule
from training.reason_codes import ReasonTableConfig

CandidateType = Literal["decision_tree", "logistic_regression", "random_forest", "catboost"]
DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    path: Path
    target: str
    positive_label: str
    drop_features: list[str] = Field(default_factory=list)
    categorical_features: list[str] = Field(
        default_factory=list,
        description="Numeric-looking columns to treat as categorical (others are inferred).",
    )


class SplitConfig(_Strict):
    test_size: float = Field(0.2, gt=0.0, lt=0.5)
    cv_folds: int = Field(5, ge=2, le=20)
    seed: int = 42


class ThresholdConfig(_Strict):
    strategy: Literal["f1", "cost"] = "f1"
    cost_false_negative: float = Field(5.0, gt=0)
    cost_false_positive: float = Field(1.0, gt=0)


class RiskBandConfig(_Strict):
    medium_from_fraction_of_threshold: float = Field(0.5, gt=0.0, lt=1.0)


class QualityGateConfig(_Strict):
    min_test_roc_auc: float = Field(0.70, ge=0.0, le=1.0)
    max_drop_vs_champion: float = Field(0.02, ge=0.0, le=1.0)


class RetrainConfig(_Strict):
    """`make retrain`: the original data plus matured labeled predictions (docs/training.md, Retraining on outcomes)."""

    min_labeled_rows: int = Field(50, ge=1, description="fewer labeled rows: exit 1, nothing registered")
    holdout_share: float = Field(0.3, gt=0.0, lt=1.0, description="share of the labeled rows held out")
    min_auc_gain: float = Field(
        0.0, ge=-1.0, le=1.0, description="the new champion's ROC AUC must reach the serving model's plus this"
    )
    outcomes_dir: Path = Path("data/outcomes")


class CandidateConfig(_Strict):
    name: str
    type: CandidateType
    params: dict[str, Any] = Field(default_factory=dict)


class TrainingConfig(_Strict):
    experiment_name: str = "credit-default"
    registered_model_name: str = "credit-default"
    export_dir: Path = Path("models")
    data: DataConfig
    split: SplitConfig = SplitConfig()
    selection_metric: Literal["cv_roc_auc_mean", "cv_pr_auc_mean"] = "cv_roc_auc_mean"
    threshold: ThresholdConfig = ThresholdConfig()
    risk_bands: RiskBandConfig = RiskBandConfig()
    decision_policy: DecisionPolicyConfig = Field(default_factory=DecisionPolicyConfig)
    reasons: ReasonTableConfig
    inputs: dict[str, InputRule] = Field(default_factory=dict)
    quality_gate: QualityGateConfig = QualityGateConfig()
    reference_bins: int = Field(10, ge=2, le=50)
    permutation_repeats: int = Field(5, ge=1, le=50)
    candidates: list[CandidateConfig] = Field(min_length=1)
    fairness: FairnessConfig = FairnessConfig()
    behavioral_tests: BehavioralTests = Field(default_factory=list)
    model_card: ModelCardConfig = ModelCardConfig()
    retrain: RetrainConfig = RetrainConfig()

    @field_validator("candidates")
    @classmethod
    def _unique_names(cls, candidates: list[CandidateConfig]) -> list[CandidateConfig]:
        names = [c.name for c in candidates]
        if len(names) != len(set(names)):
            raise ValueError(f"candidate names must be unique, got {names}")
        return candidates

    @property
    def tracking_uri(self) -> str:
        return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


def load_config(path: str | Path) -> TrainingConfig:
    """Read and validate the YAML config; environment overrides apply (BUNDLES_DIR)."""
    path = Path(path)
    if not path.is_file():
        raise TrainingInputError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TrainingInputError(f"config {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TrainingInputError(f"config {path} must be a YAML mapping, got {type(raw).__name__}")
    if os.environ.get("BUNDLES_DIR"):
        raw["export_dir"] = os.environ["BUNDLES_DIR"]
    try:
        return TrainingConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise TrainingInputError(f"config {path} is invalid: {problems}") from None
