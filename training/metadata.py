"""The bundle's metadata.json: provenance, dataset, metrics, threshold, feature schema and drift reference."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.candidate import CandidateResult
from training.config import TrainingConfig
from training.data import Dataset, example_row, infer_schema, reference_distributions
from training.input_rules import annotate_schema

SCORE_BINS = [round(i / 10, 1) for i in range(1, 10)]  # inner edges of the score histogram


def git_commit() -> str:
    """The commit being trained: $GIT_COMMIT (the trainer container has no .git), else git, else "unknown"."""
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"]
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def dataset_summary(cfg: TrainingConfig, dataset: Dataset) -> dict[str, Any]:
    return {
        "file": Path(cfg.data.path).name,
        "sha256": dataset.sha256,
        "rows": int(len(dataset.target)),
        "target": cfg.data.target,
        "positive_label": cfg.data.positive_label,
        "negative_label": dataset.negative_label,
        "positive_rate": float(dataset.target.mean()),
    }


def score_reference(test_proba: np.ndarray) -> dict[str, Any]:
    """Shares of the hold-out scores in fixed bins: the baseline the service compares live scores with."""
    counts = np.bincount(np.searchsorted(SCORE_BINS, test_proba, side="right"), minlength=len(SCORE_BINS) + 1)
    return {"kind": "numeric", "edges": SCORE_BINS, "shares": [float(c) / len(test_proba) for c in counts]}


def build_metadata(
    cfg: TrainingConfig,
    dataset: Dataset,
    champion: CandidateResult,
    version: str,
    x_train: pd.DataFrame,
    y_train: pd.Series,
    table: pd.DataFrame,
    commit: str,
) -> dict[str, Any]:
    """Everything the serving side reads about the model, besides the model itself."""
    threshold = champion.threshold
    return {
        "name": cfg.registered_model_name,
        "version": str(version),
        "run_id": champion.run_id,
        "algorithm": champion.algorithm,
        "candidate": champion.name,
        "flavor": "catboost" if champion.algorithm == "catboost" else "sklearn",
        "model_path": "model",
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "dataset": dataset_summary(cfg, dataset),
        "dropped_features": list(cfg.data.drop_features),
        "selection_metric": cfg.selection_metric,
        "metrics": {k: float(v) for k, v in champion.metrics.items()},
        "threshold": threshold,
        "threshold_strategy": cfg.threshold.strategy,
        "risk_bands": {"medium": threshold * cfg.risk_bands.medium_from_fraction_of_threshold, "high": threshold},
        "features": annotate_schema(infer_schema(dataset), cfg.inputs, cfg.reasons),
        "feature_order": list(dataset.features.columns),
        "example": example_row(x_train, y_train),
        "feature_importance": champion.importance,
        "reference": {
            "features": reference_distributions(x_train, dataset.numeric, cfg.reference_bins),
            "score": score_reference(champion.test_proba),
            "rows": int(len(x_train)),
        },
        "candidates": table.to_dict(orient="records"),
    }
