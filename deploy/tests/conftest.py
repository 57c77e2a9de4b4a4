"""Deploy test fixtures: a real MLflow registry (sqlite) with a real exported bundle."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.model_registry import ModelRegistry
from deploy.settings import MODEL_NAME


def readable_by_all(directory: Path) -> None:
    """As `make train` leaves a bundles directory (the containers' user must read it)."""
    for path in [directory, *directory.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture()
def trained(bundle_factory: Callable[[str], Path], tmp_path: Path) -> tuple[Path, ModelRegistry]:
    """A bundles directory holding v1 as training exported it, and a private copy of the registry that recorded
    it (so that tests may set aliases)."""
    work = bundle_factory("logistic_regression").parents[2]
    models = tmp_path / "models"
    shutil.copytree(work / "models", models, symlinks=True)
    readable_by_all(models)
    shutil.copy(work / "mlruns" / "mlflow.db", tmp_path / "mlflow.db")
    return models, ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}", MODEL_NAME)
