"""The stack's MLflow Model Registry, as the deploy CLI uses it: which version a reference names, the bundle
digest training recorded, the bundle itself for a version this machine does not have, and the aliases that
say which version serves where (`blue`, `green`, `live`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from typing import TYPE_CHECKING

import requests

from deploy.errors import UsageError
from training.bundle_digest import BUNDLE_ARTIFACT, DIGEST_TAG

if TYPE_CHECKING:  # mlflow is imported on first use: it would double the start-up of every CLI command
    from mlflow.tracking import MlflowClient

LIVE_ALIAS = "live"
IMPORT_EXPERIMENT = "bundle-imports"  # runs that register bundles exported before this registry knew them
# The MLflow client retries for minutes by default; a deploy wants a clear answer in seconds (cli.main sets them).
CLIENT_ENVIRONMENT = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


class ModelRegistry:
    """One registered model in the MLflow server at `uri`; `credentials`: MLflow's MLFLOW_TRACKING_USERNAME and
    _PASSWORD for a server behind its basic-auth app (read when first needed: `make up` may create them later)."""

    def __init__(self, uri: str, model_name: str, credentials: Callable[[], Mapping[str, str]] = lambda: {}) -> None:
        self.uri = uri
        self.model_name = model_name
        self.credentials = credentials
        self._client: MlflowClient | None = None

    def _authenticate(self) -> None:
        """MLflow's client reads the basic-auth user and password from the environment, at each request."""
        os.environ.update(self.credentials())

    @property
    def client(self) -> MlflowClient:
        self._authenticate()
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._client

    def reachable(self) -> bool:
        """An MLflow server answers its health check (a local store, e.g. in tests, is always there)."""
        if not self.uri.startswith(("http://", "https://")):
            return True
        try:
            return requests.get(f"{self.uri}/health", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def require(self) -> None:
        if not self.reachable():
            raise UsageError(f"the model registry at {self.uri} cannot be reached (is the stack up? `make up`)")

    def version_of(self, reference: str) -> str:
        """The version a reference names: a version number, or an alias such as `champion`, `live`, `blue`."""
        self.require()
        from mlflow.exceptions import MlflowException

        try:
            if reference.isdigit():
                return str(self.client.get_model_version(self.model_name, reference).version)
            return str(self.client.get_model_version_by_alias(self.model_name, reference).version)
        except MlflowException:
            kind = "version" if reference.isdigit() else "alias"
            raise UsageError(f"model {kind} {reference!r} does not exist in the registry at {self.uri}") from None

    def sync(self, bundles_dir: Path) -> list[str]:
        """Register the local bundles this registry lacks (trained on the host before the stack ran), under
        their own version numbers; the versions imported. A conflict is a UsageError naming it."""
        self.require()
        import mlflow

        from training.errors import TrainingInputError
        from training.registry import sync_bundles

        self._authenticate()
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_experiment(IMPORT_EXPERIMENT)
        try:
            return sync_bundles(self.client, bundles_dir, self.model_name, self.uri)
        except TrainingInputError as exc:
            raise UsageError(str(exc)) from None

    def digest(self, version: str) -> str | None:
        """The bundle digest training recorded for `version` (None if it recorded none)."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version(self.model_name, version).tags.get(DIGEST_TAG)
        except MlflowException:
            raise UsageError(f"model version {version} is not registered in the registry at {self.uri}") from None

    def fetch_bundle(self, version: str, destination: Path) -> Path:
        """Download the bundle training logged with `version` into `destination` (atomically: a temporary
        directory next to it, then a rename)."""
        from mlflow.exceptions import MlflowException

        run_id = self.client.get_model_version(self.model_name, version).run_id
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".fetch-{version}-", dir=destination.parent))
        try:
            fetched = Path(self.client.download_artifacts(run_id, BUNDLE_ARTIFACT, dst_path=str(staging)))
        except (MlflowException, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise UsageError(f"model version {version} has no bundle in the registry ({exc})") from None
        os.chmod(fetched, 0o755)
        for path in fetched.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.replace(fetched, destination)
        shutil.rmtree(staging, ignore_errors=True)
        return destination

    def mark(self, alias: str, version: str, tags: dict[str, str], warn: Callable[[str], None]) -> None:
        """Point `alias` at `version` and tag the version; a registry that fails only gets a warning (it must
        never block a switch or a rollback)."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.set_registered_model_alias(self.model_name, alias, version)
            for key, value in tags.items():
                self.client.set_model_version_tag(self.model_name, version, key, value)
        except (MlflowException, requests.RequestException, OSError) as exc:
            warn(f"  warning: the registry at {self.uri} was not updated (alias {alias} -> v{version}): {exc}")
