"""MLflow tracking setup and the Model Registry: champion lookup, registration, aliases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CHAMPION_ALIAS = "champion"
PREVIOUS_ALIAS = "previous"


@dataclass(frozen=True)
class RegisteredChampion:
    version: str
    run_id: str
    test_roc_auc: float | None


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


def current_champion(client: MlflowClient, model_name: str) -> RegisteredChampion | None:
    """The version holding the champion alias, with its hold-out ROC AUC."""
    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException:
        return None
    auc = client.get_run(version.run_id).data.metrics.get("test_roc_auc") if version.run_id else None
    return RegisteredChampion(version.version, version.run_id, auc)


def register_champion(client: MlflowClient, model_name: str, model_uri: str, run_id: str) -> str:
    """New registry version with alias champion; the replaced version keeps alias previous."""
    previous = current_champion(client, model_name)
    version = mlflow.register_model(model_uri, model_name, tags={"run_id": run_id}).version
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    if previous is not None and previous.version != version:
        client.set_registered_model_alias(model_name, PREVIOUS_ALIAS, previous.version)
    return str(version)
