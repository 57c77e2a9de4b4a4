"""The MLflow Model Registry: champion lookup, registration, aliases, the exported bundles it knows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from training.bundle_digest import (
    BUNDLE_ARTIFACT,
    DIGEST_FILE,
    DIGEST_TAG,
    compute_digest,
    recorded_digest,
    write_digest,
)
from training.errors import TrainingInputError
from training.export import exported_run_id, exported_version, exported_versions

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


def record_bundle(client: MlflowClient, model_name: str, version: str, run_id: str, bundle: Path) -> str:
    """Record the exported bundle in MLflow: its digest as a tag of the model version and of its run, and the
    whole bundle as artifacts of that run (`bundle/`), so that a deploy can verify a bundle or fetch it from
    the registry on another machine. Returns the digest."""
    digest = recorded_digest(bundle) or write_digest(bundle)
    client.log_artifacts(run_id, str(bundle), artifact_path=BUNDLE_ARTIFACT)
    client.set_tag(run_id, DIGEST_TAG, digest)
    client.set_model_version_tag(model_name, version, DIGEST_TAG, digest)
    return digest


def sync_bundles(client: MlflowClient, bundles_dir: Path, model_name: str, store: str) -> list[str]:
    """Make this registry know every exported bundle before it registers a new version.

    Two MLflow stores (the host's `mlruns/` and the stack's server) can export into one bundles directory;
    each numbers its versions. So before registering, each store catches up with the directory: a bundle
    it lacks is imported (its model registered from the bundle, the bundle logged, its digest tagged) with
    the same version number. A store that registered *another* model under a bundle's number cannot be
    reconciled: TrainingInputError names both. Returns the imported versions."""
    imported = []
    for bundle in exported_versions(bundles_dir, model_name):
        digest = checked_digest(bundle)
        registered = _registered_version(client, model_name, bundle.name)
        if registered is not None:
            if registered.tags.get(DIGEST_TAG) == digest:
                continue
            if DIGEST_TAG not in registered.tags and registered.run_id == exported_run_id(bundle):
                client.set_model_version_tag(model_name, bundle.name, DIGEST_TAG, digest)  # exported before digests
                continue
            raise TrainingInputError(
                f"{bundle} is not the model {store} registered as {model_name} v{bundle.name} (run "
                f"{registered.run_id}): two stores exported into {bundles_dir}. Train against the store that "
                "exported it, or export elsewhere with BUNDLES_DIR=..."
            )
        newest = _newest_version(client, model_name)
        if newest != int(bundle.name) - 1:
            raise TrainingInputError(
                f"{store} cannot take {model_name} v{bundle.name} from {bundle} under its own number (its newest "
                f"version is v{newest}): export elsewhere with BUNDLES_DIR=... or train against the store that "
                "exported it"
            )
        _import_bundle(client, model_name, bundle, digest)
        imported.append(bundle.name)
    return imported


def checked_digest(bundle: Path) -> str:
    """The digest of an exported bundle that is what its export wrote: its metadata names its directory's
    version and its content matches its digest file (a bundle exported before digests existed gets one)."""
    named = exported_version(bundle)
    if named != bundle.name:
        raise TrainingInputError(f"{bundle} holds model version {named!r}: it is not an export of v{bundle.name}")
    written, actual = recorded_digest(bundle), compute_digest(bundle)
    if written is None:
        return write_digest(bundle)
    if written != actual:
        raise TrainingInputError(
            f"{bundle} was changed after it was exported (its content no longer matches "
            f"{DIGEST_FILE}): restore or remove it"
        )
    return actual


def _import_bundle(client: MlflowClient, model_name: str, bundle: Path, digest: str) -> None:
    with mlflow.start_run(run_name=f"import-bundle-v{bundle.name}") as run:
        mlflow.set_tags({"imported_bundle": str(bundle), "imported_from_run": exported_run_id(bundle) or "unknown"})
        mlflow.log_artifacts(str(bundle / "model"), artifact_path="model")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", model_name, tags={DIGEST_TAG: digest}).version
    if str(version) != bundle.name:
        raise TrainingInputError(f"importing {bundle} registered it as v{version}, not v{bundle.name}")
    record_bundle(client, model_name, bundle.name, run.info.run_id, bundle)


def _registered_version(client: MlflowClient, model_name: str, version: str) -> ModelVersion | None:
    try:
        return client.get_model_version(model_name, version)
    except MlflowException:
        return None


def _newest_version(client: MlflowClient, model_name: str) -> int:
    try:
        versions = client.search_model_versions(f"name='{model_name}'")
    except MlflowException:
        return 0
    return max((int(v.version) for v in versions), default=0)
