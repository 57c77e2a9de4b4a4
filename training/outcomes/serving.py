"""The serving model the new champion is gated against: its registered version, loaded from the MLflow registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from training.config import SplitConfig
from training.errors import TrainingInputError
from training.registry import CHAMPION_ALIAS

ORIGINAL_SHA_TAG = "outcomes_original_sha256"  # set by make retrain: the original data under the labeled rows
LABELED_SHA_TAG = "outcomes_labeled_sha256"  # set by make retrain: the labeled file it trained on
PARENT_RUN_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class ServingModel:
    version: str
    run_id: str
    estimator: Any
    labeled_sha256: str | None  # the labeled file it was retrained on (None: trained by make train)


def serving_model(client: MlflowClient, model_name: str, version: str | None) -> ServingModel:
    """The given registry version, else the one with the champion alias (what `make deploy` serves by default)."""
    try:
        if version is None:
            registered = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
        else:
            registered = client.get_model_version(model_name, version)
    except MlflowException:
        wanted = f"v{version}" if version else f"a version with the alias {CHAMPION_ALIAS}"
        raise TrainingInputError(
            f"the registry has no {model_name} {wanted} to compare with: make train first"
        ) from None
    uri = f"models:/{model_name}/{registered.version}"
    flavors = mlflow.models.get_model_info(uri).flavors
    loader = mlflow.catboost.load_model if "catboost" in flavors else mlflow.sklearn.load_model
    labeled = client.get_run(registered.run_id).data.tags.get(LABELED_SHA_TAG) if registered.run_id else None
    return ServingModel(str(registered.version), registered.run_id, loader(uri), labeled)


def check_unseen_holdout(client: MlflowClient, serving: ServingModel, original_sha256: str, split: SplitConfig) -> str:
    """Refuse (TrainingInputError) a serving model trained on other data or another split: the original hold-out
    would not be unseen by it. Returns what was verified, in words."""
    tags = client.get_run(serving.run_id).data.tags
    trained_on = tags.get(ORIGINAL_SHA_TAG) or tags.get("dataset_sha256")
    if trained_on is None:
        return f"v{serving.version}'s run records no dataset (an imported bundle): its hold-out is assumed unseen"
    if trained_on != original_sha256:
        raise TrainingInputError(
            f"the serving model v{serving.version} was trained on other data (sha256 {trained_on[:12]}, not "
            f"{original_sha256[:12]}): the original hold-out may not be unseen by it; retrain against its data"
        )
    parent = tags.get(PARENT_RUN_TAG)
    params = client.get_run(parent).data.params if parent else {}
    for name, value in (("seed", split.seed), ("test_size", split.test_size)):
        if name in params and params[name] != str(value):
            raise TrainingInputError(
                f"the serving model v{serving.version} was split with {name}={params[name]}, the config says "
                f"{value}: the original hold-out would not be the one it never saw"
            )
    return f"v{serving.version} was trained on the same data and split (seed {split.seed}): its hold-out is unseen"
