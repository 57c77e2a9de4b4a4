"""One candidate in its own nested MLflow run: cross-validate, pick its threshold, fit, evaluate, log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from sklearn.base import BaseEstimator

from training.config import CandidateConfig, TrainingConfig
from training.cross_validation import cross_validate
from training.data import Splits
from training.evaluate import choose_threshold, feature_importance, holdout_metrics, save_plots
from training.governance import Assessment, GovernanceInputs, assess_candidate, log_assessment, prediction_sets
from training.models import estimator_params, fresh_copy, predict_positive
from training.report import log
from training.tracking import log_hyperparameters, log_model


@dataclass
class CandidateResult:
    """What the session needs of a trained candidate to compare, gate, register and export it."""

    name: str
    algorithm: str
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    threshold: float
    importance: dict[str, float]
    plots: dict[str, Path]
    test_proba: np.ndarray
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    out_of_fold: np.ndarray | None = None
    assessment: Assessment | None = None


def train_candidate(
    index: int,
    cfg: TrainingConfig,
    candidate: CandidateConfig,
    estimator: BaseEstimator,
    splits: Splits,
    plot_root: Path,
    tags: dict[str, str],
    governance: GovernanceInputs,
) -> CandidateResult:
    """Threshold from out-of-fold predictions, metrics on the hold-out set, fairness by group and behavioral tests;
    the model, plots and importance logged."""
    x_train, x_test, y_train, y_test = splits
    label = f"[{index}/{len(cfg.candidates)}] {candidate.name}"
    started = time.perf_counter()
    with mlflow.start_run(run_name=candidate.name, nested=True) as run:
        mlflow.set_tags({**tags, "algorithm": candidate.type})
        params = estimator_params(estimator)
        log_hyperparameters(params)
        cv = cross_validate(estimator, x_train, y_train, cfg.split.cv_folds, cfg.split.seed, label)
        threshold = choose_threshold(y_train.to_numpy(), cv.out_of_fold, cfg.threshold)
        fitted = fresh_copy(estimator).fit(x_train, y_train)
        test_proba = predict_positive(fitted, x_test)
        metrics = {
            **cv.metrics(),
            **{k: float(v) for k, v in holdout_metrics(y_test.to_numpy(), test_proba, threshold).items()},
            "threshold": threshold,
        }
        mlflow.log_metrics(metrics)
        importance = feature_importance(fitted, x_test, y_test, cfg.permutation_repeats, cfg.split.seed)
        plots = save_plots(
            plot_root / candidate.name, candidate.name, y_test.to_numpy(), test_proba, threshold, importance
        )
        mlflow.log_artifacts(str(plot_root / candidate.name), artifact_path="plots")
        mlflow.log_dict(importance, "feature_importance.json")
        sets = prediction_sets(splits, cv.out_of_fold, test_proba, threshold)
        assessment = assess_candidate(cfg, governance, fitted, sets, x_test)
        log_assessment(assessment)
        model_uri = log_model(fitted, x_train.head(5))
        seconds = time.perf_counter() - started
        log(
            f"  {label}: cv_roc_auc={metrics['cv_roc_auc_mean']:.3f}±{metrics['cv_roc_auc_std']:.3f} "
            f"test_roc_auc={metrics['test_roc_auc']:.3f} ({seconds:.1f}s)"
        )
        return CandidateResult(
            candidate.name,
            candidate.type,
            run.info.run_id,
            model_uri,
            metrics,
            threshold,
            importance,
            plots,
            test_proba,
            seconds,
            params,
            cv.out_of_fold,
            assessment,
        )
