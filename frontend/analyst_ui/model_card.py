"""Readable tables of the model card: metrics with their names, the candidate comparison, fairness by group,
behavioral tests and lineage."""

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
    "fairness": "Fairness by group",
}
PLOT_ORDER = ("roc_curve", "precision_recall", "calibration", "confusion_matrix", "feature_importance", "fairness")


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


# Governance sections (the same as the bundle's model_card.md): fairness, behavioral tests, lineage.
SET_TITLES = {"out_of_fold": "Out-of-fold predictions (training rows)", "holdout": "Hold-out predictions (test rows)"}
GROUP_FIGURES = (
    ("flagged_rate", "flagged rate"),
    ("tpr", "TPR"),
    ("fpr", "FPR"),
    ("precision", "precision"),
    ("roc_auc", "ROC AUC"),
)
DISPARITY_TITLES = {
    "demographic_parity_ratio": "demographic-parity ratio",
    "demographic_parity_difference": "demographic-parity difference",
    "equalized_odds_difference": "equalized-odds difference",
}
LIMIT_KEYS = {
    "demographic_parity_ratio": ("min_demographic_parity_ratio", "≥"),
    "demographic_parity_difference": ("max_demographic_parity_difference", "≤"),
    "equalized_odds_difference": ("max_equalized_odds_difference", "≤"),
}


def interval(value: float | None, bounds: Sequence[float | None] | None) -> str:
    """`0.822 (0.733–0.882)`; the value alone without an interval; an en dash when there is no value."""
    if value is None:
        return "–"
    if not bounds or any(bound is None for bound in bounds):
        return f"{value:.3f}"
    return f"{value:.3f} ({bounds[0]:.3f}–{bounds[1]:.3f})"


def ordered_sets(fairness: dict[str, Any]) -> list[str]:
    """The prediction set the fairness gate judges first, then the others."""
    judged = (fairness.get("gate") or {}).get("predictions")
    return sorted(fairness.get("sets") or {}, key=lambda name: name != judged)


def group_table(report: dict[str, Any]) -> pd.DataFrame:
    """One row per group: size, default rate and each figure with its interval (or why it is not measured)."""
    rows = []
    for group in report.get("groups", []):
        row = {"group": group["group"], "n": group["count"], "default rate": interval(group.get("base_rate"), None)}
        for key, title in GROUP_FIGURES:
            row[title] = interval(group.get(key), group.get(f"{key}_ci")) if group.get("measured") else "–"
        row["note"] = group.get("note") or ""
        rows.append(row)
    return pd.DataFrame(rows)


def disparity_table(attributes: dict[str, Any], limits: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per attribute (and the gate's limits when given): the disparities with their intervals."""
    rows = []
    for attribute, report in attributes.items():
        disparities = report.get("disparities") or {}
        row = {"attribute": attribute}
        for key, title in DISPARITY_TITLES.items():
            figure = disparities.get(key) or {}
            row[title] = interval(figure.get("value"), figure.get("ci")) if disparities else report.get("note", "–")
        rows.append(row)
    if limits:
        limit_row = {"attribute": "limit"}
        for key, title in DISPARITY_TITLES.items():
            name, sign = LIMIT_KEYS[key]
            limit_row[title] = "none" if limits.get(name) is None else f"{sign} {limits[name]:g}"
        rows.append(limit_row)
    return pd.DataFrame(rows)


def behavioral_table(results: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per behavioral test: kind, whether enforced, result and its sentence."""
    return pd.DataFrame(
        [
            {
                "test": r["name"],
                "kind": r["type"].replace("_", " "),
                "enforced": "yes" if r["enforced"] else "no (reported)",
                "result": "passed" if r["passed"] else "FAILED",
                "details": r["summary"],
            }
            for r in results
        ]
    )


def overall_table(overall: dict[str, Any]) -> pd.DataFrame:
    """The hold-out's figures with their bootstrap intervals."""
    titles = {
        "roc_auc": "ROC AUC",
        "precision": "precision (flagged who default)",
        "tpr": "recall / TPR (defaults flagged)",
        "fpr": "FPR (repayers flagged)",
        "flagged_rate": "flagged rate",
        "base_rate": "default rate",
    }
    return pd.DataFrame(
        [
            {"metric": titles[k], "value (interval)": interval(v["value"], v["ci"])}
            for k, v in overall.items()
            if k in titles
        ]
    )


def lineage_table(lineage: dict[str, Any]) -> pd.DataFrame:
    """Code, data, MLflow runs, registry version, person, and each DVC stage's outputs."""
    git, data, runs = lineage.get("git") or {}, lineage.get("dataset") or {}, lineage.get("mlflow") or {}
    rows = [
        (
            "git commit",
            str(git.get("commit", "?")) + (" (uncommitted changes)" if git.get("uncommitted_changes") else ""),
        ),
        ("data", f"{data.get('path', '?')} md5 {data.get('md5', '?')}"),
        ("MLflow", f"{runs.get('tracking_uri', '?')} experiment {runs.get('experiment', '?')}"),
        ("session run", runs.get("session_run_id", "?")),
        ("champion run", runs.get("champion_run_id", "?")),
        ("registered", f"{runs.get('registered_model', '?')} v{runs.get('version', '?')}"),
        ("trained by", lineage.get("trained_by", "?")),
    ]
    stages = (lineage.get("dvc") or {}).get("stages")
    if stages:
        for stage, hashes in stages.items():
            rows.append((f"DVC stage {stage}", "; ".join(f"{p} {m[:12]}" for p, m in hashes["outs"].items()) or "–"))
    else:
        rows.append(("DVC", "no dvc.lock at training time (trained outside dvc repro)"))
    return pd.DataFrame(rows, columns=["", "value"])
