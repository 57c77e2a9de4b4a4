"""Metrics, the decision threshold, and the evaluation plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.calibration import CalibrationDisplay  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.inspection import permutation_importance  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    RocCurveDisplay,
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from training.config import ThresholdConfig  # noqa: E402

PLOT_NAMES = ("confusion_matrix", "roc_curve", "precision_recall", "calibration", "feature_importance")


def holdout_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """Hold-out metrics; label metrics use the chosen threshold."""
    predicted = (proba >= threshold).astype(int)
    return {
        "test_accuracy": accuracy_score(y_true, predicted),
        "test_precision": precision_score(y_true, predicted, zero_division=0),
        "test_recall": recall_score(y_true, predicted, zero_division=0),
        "test_f1": f1_score(y_true, predicted, zero_division=0),
        "test_roc_auc": roc_auc_score(y_true, proba),
        "test_pr_auc": average_precision_score(y_true, proba),
        "test_brier": brier_score_loss(y_true, proba),
        "test_log_loss": log_loss(y_true, np.clip(proba, 1e-15, 1 - 1e-15), labels=[0, 1]),
    }


def choose_threshold(y_true: np.ndarray, proba: np.ndarray, cfg: ThresholdConfig) -> float:
    """Threshold on out-of-fold predictions: max F1, or min expected misclassification cost."""
    if cfg.strategy == "cost":
        grid = np.unique(np.round(proba, 4))
        costs = [
            cfg.cost_false_negative * np.sum((proba < t) & (y_true == 1))
            + cfg.cost_false_positive * np.sum((proba >= t) & (y_true == 0))
            for t in grid
        ]
        return float(grid[int(np.argmin(costs))])
    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
    return float(thresholds[int(np.argmax(f1))])


def feature_importance(
    estimator: BaseEstimator, features: pd.DataFrame, y_true: pd.Series, repeats: int, seed: int
) -> dict[str, float]:
    """Permutation importance (drop in ROC AUC) on the original features, model-agnostic."""
    result = permutation_importance(
        estimator, features, y_true, scoring="roc_auc", n_repeats=repeats, random_state=seed, n_jobs=1
    )
    pairs = sorted(zip(features.columns, result.importances_mean), key=lambda p: -p[1])
    return {str(name): float(value) for name, value in pairs}


def save_plots(
    out_dir: Path,
    title: str,
    y_true: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    importance: dict[str, float],
) -> dict[str, Path]:
    """Write the five evaluation plots as PNG files; return name -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / f"{name}.png" for name in PLOT_NAMES}
    predicted = (proba >= threshold).astype(int)

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true, predicted, display_labels=["repaid (0)", "default (1)"], cmap="Blues", ax=ax, colorbar=False
    )
    ax.set_title(f"{title}: confusion matrix @ {threshold:.2f}")
    _save(fig, paths["confusion_matrix"])

    fig, ax = plt.subplots(figsize=(5, 4.5))
    RocCurveDisplay.from_predictions(y_true, proba, ax=ax, name=title)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.set_title(f"{title}: ROC curve (hold-out)")
    _save(fig, paths["roc_curve"])

    fig, ax = plt.subplots(figsize=(5, 4.5))
    PrecisionRecallDisplay.from_predictions(y_true, proba, ax=ax, name=title)
    ax.axhline(float(np.mean(y_true)), linestyle="--", color="grey", linewidth=1, label="base rate")
    ax.set_title(f"{title}: precision-recall (hold-out)")
    _save(fig, paths["precision_recall"])

    fig, ax = plt.subplots(figsize=(5, 4.5))
    CalibrationDisplay.from_predictions(y_true, proba, n_bins=10, strategy="quantile", ax=ax, name=title)
    ax.set_title(f"{title}: calibration (hold-out)")
    _save(fig, paths["calibration"])

    top = list(importance.items())[:15][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(top) + 1.2))
    ax.barh([name for name, _ in top], [value for _, value in top], color="#4c72b0")
    ax.set_xlabel("drop in ROC AUC when shuffled")
    ax.set_title(f"{title}: permutation feature importance")
    _save(fig, paths["feature_importance"])
    return paths


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
