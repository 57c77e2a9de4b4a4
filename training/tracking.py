"""MLflow tracking: the store and experiment, the session run's tags and params, logged models, the comparison."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
import skops.io
from catboost import CatBoostClassifier
from mlflow.models import infer_signature
from sklearn.base import BaseEstimator

from training.config import TrainingConfig
from training.data import Dataset
from training.models import predict_positive, serving_requirements

if TYPE_CHECKING:
    from training.candidate import CandidateResult

MAX_PARAM_CHARS = 500


def setup_tracking(tracking_uri: str, experiment_name: str) -> str:
    """Point MLflow at the store; a local sqlite store keeps its artifacts beside the DB."""
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.get_experiment_by_name(experiment_name)
    if experiment is None:
        artifact_location = None
        if tracking_uri.startswith("sqlite:///"):
            db_dir = Path(tracking_uri.removeprefix("sqlite:///")).resolve().parent
            artifact_location = (db_dir / "artifacts").as_uri()
        experiment_id = mlflow.create_experiment(experiment_name, artifact_location=artifact_location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def session_tags(cfg: TrainingConfig, dataset: Dataset, commit: str) -> dict[str, str]:
    """Provenance tags set on the session run and repeated on every candidate run."""
    return {
        "dataset_sha256": dataset.sha256,
        "dataset_rows": str(len(dataset.target)),
        "git_commit": commit,
        "dropped_features": ",".join(cfg.data.drop_features) or "none",
    }


def log_session_params(cfg: TrainingConfig) -> None:
    """The settings of the session as params of the parent run."""
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


def log_hyperparameters(params: dict[str, Any]) -> None:
    """A candidate's hyperparameters as run params, each cut to a length every MLflow store accepts."""
    mlflow.log_params({k: str(v)[:MAX_PARAM_CHARS] for k, v in params.items()})


def log_model(estimator: BaseEstimator, x_sample: pd.DataFrame) -> str:
    """Log the fitted model with its signature, input example and pinned requirements; return its URI."""
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


def log_comparison(table: pd.DataFrame, champion: CandidateResult) -> None:
    """The comparison table (JSON and CSV), the champion's name and its metrics on the session run."""
    mlflow.log_table(table, "comparison.json")
    mlflow.log_text(table.to_csv(index=False), "comparison.csv")
    mlflow.set_tag("champion", champion.name)
    mlflow.log_metrics({f"champion_{k}": v for k, v in champion.metrics.items()})
