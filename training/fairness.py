"""Fairness by group with fairlearn: per-group rates and ROC AUC (bootstrap intervals), disparities, the gate.

Every figure comes from fairlearn's MetricFrame (bootstrap via its n_boot/ci_quantiles) and its disparity
functions; the sklearn/fairlearn metric functions are only wrapped to return NaN where they are undefined
(one class in a resample), so a small group never crashes the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score, roc_auc_score

from training.governance_config import BootstrapConfig, FairnessConfig, FairnessGateConfig
from training.groups import Groups

PREDICTION_SETS = ("holdout", "out_of_fold")
GROUP_METRICS = ("flagged_rate", "tpr", "fpr", "precision", "roc_auc")
DISPARITIES = (
    "demographic_parity_ratio",
    "demographic_parity_difference",
    "equalized_odds_difference",
    "tpr_difference",
    "fpr_difference",
)


def base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of the positive class (default) among the group's applicants: the selection rate of the truth."""
    return selection_rate(y_true, y_true)


def roc_auc(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of the scores (passed as a sample parameter); NaN when the rows hold one class only."""
    return roc_auc_score(y_true, scores) if len(np.unique(y_true)) == 2 else math.nan


METRICS = {
    "count": count,
    "base_rate": base_rate,
    "flagged_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "precision": partial(precision_score, zero_division=np.nan),
    "roc_auc": roc_auc,
}


@dataclass(frozen=True)
class Predictions:
    """One set of predictions: the truth, the probability of the positive class and the decision threshold."""

    y_true: np.ndarray
    proba: np.ndarray
    threshold: float

    @property
    def flagged(self) -> np.ndarray:
        return (self.proba >= self.threshold).astype(int)


def metric_frame(
    predictions: Predictions, features: pd.Series | np.ndarray, bootstrap: BootstrapConfig | None, seed: int
) -> MetricFrame:
    """fairlearn's MetricFrame of every metric, with bootstrap intervals when `bootstrap` is given."""
    with sklearn.config_context(skip_parameter_validation=True):
        return MetricFrame(
            metrics=METRICS,
            y_true=predictions.y_true,
            y_pred=predictions.flagged,
            sensitive_features=features,
            sample_params={"roc_auc": {"scores": predictions.proba}},
            n_boot=bootstrap.n_boot if bootstrap else None,
            ci_quantiles=bootstrap.quantiles if bootstrap else None,
            random_state=seed if bootstrap else None,
        )


def measurable_groups(y_true: np.ndarray, groups: pd.Series, min_size: int) -> dict[str, str | None]:
    """Group -> None when measurable, else why not (too few rows, or one class only)."""
    reasons: dict[str, str | None] = {}
    for label, rows in pd.Series(y_true, index=groups.index).groupby(groups.to_numpy(), sort=True):
        if len(rows) < min_size:
            reasons[str(label)] = f"too small to measure ({len(rows)} rows < {min_size})"
        elif rows.nunique() < 2:
            reasons[str(label)] = f"too small to measure (no {'positives' if rows.iloc[0] == 0 else 'negatives'})"
        else:
            reasons[str(label)] = None
    return reasons


def measure_attribute(
    predictions: Predictions, groups: pd.Series, cfg: FairnessConfig, bootstrap: bool, seed: int
) -> dict[str, Any]:
    """Per-group figures and disparities of one attribute; too-small groups are reported, not measured."""
    reasons = measurable_groups(predictions.y_true, groups, cfg.min_group_size)
    labels = groups.to_numpy().astype(str)
    kept = np.isin(labels, [label for label, why in reasons.items() if why is None])
    measured = Predictions(predictions.y_true[kept], predictions.proba[kept], predictions.threshold)
    frame = metric_frame(measured, labels[kept], cfg.bootstrap if bootstrap else None, seed) if kept.any() else None
    rows: list[dict[str, Any]] = []
    for label, why in reasons.items():
        members = labels == label
        row: dict[str, Any] = {
            "group": label,
            "count": int(members.sum()),
            "base_rate": _clean(predictions.y_true[members].mean()),
            "measured": why is None,
        }
        row.update(_group_figures(frame, label) if why is None and frame is not None else {"note": why})
        rows.append(row)
    measured_groups = sum(1 for why in reasons.values() if why is None)
    report: dict[str, Any] = {"groups": rows, "measured_groups": measured_groups, "disparities": None}
    if frame is None or measured_groups < 2:
        report["note"] = f"fewer than two measurable groups ({measured_groups}): no disparity can be computed"
    else:
        report["disparities"] = _disparities(measured, labels[kept], frame)
    return report


def _group_figures(frame: MetricFrame, label: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for metric in GROUP_METRICS:
        figures[metric] = _clean(frame.by_group.loc[label, metric])
        if frame.n_boot:
            figures[f"{metric}_ci"] = [_clean(bound.loc[label, metric]) for bound in frame.by_group_ci]
    return figures


def _disparities(predictions: Predictions, labels: np.ndarray, frame: MetricFrame) -> dict[str, Any]:
    """fairlearn's disparity functions; intervals from the bootstrapped frame where it provides them."""
    y_true, flagged = predictions.y_true, predictions.flagged
    differences = frame.difference()
    values = {
        "demographic_parity_ratio": demographic_parity_ratio(y_true, flagged, sensitive_features=labels),
        "demographic_parity_difference": demographic_parity_difference(y_true, flagged, sensitive_features=labels),
        "equalized_odds_difference": equalized_odds_difference(y_true, flagged, sensitive_features=labels),
        "tpr_difference": differences["tpr"],
        "fpr_difference": differences["fpr"],
    }
    intervals: dict[str, list[float | None] | None] = dict.fromkeys(values)
    if frame.n_boot:
        intervals["demographic_parity_ratio"] = [_clean(b["flagged_rate"]) for b in frame.ratio_ci()]
        intervals["demographic_parity_difference"] = [_clean(b["flagged_rate"]) for b in frame.difference_ci()]
        intervals["tpr_difference"] = [_clean(b["tpr"]) for b in frame.difference_ci()]
        intervals["fpr_difference"] = [_clean(b["fpr"]) for b in frame.difference_ci()]
    return {name: {"value": _clean(values[name]), "ci": intervals[name]} for name in DISPARITIES}


def overall_figures(predictions: Predictions, cfg: FairnessConfig, seed: int) -> dict[str, Any]:
    """The whole set's figures with bootstrap intervals (one group: everybody)."""
    frame = metric_frame(predictions, np.full(len(predictions.y_true), "all"), cfg.bootstrap, seed)
    return {
        metric: {"value": _clean(frame.overall[metric]), "ci": [_clean(b[metric]) for b in frame.overall_ci]}
        for metric in ("base_rate", *GROUP_METRICS)
    }


def measure(
    sets: dict[str, tuple[Predictions, pd.Index]], groups: Groups, cfg: FairnessConfig, bootstrap: bool, seed: int
) -> dict[str, dict[str, Any]]:
    """set -> attribute -> report, for every prediction set (hold-out, out-of-fold) and attribute."""
    return {
        name: {
            attribute: measure_attribute(predictions, groups.of(index)[attribute], cfg, bootstrap, seed)
            for attribute in groups.definitions
        }
        for name, (predictions, index) in sets.items()
    }


def flat_metrics(report: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The disparities as MLflow metric names: fairness_<set>_<attribute>_<disparity>."""
    metrics = {}
    for set_name, attributes in report.items():
        for attribute, figures in attributes.items():
            for name, disparity in (figures.get("disparities") or {}).items():
                if disparity["value"] is not None:
                    metrics[f"fairness_{set_name}_{attribute}_{name}"] = disparity["value"]
    return metrics


def by_group_table(report: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per set, attribute and group: every figure and interval (the MLflow table artifact)."""
    rows = [
        {"set": set_name, "attribute": attribute, **group}
        for set_name, attributes in report.items()
        for attribute, figures in attributes.items()
        for group in figures["groups"]
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FairnessVerdict:
    """What the fairness gate found: each breached threshold as a sentence, and the decision."""

    findings: tuple[str, ...]
    action: str

    @property
    def decision(self) -> str:
        if not self.findings:
            return "passed"
        return "refused" if self.action == "refuse" else "warned"


def check_fairness_gate(report: dict[str, dict[str, Any]], gate: FairnessGateConfig) -> FairnessVerdict:
    """Compare the disparities of the gate's prediction set with the configured limits."""
    limits = [
        ("demographic_parity_ratio", "demographic-parity ratio", gate.min_demographic_parity_ratio, "below"),
        (
            "demographic_parity_difference",
            "demographic-parity difference",
            gate.max_demographic_parity_difference,
            "above",
        ),
        ("equalized_odds_difference", "equalized-odds difference", gate.max_equalized_odds_difference, "above"),
    ]
    findings = []
    for attribute, figures in report.get(gate.predictions, {}).items():
        disparities = figures.get("disparities") or {}
        for key, title, limit, side in limits:
            value = (disparities.get(key) or {}).get("value")
            if limit is None or value is None:
                continue
            if (side == "below" and value < limit) or (side == "above" and value > limit):
                findings.append(
                    f"{attribute}: {title} {value:.3f}{_interval_text(disparities[key]['ci'])} is {side} "
                    f"the limit {limit:.3f} ({gate.predictions.replace('_', '-')} predictions)"
                )
    return FairnessVerdict(tuple(findings), gate.action)


def _interval_text(ci: list[float | None] | None) -> str:
    if not ci or any(bound is None for bound in ci):
        return ""
    return f" (interval {ci[0]:.3f}–{ci[1]:.3f})"


def _clean(value: Any) -> float | None:
    """A JSON-ready float: NaN and infinities become None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
