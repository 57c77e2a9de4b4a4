"""Realized performance: how the predictions of each model version did against their matured outcomes.

All figures come from scikit-learn's metrics on the labeled rows (probability vs outcome = positive label);
calibration groups rows by risk band and by decile of the predicted probability and compares the mean predicted
with the observed default rate. The AUC's confidence interval is a seeded bootstrap (labels arrive slowly and in
small numbers: the interval says how much the point estimate can be trusted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, confusion_matrix, roc_auc_score

from app.monitoring.outcomes import LabeledPrediction

BOOTSTRAP_SEED = 20_231
BAND_NAMES = ("low", "medium", "high")
DECILES = 10


@dataclass(frozen=True)
class RealizedSettings:
    """How realized performance is computed (Settings OUTCOME_*), and what the served bundle says."""

    positive_label: str
    maturity_days: int
    min_labeled: int
    resamples: int
    band_edges: tuple[float, float]  # medium, high: the served bundle's risk bands
    expected_flagged: Mapping[str, float | None]  # model version -> hold-out flagged share (when known)


def bootstrap_auc(y: np.ndarray, p: np.ndarray, resamples: int) -> tuple[float | None, float | None]:
    """The 2.5 and 97.5 percentiles of ROC AUC over seeded resamples (those with both classes)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values = []
    for _ in range(resamples):
        picked = rng.integers(0, len(y), len(y))
        if 0 < y[picked].sum() < len(picked):
            values.append(roc_auc_score(y[picked], p[picked]))
    if not values:
        return None, None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def calibration(frame: pd.DataFrame, by: pd.Series, name: str) -> list[dict[str, Any]]:
    """Count, mean predicted probability and observed default rate per group of `by`."""
    grouped = frame.groupby(by, observed=True).agg(
        count=("y", "size"), predicted=("p", "mean"), observed_rate=("y", "mean")
    )
    return [
        {
            name: key,
            "count": int(row["count"]),
            "predicted": float(row["predicted"]),
            "observed": float(row["observed_rate"]),
        }
        for key, row in grouped.iterrows()
    ]


def version_performance(
    rows: Sequence[LabeledPrediction],
    predictions: int,
    immature: int,
    expected_flagged: float | None,
    cfg: RealizedSettings,
) -> dict[str, Any]:
    """The realized figures of one model version's matured labeled rows."""
    y = np.array([row.outcome == cfg.positive_label for row in rows], dtype=int)
    p = np.array([row.probability for row in rows], dtype=float)
    flagged = np.array([row.label for row in rows], dtype=int)
    n, positives = len(rows), int(y.sum())
    both_classes = 0 < positives < n
    reason = None
    if not both_classes:
        reason = "no defaults observed yet" if positives == 0 else "only defaults observed"
    elif n < cfg.min_labeled:
        reason = f"{n} labeled predictions, fewer than the {cfg.min_labeled} needed (OUTCOME_MIN_LABELED)"
    answer: dict[str, Any] = {
        "predictions": predictions,
        "labeled": n,
        "labeled_share": n / predictions if predictions else None,
        "immature": immature,
        "positives": positives,
        "status": "ok" if reason is None else "insufficient",
        "reason": reason,
        "roc_auc": {"value": None, "ci_low": None, "ci_high": None, "n": n, "resamples": cfg.resamples},
        "pr_auc": None,
        "brier": None,
        "confusion": None,
        "expected_default_rate": float(p.mean()) if n else None,
        "realized_default_rate": positives / n if n else None,
        "expected_flagged_share": expected_flagged,
        "realized_flagged_share": float(flagged.mean()) if n else None,
        "calibration_error": None,
        "calibration_bands": [],
        "calibration_deciles": [],
    }
    if n == 0:
        return answer
    answer["brier"] = float(brier_score_loss(y, p))
    tn, fp, fn, tp = confusion_matrix(y, flagged, labels=[0, 1]).ravel()
    answer["confusion"] = {
        "true_positive": int(tp),
        "false_positive": int(fp),
        "true_negative": int(tn),
        "false_negative": int(fn),
    }
    if both_classes:
        low, high = bootstrap_auc(y, p, cfg.resamples)
        answer["roc_auc"].update(value=float(roc_auc_score(y, p)), ci_low=low, ci_high=high)
        answer["pr_auc"] = float(average_precision_score(y, p))
    frame = pd.DataFrame({"y": y, "p": p})
    bands = pd.Series(np.asarray(BAND_NAMES, dtype=object)[np.digitize(p, cfg.band_edges)])
    answer["calibration_bands"] = sorted(
        calibration(frame, bands, "band"), key=lambda item: BAND_NAMES.index(item["band"])
    )
    deciles = pd.Series(pd.qcut(p, min(DECILES, n), labels=False, duplicates="drop"))
    answer["calibration_deciles"] = [
        {**item, "decile": int(item["decile"]) + 1} for item in calibration(frame, deciles, "decile")
    ]
    errors = [item["count"] * abs(item["predicted"] - item["observed"]) for item in answer["calibration_deciles"]]
    answer["calibration_error"] = float(sum(errors) / n)  # expected calibration error over the deciles
    return answer


def realized_performance(
    labeled: Sequence[LabeledPrediction], predictions: Mapping[str, int], cfg: RealizedSettings
) -> list[dict[str, Any]]:
    """Per model version (highest version first): matured labeled rows' figures; outcomes observed before maturity
    are counted apart (`immature`) and left out of every figure."""
    by_version: dict[str, tuple[list[LabeledPrediction], list[LabeledPrediction]]] = {}
    for row in labeled:
        matured, immature = by_version.setdefault(row.model_version, ([], []))
        (matured if row.matured(cfg.maturity_days) else immature).append(row)
    versions = sorted(set(predictions) | set(by_version), key=lambda v: (len(v), v), reverse=True)
    answers = []
    for version in versions:
        matured, immature = by_version.get(version, ([], []))
        figures = version_performance(
            matured, predictions.get(version, 0), len(immature), cfg.expected_flagged.get(version), cfg
        )
        answers.append({"model_version": version, **figures})
    return answers
