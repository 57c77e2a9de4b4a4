"""Readable tables of the model card: metrics with their names, the candidate comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

METRIC_NAMES = {
    "cv_roc_auc_mean": "ROC AUC, cross-validated (mean)",
    "cv_roc_auc_std": "ROC AUC, cross-validated (std)",
    "cv_pr_auc_mean": "PR AUC, cross-validated (mean)",
    "test_roc_auc": "ROC AUC, hold-out test",
    "test_pr_auc": "PR AUC, hold-out test",
    "test_accuracy": "Accuracy, hold-out test",
    "test_precision": "Precision, hold-out test",
    "test_recall": "Recall, hold-out test",
    "test_f1": "F1, hold-out test",
    "test_brier": "Brier score, hold-out test (lower is better)",
    "test_log_loss": "Log loss, hold-out test (lower is better)",
    "threshold": "Decision threshold",
}
PLOT_TITLES = {
    "roc_curve": "ROC curve",
    "precision_recall": "Precision-recall curve",
    "calibration": "Calibration",
    "confusion_matrix": "Confusion matrix",
    "feature_importance": "Feature importance (permutation)",
}
PLOT_ORDER = ("roc_curve", "precision_recall", "calibration", "confusion_matrix", "feature_importance")


def metrics_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """Known metrics first in a fixed order with readable names, then any others by their key."""
    keys = [k for k in METRIC_NAMES if k in metrics] + sorted(k for k in metrics if k not in METRIC_NAMES)
    return pd.DataFrame({"metric": [METRIC_NAMES.get(k, k) for k in keys], "value": [metrics[k] for k in keys]})


def sorted_candidates(candidates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best cross-validated ROC AUC first."""
    return sorted(candidates, key=lambda c: c.get("cv_roc_auc_mean") or 0.0, reverse=True)


def table_height(rows: int) -> int:
    """Pixels for st.dataframe to show `rows` rows and the header without scrolling."""
    return 35 * (rows + 1) + 3


def ordered_plots(names: Sequence[str]) -> list[str]:
    """Curves first, then the rest, then unknown plots by name."""
    return [n for n in PLOT_ORDER if n in names] + sorted(n for n in names if n not in PLOT_ORDER)


def plot_title(name: str) -> str:
    return PLOT_TITLES.get(name, name.replace("_", " ").capitalize())
