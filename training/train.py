"""Train the candidates, track them in MLflow, gate, register and export the champion.

    python -m training.train --config training/params.yaml [--force]

Exit codes: 0 done, 1 refused by the quality gate, 2 bad config or data.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import skops.io
from catboost import CatBoostClassifier
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.base import BaseEstimator
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from training import data as data_mod
from training.config import CandidateConfig, TrainingConfig, load_config
from training.errors import QualityGateError, TrainingInputError
from training.evaluate import choose_threshold, feature_importance, holdout_metrics, save_plots
from training.export import export_bundle, foreign_bundles
from training.models import (
    build_candidate,
    check_params,
    estimator_params,
    fresh_copy,
    predict_positive,
    serving_requirements,
)
from training.registry import current_champion, register_champion, setup_tracking

SCORE_BINS = [round(i / 10, 1) for i in range(1, 10)]  # inner edges of the score histogram


@dataclass
class CandidateResult:
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


def log(message: str) -> None:
    print(message, flush=True)


def git_commit() -> str:
    if os.environ.get("GIT_COMMIT"):
        return os.environ["GIT_COMMIT"]
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cross_validate(
    estimator: BaseEstimator, x: pd.DataFrame, y: pd.Series, folds: int, seed: int, label: str
) -> tuple[np.ndarray, list[float], list[float]]:
    """Stratified k-fold: out-of-fold probabilities and per-fold ROC/PR AUC, with progress."""
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
    return oof, roc, pr


def log_model(estimator: BaseEstimator, x_sample: pd.DataFrame) -> str:
    signature = infer_signature(x_sample, predict_positive(estimator, x_sample))
    if isinstance(estimator, CatBoostClassifier):
        info = mlflow.catboost.log_model(
            estimator,
            name="model",
            signature=signature,
            input_example=x_sample,
            pip_requirements=serving_requirements("catboost"),
        )
    else:
        # skops (MLflow's safe default) needs the types of our own freshly fitted model allow-listed.
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
        info = mlflow.sklearn.log_model(
            estimator,
            name="model",
            signature=signature,
            input_example=x_sample,
            skops_trusted_types=trusted,
            pip_requirements=serving_requirements("sklearn"),
        )
    return info.model_uri


def train_candidate(
    index: int,
    cfg: TrainingConfig,
    candidate: CandidateConfig,
    estimator: BaseEstimator,
    splits: tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series],
    plot_root: Path,
    tags: dict[str, str],
) -> CandidateResult:
    x_train, x_test, y_train, y_test = splits
    label = f"[{index}/{len(cfg.candidates)}] {candidate.name}"
    started = time.perf_counter()
    with mlflow.start_run(run_name=candidate.name, nested=True) as run:
        mlflow.set_tags({**tags, "algorithm": candidate.type})
        params = estimator_params(estimator)
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        oof, roc, pr = cross_validate(estimator, x_train, y_train, cfg.split.cv_folds, cfg.split.seed, label)
        threshold = choose_threshold(y_train.to_numpy(), oof, cfg.threshold)
        fitted = fresh_copy(estimator).fit(x_train, y_train)
        test_proba = predict_positive(fitted, x_test)
        metrics = {
            "cv_roc_auc_mean": float(np.mean(roc)),
            "cv_roc_auc_std": float(np.std(roc)),
            "cv_pr_auc_mean": float(np.mean(pr)),
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
        )


def comparison_table(results: list[CandidateResult], champion: str) -> pd.DataFrame:
    rows = []
    for result in results:
        rows.append(
            {
                "candidate": result.name,
                "champion": result.name == champion,
                **{k: round(v, 4) for k, v in result.metrics.items()},
                "seconds": round(result.seconds, 1),
            }
        )
    return pd.DataFrame(rows)


def print_table(table: pd.DataFrame) -> None:
    columns = [
        "cv_roc_auc_mean",
        "cv_roc_auc_std",
        "test_roc_auc",
        "test_pr_auc",
        "test_accuracy",
        "test_f1",
        "test_brier",
        "threshold",
        "seconds",
    ]
    header = f"   {'candidate':<22}" + "".join(f"{c.replace('_mean', ''):>16}" for c in columns)
    log(header)
    for _, row in table.iterrows():
        mark = " * " if row["champion"] else "   "
        log(f"{mark}{row['candidate']:<22}" + "".join(f"{row[c]:>16.4f}" for c in columns))
    log("   (* = champion)")


def check_gate(cfg: TrainingConfig, champion: CandidateResult, client: MlflowClient) -> list[str]:
    """Reasons the champion must be refused (empty when it passes)."""
    reasons = []
    auc = champion.metrics["test_roc_auc"]
    gate = cfg.quality_gate
    if auc < gate.min_test_roc_auc:
        reasons.append(f"test ROC AUC {auc:.4f} is below the minimum {gate.min_test_roc_auc:.4f}")
    incumbent = current_champion(client, cfg.registered_model_name)
    if incumbent and incumbent.test_roc_auc is not None and auc < incumbent.test_roc_auc - gate.max_drop_vs_champion:
        reasons.append(
            f"test ROC AUC {auc:.4f} is worse than the registered champion v{incumbent.version} "
            f"({incumbent.test_roc_auc:.4f}) by more than {gate.max_drop_vs_champion:.4f}"
        )
    return reasons


def build_metadata(
    cfg: TrainingConfig,
    dataset: data_mod.Dataset,
    champion: CandidateResult,
    version: str,
    x_train: pd.DataFrame,
    y_train: pd.Series,
    table: pd.DataFrame,
    commit: str,
) -> dict[str, Any]:
    schema = data_mod.infer_schema(dataset)
    threshold = champion.threshold
    score_counts = np.bincount(
        np.searchsorted(SCORE_BINS, champion.test_proba, side="right"), minlength=len(SCORE_BINS) + 1
    )
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
        "dataset": {
            "file": Path(cfg.data.path).name,
            "sha256": dataset.sha256,
            "rows": int(len(dataset.target)),
            "target": cfg.data.target,
            "positive_label": cfg.data.positive_label,
            "negative_label": dataset.negative_label,
            "positive_rate": float(dataset.target.mean()),
        },
        "dropped_features": list(cfg.data.drop_features),
        "selection_metric": cfg.selection_metric,
        "metrics": {k: float(v) for k, v in champion.metrics.items()},
        "threshold": threshold,
        "threshold_strategy": cfg.threshold.strategy,
        "risk_bands": {"medium": threshold * cfg.risk_bands.medium_from_fraction_of_threshold, "high": threshold},
        "features": schema,
        "feature_order": list(dataset.features.columns),
        "example": data_mod.example_row(x_train, y_train),
        "feature_importance": champion.importance,
        "reference": {
            "features": data_mod.reference_distributions(x_train, dataset.numeric, cfg.reference_bins),
            "score": {
                "kind": "numeric",
                "edges": SCORE_BINS,
                "shares": [float(c) / len(champion.test_proba) for c in score_counts],
            },
            "rows": int(len(x_train)),
        },
        "candidates": table.to_dict(orient="records"),
    }


def run(cfg: TrainingConfig, force: bool = False) -> Path:
    """The whole pipeline; returns the exported bundle directory."""
    started = time.perf_counter()
    dataset = data_mod.load_dataset(cfg.data)
    estimators = [build_candidate(c, dataset.numeric, dataset.categorical, cfg.split.seed) for c in cfg.candidates]
    for candidate, estimator in zip(cfg.candidates, estimators):
        check_params(estimator, candidate.name)
    splits = data_mod.split(dataset, cfg.split)
    x_train, x_test, y_train, y_test = splits
    log(
        f"data: {cfg.data.path} rows={len(dataset.target)} features={dataset.features.shape[1]} "
        f"({len(dataset.numeric)} numeric, {len(dataset.categorical)} categorical) "
        f"positive rate={dataset.target.mean():.3f} dropped={cfg.data.drop_features or 'none'}"
    )
    log(f"split: train={len(y_train)} test={len(y_test)}; {cfg.split.cv_folds}-fold CV; seed={cfg.split.seed}")

    setup_tracking(cfg.tracking_uri, cfg.experiment_name)
    client = MlflowClient()
    commit = git_commit()
    log(f"mlflow: {cfg.tracking_uri} experiment '{cfg.experiment_name}'")
    foreign = foreign_bundles(cfg.export_dir, cfg.registered_model_name, client)
    if foreign:
        raise TrainingInputError(
            f"{Path(cfg.export_dir) / cfg.registered_model_name} holds bundles this MLflow store "
            f"({cfg.tracking_uri}) did not register: {', '.join(foreign)}. Its new versions would overwrite "
            "them. Train against the store that exported them (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5000 "
            "for the stack's server) or export elsewhere with MODELS_DIR=..."
        )
    run_name = f"training-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    with mlflow.start_run(run_name=run_name) as parent, tempfile.TemporaryDirectory() as plot_dir:
        tags = {
            "dataset_sha256": dataset.sha256,
            "dataset_rows": str(len(dataset.target)),
            "git_commit": commit,
            "dropped_features": ",".join(cfg.data.drop_features) or "none",
        }
        mlflow.set_tags(tags)
        mlflow.log_params(
            {
                "data_path": str(cfg.data.path),
                "target": cfg.data.target,
                "positive_label": cfg.data.positive_label,
                "test_size": cfg.split.test_size,
                "cv_folds": cfg.split.cv_folds,
                "seed": cfg.split.seed,
                "selection_metric": cfg.selection_metric,
                "drop_features": ",".join(cfg.data.drop_features) or "none",
                "candidates": ",".join(c.name for c in cfg.candidates),
            }
        )
        results = []
        for index, (candidate, estimator) in enumerate(zip(cfg.candidates, estimators), start=1):
            results.append(train_candidate(index, cfg, candidate, estimator, splits, Path(plot_dir), tags))
        champion = max(results, key=lambda r: r.metrics[cfg.selection_metric])
        table = comparison_table(results, champion.name)
        mlflow.log_table(table, "comparison.json")
        mlflow.log_text(table.to_csv(index=False), "comparison.csv")
        mlflow.set_tag("champion", champion.name)
        mlflow.log_metrics({f"champion_{k}": v for k, v in champion.metrics.items()})
        log("")
        print_table(table)

        reasons = check_gate(cfg, champion, client)
        if reasons and not force:
            mlflow.set_tag("quality_gate", "refused")
            raise QualityGateError("; ".join(reasons))
        mlflow.set_tag("quality_gate", "forced" if reasons else "passed")
        if reasons:
            log(f"quality gate overridden by --force: {'; '.join(reasons)}")
        version = register_champion(client, cfg.registered_model_name, champion.model_uri, champion.run_id)
        metadata = build_metadata(cfg, dataset, champion, version, x_train, y_train, table, commit)
        bundle = export_bundle(cfg.export_dir, cfg.registered_model_name, version, metadata, champion.plots)
        mlflow.set_tag("bundle", str(bundle))
    log(
        f"\nchampion: {champion.name} ({cfg.selection_metric}={champion.metrics[cfg.selection_metric]:.4f}, "
        f"test_roc_auc={champion.metrics['test_roc_auc']:.4f}, threshold={champion.threshold:.3f})"
    )
    log(f"registered: {cfg.registered_model_name} v{version} (alias champion); parent run {parent.info.run_id}")
    log(f"bundle: {bundle}")
    log(f"done in {time.perf_counter() - started:.1f}s")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="training/params.yaml", help="path to the YAML config")
    parser.add_argument("--force", action="store_true", help="register and export even if the quality gate refuses")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
        run(cfg, force=args.force)
    except TrainingInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QualityGateError as exc:
        print(
            f"quality gate refused the champion: {exc}\nnothing was registered or exported "
            "(use --force to override)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
