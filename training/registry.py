"""The MLflow Model Registry: champion lookup, registration, aliases."""

from __future__ import annotations

from dataclasses import dataclass

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
