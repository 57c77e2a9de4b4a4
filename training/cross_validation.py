"""Stratified k-fold cross-validation of one candidate: out-of-fold probabilities and per-fold scores."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from training.models import fresh_copy, predict_positive
from training.report import log


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold probabilities (one per training row, for the threshold) and each fold's scores."""

    out_of_fold: np.ndarray
    roc_auc: list[float]
    pr_auc: list[float]

    def metrics(self) -> dict[str, float]:
        return {
            "cv_roc_auc_mean": float(np.mean(self.roc_auc)),
            "cv_roc_auc_std": float(np.std(self.roc_auc)),
            "cv_pr_auc_mean": float(np.mean(self.pr_auc)),
        }


def cross_validate(
    estimator: BaseEstimator, x: pd.DataFrame, y: pd.Series, folds: int, seed: int, label: str
) -> CrossValidation:
    """Fit a fresh copy per fold, printing one progress line per fold under `label`."""
    oof = np.zeros(len(y))
    roc, pr = [], []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (fit_idx, val_idx) in enumerate(splitter.split(x, y), start=1):
        started = time.perf_counter()
        model = fresh_copy(estimator).fit(x.iloc[fit_idx], y.iloc[fit_idx])
        oof[val_idx] = predict_positive(model, x.iloc[val_idx])
        roc.append(roc_auc_score(y.iloc[val_idx], oof[val_idx]))
        pr.append(average_precision_score(y.iloc[val_idx], oof[val_idx]))
        log(f"  {label} fold {fold}/{folds}: roc_auc={roc[-1]:.3f} ({time.perf_counter() - started:.1f}s)")
    return CrossValidation(oof, roc, pr)
